package enrich

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"strings"
	"testing"

	"github.com/snowplow-mini/snowplow-mini/enrich/enrichments"
	"github.com/snowplow-mini/snowplow-mini/enrich/event"
)

// benchPayload is a realistic tp2 POST: the ten events of the batch fixtures, each with
// the web_page and client_session contexts of the fixtures (cx), about 20 KB.
func benchPayload(b *testing.B) []byte {
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
	for _, ev := range events {
		ev["cx"] = cx
	}
	body, err := json.Marshal(map[string]any{"schema": "iglu:com.snowplowanalytics.snowplow/payload_data/jsonschema/1-0-4", "data": events})
	if err != nil {
		b.Fatal(err)
	}
	r := loadFixture(b, "node-post-batch5-a")
	r.BodyBase64 = base64.StdEncoding.EncodeToString(body)
	return encodePayload(b, collectorPayload(r))
}

// BenchmarkProcess measures Process on one core: Thrift decoding to ten enriched TSV
// lines, no enrichments. It reports events/s.
func BenchmarkProcess(b *testing.B) {
	rec := benchPayload(b)
	e := newTestEnricher(b, testResolver(b), nil)
	ctx := context.Background()
	res, err := e.Process(ctx, rec)
	if err != nil || len(res.Good) != 10 || len(res.Bad) != 0 {
		b.Fatalf("Process = %d good, %v, %v; want 10 good", len(res.Good), res.Bad, err)
	}
	b.SetBytes(int64(len(rec)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := e.Process(ctx, rec); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N*10)/b.Elapsed().Seconds(), "events/s")
}

// BenchmarkProcessDefaultEnrichments is BenchmarkProcess with Snowplow Mini's four default
// enrichments (campaign attribution, event fingerprint, referer parser, UA parser), whose
// ua_parser_context is validated on every event. It reports events/s.
func BenchmarkProcessDefaultEnrichments(b *testing.B) {
	rec := benchPayload(b)
	set, err := enrichments.Defaults(enrichments.Deps{})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = set.Close() })
	e := newTestEnricher(b, testResolver(b), func(_ *Config, d *Deps) { d.Enrichments = set })
	ctx := context.Background()
	res, err := e.Process(ctx, rec)
	if err != nil || len(res.Good) != 10 || len(res.Bad) != 0 {
		b.Fatalf("Process = %d good, %v, %v; want 10 good", len(res.Good), res.Bad, err)
	}
	if !strings.Contains(res.Good[0].Event.Fields[event.DerivedContexts], "ua_parser_context") {
		b.Fatalf("derived_contexts = %s, want a ua_parser_context", res.Good[0].Event.Fields[event.DerivedContexts])
	}
	b.SetBytes(int64(len(rec)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := e.Process(ctx, rec); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N*10)/b.Elapsed().Seconds(), "events/s")
}
