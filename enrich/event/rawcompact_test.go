package event

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"hash/crc32"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/snowplow-mini/snowplow-mini/internal/browserload"
)

// browserRaws returns the RawEvents of browser tracker request n as the collector and
// the tp2 adapter make them: parameters in the tracker's order, headers as the
// collector lists them.
func browserRaws(tb testing.TB, n uint64) []*RawEvent {
	tb.Helper()
	var g browserload.Generator
	body := g.Body(n)
	var payload struct {
		Data []json.RawMessage `json:"data"`
	}
	if err := json.Unmarshal(body, &payload); err != nil {
		tb.Fatal(err)
	}
	hs := browserload.Headers(n)
	headers := []string{"Host: collector.example.com"}
	hs = append(hs, [2]string{"Content-Length", strconv.Itoa(len(body))})
	slices.SortFunc(hs, func(a, b [2]string) int { return strings.Compare(a[0], b[0]) })
	for _, h := range hs {
		headers = append(headers, h[0]+": "+h[1])
	}
	contentType := strings.ToLower(browserload.ContentType)
	headers = append(headers, contentType)
	var out []*RawEvent
	for _, data := range payload.Data {
		dec := json.NewDecoder(bytes.NewReader(data))
		var params []NVP
		if _, err := dec.Token(); err != nil {
			tb.Fatal(err)
		}
		for dec.More() {
			k, err := dec.Token()
			if err != nil {
				tb.Fatal(err)
			}
			v, err := dec.Token()
			if err != nil {
				tb.Fatal(err)
			}
			params = append(params, NewNVP(k.(string), v.(string)))
		}
		out = append(out, &RawEvent{
			Vendor: "com.snowplowanalytics.snowplow", Version: "tp2", Parameters: params,
			ContentType: contentType, LoaderName: "snowplow-mini-collector-0.1.0", Encoding: "UTF-8",
			Hostname: "collector.example.com", Timestamp: time.UnixMilli(1796530452736 + int64(n)).UTC(),
			IPAddress: "203.0.113.7", UserAgent: browserload.UserAgent(n), RefererURI: browserload.Origin + "/",
			Headers: headers, UserID: browserload.NetworkUserID(n),
		})
	}
	return out
}

// checkCompactRoundTrip encodes r, decodes it and compares the two renderings and the
// parameters.
func checkCompactRoundTrip(t *testing.T, r *RawEvent) {
	t.Helper()
	c := r.CompactString()
	if !IsCompactRaw([]byte(c)) {
		t.Fatalf("CompactString() = %q, does not start with the marker", c)
	}
	if want := r.AppendCompact(nil); string(want) != c {
		t.Fatalf("CompactString() = %q, AppendCompact = %q", c, want)
	}
	var got RawEvent
	if err := got.UnmarshalCompact(c); err != nil {
		t.Fatalf("UnmarshalCompact(%q) = %v", c, err)
	}
	if want, got := r.AppendMicroJSON(nil), got.AppendMicroJSON(nil); !bytes.Equal(got, want) {
		t.Errorf("Micro JSON after a round trip:\n got %s\nwant %s", got, want)
	}
	if want, got := r.AppendJSON(nil), got.AppendJSON(nil); !bytes.Equal(got, want) {
		t.Errorf("bad-row JSON after a round trip:\n got %s\nwant %s", got, want)
	}
	js := r.AppendMicroJSON(nil)
	if got, err := AppendMicroJSONOf(nil, []byte(c), nil); err != nil || !bytes.Equal(got, js) {
		t.Errorf("AppendMicroJSONOf(compact) = %s, %v, want %s", got, err, js)
	}
	if got, err := AppendMicroJSONOf(nil, js, nil); err != nil || !bytes.Equal(got, js) {
		t.Errorf("AppendMicroJSONOf(JSON) = %s, %v, want it unchanged", got, err)
	}
}

// browserRow returns an enriched event with the fields enrich sets from r that the
// compact form may refer to: the parameters as sent, cx and ue_px decoded (the contexts
// envelope at 1-0-1, as enrich writes it), co and ue_pr as sent, the IP address, user
// agent and network user id. The loaders' and enrich's tests hold the real pipeline to
// the same round trip.
func browserRow(r *RawEvent) *EnrichedEvent {
	row := new(EnrichedEvent)
	row.Fields[UserIPAddress], row.Fields[UserAgent], row.Fields[NetworkUserID] = r.IPAddress, r.UserAgent, r.UserID
	for _, p := range r.Parameters {
		f, ok := paramRowField(p.Name)
		if !ok || p.Value == nil {
			continue
		}
		v := *p.Value
		if p.Name == "cx" || p.Name == "ue_px" {
			b, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(v, "="))
			if err != nil {
				continue
			}
			v = string(b)
		}
		if f == Contexts {
			v = strings.Replace(v, "/contexts/jsonschema/1-0-0", "/contexts/jsonschema/1-0-1", 1)
		}
		row.Fields[f] = v
	}
	return row
}

// rowFieldsReferable are the fields AppendCompactRow may refer to.
var rowFieldsReferable = []Field{UserIPAddress, UserAgent, NetworkUserID, Contexts, UnstructEvent, PageURL, PageReferrer,
	PageTitle, EventID, DomainUserID, DomainSessionID, UserID, OSTimezone, VTracker, SeCategory, SeAction, SeLabel, SeProperty}

// checkCompactRowRoundTrip encodes r against row, decodes it with row and compares
// the renderings; it returns the fields the form refers to: those a row that differs
// in them fails to read with, while a row that differs elsewhere reads the same.
func checkCompactRowRoundTrip(t *testing.T, r *RawEvent, row *EnrichedEvent) (refs []Field) {
	t.Helper()
	c := r.CompactRowString(row)
	if want := r.AppendCompactRow(nil, row); string(want) != c {
		t.Fatalf("CompactRowString() = %q, AppendCompactRow = %q", c, want)
	}
	if self := r.CompactString(); len(c) > len(self)+7 {
		t.Errorf("CompactRowString() is %d bytes, CompactString() %d: want at most 7 more", len(c), len(self))
	}
	js := r.AppendMicroJSON(nil)
	var got RawEvent
	if err := got.UnmarshalCompactRow(c, row); err != nil {
		t.Fatalf("UnmarshalCompactRow(%q) = %v", c, err)
	}
	if got := got.AppendMicroJSON(nil); !bytes.Equal(got, js) {
		t.Errorf("Micro JSON after a round trip with the row:\n got %s\nwant %s", got, js)
	}
	if want, got := r.AppendJSON(nil), got.AppendJSON(nil); !bytes.Equal(got, want) {
		t.Errorf("bad-row JSON after a round trip with the row:\n got %s\nwant %s", got, want)
	}
	if got, err := AppendMicroJSONOf(nil, []byte(c), row); err != nil || !bytes.Equal(got, js) {
		t.Errorf("AppendMicroJSONOf(compact, row) = %s, %v, want %s", got, err, js)
	}
	if err := got.UnmarshalCompact(c); !errors.Is(err, ErrCompactRaw) {
		t.Errorf("UnmarshalCompact(%q) without the row = %v, want ErrCompactRaw", c, err)
	}
	for _, f := range rowFieldsReferable {
		other := *row
		other.Fields[f] += "x"
		if err := got.UnmarshalCompactRow(c, &other); err != nil {
			if !errors.Is(err, ErrCompactRaw) {
				t.Errorf("UnmarshalCompactRow with %s changed = %v, want ErrCompactRaw", f, err)
			}
			refs = append(refs, f)
		} else if got := got.AppendMicroJSON(nil); !bytes.Equal(got, js) {
			t.Errorf("Micro JSON read with %s changed, not referred to:\n got %s\nwant %s", f, got, js)
		}
	}
	return refs
}

func TestCompactRaw(t *testing.T) {
	withTime := func(ts time.Time) *RawEvent {
		r := sampleRaw()
		r.Timestamp = ts
		return r
	}
	browser := browserRaws(t, 3)
	tests := []struct {
		name string
		raw  *RawEvent
	}{
		{"sample", sampleRaw()},
		{"empty", &RawEvent{}},
		{"browser page view", browser[0]},
		{"browser link click", browser[len(browser)-1]},
		{"no timestamp", withTime(time.Time{})},
		{"sub-millisecond timestamp", withTime(time.Date(2024, 3, 1, 12, 0, 0, 123456789, time.UTC))},
		{"before 1970", withTime(time.Date(1969, 12, 31, 23, 59, 59, 999999999, time.UTC))},
		{"year 1", withTime(time.Date(1, 1, 1, 0, 0, 0, 1e6, time.UTC))},
		{"year 12000", withTime(time.Date(12000, 1, 1, 0, 0, 0, 0, time.UTC))},
		{"not UTC", withTime(time.Date(2024, 3, 1, 12, 0, 0, 0, time.FixedZone("X", 3600)))},
		{"headers", &RawEvent{
			UserAgent: "UA", RefererURI: "https://r/", UserID: "u-1", ContentType: "text/plain; x=1",
			Headers: []string{
				"User-Agent: UA", "User-Agent: UA2", "Referer: https://r/", "Cookie: a=1; sp=u-1", "Cookie: u-1",
				"text/plain; x=1", "X-Unknown: UA", "Host:", "Host: ", "Host:x", ": x", "", "Cookie: sp=u-1x",
				"Referer: UA", "X-Unknown: u-1",
			},
		}},
		{"parameters", &RawEvent{Parameters: []NVP{
			NewNVP("cx", "eyJzY2hlbWEiOiJpZ2x1OmNvbS5zbm93cGxvd2FuYWx5dGljcy5zbm93cGxvdy9jb250ZXh0cy9qc29u"),
			NewNVP("ue_px", "eyJzY2hlbWEiOiJpZ2x1OmNvbS5zbm93cGxvd2FuYWx5dGljcy5zbm93cGxvdy9jb250ZXh0cy9qc29uLw=="),
			NewNVP("std", "eyJzY2hlbWEiOiJpZ2x1OmNvbS5zbm93cGxvd2FuYWx5dGljcy5zbm93cGxvdy9jb250ZXh0cy9qc29u+/+/"),
			NewNVP("stdpad", "eyJzY2hlbWEiOiJpZ2x1OmNvbS5zbm93cGxvd2FuYWx5dGljcy5zbm93cGxvdy9jb250ZXh0cy9qc29uLw/="),
			NewNVP("mixed", "eyJzY2hlbWEiOiJpZ2x1OmNvbS5zbm93cGxvd2FuYWx5dGljcy5zbm93cGxvdy9jb250ZXh0cy9qc29u+-+-"),
			NewNVP("lines", "eyJzY2hlbWEiOiJpZ2x1OmNvbS5zbm93cGxvd2Fu\nYWx5dGljcy5zbm93cGxvdy9jb250ZXh0cy9qc29u"),
			NewNVP("trailing bits", "eyJzY2hlbWEiOiJpZ2x1OmNvbS5zbm93cGxvd2FuYWx5dGljcy5zbm93cGxvdy9jb250ZXh0cy9qc29uLx"),
			NewNVP("not base64", "https://shop.example.com/products/16?utm_source=newsletter"),
			NewNVP("", ""), {Name: "nil"}, NewNVP("e", "pv"), NewNVP("e", "pp"),
			NewNVP("bytes", "\x00\x01\xff\"\\\u2028 \t\n"),
		}}},
		{"names not in the table", &RawEvent{Vendor: "com.acme", Version: "v9", ContentType: "x", LoaderName: "y", Encoding: "latin1"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { checkCompactRoundTrip(t, tt.raw) })
	}
}

func TestCompactRawRow(t *testing.T) {
	b64 := base64.RawURLEncoding.EncodeToString
	const (
		cx10 = `{"schema":"iglu:com.snowplowanalytics.snowplow/contexts/jsonschema/1-0-0","data":[{"schema":"iglu:com.snowplowanalytics.snowplow/web_page/jsonschema/1-0-0","data":{"id":"9cc4375a-c2a0-4122-8cc5-8445af630f23"}}]}`
		ue   = `{"schema":"iglu:com.snowplowanalytics.snowplow/unstruct_event/jsonschema/1-0-0","data":{"schema":"iglu:com.snowplowanalytics.snowplow/link_click/jsonschema/1-0-1","data":{"targetUrl":"https://a/"}}}`
		url  = "https://shop.example.com/products/16?utm_source=newsletter&utm_medium=email"
	)
	cx11 := strings.Replace(cx10, "1-0-0", "1-0-1", 1)
	browser := browserRaws(t, 3)
	request := func(params ...string) *RawEvent {
		r := sampleRaw()
		r.Parameters = nil
		for i := 0; i < len(params); i += 2 {
			r.Parameters = append(r.Parameters, NewNVP(params[i], params[i+1]))
		}
		return r
	}
	with := func(row *EnrichedEvent, f Field, v string) *EnrichedEvent {
		row.Fields[f] = v
		return row
	}
	spaced := request("cx", b64([]byte(strings.ReplaceAll(cx10, `":`, `": `))))
	padded := request("cx", base64.StdEncoding.EncodeToString([]byte(cx10+"??")))
	tests := []struct {
		name string
		raw  *RawEvent
		row  *EnrichedEvent
		want []Field
	}{
		{"browser page view", browser[0], browserRow(browser[0]),
			[]Field{UserIPAddress, UserAgent, NetworkUserID, Contexts, PageURL, PageReferrer, PageTitle, EventID, DomainUserID, DomainSessionID, OSTimezone, VTracker}},
		{"browser link click", browser[len(browser)-1], browserRow(browser[len(browser)-1]),
			[]Field{UserIPAddress, UserAgent, NetworkUserID, Contexts, UnstructEvent, PageURL, EventID, DomainUserID, DomainSessionID, OSTimezone, VTracker}},
		{"cx as the contexts field", request("cx", b64([]byte(cx11))), browserRow(request("cx", b64([]byte(cx11)))),
			[]Field{UserIPAddress, UserAgent, NetworkUserID, Contexts}},
		{"cx standard base64, padded", padded, browserRow(request("cx", b64([]byte(cx10+"??")))),
			[]Field{UserIPAddress, UserAgent, NetworkUserID, Contexts}},
		// enrich writes canonical JSON: a tracker's other JSON is kept as sent.
		{"cx not canonical", spaced, with(browserRow(spaced), Contexts, cx11), []Field{UserIPAddress, UserAgent, NetworkUserID}},
		{"cx unlike the field", request("cx", b64([]byte(cx10))), with(new(EnrichedEvent), Contexts, ue), nil},
		{"cx unlike the field, as long", request("cx", b64([]byte(reverse(cx11)))), with(new(EnrichedEvent), Contexts, cx11), nil},
		{"cx not base64", request("cx", cx10), with(new(EnrichedEvent), Contexts, cx11), []Field{Contexts}},
		{"ue_px", request("ue_px", b64([]byte(ue))), browserRow(request("ue_px", b64([]byte(ue)))),
			[]Field{UserIPAddress, UserAgent, NetworkUserID, UnstructEvent}},
		{"co and ue_pr", request("co", cx10, "ue_pr", ue), browserRow(request("co", cx10, "ue_pr", ue)),
			[]Field{UserIPAddress, UserAgent, NetworkUserID, Contexts, UnstructEvent}},
		{"url changed by enrich", request("url", url), with(new(EnrichedEvent), PageURL, strings.Replace(url, "16", "17", 1)), []Field{PageURL}},
		{"url unlike page_url", request("url", url), with(new(EnrichedEvent), PageURL, "https://b/"), nil},
		{"TAB in the field", request("url", url+"\t"), with(new(EnrichedEvent), PageURL, url+"\t"), []Field{PageURL}},
		{"empty fields", browser[0], new(EnrichedEvent), nil},
		{"empty values", request("url", "", "tz", "", "eid", "x"), with(new(EnrichedEvent), EventID, "x"), []Field{EventID}},
		{"nil values", &RawEvent{Parameters: []NVP{{Name: "url"}, {Name: "cx"}}}, with(new(EnrichedEvent), PageURL, url), nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			checkCompactRoundTrip(t, tt.raw)
			if got := checkCompactRowRoundTrip(t, tt.raw, tt.row); !slices.Equal(got, tt.want) {
				t.Errorf("the form refers to %v, want %v", got, tt.want)
			}
		})
	}
}

func reverse(s string) string {
	b := []byte(s)
	slices.Reverse(b)
	return string(b)
}

// TestCommonAffixes compares commonAffixes with byte-by-byte loops on strings that
// differ in a few places or lengths.
func TestCommonAffixes(t *testing.T) {
	naive := func(a, b string) (pre, suf int) {
		for pre < len(a) && pre < len(b) && a[pre] == b[pre] {
			pre++
		}
		for suf < len(a)-pre && suf < len(b)-pre && a[len(a)-suf-1] == b[len(b)-suf-1] {
			suf++
		}
		return pre, suf
	}
	rng := rand.New(rand.NewPCG(1, 2))
	base := strings.Repeat("abcdefghij", 12)
	for range 5000 {
		a := base[:rng.IntN(len(base)+1)]
		b := []byte(a)
		for range rng.IntN(4) {
			switch i := rng.IntN(len(b) + 1); rng.IntN(3) {
			case 0:
				b = slices.Insert(b, i, 'x')
			case 1:
				if i < len(b) {
					b = slices.Delete(b, i, i+1)
				}
			default:
				if i < len(b) {
					b[i] = 'y'
				}
			}
		}
		pre, suf := commonAffixes(a, string(b))
		if wpre, wsuf := naive(a, string(b)); pre != wpre || suf != wsuf {
			t.Fatalf("commonAffixes(%q, %q) = %d, %d, want %d, %d", a, b, pre, suf, wpre, wsuf)
		}
	}
}

// TestCompactRawRowSize holds the point of the row form: it leaves a browser event's
// request a fraction of its size compact on its own.
func TestCompactRawRowSize(t *testing.T) {
	var self, row int
	for _, r := range browserRaws(t, 0) {
		self += len(r.CompactString())
		row += len(r.CompactRowString(browserRow(r)))
	}
	if row*3 > self {
		t.Errorf("browser events: %d bytes referring to their rows, %d on their own, want at most a third", row, self)
	}
}

// TestCompactRawSize holds the point of the form: a browser event is much smaller
// compact than as JSON.
func TestCompactRawSize(t *testing.T) {
	var js, compact int
	for _, r := range browserRaws(t, 0) {
		js += len(r.AppendMicroJSON(nil))
		compact += len(r.CompactString())
	}
	if compact*10 > js*8 {
		t.Errorf("browser events: %d bytes compact, %d as JSON, want at most 80 %%", compact, js)
	}
}

func TestCompactTables(t *testing.T) {
	for i, s := range compactNames {
		if got := compactNameIndex(s); got != i {
			t.Errorf("compactNameIndex(%q) = %d, want %d", s, got, i)
		}
	}
	for i, s := range compactHeaderNames {
		if got := compactHeaderIndex(s); got != i+1 {
			t.Errorf("compactHeaderIndex(%q) = %d, want %d", s, got, i+1)
		}
	}
}

// TestCompactRawFormat pins the encoding of one event: stored events must read back the
// same after any change to the code.
func TestCompactRawFormat(t *testing.T) {
	r := &RawEvent{
		Vendor: "com.snowplowanalytics.snowplow", Version: "tp2", ContentType: "application/json",
		LoaderName: "c", Encoding: "UTF-8", Hostname: "h", Timestamp: time.UnixMilli(-1),
		IPAddress: "1", UserAgent: "U", RefererURI: "R", UserID: "I",
		Headers:    []string{"Host: h", "User-Agent: U", "Referer: R", "Cookie: sp=I", "application/json", "X: y"},
		Parameters: []NVP{{Name: "n"}, NewNVP("e", "pv"), NewNVP("cx", strings.Repeat("AAAA", 8))},
	}
	want := "\x01\x01" + "\x01\x05\x09\x02c\x07" + "\x01h" + "\x01" + "\x011\x01U\x01R\x01I" +
		"\x06" + "\x08\x01h" + "\xc1\x01" + "\x72" + "\x4b\x03sp=" + "\x04" + "\x00\x04X: y" +
		"\x03" + "\x01n\x00" + "\x01e\x11pv" + "\x02cx\xc2\x01" + strings.Repeat("\x00", 24)
	if got := r.CompactString(); got != want {
		t.Errorf("CompactString() =\n%q, want\n%q", got, want)
	}
	checkCompactRoundTrip(t, r)
}

// TestCompactRawRowFormat pins the encoding of one event that refers to its row: the
// IP address and network user id are fields, url is page_url, cx the base64 of the
// contexts field with a byte replaced, ue_px the base64 of the unstruct_event field
// with a byte inserted; the last 4 bytes are the CRC-32C of those fields.
func TestCompactRawRowFormat(t *testing.T) {
	r := &RawEvent{
		Vendor: "com.snowplowanalytics.snowplow", Version: "tp2", LoaderName: "c", Encoding: "UTF-8", Hostname: "h",
		IPAddress: "1", UserAgent: "U", UserID: "I",
		Parameters: []NVP{NewNVP("url", "u"), NewNVP("cx", "eyJzY2hlbWEiOiJzIiwiZGF0YSI6WzAsMSwyLDNdfQ"),
			NewNVP("ue_px", "eyJzY2hlbWEiOiJ1dSIsImRhdGEiOnsiYSI6MX19")},
	}
	row := new(EnrichedEvent)
	row.Fields[UserIPAddress], row.Fields[UserAgent], row.Fields[NetworkUserID] = "1", "V", "I"
	row.Fields[PageURL], row.Fields[Contexts] = "u", `{"schema":"t","data":[0,1,2,3]}`
	row.Fields[UnstructEvent] = `{"schema":"u","data":{"a":1}}`
	want := "\x01\x04" + "\x01\x05\x00\x02c\x07" + "\x01h" + "\x1b\x02U\x00\x23" + "\x00" +
		"\x03" + "\x03url\xd6\x03" + "\x02cx\x8f\x1a\x0b\x01\x01s" + "\x05ue_px\x8f\x1d\x0c\x00\x01u" +
		"\x02\xab\x03\x26"
	if got := r.CompactRowString(row); got != want {
		t.Errorf("CompactRowString() =\n%q, want\n%q", got, want)
	}
	checkCompactRowRoundTrip(t, r, row)
}

func TestUnmarshalCompactErrors(t *testing.T) {
	good := sampleRaw().CompactString()
	rowForm := sampleRaw().CompactRowString(browserRow(sampleRaw()))
	tests := []struct{ name, data string }{
		{"empty", ""},
		{"JSON", `{"api":{}}`},
		{"truncated", good[:len(good)-1]},
		{"trailing byte", good + "\x00"},
		{"unknown flag", "\x01\x04"},
		{"both timestamps", "\x01\x03"},
		{"name index out of the table", "\x01\x00\x7f"},
		{"header name out of the table", "\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x01\xf8\x07"},
		{"header mode", "\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x01\x01"},
		{"parameter mode", "\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x01\x01n\x06"},
		{"huge count", "\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\xff\xff\xff\xff\x0f"},
		{"long varint", "\x01\x00\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\x01"},
		{"refers to a row", rowForm},
		{"field mode without the row flag", "\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x01\x01n\x06"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var r RawEvent
			if err := r.UnmarshalCompact(tt.data); !errors.Is(err, ErrCompactRaw) {
				t.Errorf("UnmarshalCompact(%q) = %v, want ErrCompactRaw", tt.data, err)
			}
		})
	}
}

func TestUnmarshalCompactRowErrors(t *testing.T) {
	row := browserRow(sampleRaw())
	row.Fields[PageURL] = "https://a/"
	// IP address, user agent and user id: x odd, a field; x even, a string.
	head := "\x01\x04\x00\x00\x00\x00\x00\x00"
	crc := func(fields ...string) string {
		var b []byte
		for _, f := range fields {
			b = append(append(b, byte(len(f))), f...)
		}
		c := crc32.Checksum(b, crc32.MakeTable(crc32.Castagnoli))
		return string([]byte{byte(c), byte(c >> 8), byte(c >> 16), byte(c >> 24)})
	}
	ip := row.Fields[UserIPAddress]
	good := head + "\x1b\x00\x00\x00" + "\x00\x00" + crc(ip)
	var r RawEvent
	if err := r.UnmarshalCompactRow(good, row); err != nil || r.IPAddress != ip {
		t.Fatalf("UnmarshalCompactRow(%q) = %v, IPAddress %q; want nil, %q", good, err, r.IPAddress, ip)
	}
	url := "\x03url\xde\x03" // page_url spliced
	spliced := head + "\x00\x00\x00\x00\x00\x01" + url + "\x02\x01\x01x" + crc(row.Fields[PageURL])
	if err := r.UnmarshalCompactRow(spliced, row); err != nil || len(r.Parameters) != 1 || *r.Parameters[0].Value != "htxps://a/" {
		t.Fatalf("UnmarshalCompactRow(%q) = %v, parameters %v; want url=htxps://a/", spliced, err, r.Parameters)
	}
	tests := []struct{ name, data string }{
		{"truncated checksum", good[:len(good)-1]},
		{"no checksum", head + "\x1b\x00\x00\x00\x00\x00"},
		{"wrong checksum", head + "\x1b\x00\x00\x00\x00\x00" + crc("x")},
		{"string field out of range", head + "\x87\x02\x00\x00\x00\x00\x00" + crc()},
		{"parameter field out of range", head + "\x00\x00\x00\x00\x00\x01\x01n\x86\x11" + crc()},
		{"splice past the field", head + "\x00\x00\x00\x00\x00\x01" + url + "\x0a\x01\x00" + crc(row.Fields[PageURL])},
		{"splice longer than the field", head + "\x00\x00\x00\x00\x00\x01" + url + "\x02\x09\x00" + crc(row.Fields[PageURL])},
		{"truncated splice", head + "\x00\x00\x00\x00\x00\x01" + url + "\x02\x01\x05x"},
		{"trailing byte", good + "\x00"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := r.UnmarshalCompactRow(tt.data, row); !errors.Is(err, ErrCompactRaw) {
				t.Errorf("UnmarshalCompactRow(%q) = %v, want ErrCompactRaw", tt.data, err)
			}
		})
	}
}

// fuzzRaw builds a RawEvent of FuzzCompactRaw's and FuzzCompactRawRow's inputs:
// headers one a line, parameters name\x00value\x00…
func fuzzRaw(vendor, version, contentType, encoding, ua, referer, userID, headers, params string, ts int64) *RawEvent {
	r := &RawEvent{
		Vendor: vendor, Version: version, ContentType: contentType, LoaderName: vendor + version,
		Encoding: encoding, Hostname: referer, IPAddress: ua, UserAgent: ua, RefererURI: referer,
		UserID: userID, Headers: strings.Split(headers, "\n"),
	}
	switch {
	case ts%3 == 0:
		r.Timestamp = time.Unix(0, ts)
	case ts%3 == 1:
		r.Timestamp = time.Unix(ts/1000, ts%1000*1e6)
	}
	if params != "" {
		parts := strings.Split(params, "\x00")
		for i := 0; i < len(parts); i += 2 {
			if i+1 < len(parts) {
				r.Parameters = append(r.Parameters, NewNVP(parts[i], parts[i+1]))
			} else {
				r.Parameters = append(r.Parameters, NVP{Name: parts[i]})
			}
		}
	}
	return r
}

// addFuzzSeeds adds the seeds of FuzzCompactRaw (and, with more arguments, of
// FuzzCompactRawRow).
func addFuzzSeeds(f *testing.F, more ...any) {
	f.Add(append([]any{"com.snowplowanalytics.snowplow", "tp2", "application/json", "UTF-8", "Mozilla/5.0", "https://r/", "u-1",
		"Host: h\nUser-Agent: Mozilla/5.0\nCookie: sp=u-1\napplication/json",
		"e\x00pv\x00cx\x00eyJzY2hlbWEiOiJpZ2x1OmNvbS5zbm93cGxvd2FuYWx5dGljcy5zbm93cGxvdy9j\x00n", int64(1796530452736123456)}, more...)...)
	f.Add(append([]any{"", "", "", "", "", "", "", "", "", int64(0)}, more...)...)
	for _, r := range browserRaws(f, 1)[:2] {
		var ps []string
		for _, p := range r.Parameters {
			ps = append(ps, p.Name, *p.Value)
		}
		f.Add(append([]any{r.Vendor, r.Version, r.ContentType, r.Encoding, r.UserAgent, r.RefererURI, r.UserID,
			strings.Join(r.Headers, "\n"), strings.Join(ps, "\x00"), r.Timestamp.UnixNano()}, more...)...)
	}
}

// FuzzCompactRaw checks that any RawEvent renders the same Micro JSON and bad-row JSON
// after a round trip through the compact form.
func FuzzCompactRaw(f *testing.F) {
	addFuzzSeeds(f)
	f.Fuzz(func(t *testing.T, vendor, version, contentType, encoding, ua, referer, userID, headers, params string, ts int64) {
		checkCompactRoundTrip(t, fuzzRaw(vendor, version, contentType, encoding, ua, referer, userID, headers, params, ts))
	})
}

// FuzzCompactRawRow checks the same of the form that refers to a row, against a row
// that holds what enrich makes of the request with edit inserted into one of its fields
// (as a field enrich changed), and that a row that differs in a field the form refers
// to does not read.
func FuzzCompactRawRow(f *testing.F) {
	addFuzzSeeds(f, "", uint8(0), uint(0))
	addFuzzSeeds(f, "2", uint8(3), uint(76))
	f.Fuzz(func(t *testing.T, vendor, version, contentType, encoding, ua, referer, userID, headers, params string, ts int64, edit string, field uint8, at uint) {
		r := fuzzRaw(vendor, version, contentType, encoding, ua, referer, userID, headers, params, ts)
		row := browserRow(r)
		fe := rowFieldsReferable[int(field)%len(rowFieldsReferable)]
		v := row.Fields[fe]
		at %= uint(len(v) + 1)
		row.Fields[fe] = v[:at] + edit + v[at:]
		checkCompactRowRoundTrip(t, r, row)
	})
}

// FuzzUnmarshalCompact feeds arbitrary bytes to the decoder, with a row to refer to:
// it must not panic, and what it accepts must encode to a form that reads back the
// same.
func FuzzUnmarshalCompact(f *testing.F) {
	f.Add(sampleRaw().CompactString())
	for _, r := range browserRaws(f, 2)[:3] {
		f.Add(r.CompactString())
	}
	row := browserRow(browserRaws(f, 2)[0])
	for _, r := range browserRaws(f, 2)[:3] {
		f.Add(r.CompactRowString(row))
	}
	f.Fuzz(func(t *testing.T, data string) {
		var r RawEvent
		if r.UnmarshalCompactRow(data, row) != nil {
			return
		}
		js := r.AppendMicroJSON(nil)
		var again RawEvent
		if err := again.UnmarshalCompact(r.CompactString()); err != nil {
			t.Fatalf("UnmarshalCompact(CompactString()) = %v", err)
		}
		if got := again.AppendMicroJSON(nil); !bytes.Equal(got, js) {
			t.Errorf("second round trip:\n got %s\nwant %s", got, js)
		}
		if !json.Valid(js) {
			t.Errorf("AppendMicroJSON of a decoded event is not JSON: %s", js)
		}
	})
}

func BenchmarkRawEventBrowser(b *testing.B) {
	raws := browserRaws(b, 5)
	var js, compact int
	for _, r := range raws {
		js += len(r.AppendMicroJSON(nil))
		compact += len(r.CompactString())
	}
	b.Run("MicroJSON", func(b *testing.B) {
		for i := 0; b.Loop(); i++ {
			_ = string(raws[i%len(raws)].AppendMicroJSON(nil))
		}
		b.ReportMetric(float64(js)/float64(len(raws)), "bytes/event")
	})
	b.Run("Compact", func(b *testing.B) {
		for i := 0; b.Loop(); i++ {
			_ = raws[i%len(raws)].CompactString()
		}
		b.ReportMetric(float64(compact)/float64(len(raws)), "bytes/event")
	})
	rows := make([]*EnrichedEvent, len(raws))
	row := 0
	for i, r := range raws {
		rows[i] = browserRow(r)
		row += len(r.CompactRowString(rows[i]))
	}
	b.Run("CompactRow", func(b *testing.B) {
		for i := 0; b.Loop(); i++ {
			_ = raws[i%len(raws)].CompactRowString(rows[i%len(raws)])
		}
		b.ReportMetric(float64(row)/float64(len(raws)), "bytes/event")
	})
	// With cx and ue_px decoded beforehand, as enrich hands them over.
	decoded := make([][]DecodedParam, len(raws))
	for i, r := range raws {
		for _, name := range []string{"cx", "ue_px"} {
			if v, ok := r.Param(name); ok {
				d, err := base64.RawURLEncoding.Strict().DecodeString(v)
				if err != nil {
					b.Fatal(err)
				}
				decoded[i] = append(decoded[i], DecodedParam{Value: v, Bytes: string(d)})
			}
		}
	}
	b.Run("CompactRowDecoded", func(b *testing.B) {
		for i := 0; b.Loop(); i++ {
			_ = raws[i%len(raws)].CompactRowString(rows[i%len(raws)], decoded[i%len(raws)]...)
		}
	})
	cs := make([][]byte, len(raws))
	crs := make([][]byte, len(raws))
	for i, r := range raws {
		cs[i] = []byte(r.CompactString())
		crs[i] = []byte(r.CompactRowString(rows[i]))
	}
	b.Run("CompactToMicroJSON", func(b *testing.B) {
		var dst []byte
		for i := 0; b.Loop(); i++ {
			var err error
			if dst, err = AppendMicroJSONOf(dst[:0], cs[i%len(cs)], nil); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("CompactRowToMicroJSON", func(b *testing.B) {
		var dst []byte
		for i := 0; b.Loop(); i++ {
			var err error
			if dst, err = AppendMicroJSONOf(dst[:0], crs[i%len(crs)], rows[i%len(rows)]); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// TestCompactRawRowDecoded checks that a parameter's decoding handed to
// AppendCompactRow gives the bytes its own decoding gives, and that one whose length
// cannot be the value's, or given for another value, is ignored.
func TestCompactRawRowDecoded(t *testing.T) {
	for _, raw := range browserRaws(t, 3) {
		cx, _ := raw.Param("cx")
		js, err := base64.RawURLEncoding.Strict().DecodeString(cx)
		if err != nil {
			t.Fatal(err)
		}
		for _, row := range []*EnrichedEvent{browserRow(raw), nil} {
			want := raw.CompactRowString(row)
			for _, ds := range [][]DecodedParam{
				{{Value: cx, Bytes: string(js)}},
				{{}, {Value: cx, Bytes: string(js)}},
				{{Value: cx, Bytes: string(js[1:])}},                     // not its length: ignored
				{{Value: cx[1:] + "A", Bytes: "wrong" + string(js[5:])}}, // another value: ignored
			} {
				if got := raw.CompactRowString(row, ds...); got != want {
					t.Errorf("CompactRowString(row %v, %.40q) differs from the form without", row != nil, ds)
				}
			}
		}
	}
}
