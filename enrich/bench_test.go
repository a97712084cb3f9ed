package enrich

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/snowplow-mini/snowplow-mini/collector/payload"
	"github.com/snowplow-mini/snowplow-mini/enrich/enrichments"
	"github.com/snowplow-mini/snowplow-mini/enrich/event"
	"github.com/snowplow-mini/snowplow-mini/internal/browserload"
)

// idMarker stands for the ids of the benchmark record's entities (valid hex in a UUID).
const idMarker = "fedcba987654"

// benchRecord is a realistic tp2 POST: the ten events of the batch fixtures, each with
// the web_page and client_session contexts of the fixtures (cx), about 20 KB. Its web_page
// id, session id and link_click target URLs end with an id that setID changes in place,
// so that a benchmark can give every record entities never seen before, as page views
// of different visitors have.
type benchRecord struct {
	rec   []byte
	parts []benchPart // the distinct base64 cx and ue_px texts
	id    [len(idMarker)]byte
}

type benchPart struct {
	json  []byte // decoded, with idMarker
	marks []int  // offsets of idMarker in json
	at    []int  // offsets of the base64 text in rec
	enc   []byte
}

// setID gives the record's entities the id n.
func (r *benchRecord) setID(n uint64) {
	const hex = "0123456789abcdef"
	for i := len(r.id) - 1; i >= 0; i-- {
		r.id[i] = hex[n&0xf]
		n >>= 4
	}
	for i := range r.parts {
		p := &r.parts[i]
		for _, m := range p.marks {
			copy(p.json[m:], r.id[:])
		}
		base64.RawURLEncoding.Encode(p.enc, p.json)
		for _, a := range p.at {
			copy(r.rec[a:], p.enc)
		}
	}
}

func benchPayload(b *testing.B) *benchRecord {
	b.Helper()
	var cx string
	var events []map[string]string
	for _, name := range []string{"node-post-batch5-a", "node-post-batch5-b"} {
		f := loadFixture(b, name)
		body, err := base64.StdEncoding.DecodeString(f.BodyBase64)
		if err != nil {
			b.Fatal(err)
		}
		var pd struct {
			Data []map[string]string `json:"data"`
		}
		if err := json.Unmarshal(body, &pd); err != nil {
			b.Fatal(err)
		}
		for _, ev := range pd.Data {
			if ev["cx"] != "" {
				cx = ev["cx"]
			}
		}
		events = append(events, pd.Data...)
	}
	// Mark the ids: the last 12 digits of the web_page id and session id, a parameter
	// at the end of the link_click target URLs.
	idRe := regexp.MustCompile(`("(?:id|sessionId)":"[0-9a-f-]{24})[0-9a-f]{12}"`)
	urlRe := regexp.MustCompile(`("targetUrl":"[^"]*)"`)
	var texts []string
	mark := func(enc string, re *regexp.Regexp, repl string) string {
		dec, err := base64.RawURLEncoding.DecodeString(enc)
		if err != nil {
			b.Fatalf("decoding %q: %v", enc, err)
		}
		marked := re.ReplaceAllString(string(dec), repl)
		if marked == string(dec) {
			b.Fatalf("no id to mark in %s", dec)
		}
		texts = append(texts, marked)
		return base64.RawURLEncoding.EncodeToString([]byte(marked))
	}
	cx = mark(cx, idRe, `${1}`+idMarker+`"`)
	for _, ev := range events {
		ev["cx"] = cx
		if ue := ev["ue_px"]; ue != "" {
			ev["ue_px"] = mark(ue, urlRe, `${1}&n=`+idMarker+`"`)
		}
	}
	body, err := json.Marshal(map[string]any{"schema": "iglu:com.snowplowanalytics.snowplow/payload_data/jsonschema/1-0-4", "data": events})
	if err != nil {
		b.Fatal(err)
	}
	r := loadFixture(b, "node-post-batch5-a")
	r.BodyBase64 = base64.StdEncoding.EncodeToString(body)
	br := &benchRecord{rec: encodePayload(b, collectorPayload(r))}
	for _, t := range texts {
		enc := base64.RawURLEncoding.EncodeToString([]byte(t))
		if slices.ContainsFunc(br.parts, func(p benchPart) bool { return string(p.json) == t }) {
			continue
		}
		p := benchPart{json: []byte(t), enc: make([]byte, len(enc))}
		for i := 0; ; {
			j := strings.Index(t[i:], idMarker)
			if j < 0 {
				break
			}
			p.marks = append(p.marks, i+j)
			i += j + len(idMarker)
		}
		for i := 0; ; {
			j := bytes.Index(br.rec[i:], []byte(enc))
			if j < 0 {
				break
			}
			p.at = append(p.at, i+j)
			i += j + len(enc)
		}
		if len(p.at) == 0 {
			b.Fatalf("%s not found in the record", enc)
		}
		br.parts = append(br.parts, p)
	}
	return br
}

// benchProcess measures Process of the benchmark record with a fresh id for its
// entities in every record, and reports events/s.
func benchProcess(b *testing.B, e *Enricher) {
	r := benchPayload(b)
	ctx := context.Background()
	for _, id := range []uint64{1, 0xfedcba987654} {
		r.setID(id)
		res, err := e.Process(ctx, r.rec)
		if err != nil || len(res.Good) != 10 || len(res.Bad) != 0 {
			b.Fatalf("Process = %d good, %v, %v; want 10 good", len(res.Good), res.Bad, err)
		}
		want := fmt.Sprintf("%012x", id)
		if got := res.Good[0].Event.Fields[event.Contexts]; !strings.Contains(got, want) {
			b.Fatalf("contexts = %s, want the id %s", got, want)
		}
	}
	b.SetBytes(int64(len(r.rec)))
	b.ReportAllocs()
	n := uint64(2)
	for b.Loop() {
		r.setID(n)
		n++
		if _, err := e.Process(ctx, r.rec); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N*10)/b.Elapsed().Seconds(), "events/s")
}

// BenchmarkProcess measures Process on one core: Thrift decoding to ten enriched TSV
// lines, no enrichments; the entities of every record are new.
func BenchmarkProcess(b *testing.B) {
	benchProcess(b, newTestEnricher(b, testResolver(b), nil))
}

// BenchmarkProcessDefaultEnrichments is BenchmarkProcess with Snowplow Mini's four default
// enrichments (campaign attribution, event fingerprint, referer parser, UA parser), which
// add a ua_parser_context to every event.
func BenchmarkProcessDefaultEnrichments(b *testing.B) {
	e := newDefaultEnricher(b)
	res, err := e.Process(context.Background(), benchPayload(b).rec)
	if err != nil || len(res.Good) == 0 || !strings.Contains(res.Good[0].Event.Fields[event.DerivedContexts], "ua_parser_context") {
		b.Fatalf("Process = %v, %v; want good events with a ua_parser_context", res.Good, err)
	}
	benchProcess(b, e)
}

// browserRecords builds the raw records of browserload's requests as the collector
// records them; the Cookie header (the visitor's sp cookie) is the only header that
// changes between visitors of the same browser.
type browserRecords struct {
	gen    browserload.Generator
	cps    []*payload.CollectorPayload // by device
	cookie int                         // index of the Cookie header in every cps[i].Headers
	body   []byte
	rec    []byte
}

func newBrowserRecords(b testing.TB) *browserRecords {
	b.Helper()
	r := &browserRecords{}
	for n := uint64(0); ; n++ {
		if n > 0 && browserload.UserAgent(n) == browserload.UserAgent(0) {
			break
		}
		hs := append([][2]string{{"Host", "collector.example.com"}}, browserload.Headers(n)...)
		cp := collectorPayload(request{Method: http.MethodPost, Path: browserload.Path, Headers: hs, Remote: "203.0.113.7", NetworkUserID: browserload.NetworkUserID(n)})
		r.cookie = slices.IndexFunc(cp.Headers, func(h string) bool { return strings.HasPrefix(h, "Cookie: ") })
		if r.cookie < 0 {
			b.Fatal("no Cookie header in the collector payload")
		}
		r.cps = append(r.cps, cp)
	}
	return r
}

// record returns the raw record of request n, valid until the next call.
func (r *browserRecords) record(b testing.TB, n uint64) []byte {
	cp := r.cps[n%uint64(len(r.cps))]
	cp.NetworkUserID = browserload.NetworkUserID(n)
	cp.Headers[r.cookie] = "Cookie: sp=" + cp.NetworkUserID
	r.body = r.gen.AppendBody(r.body[:0], n)
	var err error
	r.rec, err = payload.AppendEncodeBody(r.rec[:0], cp, r.body)
	if err != nil {
		b.Fatal(err)
	}
	return r.rec
}

// benchProcessBrowser measures Process of browserload's requests, a new visit (new
// ids) in every record, and reports events/s. The figures include building the record
// (BenchmarkBrowserRecord measures that alone).
func benchProcessBrowser(b *testing.B, e *Enricher, check func(Result)) {
	r := newBrowserRecords(b)
	ctx := context.Background()
	res, err := e.Process(ctx, r.record(b, 1_000_000))
	if err != nil || len(res.Good) != browserload.EventsPerRequest || len(res.Bad) != 0 {
		b.Fatalf("Process = %d good, %v, %v; want %d good", len(res.Good), res.Bad, err, browserload.EventsPerRequest)
	}
	check(res)
	checkGoodLines(b, res)
	// A running pipeline has seen these browsers: parse their user agents before timing.
	for n := range uint64(len(r.cps)) {
		if _, err := e.Process(ctx, r.record(b, 1_000_001+n)); err != nil {
			b.Fatal(err)
		}
	}
	b.SetBytes(int64(len(r.rec)))
	b.ReportAllocs()
	n := uint64(0)
	for b.Loop() {
		if _, err := e.Process(ctx, r.record(b, n)); err != nil {
			b.Fatal(err)
		}
		n++
	}
	b.ReportMetric(float64(b.N*browserload.EventsPerRequest)/b.Elapsed().Seconds(), "events/s")
}

// BenchmarkBrowserRecord measures building the records of the browser benchmarks alone,
// to subtract from them.
func BenchmarkBrowserRecord(b *testing.B) {
	r := newBrowserRecords(b)
	b.ReportAllocs()
	n := uint64(0)
	for b.Loop() {
		r.record(b, n)
		n++
	}
}

// BenchmarkProcessBrowser measures Process on one core on what the JavaScript browser
// tracker sends (internal/browserload): ten events per POST with web_page,
// browser_context and client_session in cx, no enrichments.
func BenchmarkProcessBrowser(b *testing.B) {
	benchProcessBrowser(b, newTestEnricher(b, testResolver(b), nil), func(res Result) {
		if got := res.Good[0].Event.Fields[event.Contexts]; !strings.Contains(got, "browser_context") {
			b.Fatalf("contexts = %s, want a browser_context", got)
		}
	})
}

// BenchmarkProcessBrowserDefaultEnrichments is BenchmarkProcessBrowser with the four
// default enrichments.
func BenchmarkProcessBrowserDefaultEnrichments(b *testing.B) {
	benchProcessBrowser(b, newDefaultEnricher(b), func(res Result) {
		f := &res.Good[0].Event.Fields
		if !strings.Contains(f[event.DerivedContexts], "ua_parser_context") || f[event.MktSource] != "newsletter" || f[event.RefrSource] != "Google" {
			b.Fatalf("derived contexts %s, mkt_source %q, refr_source %q; want a ua_parser_context, newsletter, Google", f[event.DerivedContexts], f[event.MktSource], f[event.RefrSource])
		}
	})
}

// newDefaultEnricher is a test enricher with Snowplow Mini's four default enrichments.
func newDefaultEnricher(b testing.TB) *Enricher {
	set, err := enrichments.Defaults(b.Context(), enrichments.Deps{})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = set.Close() })
	return newTestEnricher(b, testResolver(b), func(_ *Config, d *Deps) { d.Enrichments = set })
}

// TestBrowserLines runs browserload's requests (new visitors, the default enrichments)
// through process, which holds every good line to what the event store relies on, and
// checks the entities handed over with each event.
func TestBrowserLines(t *testing.T) {
	r := newBrowserRecords(t)
	e := newDefaultEnricher(t)
	for n := range uint64(2 * len(r.cps)) {
		res := process(t, e, r.record(t, n))
		if len(res.Good) != browserload.EventsPerRequest || len(res.Bad) != 0 {
			t.Fatalf("record %d: %d good, %v; want %d good", n, len(res.Good), res.Bad, browserload.EventsPerRequest)
		}
		checkGoodEntities(t, res)
	}
}

// TestBrowserRawEventRows holds what the event store's compact raw_event relies on for
// browser events: enrich's contexts, unstruct_event, page_url… repeat the tracker's
// cx, ue_px, url… (the contexts envelope's version aside), so the compact form that
// refers to the row is a fraction of the one on its own, and it reads back to the
// same rawEvent with the event's fields.
func TestBrowserRawEventRows(t *testing.T) {
	r := newBrowserRecords(t)
	e := newDefaultEnricher(t)
	var self, row int
	for n := range uint64(2 * len(r.cps)) {
		for _, g := range process(t, e, r.record(t, n)).Good {
			c := g.Raw.CompactRowString(g.Event)
			self += len(g.Raw.CompactString())
			row += len(c)
			want := g.Raw.AppendMicroJSON(nil)
			if got, err := event.AppendMicroJSONOf(nil, []byte(c), g.Event); err != nil || !bytes.Equal(got, want) {
				t.Fatalf("AppendMicroJSONOf(CompactRowString(event), event) = %s, %v, want %s", got, err, want)
			}
		}
	}
	if row*3 > self {
		t.Errorf("browser events: %d bytes referring to their rows, %d on their own, want at most a third", row, self)
	}
}
