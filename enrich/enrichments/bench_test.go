package enrichments

import (
	"context"
	"testing"

	"github.com/snowplow-mini/snowplow-mini/enrich/event"
)

// benchEvent is a browser page view as enrich hands it over.
func benchEvent(b testing.TB) (*event.EnrichedEvent, *rawInput) {
	ev := fields(b,
		"page_url", "https://shop.example/products/42?utm_source=newsletter&utm_medium=email&utm_campaign=spring&gclid=Cj0KCQ",
		"page_urlscheme", "https", "page_urlhost", "shop.example", "page_urlpath", "/products/42",
		"page_urlquery", "utm_source=newsletter&utm_medium=email&utm_campaign=spring&gclid=Cj0KCQ",
		"page_referrer", "https://www.google.com/search?q=running+shoes&hl=en",
		"refr_urlscheme", "https", "refr_urlhost", "www.google.com", "refr_urlpath", "/search", "refr_urlquery", "q=running+shoes&hl=en",
		"useragent", "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.6099.130 Safari/537.36",
		"user_ipaddress", "81.2.69.142",
	)
	in := &rawInput{encoding: "UTF-8", headers: []string{
		"Host: c.example", "User-Agent: Mozilla/5.0", "Cookie: sp=abc; _ga=GA1.2", "Accept: */*", "X-Forwarded-For: 81.2.69.142",
	}}
	for _, kv := range [][2]string{
		{"e", "pv"}, {"url", ev.Fields[event.PageURL]}, {"page", "Running shoes"}, {"refr", ev.Fields[event.PageReferrer]},
		{"tv", "js-3.17.0"}, {"tna", "sp"}, {"aid", "shop"}, {"p", "web"}, {"tz", "Europe/London"}, {"lang", "en-GB"},
		{"cs", "UTF-8"}, {"f_pdf", "1"}, {"cd", "24"}, {"cookie", "1"}, {"eid", "c6ef3124-b53a-4b13-a233-0088f79dcbcb"},
		{"dtm", "1709294400123"}, {"vp", "1280x720"}, {"ds", "1280x3000"}, {"vid", "3"}, {"sid", "8c2b1e55-3ad4-4d2c-9f43-2d5c1f7a1c11"},
		{"duid", "5e1a8f2c-7b3d-4c9e-8f1a-2b3c4d5e6f70"}, {"res", "1920x1080"}, {"stm", "1709294400200"},
		{"co", `{"schema":"iglu:com.snowplowanalytics.snowplow/contexts/jsonschema/1-0-0","data":[{"schema":"iglu:com.snowplowanalytics.snowplow/web_page/jsonschema/1-0-0","data":{"id":"a8c8e3d1-5b2f-4e0b-9c1d-7e6f5a4b3c2d"}}]}`},
	} {
		v := kv[1]
		in.params = append(in.params, event.NVP{Name: kv[0], Value: &v})
	}
	return ev, in
}

func benchSet(b *testing.B, s *Set) {
	ev, in := benchEvent(b)
	orig := *ev
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		*ev = orig
		if _, err := s.apply(ctx, ev, in); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkDefaults(b *testing.B) {
	s, err := Defaults(b.Context(), Deps{})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	benchSet(b, s)
}

func BenchmarkEnrichment(b *testing.B) {
	cases := []struct{ name, conf string }{
		{"campaign_attribution", defaultConfigs[0].json},
		{"event_fingerprint_config", defaultConfigs[1].json},
		{"referer_parser", defaultConfigs[2].json},
		{"ua_parser_config", defaultConfigs[3].json},
		{"anon_ip", conf(sp, "anon_ip", "1-0-1", `{"anonOctets":2,"anonSegments":3}`)},
		{"cookie_extractor_config", conf(sp, "cookie_extractor_config", "1-0-0", `{"cookies":["sp"]}`)},
		{"http_header_extractor_config", conf(spe, "http_header_extractor_config", "1-0-0", `{"headersPattern":"X-.*"}`)},
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) { benchSet(b, newSet(b, c.conf)) })
	}
}
