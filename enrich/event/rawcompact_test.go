package event

import (
	"bytes"
	"encoding/json"
	"errors"
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
	if got, err := AppendMicroJSONOf(nil, []byte(c)); err != nil || !bytes.Equal(got, js) {
		t.Errorf("AppendMicroJSONOf(compact) = %s, %v, want %s", got, err, js)
	}
	if got, err := AppendMicroJSONOf(nil, js); err != nil || !bytes.Equal(got, js) {
		t.Errorf("AppendMicroJSONOf(JSON) = %s, %v, want it unchanged", got, err)
	}
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

func TestUnmarshalCompactErrors(t *testing.T) {
	good := sampleRaw().CompactString()
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

// FuzzCompactRaw checks that any RawEvent renders the same Micro JSON and bad-row JSON
// after a round trip through the compact form.
func FuzzCompactRaw(f *testing.F) {
	f.Add("com.snowplowanalytics.snowplow", "tp2", "application/json", "UTF-8", "Mozilla/5.0", "https://r/", "u-1",
		"Host: h\nUser-Agent: Mozilla/5.0\nCookie: sp=u-1\napplication/json",
		"e\x00pv\x00cx\x00eyJzY2hlbWEiOiJpZ2x1OmNvbS5zbm93cGxvd2FuYWx5dGljcy5zbm93cGxvdy9j\x00n", int64(1796530452736123456))
	f.Add("", "", "", "", "", "", "", "", "", int64(0))
	for _, r := range browserRaws(f, 1)[:2] {
		var ps []string
		for _, p := range r.Parameters {
			ps = append(ps, p.Name, *p.Value)
		}
		f.Add(r.Vendor, r.Version, r.ContentType, r.Encoding, r.UserAgent, r.RefererURI, r.UserID,
			strings.Join(r.Headers, "\n"), strings.Join(ps, "\x00"), r.Timestamp.UnixNano())
	}
	f.Fuzz(func(t *testing.T, vendor, version, contentType, encoding, ua, referer, userID, headers, params string, ts int64) {
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
		checkCompactRoundTrip(t, r)
	})
}

// FuzzUnmarshalCompact feeds arbitrary bytes to the decoder: it must not panic, and
// what it accepts must encode to a form that reads back the same.
func FuzzUnmarshalCompact(f *testing.F) {
	f.Add(sampleRaw().CompactString())
	for _, r := range browserRaws(f, 2)[:3] {
		f.Add(r.CompactString())
	}
	f.Fuzz(func(t *testing.T, data string) {
		var r RawEvent
		if r.UnmarshalCompact(data) != nil {
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
	cs := make([][]byte, len(raws))
	for i, r := range raws {
		cs[i] = []byte(r.CompactString())
	}
	b.Run("CompactToMicroJSON", func(b *testing.B) {
		var dst []byte
		for i := 0; b.Loop(); i++ {
			var err error
			if dst, err = AppendMicroJSONOf(dst[:0], cs[i%len(cs)]); err != nil {
				b.Fatal(err)
			}
		}
	})
}
