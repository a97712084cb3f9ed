package payload

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"strings"
	"testing"
	"unsafe"

	"github.com/google/go-cmp/cmp"

	"github.com/snowplow-mini/snowplow-mini/internal/browserload"
)

// wire builds TBinaryProtocol bytes by hand, independently of the thrift library, so
// that the tests check the layout against collector-payload.thrift rather than against
// the library that Encode uses.
type wire struct{ bytes.Buffer }

func (w *wire) i8(v byte)    { w.WriteByte(v) }
func (w *wire) i16(v uint16) { w.Write(binary.BigEndian.AppendUint16(nil, v)) }
func (w *wire) i32(v uint32) { w.Write(binary.BigEndian.AppendUint32(nil, v)) }
func (w *wire) i64(v uint64) { w.Write(binary.BigEndian.AppendUint64(nil, v)) }
func (w *wire) field(typ byte, id uint16) {
	w.i8(typ)
	w.i16(id)
}
func (w *wire) str(s string) {
	w.i32(uint32(len(s)))
	w.WriteString(s)
}
func (w *wire) strField(id uint16, s string) {
	w.field(0x0B, id)
	w.str(s)
}

const (
	tString = 0x0B
	tI64    = 0x0A
	tI32    = 0x08
	tList   = 0x0F
	tStruct = 0x0C
	tStop   = 0x00
)

// realRecord is a record laid out as the Scala collector could write it: all the ids of
// collector-payload.thrift, in an order unlike the one Encode uses, plus an unknown
// field and a known id with an unexpected type, both of which a reader must skip.
func realRecord() ([]byte, *CollectorPayload) {
	var w wire
	w.strField(31337, SchemaURI)
	w.strField(410, "7f0c2a4e-8a54-4c52-9d41-0e5b3a0c4e11")
	w.strField(400, "collector.acme.com")
	w.field(tList, 350)
	w.i8(tString)
	w.i32(3)
	w.str("Host: collector.acme.com")
	w.str("User-Agent: curl/8.0")
	w.str("application/json")
	// An id the IDL does not have: a struct holding an i32 and a list of i64.
	w.field(tStruct, 999)
	w.field(tI32, 1)
	w.i32(7)
	w.field(tList, 2)
	w.i8(tI64)
	w.i32(2)
	w.i64(1)
	w.i64(2)
	w.i8(tStop)
	w.strField(360, "application/json")
	w.strField(340, `{"schema":"iglu:com.snowplowanalytics.snowplow/payload_data/jsonschema/1-0-4","data":[]}`)
	w.strField(330, "e=pv&aid=shop")
	w.strField(320, "/com.snowplowanalytics.snowplow/tp2")
	w.strField(310, "https://www.acme.com/")
	w.strField(300, "curl/8.0")
	w.strField(220, "ssc-3.4.0-kinesissink")
	w.strField(210, "UTF-8")
	// The obsolete iglu-central ids use 10 for the schema; here it carries an i32 and
	// must be skipped, not mistaken for anything.
	w.field(tI32, 10)
	w.i32(42)
	w.field(tI64, 200)
	w.i64(1709294400123)
	// Known id with the wrong type: the generated reader skips it.
	w.field(tI32, 100)
	w.i32(1)
	w.strField(100, "1.2.3.4")
	w.i8(tStop)
	want := &CollectorPayload{
		Schema:        SchemaURI,
		IPAddress:     "1.2.3.4",
		Timestamp:     1709294400123,
		Encoding:      "UTF-8",
		Collector:     "ssc-3.4.0-kinesissink",
		UserAgent:     "curl/8.0",
		RefererURI:    "https://www.acme.com/",
		Path:          "/com.snowplowanalytics.snowplow/tp2",
		Querystring:   "e=pv&aid=shop",
		Body:          `{"schema":"iglu:com.snowplowanalytics.snowplow/payload_data/jsonschema/1-0-4","data":[]}`,
		Headers:       []string{"Host: collector.acme.com", "User-Agent: curl/8.0", "application/json"},
		ContentType:   "application/json",
		Hostname:      "collector.acme.com",
		NetworkUserID: "7f0c2a4e-8a54-4c52-9d41-0e5b3a0c4e11",
	}
	return w.Bytes(), want
}

func TestDecodeRecordOfTheRealCollector(t *testing.T) {
	data, want := realRecord()
	got, err := Decode(data)
	if err != nil {
		t.Fatalf("Decode(real record) error = %v", err)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Decode(real record) mismatch (-want +got):\n%s", diff)
	}
}

func TestEncodeLayout(t *testing.T) {
	p := &CollectorPayload{
		Schema:      SchemaURI,
		IPAddress:   "1.2.3.4",
		Timestamp:   0x0102030405060708,
		Encoding:    "UTF-8",
		Collector:   "c",
		Path:        "/i",
		Querystring: "",
		Headers:     []string{"A: b"},
	}
	var w wire
	w.strField(100, "1.2.3.4")
	w.field(tI64, 200)
	w.i64(0x0102030405060708)
	w.strField(210, "UTF-8")
	w.strField(220, "c")
	w.strField(320, "/i")
	w.strField(330, "")
	w.field(tList, 350)
	w.i8(tString)
	w.i32(1)
	w.str("A: b")
	w.strField(31337, SchemaURI)
	w.i8(tStop)

	got, err := Encode(p)
	if err != nil {
		t.Fatalf("Encode() error = %v", err)
	}
	if !bytes.Equal(got, w.Bytes()) {
		t.Errorf("Encode() = % x\nwant      % x", got, w.Bytes())
	}
	if len(got) != Size(p) {
		t.Errorf("Size() = %d, want %d", Size(p), len(got))
	}
	// The spec's example of the schema field, byte for byte.
	schemaField := append([]byte{0x0B, 0x7A, 0x69, 0x00, 0x00, 0x00, 0x41}, SchemaURI...)
	if !bytes.Contains(got, schemaField) {
		t.Errorf("Encode() does not contain the schema field % x", schemaField)
	}
}

func TestRoundTrip(t *testing.T) {
	_, full := realRecord()
	tests := []struct {
		name string
		p    *CollectorPayload
	}{
		{"full", full},
		{"minimal", &CollectorPayload{Schema: SchemaURI}},
		{"empty headers list", &CollectorPayload{Schema: SchemaURI, Headers: []string{}}},
		{"unicode", &CollectorPayload{Schema: SchemaURI, Body: "Product 0 – ünïcödé 🎉", Headers: []string{"", "x"}}},
		{"negative timestamp", &CollectorPayload{Timestamp: -1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			data, err := Encode(tt.p)
			if err != nil {
				t.Fatalf("Encode() error = %v", err)
			}
			got, err := Decode(data)
			if err != nil {
				t.Fatalf("Decode(Encode()) error = %v", err)
			}
			if diff := cmp.Diff(tt.p, got); diff != "" {
				t.Errorf("Decode(Encode()) mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestAppendEncodeReusesBuffer(t *testing.T) {
	_, p := realRecord()
	want, err := Encode(p)
	if err != nil {
		t.Fatal(err)
	}
	buf := []byte("prefix")
	got, err := AppendEncode(buf, p)
	if err != nil {
		t.Fatalf("AppendEncode() error = %v", err)
	}
	if !bytes.Equal(got, append([]byte("prefix"), want...)) {
		t.Errorf("AppendEncode(prefix) = %q, want prefix followed by Encode()", got)
	}
}

func TestDecodeRejectsGarbage(t *testing.T) {
	data, _ := realRecord()
	var hugeString wire
	hugeString.field(tString, 340)
	hugeString.i32(0x7FFFFFF0)
	hugeString.WriteString("short")
	var hugeList wire
	hugeList.field(tList, 350)
	hugeList.i8(tString)
	hugeList.i32(0x7FFFFFF0)
	var negString wire
	negString.field(tString, 31337)
	negString.i32(0xFFFFFFFF)
	var badType wire
	badType.field(0x7F, 5)
	var deep wire
	for range 100 {
		deep.field(tStruct, 1)
	}
	tests := []struct {
		name string
		in   []byte
	}{
		{"empty", nil},
		{"truncated", data[:len(data)/2]},
		{"no stop", data[:len(data)-1]},
		{"string longer than input", hugeString.Bytes()},
		{"list longer than input", hugeList.Bytes()},
		{"negative length", negString.Bytes()},
		{"unknown type", badType.Bytes()},
		{"nesting too deep", deep.Bytes()},
		{"text", []byte("GET / HTTP/1.1\r\n")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Decode(tt.in)
			if !errors.Is(err, ErrMalformed) {
				t.Errorf("Decode(%q) = %v, %v, want error wrapping ErrMalformed", tt.in, got, err)
			}
		})
	}
}

func TestString(t *testing.T) {
	tests := []struct {
		name string
		p    *CollectorPayload
		want string
	}{
		{
			name: "get",
			p: &CollectorPayload{
				Schema: SchemaURI, IPAddress: "1.2.3.4", Timestamp: 1709294400123, Encoding: "UTF-8",
				Collector: "snowplow-mini-collector-0.1.0", UserAgent: "node", Path: "/i", Querystring: "e=pv",
				Headers: []string{"Host: 127.0.0.1", "User-Agent: node"}, Hostname: "127.0.0.1",
				NetworkUserID: "7f0c2a4e-8a54-4c52-9d41-0e5b3a0c4e11",
			},
			want: "CollectorPayload(schema:iglu:com.snowplowanalytics.snowplow/CollectorPayload/thrift/1-0-0, " +
				"ipAddress:1.2.3.4, timestamp:1709294400123, encoding:UTF-8, collector:snowplow-mini-collector-0.1.0, " +
				"userAgent:node, path:/i, querystring:e=pv, headers:[Host: 127.0.0.1, User-Agent: node], " +
				"hostname:127.0.0.1, networkUserId:7f0c2a4e-8a54-4c52-9d41-0e5b3a0c4e11)",
		},
		{
			name: "post",
			p: &CollectorPayload{
				Schema: SchemaURI, IPAddress: "unknown", Encoding: "UTF-8", Collector: "c", RefererURI: "https://a/",
				Path: "/com.snowplowanalytics.snowplow/tp2", Body: `{"a":1}`, ContentType: "application/json",
			},
			want: "CollectorPayload(schema:iglu:com.snowplowanalytics.snowplow/CollectorPayload/thrift/1-0-0, " +
				"ipAddress:unknown, timestamp:0, encoding:UTF-8, collector:c, refererUri:https://a/, " +
				`path:/com.snowplowanalytics.snowplow/tp2, querystring:, body:{"a":1}, contentType:application/json)`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.p.String(); got != tt.want {
				t.Errorf("String() = %q\nwant         %q", got, tt.want)
			}
		})
	}
}

func FuzzDecode(f *testing.F) {
	data, p := realRecord()
	f.Add(data)
	enc, err := Encode(p)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(enc)
	minimal, err := Encode(&CollectorPayload{Schema: SchemaURI, Headers: []string{}})
	if err != nil {
		f.Fatal(err)
	}
	f.Add(minimal)
	f.Add([]byte{})
	f.Add([]byte{0})
	f.Add([]byte{0x0F, 0x01, 0x5E, 0x0B, 0x7F, 0xFF, 0xFF, 0xFF})
	f.Fuzz(func(t *testing.T, in []byte) {
		p, err := Decode(in)
		if err != nil {
			if p != nil {
				t.Fatalf("Decode(%q) = %v, %v: payload with error", in, p, err)
			}
			return
		}
		out, err := Encode(p)
		if err != nil {
			t.Fatalf("Encode(Decode(%q)) error = %v", in, err)
		}
		back, err := Decode(out)
		if err != nil {
			t.Fatalf("Decode(Encode(Decode(%q))) error = %v", in, err)
		}
		// Encode leaves out empty optional strings, so compare what survives it.
		if diff := cmp.Diff(p, back); diff != "" {
			t.Fatalf("round trip of %q mismatch (-first +second):\n%s", in, diff)
		}
		_ = p.String()
		if len(p.Body)+len(p.Schema)+len(strings.Join(p.Headers, "")) > len(in) {
			t.Fatalf("Decode(%q) produced more text than its input", in)
		}
	})
}

func BenchmarkEncodeDecode(b *testing.B) {
	_, p := realRecord()
	p.Body = `{"schema":"iglu:com.snowplowanalytics.snowplow/payload_data/jsonschema/1-0-4","data":[` +
		strings.Repeat(`{"e":"pv","url":"https://www.acme.com/products/1","p":"web","tv":"js-3.0.0","eid":"c6ef3124-b53a-4b13-a233-0088f79dcbcb"},`, 24) +
		`{"e":"pv","p":"web","tv":"js-3.0.0"}]}`
	b.SetBytes(int64(Size(p)))
	b.ReportAllocs()
	for b.Loop() {
		data, err := Encode(p)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := Decode(data); err != nil {
			b.Fatal(err)
		}
	}
}

func TestEncodeBody(t *testing.T) {
	_, p := realRecord()
	for _, body := range []string{"", `{"a":"ünï"}`, strings.Repeat("x", 70000)} {
		q := *p
		q.Body = body
		want, err := Encode(&q)
		if err != nil {
			t.Fatal(err)
		}
		p.Body = "ignored"
		got, err := EncodeBody(p, []byte(body))
		if err != nil {
			t.Fatalf("EncodeBody(%d bytes) error = %v", len(body), err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("EncodeBody(%d bytes) differs from Encode with that body", len(body))
		}
		if n := SizeBody(p, []byte(body)); n != len(want) || cap(got) != len(want) {
			t.Errorf("SizeBody(%d bytes) = %d, cap = %d, want %d", len(body), n, cap(got), len(want))
		}
		appended, err := AppendEncodeBody([]byte("x"), p, []byte(body))
		if err != nil || !bytes.Equal(appended, append([]byte("x"), want...)) {
			t.Errorf("AppendEncodeBody(x, %d bytes) = %v, want x followed by the encoding", len(body), err)
		}
	}
}

// within reports whether s's bytes lie inside b.
func within(s string, b []byte) bool {
	if s == "" || len(b) == 0 {
		return false
	}
	p := uintptr(unsafe.Pointer(unsafe.StringData(s)))
	start := uintptr(unsafe.Pointer(unsafe.SliceData(b)))
	return p >= start && p+uintptr(len(s)) <= start+uintptr(len(b))
}

// TestDecodeSharesOnlyTheBody checks Decode's memory contract: the body is read in place,
// every other string is a copy that does not hold on to the record.
func TestDecodeSharesOnlyTheBody(t *testing.T) {
	data, err := Encode(&CollectorPayload{
		Schema: SchemaURI, IPAddress: "203.0.113.9", Timestamp: 1, Encoding: "UTF-8", Collector: "c",
		UserAgent: "ua", RefererURI: "https://r.example/", Path: "/com.snowplowanalytics.snowplow/tp2",
		Querystring: "q=1", Body: `{"schema":"s","data":[]}`, Headers: []string{"Host: h", "Cookie: sp=1"},
		ContentType: "application/json", Hostname: "h", NetworkUserID: "n",
	})
	if err != nil {
		t.Fatal(err)
	}
	p, err := Decode(data)
	if err != nil {
		t.Fatal(err)
	}
	if !within(p.Body, data) {
		t.Errorf("Decode: Body %q is a copy, want it read in place", p.Body)
	}
	others := map[string]string{
		"Schema": p.Schema, "IPAddress": p.IPAddress, "Encoding": p.Encoding, "Collector": p.Collector,
		"UserAgent": p.UserAgent, "RefererURI": p.RefererURI, "Path": p.Path, "Querystring": p.Querystring,
		"ContentType": p.ContentType, "Hostname": p.Hostname, "NetworkUserID": p.NetworkUserID,
	}
	for i, h := range p.Headers {
		others[fmt.Sprintf("Headers[%d]", i)] = h
	}
	for name, v := range others {
		if v == "" {
			t.Errorf("Decode: %s is empty, want a value", name)
		}
		if within(v, data) {
			t.Errorf("Decode: %s %q shares the record's memory, want a copy", name, v)
		}
	}
}

// BenchmarkDecodeBrowser decodes the record the collector writes for a browser tracker's
// 10-event POST (about 20 KB).
func BenchmarkDecodeBrowser(b *testing.B) {
	_, p := realRecord()
	p.Body = string((&browserload.Generator{}).Body(1))
	data, err := Encode(p)
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Decode(data); err != nil {
			b.Fatal(err)
		}
	}
}
