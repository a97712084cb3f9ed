package event

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"unicode/utf8"
)

func FuzzParseTSV(f *testing.F) {
	f.Add(sampleEvent().AppendTSV(nil))
	var min EnrichedEvent
	min.Set(CollectorTstamp, "2024-03-01 12:00:00.000")
	min.Set(EventID, "c6ef3124-b53a-4b13-a233-0088f79dcbcb")
	min.Set(VCollector, "c")
	min.Set(VEtl, "e")
	f.Add(min.AppendTSV(nil))
	f.Add(withField(SeValue, "1e400"))
	f.Add(withField(Contexts, `{"schema":"iglu:a/b/jsonschema/1-0-0","data":[{"schema":"iglu:c/d/jsonschema/1-0-0","data":"\u00e9"}]}`))
	f.Add([]byte("a\tb"))
	f.Add([]byte(strings.Repeat("\t", 130)))
	f.Fuzz(func(t *testing.T, line []byte) {
		var e EnrichedEvent
		err := e.UnmarshalTSV(line)
		if err != nil {
			if _, ok := err.(ParsingError); !ok {
				t.Fatalf("UnmarshalTSV(%q) error %T is not a ParsingError", line, err)
			}
			b, jerr := json.Marshal(err)
			if jerr != nil || !json.Valid(b) {
				t.Fatalf("error JSON %s, %v", b, jerr)
			}
			return
		}
		// AppendTSV drops CR and LF, which a line read back may hold inside a value.
		want := strings.NewReplacer("\r", "", "\n", "").Replace(string(line))
		if got := e.AppendTSV(nil); string(got) != want {
			t.Fatalf("AppendTSV(ParseTSV(%q)) = %q", line, got)
		}
		for name, fn := range map[string]func([]byte) ([]byte, error){
			"AppendJSON": e.AppendJSON, "AppendMicroJSON": e.AppendMicroJSON, "AppendFullJSON": e.AppendFullJSON,
		} {
			b, err := fn(nil)
			if err != nil {
				t.Fatalf("%s of a parsed event = %v", name, err)
			}
			if !json.Valid(b) {
				t.Fatalf("%s = invalid JSON %s", name, b)
			}
		}
		if b := e.AppendPartialJSON(nil); !json.Valid(b) {
			t.Fatalf("AppendPartialJSON = invalid JSON %s", b)
		}
	})
}

func FuzzParseSelfDescribing(f *testing.F) {
	f.Add([]byte(`{"schema":"iglu:a/b/jsonschema/1-0-0","data":{"x":[1,{"y":"\""}]}}`))
	f.Add([]byte(` {"data" : null , "schema":"iglu:a.b/c_d/jsonschema/1-2-3"}`))
	f.Add([]byte(`{"schema":"iglu:a/b/jsonschema/1-0-0","data":[{"schema":"iglu:a/b/jsonschema/1-0-0","data":1}]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		sd, err := ParseSelfDescribing(data)
		if err != nil {
			return
		}
		if !json.Valid(sd.Data) {
			t.Fatalf("ParseSelfDescribing(%q).Data = %q is not valid JSON", data, sd.Data)
		}
		out := sd.AppendJSON(nil)
		back, err := ParseSelfDescribing(out)
		if err != nil || back.Schema != sd.Schema || !bytes.Equal(back.Data, sd.Data) {
			t.Fatalf("round trip of %q: %q, %v", data, out, err)
		}
		ParseContexts(string(data))
		ParseUnstruct(string(data))
	})
}

func BenchmarkAppendTSV(b *testing.B) {
	e := sampleEvent()
	buf := make([]byte, 0, 4096)
	b.ReportAllocs()
	for b.Loop() {
		buf = e.AppendTSV(buf[:0])
	}
	b.SetBytes(int64(len(buf)))
}

func BenchmarkParseTSV(b *testing.B) {
	line := sampleEvent().AppendTSV(nil)
	var e EnrichedEvent
	b.SetBytes(int64(len(line)))
	b.ReportAllocs()
	for b.Loop() {
		if err := e.UnmarshalTSV(line); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkAppendJSON(b *testing.B) {
	e := sampleEvent()
	buf := make([]byte, 0, 8192)
	b.ReportAllocs()
	for b.Loop() {
		var err error
		if buf, err = e.AppendJSON(buf[:0]); err != nil {
			b.Fatal(err)
		}
	}
	b.SetBytes(int64(len(buf)))
}

func BenchmarkAppendMicroJSON(b *testing.B) {
	e := sampleEvent()
	buf := make([]byte, 0, 8192)
	b.ReportAllocs()
	for b.Loop() {
		var err error
		if buf, err = e.AppendMicroJSON(buf[:0]); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkAppendPartialJSON(b *testing.B) {
	e := sampleEvent()
	buf := make([]byte, 0, 8192)
	b.ReportAllocs()
	for b.Loop() {
		buf = e.AppendPartialJSON(buf[:0])
	}
}

// BenchmarkEncodingJSONMap is the reflection-based alternative AppendJSON avoids, for
// comparison: encoding/json of the same object decoded into a map.
func BenchmarkEncodingJSONMap(b *testing.B) {
	out, _ := sampleEvent().AppendJSON(nil)
	var m map[string]any
	if err := json.Unmarshal(out, &m); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := json.Marshal(m); err != nil {
			b.Fatal(err)
		}
	}
}

// FuzzValidJSON checks the column scanner against encoding/json.
func FuzzValidJSON(f *testing.F) {
	for _, s := range []string{`{"a":[1,-2.5e+3,true,false,null,"\u00e9\n"]}`, `[`, `01`, `"\x01"`, `{"a" 1}`, ` [ ] `, `1.`, `"\ud800"`, `{"a":1,}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		if got, want := validJSON(b), json.Valid(b); got != want {
			t.Fatalf("validJSON(%q) = %v, json.Valid = %v", b, got, want)
		}
	})
}

// FuzzAppendJSONString holds AppendJSONString (plain ASCII eight bytes at a time) to
// escaping byte by byte.
func FuzzAppendJSONString(f *testing.F) {
	for _, s := range []string{"plain", "abcdefghijklmnop\"q\\r\x00\x1f\x7f", "é–😀 abcdefghij\xff\xfe", "iglu:com.acme/x/jsonschema/1-0-0"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		var want []byte
		want = append(want, '"')
		for _, r := range s { // an invalid byte ranges as U+FFFD, one by one

			switch {
			case r == '"' || r == '\\':
				want = append(want, '\\', byte(r))
			case r == '\n':
				want = append(want, `\n`...)
			case r == '\r':
				want = append(want, `\r`...)
			case r == '\t':
				want = append(want, `\t`...)
			case r == '\b':
				want = append(want, `\b`...)
			case r == '\f':
				want = append(want, `\f`...)
			case r < 0x20:
				want = append(want, fmt.Sprintf(`\u%04x`, r)...)
			default:
				want = utf8.AppendRune(want, r)
			}
		}
		want = append(want, '"')
		if got := AppendJSONString([]byte("x"), s); string(got) != "x"+string(want) {
			t.Fatalf("AppendJSONString(%q) = %s, want %s", s, got[1:], want)
		}
	})
}
