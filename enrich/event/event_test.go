package event

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/snowplow-mini/snowplow-mini/iglu"
)

func TestFieldsMatchAtomicSchema(t *testing.T) {
	shared := sharedDir(t)
	raw, err := os.ReadFile(filepath.Join(shared, "iglu-central", "schemas", "com.snowplowanalytics.snowplow", "atomic", "jsonschema", "1-0-0"))
	if err != nil {
		t.Fatal(err)
	}
	// Decode the properties in document order.
	dec := json.NewDecoder(bytes.NewReader(raw))
	var schema struct {
		Properties json.RawMessage `json:"properties"`
	}
	if err := dec.Decode(&schema); err != nil {
		t.Fatal(err)
	}
	type prop struct {
		name string
		typ  any
		fmt  string
		max  int
	}
	var props []prop
	pd := json.NewDecoder(bytes.NewReader(schema.Properties))
	if _, err := pd.Token(); err != nil {
		t.Fatal(err)
	}
	for pd.More() {
		tok, err := pd.Token()
		if err != nil {
			t.Fatal(err)
		}
		var p struct {
			Type      any    `json:"type"`
			Format    string `json:"format"`
			MaxLength int    `json:"maxLength"`
		}
		if err := pd.Decode(&p); err != nil {
			t.Fatal(err)
		}
		props = append(props, prop{tok.(string), p.Type, p.Format, p.MaxLength})
	}
	if len(props) != 128 {
		t.Fatalf("atomic schema has %d properties, want 128", len(props))
	}
	enrichLimits := map[Field]int{PageURL: 10000, PageReferrer: 10000, MktClickID: 1000}
	f := Field(0)
	for _, p := range props {
		for f.Kind() == KindJSON {
			f++
		}
		if f.Name() != p.name {
			t.Fatalf("field %d is %q, atomic schema has %q", f, f.Name(), p.name)
		}
		typ := p.typ
		if l, ok := typ.([]any); ok {
			typ = l[0]
		}
		var want Kind
		switch {
		case p.fmt == "date-time":
			want = KindTimestamp
		case typ == "string":
			want = KindString
		case typ == "integer":
			want = KindInt
		case typ == "boolean":
			want = KindBool
		case typ == "number" && (f == GeoLatitude || f == GeoLongitude):
			want = KindFloat
		case typ == "number":
			want = KindDecimal
		default:
			t.Fatalf("%s: unexpected type %v", p.name, p.typ)
		}
		if f.Kind() != want {
			t.Errorf("%s.Kind() = %v, want %v", p.name, f.Kind(), want)
		}
		wantMax := p.max
		if l, ok := enrichLimits[f]; ok {
			wantMax = l
		}
		if f.MaxLength() != wantMax {
			t.Errorf("%s.MaxLength() = %d, want %d", p.name, f.MaxLength(), wantMax)
		}
		f++
	}
	if f != NumFields {
		t.Errorf("the atomic properties end at field %d, want %d", f, NumFields)
	}
}

func TestFieldNames(t *testing.T) {
	seen := map[string]bool{}
	for f := Field(0); f < NumFields; f++ {
		n := f.Name()
		if seen[n] {
			t.Errorf("duplicate field name %q", n)
		}
		seen[n] = true
		got, ok := FieldByName(n)
		if !ok || got != f {
			t.Errorf("FieldByName(%q) = %v, %v, want %v, true", n, got, ok, f)
		}
	}
	tests := []struct {
		f    Field
		idx  int
		name string
		kind Kind
	}{
		{AppID, 0, "app_id", KindString},
		{EtlTstamp, 2, "etl_tstamp", KindTimestamp},
		{TxnID, 7, "txn_id", KindInt},
		{UserIPAddress, 13, "user_ipaddress", KindString},
		{Contexts, 52, "contexts", KindJSON},
		{SeValue, 57, "se_value", KindDecimal},
		{UnstructEvent, 58, "unstruct_event", KindJSON},
		{BrCookies, 93, "br_cookies", KindBool},
		{RefrDvceTstamp, 121, "refr_dvce_tstamp", KindTimestamp},
		{DerivedContexts, 122, "derived_contexts", KindJSON},
		{TrueTstamp, 130, "true_tstamp", KindTimestamp},
	}
	for _, tt := range tests {
		if int(tt.f) != tt.idx || tt.f.Name() != tt.name || tt.f.Kind() != tt.kind {
			t.Errorf("field %d = (%d, %q, %v), want (%d, %q, %v)", tt.f, tt.f, tt.f.Name(), tt.f.Kind(), tt.idx, tt.name, tt.kind)
		}
	}
	if f, ok := FieldByName("refr_device_tstamp"); !ok || f != RefrDvceTstamp {
		t.Errorf("FieldByName(%q) = %v, %v, want %v, true", "refr_device_tstamp", f, ok, RefrDvceTstamp)
	}
	if RefrDvceTstamp.SDKName() != "refr_device_tstamp" || AppID.SDKName() != "app_id" {
		t.Errorf("SDKName() = %q, %q", RefrDvceTstamp.SDKName(), AppID.SDKName())
	}
	if f, ok := FieldByName("nope"); ok {
		t.Errorf("FieldByName(%q) = %v, true, want false", "nope", f)
	}
	if got := Field(131).Name(); got != "field(131)" {
		t.Errorf("Field(131).Name() = %q", got)
	}
}

func TestTSVRoundTrip(t *testing.T) {
	e := sampleEvent()
	line := e.AppendTSV(nil)
	if n := bytes.Count(line, []byte{'\t'}); n != NumFields-1 {
		t.Fatalf("AppendTSV wrote %d tabs, want %d", n, NumFields-1)
	}
	if !bytes.Equal(line, e.MarshalTSV()) {
		t.Errorf("MarshalTSV() differs from AppendTSV(nil)")
	}
	golden(t, "sample.tsv", line)
	got, err := ParseTSV(line)
	if err != nil {
		t.Fatalf("ParseTSV(sample) = %v", err)
	}
	if diff := cmp.Diff(e.Fields, got.Fields); diff != "" {
		t.Errorf("ParseTSV(AppendTSV(e)) mismatch (-want +got):\n%s", diff)
	}
	// An all-empty line with the required fields is valid.
	var min EnrichedEvent
	min.Set(CollectorTstamp, "2024-03-01 12:00:00.000")
	min.Set(EventID, "c6ef3124-b53a-4b13-a233-0088f79dcbcb")
	min.Set(VCollector, "c")
	min.Set(VEtl, "e")
	if _, err := ParseTSV(min.AppendTSV(nil)); err != nil {
		t.Errorf("ParseTSV(minimal) = %v, want nil", err)
	}
}

func withField(f Field, v string) []byte {
	e := sampleEvent()
	e.Set(f, v)
	return e.AppendTSV(nil)
}

func TestParseTSVErrors(t *testing.T) {
	tests := []struct {
		name     string
		line     []byte
		wantJSON string
	}{
		{"empty", nil, `{"type":"NotTSV"}`},
		{"no tab", []byte("shop web"), `{"type":"NotTSV"}`},
		{"two fields", []byte("a\tb"), `{"type":"FieldNumberMismatch","fieldCount":2}`},
		{"130 fields", []byte(strings.Repeat("\t", 129)), `{"type":"FieldNumberMismatch","fieldCount":130}`},
		{"132 fields", append(sampleEvent().AppendTSV(nil), '\t'), `{"type":"FieldNumberMismatch","fieldCount":132}`},
		{"bad int", withField(TxnID, "4x"), `{"type":"RowDecodingError","errors":[{"type":"InvalidValue","key":"txn_id","value":"4x","message":"Cannot parse key txn_id with value 4x into integer"}]}`},
		{"int overflow", withField(DocWidth, "2147483648"), `{"type":"RowDecodingError","errors":[{"type":"InvalidValue","key":"doc_width","value":"2147483648","message":"Cannot parse key doc_width with value 2147483648 into integer"}]}`},
		{"bad bool", withField(BrCookies, "true"), `{"type":"RowDecodingError","errors":[{"type":"InvalidValue","key":"br_cookies","value":"true","message":"Cannot parse key br_cookies with value true into boolean"}]}`},
		{"bad decimal", withField(SeValue, "NaN"), `{"type":"RowDecodingError","errors":[{"type":"InvalidValue","key":"se_value","value":"NaN","message":"Cannot parse key se_value with value NaN into double"}]}`},
		{"bad timestamp", withField(DvceCreatedTstamp, "2024-02-30 00:00:00.000"), `{"type":"RowDecodingError","errors":[{"type":"InvalidValue","key":"dvce_created_tstamp","value":"2024-02-30 00:00:00.000","message":"Cannot parse key dvce_created_tstamp with value 2024-02-30 00:00:00.000 into datetime"}]}`},
		{"bad uuid", withField(EventID, "not-a-uuid"), `{"type":"RowDecodingError","errors":[{"type":"InvalidValue","key":"event_id","value":"not-a-uuid","message":"Cannot parse key event_id with value not-a-uuid into UUID"}]}`},
		{"missing collector_tstamp", withField(CollectorTstamp, ""), `{"type":"RowDecodingError","errors":[{"type":"InvalidValue","key":"collector_tstamp","value":"","message":"Field collector_tstamp cannot be empty"}]}`},
		{"contexts not JSON", withField(Contexts, "{"), `{"type":"RowDecodingError","errors":[{"type":"InvalidValue","key":"contexts","value":"{","message":"Cannot parse key contexts into contexts: not a self-describing JSON: invalid JSON"}]}`},
		{"contexts data not array", withField(Contexts, `{"schema":"iglu:a/b/jsonschema/1-0-0","data":{}}`), `{"type":"RowDecodingError","errors":[{"type":"InvalidValue","key":"contexts","value":"{\"schema\":\"iglu:a/b/jsonschema/1-0-0\",\"data\":{}}","message":"Cannot parse key contexts into contexts: not a self-describing JSON: contexts data is not an array"}]}`},
		{"unstruct not SDJ", withField(UnstructEvent, `{"schema":"iglu:a/b/jsonschema/1-0-0","data":{"x":1}}`), `{"type":"RowDecodingError","errors":[{"type":"InvalidValue","key":"unstruct_event","value":"{\"schema\":\"iglu:a/b/jsonschema/1-0-0\",\"data\":{\"x\":1}}","message":"Cannot parse key unstruct_event into unstruct_event: unstruct_event data: not a self-describing JSON: no schema"}]}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseTSV(tt.line)
			var pe ParsingError
			if !errors.As(err, &pe) {
				t.Fatalf("ParseTSV(%q) = %v, want a ParsingError", tt.line, err)
			}
			got, jerr := json.Marshal(pe)
			if jerr != nil {
				t.Fatal(jerr)
			}
			if string(got) != tt.wantJSON {
				t.Errorf("ParseTSV(%q) error JSON = %s, want %s", tt.line, got, tt.wantJSON)
			}
			if pe.Error() == "" {
				t.Errorf("ParseTSV(%q) error has no text", tt.line)
			}
		})
	}
	// Every bad field is reported.
	e := sampleEvent()
	e.Set(TxnID, "x")
	e.Set(BrCookies, "2")
	err := e.Check()
	var rde *RowDecodingError
	if !errors.As(err, &rde) || len(rde.Errors) != 2 || rde.Errors[0].Key != "txn_id" || rde.Errors[1].Key != "br_cookies" {
		t.Errorf("Check() = %v, want errors for txn_id and br_cookies", err)
	}
}

func TestTimestamps(t *testing.T) {
	paris := time.FixedZone("CET", 3600)
	ts := time.Date(2024, 3, 1, 13, 0, 0, 123456789, paris)
	if got, want := FormatTimestamp(ts), "2024-03-01 12:00:00.123"; got != want {
		t.Errorf("FormatTimestamp(%v) = %q, want %q", ts, got, want)
	}
	if got, want := FormatISO(ts), "2024-03-01T12:00:00.123Z"; got != want {
		t.Errorf("FormatISO(%v) = %q, want %q", ts, got, want)
	}
	if got, want := FormatTimestamp(time.Date(2024, 3, 1, 0, 0, 0, 0, time.UTC)), "2024-03-01 00:00:00.000"; got != want {
		t.Errorf("FormatTimestamp(midnight) = %q, want %q", got, want)
	}
	parse := []struct {
		in   string
		want time.Time
		ok   bool
	}{
		{"2024-03-01 12:00:00.123", time.Date(2024, 3, 1, 12, 0, 0, 123e6, time.UTC), true},
		{"2024-02-29 23:59:59.999", time.Date(2024, 2, 29, 23, 59, 59, 999e6, time.UTC), true},
		{"2024-03-01 12:00:00", time.Date(2024, 3, 1, 12, 0, 0, 0, time.UTC), true},
		{"2024-03-01 12:00:00.1", time.Date(2024, 3, 1, 12, 0, 0, 1e8, time.UTC), true},
		{"2023-02-29 00:00:00.000", time.Time{}, false},
		{"2024-13-01 00:00:00.000", time.Time{}, false},
		{"2024-03-01T12:00:00.000", time.Time{}, false},
		{"2024-03-01 24:00:00.000", time.Time{}, false},
		{"", time.Time{}, false},
	}
	for _, tt := range parse {
		got, err := ParseTimestamp(tt.in)
		if (err == nil) != tt.ok || !got.Equal(tt.want) {
			t.Errorf("ParseTimestamp(%q) = %v, %v, want %v, ok=%v", tt.in, got, err, tt.want, tt.ok)
		}
		if err == nil && got.Location() != time.UTC {
			t.Errorf("ParseTimestamp(%q) location = %v, want UTC", tt.in, got.Location())
		}
	}
}

func TestSelfDescribing(t *testing.T) {
	ents := []SelfDescribing{
		{Schema: "iglu:com.acme/a/jsonschema/1-0-0", Data: json.RawMessage(`{"z":1,"a":"é"}`)},
		{Schema: "iglu:com.acme/b/jsonschema/2-0-0", Data: json.RawMessage(`[1, 2]`)},
	}
	col := MarshalContexts(ents)
	want := `{"schema":"iglu:com.snowplowanalytics.snowplow/contexts/jsonschema/1-0-1","data":[` +
		`{"schema":"iglu:com.acme/a/jsonschema/1-0-0","data":{"z":1,"a":"é"}},{"schema":"iglu:com.acme/b/jsonschema/2-0-0","data":[1, 2]}]}`
	if col != want {
		t.Errorf("MarshalContexts() = %s, want %s", col, want)
	}
	got, err := ParseContexts(col)
	if err != nil {
		t.Fatalf("ParseContexts(%q) = %v", col, err)
	}
	if diff := cmp.Diff(ents, got); diff != "" {
		t.Errorf("ParseContexts(MarshalContexts()) mismatch (-want +got):\n%s", diff)
	}
	if got := MarshalContexts(nil); got != "" {
		t.Errorf("MarshalContexts(nil) = %q, want empty", got)
	}
	if got, err := ParseContexts(""); got != nil || err != nil {
		t.Errorf("ParseContexts(\"\") = %v, %v, want nil, nil", got, err)
	}

	ue := SelfDescribing{Schema: "iglu:com.acme/click/jsonschema/1-0-0", Data: json.RawMessage(`{"b":2,"a":1}`)}
	ucol := MarshalUnstruct(ue)
	wantU := `{"schema":"iglu:com.snowplowanalytics.snowplow/unstruct_event/jsonschema/1-0-0","data":{"schema":"iglu:com.acme/click/jsonschema/1-0-0","data":{"b":2,"a":1}}}`
	if ucol != wantU {
		t.Errorf("MarshalUnstruct() = %s, want %s", ucol, wantU)
	}
	gotU, ok, err := ParseUnstruct(ucol)
	if err != nil || !ok {
		t.Fatalf("ParseUnstruct(%q) = %v, %v", ucol, ok, err)
	}
	if diff := cmp.Diff(ue, gotU); diff != "" {
		t.Errorf("ParseUnstruct(MarshalUnstruct()) mismatch (-want +got):\n%s", diff)
	}
	if _, ok, err := ParseUnstruct(""); ok || err != nil {
		t.Errorf("ParseUnstruct(\"\") = %v, %v, want false, nil", ok, err)
	}

	var sd SelfDescribing
	if err := json.Unmarshal([]byte(` { "data" : {"x": [1]}, "schema" : "iglu:a.b/c/jsonschema/1-0-0" } `), &sd); err != nil {
		t.Fatal(err)
	}
	if b := sd.AppendJSON(nil); string(b) != `{"schema":"iglu:a.b/c/jsonschema/1-0-0","data":{"x": [1]}}` {
		t.Errorf("json.Marshal(SelfDescribing) = %s", b)
	}

	bad := []string{
		`[]`, `{"schema":"iglu:a/b/jsonschema/1-0-0"}`, `{"data":1}`, `{"schema":1,"data":1}`,
		`{"schema":"a/b/jsonschema/1-0-0","data":1}`, `{"schema":"iglu:a/b/jsonschema/0-0-0","data":1}`,
		`{"schema":"iglu:a/b/jsonschema/1-0","data":1}`, `{"schema":"iglu:a b/c/jsonschema/1-0-0","data":1}`,
		`{"schema":"iglu:a/b.c/jsonschema/1-0-0","data":1}`, `{"schema":"iglu:a/b/jsonschema/1-0-0","data":1`,
	}
	for _, in := range bad {
		if _, err := ParseSelfDescribing([]byte(in)); !errors.Is(err, ErrNotSelfDescribing) {
			t.Errorf("ParseSelfDescribing(%q) = %v, want ErrNotSelfDescribing", in, err)
		}
	}
	if _, err := ParseContexts(`{"schema":"iglu:a/b/jsonschema/1-0-0","data":[{"x":1}]}`); !errors.Is(err, ErrNotSelfDescribing) {
		t.Errorf("ParseContexts(entity without schema) = %v, want ErrNotSelfDescribing", err)
	}
}

func TestShredColumnName(t *testing.T) {
	tests := []struct {
		uri  string
		want string
	}{
		{"iglu:com.snowplowanalytics.snowplow/web_page/jsonschema/1-0-0", "contexts_com_snowplowanalytics_snowplow_web_page_1"},
		{"iglu:org.w3/PerformanceTiming/jsonschema/1-0-0", "contexts_org_w3_performance_timing_1"},
		{"iglu:com.acme/URLClick/jsonschema/1-0-0", "contexts_com_acme_urlclick_1"},
		{"iglu:com.acme-corp/user-agent-v2/jsonschema/12-0-0", "contexts_com_acme_corp_user_agent_v2_12"},
		{"iglu:com.acme/my_Event/jsonschema/3-0-0", "contexts_com_acme_my_event_3"},
		{"iglu:com.acme/aBcDe/jsonschema/1-0-0", "contexts_com_acme_a_bc_de_1"},
		{"iglu:com.acme/a-Bc/jsonschema/1-0-0", "contexts_com_acme_a_bc_1"},
		{"iglu:Com.Acme/X/jsonschema/1-0-0", "contexts_com_acme_x_1"},
	}
	for _, tt := range tests {
		k, err := iglu.ParseSchemaKey(tt.uri)
		if err != nil {
			t.Fatal(err)
		}
		if got := ShredColumnName("contexts", k.Vendor, k.Name, k.Version.Model); got != tt.want {
			t.Errorf("ShredColumnName(%q) = %q, want %q", tt.uri, got, tt.want)
		}
	}
}

func TestAppendJSONString(t *testing.T) {
	tests := []struct{ in, want string }{
		{"", `""`},
		{"plain", `"plain"`},
		{`q"b\`, `"q\"b\\"`},
		{"a\nb\tc\rd\x00\x1f\b\f", `"a\nb\tc\rd\u0000\u001f\b\f"`},
		{"<&>", `"<&>"`},
		{"é–😀", `"é–😀"`},
		{"bad\xffutf8", "\"bad\ufffdutf8\""},
		// Long enough for eight bytes at a time, with what stops it at several offsets.
		{"iglu:com.snowplowanalytics.snowplow/web_page/jsonschema/1-0-0", `"iglu:com.snowplowanalytics.snowplow/web_page/jsonschema/1-0-0"`},
		{"abcdefghijklmnop\"qrstuvwxyz\\0123456789\x7f", `"abcdefghijklmnop\"qrstuvwxyz\\0123456789` + "\x7f\""},
		{"abcdefghijklmno\nqrstuvwxyzé0123456789\xffabcdefgh", "\"abcdefghijklmno\\nqrstuvwxyzé0123456789\ufffdabcdefgh\""},
	}
	for _, tt := range tests {
		got := string(AppendJSONString(nil, tt.in))
		if got != tt.want {
			t.Errorf("AppendJSONString(%q) = %s, want %s", tt.in, got, tt.want)
		}
		var back string
		if err := json.Unmarshal([]byte(got), &back); err != nil {
			t.Errorf("AppendJSONString(%q) = %s is not valid JSON: %v", tt.in, got, err)
		} else if want := strings.ToValidUTF8(tt.in, "\ufffd"); back != want {
			t.Errorf("AppendJSONString(%q) decodes to %q, want %q", tt.in, back, want)
		}
	}
}

func TestCleanString(t *testing.T) {
	tests := []struct{ in, want string }{
		{"plain", "plain"},
		{"a\tb", "a    b"},
		{"a\r\nb\x00c\x7fd", "abcd"},
		{"é\x01", "é"},
	}
	for _, tt := range tests {
		if got := CleanString(tt.in); got != tt.want {
			t.Errorf("CleanString(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestAppendTSVGuardsSeparators(t *testing.T) {
	var e EnrichedEvent
	e.Set(PageTitle, "a\tb\r\nc")
	e.Set(EventID, "c6ef3124-b53a-4b13-a233-0088f79dcbcb")
	line := e.AppendTSV(nil)
	if n := bytes.Count(line, []byte{'\t'}); n != NumFields-1 {
		t.Fatalf("AppendTSV wrote %d tabs, want %d", n, NumFields-1)
	}
	fields := strings.Split(string(line), "\t")
	if got := fields[PageTitle]; got != "a    bc" {
		t.Errorf("AppendTSV page_title = %q, want %q", got, "a    bc")
	}
}

func TestTypedSetters(t *testing.T) {
	var e EnrichedEvent
	ts := time.Date(2024, 3, 1, 12, 0, 0, 5e6, time.UTC)
	e.SetTimestamp(DerivedTstamp, ts)
	e.SetInt(DocWidth, -3)
	e.SetBool(BrCookies, true)
	e.SetBool(DvceIsMobile, false)
	want := map[Field]string{DerivedTstamp: "2024-03-01 12:00:00.005", DocWidth: "-3", BrCookies: "1", DvceIsMobile: "0"}
	for f, v := range want {
		if got := e.Get(f); got != v {
			t.Errorf("Get(%s) = %q, want %q", f, got, v)
		}
	}
	got, ok, err := e.Timestamp(DerivedTstamp)
	if err != nil || !ok || !got.Equal(ts) {
		t.Errorf("Timestamp(derived_tstamp) = %v, %v, %v, want %v", got, ok, err, ts)
	}
	if _, ok, err := e.Timestamp(TrueTstamp); ok || err != nil {
		t.Errorf("Timestamp(true_tstamp) = %v, %v, want false, nil", ok, err)
	}
	e.Set(TrueTstamp, "x")
	if _, _, err := e.Timestamp(TrueTstamp); err == nil {
		t.Errorf("Timestamp(true_tstamp=x) = nil error")
	}
	e.SetTimestamp(DerivedTstamp, time.Time{})
	if e.Get(DerivedTstamp) != "" {
		t.Errorf("SetTimestamp(zero) left %q", e.Get(DerivedTstamp))
	}
	e.Reset()
	if e != (EnrichedEvent{}) {
		t.Errorf("Reset() left fields set")
	}
}

// TestHasSeparator holds hasSeparator (eight bytes at a time below 64 bytes) to
// strings.ContainsAny with every pair of byte values at each place of a block, in
// strings of the lengths around its thresholds.
func TestHasSeparator(t *testing.T) {
	base := strings.Repeat("abcdefghijklmnopqrstuvwxyz0123456789", 2)
	for _, n := range []int{2, 7, 8, 9, 15, 16, 17, 24, 63, 64} {
		b := []byte(base[:n])
		for at := range n - 1 {
			for c1 := range 256 {
				for _, c2 := range []byte{'a', 0, '\t', '\n', '\r', 0x0b, 0x0e, 0x80, 0xff} {
					s := append([]byte(nil), b...)
					s[at], s[at+1] = byte(c1), c2
					if got, want := hasSeparator(string(s)), strings.ContainsAny(string(s), "\t\n\r"); got != want {
						t.Fatalf("hasSeparator(%q) = %v, want %v", s, got, want)
					}
				}
			}
		}
	}
}
