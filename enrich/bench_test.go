package enrich

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/snowplow-mini/snowplow-mini/enrich/enrichments"
	"github.com/snowplow-mini/snowplow-mini/enrich/event"
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
	set, err := enrichments.Defaults(b.Context(), enrichments.Deps{})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = set.Close() })
	e := newTestEnricher(b, testResolver(b), func(_ *Config, d *Deps) { d.Enrichments = set })
	res, err := e.Process(context.Background(), benchPayload(b).rec)
	if err != nil || len(res.Good) == 0 || !strings.Contains(res.Good[0].Event.Fields[event.DerivedContexts], "ua_parser_context") {
		b.Fatalf("Process = %v, %v; want good events with a ua_parser_context", res.Good, err)
	}
	benchProcess(b, e)
}
