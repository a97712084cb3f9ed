package enrichments

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestAnonIP(t *testing.T) {
	tests := []struct {
		octets, segments string
		ip, want         string
	}{
		{"1", "", "1.2.3.4", "1.2.3.x"},
		{"2", "", "1.2.3.4", "1.2.x.x"},
		{"4", "", "1.2.3.4", "x.x.x.x"},
		{"1", "", "::FFFF:1.2.3.4", "::FFFF:1.2.3.x"},
		{"1", "2", "2001:db8::ff00:42:8329", "2001:db8:0:0:0:ff00:x:x"},
		{"1", "8", "2001:0db8:85a3:0000:0000:8a2e:0370:7334", "x:x:x:x:x:x:x:x"},
		{"1", "", "2001:db8::1", "x:x:x:x:x:x:x:x"}, // 1-0-0 configs mask all segments
		{"1", "3", "fe80::1%eth0", "fe80:0:0:0:0:x:x:x"},
		{"3", "", "999.1.2.3", "999.x.x.x"},
		{"1", "", "unknown", "unknown"},
	}
	for _, tt := range tests {
		params := `{"anonOctets":` + tt.octets
		version := "1-0-0"
		if tt.segments != "" {
			params += `,"anonSegments":` + tt.segments
			version = "1-0-1"
		}
		s := newSet(t, conf(sp, "anon_ip", version, params+"}"))
		ev := fields(t, "user_ipaddress", tt.ip)
		run(t, s, ev, nil)
		if got := ev.Fields[13]; got != tt.want {
			t.Errorf("anon_ip(%s octets=%s segments=%s) = %q, want %q", tt.ip, tt.octets, tt.segments, got, tt.want)
		}
	}
	dir := t.TempDir()
	writeFile(t, dir, "a.json", conf(sp, "anon_ip", "1-0-1", `{"anonOctets":5,"anonSegments":0}`))
	_, err := Load(t.Context(), dir, Deps{})
	wantErrs(t, err, "parameters.anonOctets: 5 is not between 1 and 4", "parameters.anonSegments: 0 is not between 1 and 8")
}

func TestCookieExtractor(t *testing.T) {
	s := newSet(t, conf(sp, "cookie_extractor_config", "1-0-0", `{"cookies":["sp","_ga","flag"]}`))
	in := &rawInput{headers: []string{
		"Host: c.example",
		"Cookie: _ga=GA1.2.3; other=1;sp=abc-123; flag",
		"cookie: sp=second",
		"X-Cookie: sp=no",
		"application/json",
	}}
	r := run(t, s, fields(t), in)
	want := []string{
		`{"schema":"iglu:org.ietf/http_cookie/jsonschema/1-0-0","data":{"name":"_ga","value":"GA1.2.3"}}`,
		`{"schema":"iglu:org.ietf/http_cookie/jsonschema/1-0-0","data":{"name":"sp","value":"abc-123"}}`,
		`{"schema":"iglu:org.ietf/http_cookie/jsonschema/1-0-0","data":{"name":"flag","value":null}}`,
		`{"schema":"iglu:org.ietf/http_cookie/jsonschema/1-0-0","data":{"name":"sp","value":"second"}}`,
	}
	if diff := cmp.Diff(want, derivedJSON(t, r)); diff != "" {
		t.Errorf("cookies mismatch (-want +got):\n%s", diff)
	}
}

func TestHeaderExtractor(t *testing.T) {
	headers := []string{"Host: c.example", "X-Forwarded-For:  1.2.3.4 ", "x-request-id: r1", "Accept: */*", "application/json"}
	tests := []struct {
		pattern string
		want    []string
	}{
		{".*", []string{
			`{"schema":"iglu:org.ietf/http_header/jsonschema/1-0-0","data":{"name":"Host","value":"c.example"}}`,
			`{"schema":"iglu:org.ietf/http_header/jsonschema/1-0-0","data":{"name":"X-Forwarded-For","value":"1.2.3.4"}}`,
			`{"schema":"iglu:org.ietf/http_header/jsonschema/1-0-0","data":{"name":"x-request-id","value":"r1"}}`,
			`{"schema":"iglu:org.ietf/http_header/jsonschema/1-0-0","data":{"name":"Accept","value":"*/*"}}`,
		}},
		{"X-.*", []string{`{"schema":"iglu:org.ietf/http_header/jsonschema/1-0-0","data":{"name":"X-Forwarded-For","value":"1.2.3.4"}}`}},
		{"(?i)x-.*", []string{
			`{"schema":"iglu:org.ietf/http_header/jsonschema/1-0-0","data":{"name":"X-Forwarded-For","value":"1.2.3.4"}}`,
			`{"schema":"iglu:org.ietf/http_header/jsonschema/1-0-0","data":{"name":"x-request-id","value":"r1"}}`,
		}},
		{"Hos", nil}, // must match the whole name
	}
	for _, tt := range tests {
		s := newSet(t, conf(spe, "http_header_extractor_config", "1-0-0", `{"headersPattern":"`+tt.pattern+`"}`))
		r := run(t, s, fields(t), &rawInput{headers: headers})
		if diff := cmp.Diff(tt.want, derivedJSON(t, r)); diff != "" {
			t.Errorf("headers(%q) mismatch (-want +got):\n%s", tt.pattern, diff)
		}
	}
	dir := t.TempDir()
	writeFile(t, dir, "a.json", conf(spe, "http_header_extractor_config", "1-0-0", `{"headersPattern":"(unclosed"}`))
	_, err := Load(t.Context(), dir, Deps{})
	wantErrs(t, err, "parameters.headersPattern")
}
