package enrichments

import (
	"crypto/md5"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/snowplow-mini/snowplow-mini/enrich/event"
)

var mktFields = []string{"mkt_medium", "mkt_source", "mkt_term", "mkt_content", "mkt_campaign", "mkt_clickid", "mkt_network"}

func TestCampaignAttribution(t *testing.T) {
	defaults := newSet(t, conf(sp, "campaign_attribution", "1-0-0",
		`{"mapping":"static","fields":{"mktMedium":["utm_medium"],"mktSource":["utm_source"],"mktTerm":["utm_term"],"mktContent":["utm_content"],"mktCampaign":["utm_campaign"]}}`))
	custom := newSet(t, conf(sp, "campaign_attribution", "1-0-1",
		`{"mapping":"static","fields":{"mktMedium":["utm_medium","medium"],"mktSource":["utm_source","source"],"mktTerm":["utm_term"],"mktContent":[],"mktCampaign":["utm _campaign","cid"],"mktClickId":{"dclid":"Display","fbclid":"Facebook"}}}`))
	tests := []struct {
		name  string
		set   *Set
		query string
		want  map[string]string
	}{
		{"utm", defaults, "utm_source=google&utm_medium=cpc&utm_term=running+shoes&utm_content=ad%201&utm_campaign=spring",
			map[string]string{"mkt_medium": "cpc", "mkt_source": "google", "mkt_term": "running shoes", "mkt_content": "ad 1", "mkt_campaign": "spring"}},
		{"no query", defaults, "", map[string]string{}},
		{"present but empty is null", defaults, "utm_source=&utm_medium", map[string]string{}},
		{"last repeated wins", defaults, "utm_source=a&utm_source=b", map[string]string{"mkt_source": "b"}},
		{"semicolon separates", defaults, "utm_source=a;utm_medium=b", map[string]string{"mkt_source": "a", "mkt_medium": "b"}},
		{"gclid", defaults, "gclid=abc&msclkid=def", map[string]string{"mkt_clickid": "abc", "mkt_network": "Google"}},
		{"msclkid", defaults, "msclkid=def", map[string]string{"mkt_clickid": "def", "mkt_network": "Microsoft"}},
		{"dclid", defaults, "dclid=x", map[string]string{"mkt_clickid": "x", "mkt_network": "DoubleClick"}},
		{"custom click id not in defaults", defaults, "fbclid=x", map[string]string{}},
		{"first configured name wins", custom, "source=s2&utm_source=s1&medium=m2",
			map[string]string{"mkt_source": "s1", "mkt_medium": "m2"}},
		{"encoded name matches", custom, "utm%20_campaign=c1&cid=c2", map[string]string{"mkt_campaign": "c1"}},
		{"custom network overrides", custom, "dclid=1", map[string]string{"mkt_clickid": "1", "mkt_network": "Display"}},
		{"custom click id", custom, "fbclid=f", map[string]string{"mkt_clickid": "f", "mkt_network": "Facebook"}},
		{"built-in click ids first", custom, "fbclid=f&gclid=g", map[string]string{"mkt_clickid": "g", "mkt_network": "Google"}},
		{"tab made safe", defaults, "utm_term=a%09b%0A", map[string]string{"mkt_term": "a    b"}},
		{"malformed escape kept", defaults, "utm_term=100%&utm_source=%zz", map[string]string{"mkt_term": "100%", "mkt_source": "%zz"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ev := fields(t, "page_url", "https://shop.example/?"+tt.query, "page_urlscheme", "https", "page_urlhost", "shop.example", "page_urlquery", tt.query)
			run(t, tt.set, ev, nil)
			if diff := cmp.Diff(tt.want, get(ev, mktFields...)); diff != "" {
				t.Errorf("campaign(%q) mismatch (-want +got):\n%s", tt.query, diff)
			}
		})
	}
	t.Run("latin1 payload", func(t *testing.T) {
		ev := fields(t, "page_urlscheme", "http", "page_urlquery", "utm_term=caf%E9")
		run(t, defaults, ev, &rawInput{encoding: "ISO-8859-1"})
		if got := get(ev, "mkt_term")["mkt_term"]; got != "café" {
			t.Errorf("mkt_term = %q, want %q", got, "café")
		}
	})
	// Java's US-ASCII decoder replaces bytes above 0x7F.
	t.Run("ascii payload", func(t *testing.T) {
		ev := fields(t, "page_urlscheme", "http", "page_urlquery", "utm_term=caf%E9")
		run(t, defaults, ev, &rawInput{encoding: "US-ASCII"})
		want := map[string]string{"mkt_term": "caf\uFFFD"}
		if diff := cmp.Diff(want, get(ev, "mkt_term", "mkt_source")); diff != "" {
			t.Errorf("campaign mismatch (-want +got):\n%s", diff)
		}
	})
}

func TestEventFingerprint(t *testing.T) {
	params := func(kv ...string) *rawInput {
		in := &rawInput{encoding: "UTF-8"}
		for i := 0; i < len(kv); i += 2 {
			v := kv[i+1]
			in.params = append(in.params, event.NVP{Name: kv[i], Value: &v})
		}
		return in
	}
	base := params("url", "http://a.com/", "e", "pv", "p", "web", "aid", "shop", "eid", "e4d3a5c2-0000-4000-8000-000000000000", "stm", "1700000000000")
	// Expected values: hash of "aid\x1fshop\x1fe\x1fpv\x1fp\x1fweb\x1furl\x1fhttp://a.com/\x1f",
	// computed with an independent implementation.
	tests := []struct {
		name string
		algo string
		in   *rawInput
		want string
	}{
		{"md5", "MD5", base, "d7ef448959c9d32740628b6c9004a882"},
		{"sha1", "SHA1", base, "f44b20b42b27796009ca538044d7fab0c83f0187"},
		{"sha256", "SHA256", base, "d57a4a5357967e6199ad4701f95f7ec1536579f7827bf10e78e9005086e02ff4"},
		{"order and duplicates do not matter", "MD5",
			params("p", "web", "aid", "x", "e", "pv", "url", "http://a.com/", "aid", "shop"), "d7ef448959c9d32740628b6c9004a882"},
		{"names sharing their first letters", "MD5", params("pp_mix", "1", "page", "T", "p", "web", "e", "pp", "aid", "a"),
			fmt.Sprintf("%x", md5.Sum([]byte("aid\x1fa\x1fe\x1fpp\x1fp\x1fweb\x1fpage\x1fT\x1fpp_mix\x1f1\x1f")))},
		{"null values are skipped", "MD5",
			&rawInput{params: append(append([]event.NVP(nil), base.params...), event.NVP{Name: "tv"})}, "d7ef448959c9d32740628b6c9004a882"},
	}
	for _, tt := range tests {
		// A long exclusion list is looked up differently from a short one.
		for _, exclude := range []string{`["eid","stm","nuid","cv"]`, `["eid","x1","x2","x3","x4","x5","x6","stm","nuid","cv"]`} {
			t.Run(tt.name, func(t *testing.T) {
				s := newSet(t, conf(sp, "event_fingerprint_config", "1-0-1", `{"hashAlgorithm":"`+tt.algo+`","excludeParameters":`+exclude+`}`))
				ev := fields(t)
				run(t, s, ev, tt.in)
				if got := get(ev, "event_fingerprint")["event_fingerprint"]; got != tt.want {
					t.Errorf("fingerprint(%s) excluding %s = %q, want %q", tt.algo, exclude, got, tt.want)
				}
			})
		}
	}
	t.Run("remembered orders", func(t *testing.T) {
		// One set hashes events whose names come in sequences it has seen, with other
		// values (a null among them), and sequences that would collide if names were
		// simply joined; each must hash as a set that never saw another event.
		const cfg = `{"hashAlgorithm":"MD5","excludeParameters":["eid","stm","nuid","cv"]}`
		withNull := params("p", "web", "aid", "x", "e", "pv", "url", "http://a.com/", "aid", "shop")
		withNull.params[1].Value = nil
		last := params("p", "web", "aid", "x", "e", "pv", "url", "http://a.com/", "aid", "shop")
		last.params[4].Value = nil
		ins := []*rawInput{
			base, params("url", "http://b.com/", "e", "pv", "p", "web", "aid", "blog", "eid", "x", "stm", "1"),
			params("p", "web", "aid", "x", "e", "pv", "url", "http://a.com/", "aid", "shop"), withNull, last,
			params("ab", "1"), params("a", "", "b", "1"), params("a", "b1"),
		}
		warm := newSet(t, conf(sp, "event_fingerprint_config", "1-0-1", cfg))
		for round := range 2 {
			for i, in := range ins {
				ev := fields(t)
				run(t, warm, ev, in)
				cold := newSet(t, conf(sp, "event_fingerprint_config", "1-0-1", cfg))
				evCold := fields(t)
				run(t, cold, evCold, in)
				got, want := get(ev, "event_fingerprint")["event_fingerprint"], get(evCold, "event_fingerprint")["event_fingerprint"]
				if got != want || got == "" {
					t.Errorf("round %d, event %d: fingerprint %q, want %q", round, i, got, want)
				}
			}
		}
	})
	t.Run("lengths", func(t *testing.T) {
		for algo, n := range map[string]int{"SHA384": 96, "SHA512": 128} {
			s := newSet(t, conf(sp, "event_fingerprint_config", "1-0-1", `{"hashAlgorithm":"`+algo+`","excludeParameters":[]}`))
			ev := fields(t)
			run(t, s, ev, base)
			if got := len(ev.Fields[129]); got != n {
				t.Errorf("len(fingerprint(%s)) = %d, want %d", algo, got, n)
			}
		}
	})
}

var refrFields = []string{"refr_medium", "refr_source", "refr_term"}

func TestRefererParser(t *testing.T) {
	dir := t.TempDir()
	db := `{"search":{"Acme Search":{"domains":["search.acme.test","acme.test/find"],"parameters":["qq","term"]}},"social":{"Acme Social":{"domains":["social.acme.test"]}}}`
	if err := os.WriteFile(filepath.Join(dir, "referers.json"), []byte(db), 0o644); err != nil {
		t.Fatal(err)
	}
	yml := "email:\n  Acme Mail:\n    domains:\n      - mail.acme.test\n"
	if err := os.WriteFile(filepath.Join(dir, "referers.yml"), []byte(yml), 0o644); err != nil {
		t.Fatal(err)
	}
	builtin := newSet(t, conf(sp, "referer_parser", "2-0-1", `{"internalDomains":["www.shop.example","blog.shop.example"],"uri":"builtin:","database":"x"}`))
	file := newSet(t, conf(sp, "referer_parser", "2-0-1", `{"internalDomains":[],"uri":"file://`+dir+`","database":"referers.json","referrers":{"paid":{"Acme Ads":{"domains":["ads.acme.test","search.acme.test"]}}}}`))
	ymlSet := newSet(t, conf(sp, "referer_parser", "2-0-0", `{"internalDomains":[],"uri":"`+dir+`","database":"referers.yml"}`))
	tests := []struct {
		name string
		set  *Set
		refr string
		want map[string]string
	}{
		{"google search", builtin, "https://www.google.com/search?q=snowplow+mini&hl=en", map[string]string{"refr_medium": "search", "refr_source": "Google", "refr_term": "snowplow mini"}},
		{"google country", builtin, "https://www.google.co.uk/url?sa=t&q=caf%C3%A9", map[string]string{"refr_medium": "search", "refr_source": "Google", "refr_term": "café"}},
		{"search without term", builtin, "https://www.bing.com/", map[string]string{"refr_medium": "search", "refr_source": "Bing"}},
		{"first listed param in query order", builtin, "https://search.yahoo.com/search?q=second&p=first", map[string]string{"refr_medium": "search", "refr_source": "Yahoo!", "refr_term": "second"}},
		{"social", builtin, "https://l.facebook.com/l.php?u=x", map[string]string{"refr_medium": "social", "refr_source": "Facebook"}},
		{"email beats parent domain", builtin, "https://mail.google.com/mail/u/0/", map[string]string{"refr_medium": "email", "refr_source": "Gmail"}},
		{"chatbot", builtin, "https://chatgpt.com/", map[string]string{"refr_medium": "chatbot", "refr_source": "ChatGPT"}},
		{"internal same host", builtin, "https://shop.example/cart", map[string]string{"refr_medium": "internal"}},
		{"internal domain", builtin, "http://blog.shop.example/post", map[string]string{"refr_medium": "internal"}},
		{"unknown", builtin, "https://some.blog.test/article", map[string]string{"refr_medium": "unknown"}},
		{"not http", builtin, "ftp://www.google.com/", map[string]string{}},
		{"android app", builtin, "android-app://com.google.android.gm/", map[string]string{"refr_medium": "unknown"}},
		{"file db", file, "https://www.search.acme.test/?qq=shoes", map[string]string{"refr_medium": "paid", "refr_source": "Acme Ads"}},
		{"file db path entry", file, "https://acme.test/find/more?term=boots", map[string]string{"refr_medium": "search", "refr_source": "Acme Search", "refr_term": "boots"}},
		{"file db other path", file, "https://acme.test/other", map[string]string{"refr_medium": "unknown"}},
		{"file db social", file, "https://social.acme.test/", map[string]string{"refr_medium": "social", "refr_source": "Acme Social"}},
		{"file db has no built-ins", file, "https://www.google.com/?q=x", map[string]string{"refr_medium": "unknown"}},
		{"yaml db", ymlSet, "https://mail.acme.test/inbox", map[string]string{"refr_medium": "email", "refr_source": "Acme Mail"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ev := fields(t, "page_urlhost", "shop.example")
			u := refEventFields(tt.refr)
			ev.Fields[38], ev.Fields[39], ev.Fields[41], ev.Fields[42] = u[0], u[1], u[2], u[3]
			run(t, tt.set, ev, nil)
			if diff := cmp.Diff(tt.want, get(ev, refrFields...)); diff != "" {
				t.Errorf("referer(%q) mismatch (-want +got):\n%s", tt.refr, diff)
			}
		})
	}
}

// refEventFields splits a URL into scheme, host, path, query as enrich would.
func refEventFields(refr string) [4]string {
	scheme, rest, _ := strings.Cut(refr, "://")
	hostPath, query, _ := strings.Cut(rest, "?")
	host, path, found := strings.Cut(hostPath, "/")
	if found {
		path = "/" + path
	}
	return [4]string{scheme, host, path, query}
}

func TestUAParser(t *testing.T) {
	s := newSet(t, conf(sp, "ua_parser_config", "1-0-0", `{}`))
	tests := []struct {
		ua   string
		want []string
	}{
		{"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.6099.130 Safari/537.36",
			[]string{`{"schema":"iglu:com.snowplowanalytics.snowplow/ua_parser_context/jsonschema/1-0-0","data":{"useragentFamily":"Chrome","useragentMajor":"120","useragentMinor":"0","useragentPatch":"6099","useragentVersion":"Chrome 120.0.6099","osFamily":"Windows","osMajor":"10","osMinor":null,"osPatch":null,"osPatchMinor":null,"osVersion":"Windows 10","deviceFamily":"Other"}}`}},
		{"node",
			[]string{`{"schema":"iglu:com.snowplowanalytics.snowplow/ua_parser_context/jsonschema/1-0-0","data":{"useragentFamily":"Other","useragentMajor":null,"useragentMinor":null,"useragentPatch":null,"useragentVersion":"Other","osFamily":"Other","osMajor":null,"osMinor":null,"osPatch":null,"osPatchMinor":null,"osVersion":"Other","deviceFamily":"Other"}}`}},
		{"", nil},
	}
	for _, tt := range tests {
		for range 2 { // the second time from the cache
			r := run(t, s, fields(t, "useragent", tt.ua), nil)
			if diff := cmp.Diff(tt.want, derivedJSON(t, r)); diff != "" {
				t.Errorf("ua_parser(%q) mismatch (-want +got):\n%s", tt.ua, diff)
			}
		}
	}
	t.Run("custom rules", func(t *testing.T) {
		dir := t.TempDir()
		rules := "user_agent_parsers:\n  - regex: '(AcmeBot)/(\\d+)\\.(\\d+)'\nos_parsers:\n  - regex: '(AcmeOS)'\ndevice_parsers:\n  - regex: '(AcmePhone)'\n"
		if err := os.WriteFile(filepath.Join(dir, "regexes.yaml"), []byte(rules), 0o644); err != nil {
			t.Fatal(err)
		}
		s := newSet(t, conf(sp, "ua_parser_config", "1-0-1", `{"uri":"file://`+dir+`","database":"regexes.yaml"}`))
		r := run(t, s, fields(t, "useragent", "AcmeBot/2.5 (AcmeOS; AcmePhone)"), nil)
		want := []string{`{"schema":"iglu:com.snowplowanalytics.snowplow/ua_parser_context/jsonschema/1-0-0","data":{"useragentFamily":"AcmeBot","useragentMajor":"2","useragentMinor":"5","useragentPatch":null,"useragentVersion":"AcmeBot 2.5","osFamily":"AcmeOS","osMajor":null,"osMinor":null,"osPatch":null,"osPatchMinor":null,"osVersion":"AcmeOS","deviceFamily":"AcmePhone"}}`}
		if diff := cmp.Diff(want, derivedJSON(t, r)); diff != "" {
			t.Errorf("custom rules mismatch (-want +got):\n%s", diff)
		}
	})
}
