package enrich

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/google/go-cmp/cmp"

	"github.com/snowplow-mini/snowplow-mini/collector/payload"
	"github.com/snowplow-mini/snowplow-mini/enrich/event"
	"github.com/snowplow-mini/snowplow-mini/enrich/internal/jvm"
	"github.com/snowplow-mini/snowplow-mini/iglu"
)

// FuzzTP2Body posts arbitrary bodies: nothing may crash or error, and every body gives
// good events or bad rows.
func FuzzTP2Body(f *testing.F) {
	f.Add(`{"schema":"iglu:com.snowplowanalytics.snowplow/payload_data/jsonschema/1-0-4","data":[{"e":"pv","p":"web","tv":"t"}]}`, "application/json")
	f.Add(`{"schema":"iglu:com.snowplowanalytics.snowplow/payload_data/jsonschema/1-0-4","data":[{"e":"ue","p":"web","tv":"t","ue_pr":"{\"schema\":1}","co":"[","vid":"x"}]}`, "application/json; charset=utf-8")
	f.Add(`[]`, "text/plain")
	f.Add(``, "application/json")
	e := newTestEnricher(f, testResolver(f), nil)
	f.Fuzz(func(t *testing.T, body, ct string) {
		r := post("/com.snowplowanalytics.snowplow/tp2", "", ct, body)
		rec := encodePayload(t, collectorPayload(r))
		res, err := e.Process(context.Background(), rec)
		if err != nil {
			t.Fatalf("Process: %v", err)
		}
		if len(res.Good)+len(res.Bad)+res.Dropped == 0 {
			t.Fatal("no output")
		}
		checkGoodLines(t, res)
		for _, b := range res.Bad {
			if !json.Valid(b.JSON) {
				t.Fatalf("bad row is not JSON: %s", b.JSON)
			}
		}
	})
}

// FuzzProcess feeds arbitrary records (and mutated real payloads) to Process.
func FuzzProcess(f *testing.F) {
	f.Add([]byte("garbage"))
	f.Add([]byte{})
	seed, _ := payload.Encode(&payload.CollectorPayload{Schema: payload.SchemaURI, Encoding: "UTF-8", Collector: "c", Path: "/i", Querystring: "e=pv&p=web&tv=t&cx=eyJ9", Timestamp: 1})
	f.Add(seed)
	e := newTestEnricher(f, testResolver(f), nil)
	f.Fuzz(func(t *testing.T, rec []byte) {
		res, err := e.Process(context.Background(), rec)
		if err != nil {
			t.Fatalf("Process: %v", err)
		}
		if len(res.Good)+len(res.Bad)+res.Dropped == 0 {
			t.Fatal("no output")
		}
		for _, g := range res.Good {
			if bytes.Count(g.TSV, []byte{'\t'}) != 130 || bytes.ContainsAny(g.TSV, "\n\r") {
				t.Fatalf("malformed TSV %q", g.TSV)
			}
		}
		checkGoodLines(t, res)
	})
}

// FuzzPlainFastPaths checks the shortcuts that skip the generic validator: whenever
// plainPayloadData or plainEnvelope accepts an instance, the resolver must accept it too,
// and plainPayloadData must read the same events as the general path.
func FuzzPlainFastPaths(f *testing.F) {
	f.Add(`[{"e":"pv","p":"web","tv":"t","aid":"a\u00e9"}]`, 4)
	f.Add(`[{"e":"pv","p":"web","tv":"t","e":"x"}]`, 0)
	f.Add(`[{"schema":"iglu:com.acme/x/jsonschema/1-0-0","data":{}}]`, 1)
	f.Add(`{"schema":"iglu:com.acme/x/jsonschema/1-0-0","data":null}`, 0)
	e := newTestEnricher(f, testResolver(f), nil)
	p := e.p
	f.Fuzz(func(t *testing.T, data string, addition int) {
		if addition < 0 || addition > 4 || !utf8.ValidString(data) || jvm.CheckJSON(data, 50, nil) != nil {
			return // bodies are valid UTF-8 once loaded (sanitizePayload)
		}
		v, _ := jvm.ParseJSON(data, 50)
		ctx := context.Background()
		pd := criterion1_0("com.snowplowanalytics.snowplow", "payload_data", "jsonschema")
		key := iglu.SchemaKey{Vendor: pd.Vendor, Name: pd.Name, Format: pd.Format, Version: iglu.SchemaVer{Model: 1, Addition: addition}}
		if evs, ok := p.plainPayloadData(key, data, nil, nil); ok {
			if _, err := p.resolver.Validate(ctx, key, v); err != nil {
				t.Fatalf("plainPayloadData accepted %s, the validator says %v", data, err)
			}
			want, msgs, _ := tp2Events(data, nil)
			if msgs != nil || !cmp.Equal(want, evs) {
				t.Fatalf("plainPayloadData events %v, tp2Events %v %v", evs, want, msgs)
			}
		}
		for _, k := range []iglu.SchemaKey{
			{Vendor: "com.snowplowanalytics.snowplow", Name: "contexts", Format: "jsonschema", Version: iglu.SchemaVer{Model: 1, Addition: addition % 2}},
			{Vendor: "com.snowplowanalytics.snowplow", Name: "unstruct_event", Format: "jsonschema", Version: iglu.SchemaVer{Model: 1}},
		} {
			if plainEnvelope(k, v) {
				if _, err := p.resolver.Validate(ctx, k, v); err != nil {
					t.Fatalf("plainEnvelope accepted %s for %s, the validator says %v", data, k, err)
				}
			}
		}
	})
}

// FuzzPlainExtraction checks the paths that read plain contexts and unstruct_event
// envelopes without decoding them: whenever one takes a text, the outcome must be the
// general path's, with the verdicts cold and warm, and whenever the one-walk reading of
// canonical texts (canonicalEnvelope) takes a text, the plain reading must take it too,
// with the same entities.
func FuzzPlainExtraction(f *testing.F) {
	f.Add(`{"schema":"iglu:com.snowplowanalytics.snowplow/contexts/jsonschema/1-0-0","data":[{"schema":"iglu:com.snowplowanalytics.snowplow/web_page/jsonschema/1-0-0","data":{"id":"0b8d2f5e-4a1c-4c7e-9a55-100000000002"}},{"schema":"iglu:com.acme/ctx/jsonschema/1-0-0","data":{"n":1}}]}`)
	f.Add(`{"schema":"iglu:com.snowplowanalytics.snowplow/contexts/jsonschema/1-0-1","data":[]}`)
	f.Add(`{"schema":"iglu:com.snowplowanalytics.snowplow/contexts/jsonschema/1-0-0","data":[{"schema":"iglu:com.acme/button/jsonschema/1-0-0","data":{ "a" : "x", "b":null, "a":"y" }},{"schema":"iglu:com.acme/button/jsonschema/1-0-0","data":{"a":"x","a":1}},{"schema":"iglu:com.acme/derived/jsonschema/1-0-0","data":{"v":"\u0041"}}]}`)
	f.Add(`{"schema":"iglu:com.snowplowanalytics.snowplow/contexts/jsonschema/1-0-0","data":[{"schema":"iglu:com.acme/button/jsonschema/1-0-0","data":{"a":1}},{"schema":"iglu:com.acme/nope/jsonschema/1-0-0","data":{}}]}`)
	f.Add(`{"schema":"iglu:com.snowplowanalytics.snowplow/unstruct_event/jsonschema/1-0-0","data":{"schema":"iglu:com.acme/button/jsonschema/1-0-0","data":{"a":"x","b":null}}}`)
	f.Add(`{"schema":"iglu:com.snowplowanalytics.snowplow/unstruct_event/jsonschema/1-0-0","data":{"data":{"a":"x"},"schema":"iglu:com.acme/button/jsonschema/1-0-0"}}`)
	f.Add(`{"data":{"schema":"iglu:com.acme/ctx/jsonschema/1-0-0","data":{"n":-0,"z":"\u00e9"}},"schema":"iglu:com.snowplowanalytics.snowplow/unstruct_event/jsonschema/1-0-0"}`)
	// Four contexts (more than newExtracted makes room for); an envelope with five members.
	f.Add(`{"schema":"iglu:com.snowplowanalytics.snowplow/contexts/jsonschema/1-0-0","data":[{"schema":"iglu:com.acme/button/jsonschema/1-0-0","data":{"a":"1"}},{"schema":"iglu:com.acme/ctx/jsonschema/1-0-0","data":{"n":1}},{"schema":"iglu:com.acme/button/jsonschema/1-0-0","data":{"a":"2"}},{"schema":"iglu:com.acme/derived/jsonschema/1-0-0","data":{"v":"x"}}]}`)
	f.Add(`{"schema":"iglu:com.snowplowanalytics.snowplow/contexts/jsonschema/1-0-0","data":[{"schema":"iglu:com.acme/button/jsonschema/1-0-0","data":{"a":"1"}}],"a":1,"b":2,"c":3}`)
	// Canonical texts, and texts that are not quite: a space, an escape, -0, a repeated
	// key, a third member, text after the envelope, nesting at the depth limits.
	f.Add(`{"schema":"iglu:com.snowplowanalytics.snowplow/contexts/jsonschema/1-0-1","data":[{"schema":"iglu:com.acme/ctx/jsonschema/1-0-0","data":{"n":1}},{"schema":"iglu:com.acme/button/jsonschema/1-0-0","data":{"a":"x","b":null}}]}`)
	f.Add(`{"schema":"iglu:com.snowplowanalytics.snowplow/contexts/jsonschema/1-0-0","data":[{"schema":"iglu:com.acme/ctx/jsonschema/1-0-0","data":{"n": 1}}]}`)
	f.Add(`{"schema":"iglu:com.snowplowanalytics.snowplow/contexts/jsonschema/1-0-0","data":[{"schema":"iglu:com.acme/button/jsonschema/1-0-0","data":{"a":"\u0041"}}]}`)
	f.Add(`{"schema":"iglu:com.snowplowanalytics.snowplow/contexts/jsonschema/1-0-0","data":[{"schema":"iglu:com.acme/ctx/jsonschema/1-0-0","data":{"n":-0}}]}`)
	f.Add(`{"schema":"iglu:com.snowplowanalytics.snowplow/contexts/jsonschema/1-0-0","data":[{"schema":"iglu:com.acme/button/jsonschema/1-0-0","data":{"a":"x","a":"y"}}]}`)
	f.Add(`{"schema":"iglu:com.snowplowanalytics.snowplow/contexts/jsonschema/1-0-0","data":[{"schema":"iglu:com.acme/button/jsonschema/1-0-0","data":{"a":"x"},"x":1}]}`)
	f.Add(`{"schema":"iglu:com.snowplowanalytics.snowplow/contexts/jsonschema/1-0-0","data":[{"schema":"iglu:com.acme/button/jsonschema/1-0-0","data":{"a":"x"}}]} `)
	f.Add(`{"schema":"iglu:com.snowplowanalytics.snowplow/contexts/jsonschema/1-0-0","data":[{"schema":"iglu:com.acme/derived/jsonschema/1-0-0","data":{"v":{"w":[{}]}}}]}`)
	f.Add(`{"schema":"iglu:com.snowplowanalytics.snowplow/unstruct_event/jsonschema/1-0-0","data":{"schema":"iglu:com.acme/derived/jsonschema/1-0-0","data":{"v":[[{}]]}}}`)
	f.Add(`{"schema":"iglu:com.snowplowanalytics.snowplow/unstruct_event/jsonschema/1-0-0","data":{"schema":"iglu:com.acme/button/jsonschema/1-0-0","data":{"a":"x"}}}}`)
	dir := schemaDir(f, acmeSchemas)
	warm := newTestEnricher(f, testResolver(f, dir), nil).p
	cold := newTestEnricher(f, testResolver(f, dir), func(c *Config, _ *Deps) { c.ValidationCacheSize = 0 }).p
	ps := []*pipeline{cold, warm, warm}
	for _, depth := range []int{2, 3, 4, 5} {
		ps = append(ps, newTestEnricher(f, testResolver(f, dir), func(c *Config, _ *Deps) { c.MaxJSONDepth = depth }).p)
	}
	show := showExtracted
	f.Fuzz(func(t *testing.T, raw string) {
		if !utf8.ValidString(raw) {
			return // parameters are valid UTF-8 once decoded
		}
		ctx := context.Background()
		// Each pipeline reads the text twice with one record's memo: the second time,
		// the entities the first found valid are known (see canonicalEntity).
		var pass []*pipeline
		for _, p := range ps {
			pass = append(pass, p, p)
		}
		var memo *inputMemo
		for n, p := range pass {
			if n%2 == 0 {
				memo = &inputMemo{}
			}
			for _, array := range []bool{true, false} {
				ents, ok := p.canonicalEnvelope(memo, raw, array, nil)
				if !ok {
					continue
				}
				if err := jvm.CheckJSON(raw, p.maxDepth, nil); err != nil {
					t.Fatalf("canonicalEnvelope took %s, jvm.CheckJSON says %v", raw, err)
				}
				var want []plainEntityText
				if array {
					want, ok = p.plainContexts(raw, nil)
				} else {
					var e plainEntityText
					e, ok = p.plainUnstruct(raw)
					want = []plainEntityText{e}
				}
				if !ok {
					t.Fatalf("canonicalEnvelope took %s (array %v), the plain reading does not", raw, array)
				}
				for i := range ents {
					e := ents[i]
					if k, err := iglu.ParseSchemaKey(e.uri); err != nil || k != e.key || !strings.Contains(raw, `{"schema":"`+e.uri+`","data":`+e.data+`}`) {
						t.Fatalf("canonicalEnvelope(%s) gave URI %q for the entity %s of data %s", raw, e.uri, e.key, e.data)
					}
					ents[i].uri, ents[i].slot, ents[i].depth, ents[i].known, ents[i].ent = "", nil, 0, false, event.SelfDescribing{}
				}
				if diff := cmp.Diff(want, ents, cmp.AllowUnexported(plainEntityText{})); diff != "" {
					t.Fatalf("canonicalEnvelope(%s) entities differ (-plain +canonical):\n%s", raw, diff)
				}
				for _, e := range ents {
					if !jvm.IsCanonical(e.data) {
						t.Fatalf("canonicalEnvelope(%s) gave data %s, not canonical", raw, e.data)
					}
				}
			}
			for _, c := range []struct {
				plain, general func(context.Context, string) (*extracted, error)
			}{
				{func(ctx context.Context, raw string) (*extracted, error) {
					x, ok, err := p.extractContextsPlain(ctx, memo, raw)
					if !ok {
						return nil, err
					}
					return x, err
				}, p.extractContextsGeneral},
				{func(ctx context.Context, raw string) (*extracted, error) {
					x, ok, err := p.extractUnstructPlain(ctx, memo, raw)
					if !ok {
						return nil, err
					}
					return x, err
				}, p.extractUnstructGeneral},
			} {
				x, err := c.plain(ctx, raw)
				if err != nil {
					t.Fatalf("plain path: %v", err)
				}
				if x == nil {
					continue
				}
				want, err := c.general(ctx, raw)
				if err != nil {
					t.Fatalf("general path: %v", err)
				}
				if diff := cmp.Diff(show(want), show(x)); diff != "" {
					t.Fatalf("plain path differs from the general path for %s (-general +plain):\n%s", raw, diff)
				}
			}
		}
	})
}

// FuzzPlainBody checks the one-pass reading of tp2 bodies: whenever plainBody takes a
// body, the general path (jvm.CheckJSON, rawSDJ, plainPayloadData) must take it too, with the
// same events.
func FuzzPlainBody(f *testing.F) {
	f.Add(`{"schema":"iglu:com.snowplowanalytics.snowplow/payload_data/jsonschema/1-0-4","data":[{"e":"pv","p":"web","tv":"t","url":"http:\/\/a.test\/?a=1\u0026b=\u00e9"}]}`)
	f.Add(` { "schema" : "iglu:com.snowplowanalytics.snowplow/payload_data/jsonschema/1-0-0" , "data" : [ {"e":"se","p":"web","tv":"t"} , {"e":"pv","tv":"t","p":"app","aid":""} ] } `)
	f.Add(`{"schema":"iglu:com.snowplowanalytics.snowplow/payload_data/jsonschema/1-0-3","data":[{"e":"pv","p":"web","tv":"t","sid":"x"}],"x":1}`)
	f.Add(`{"schema":"iglu:com.snowplowanalytics.snowplow/payload_data/jsonschema/1-0-2","data":[{"e":"pv","p":"web","tv":"t","e":"se"}]}`)
	f.Add(`{"data":[{"e":"pv","p":"web","tv":"t","stm":"1"}],"schema":"iglu:com.snowplowanalytics.snowplow/payload_data/jsonschema/1-0-2"}`)
	f.Add(`{"data":[{"e":"pv","p":"web","tv":"t","stm":"1"}],"schema":"iglu:com.snowplowanalytics.snowplow/payload_data/jsonschema/1-0-3"}`)
	f.Add(`{"schema":"iglu:com.snowplowanalytics.snowplow/payload_data/jsonschema/1-0-4","data":[{"e":"pv","p":"web","tv":"t\u0000"},]}`)
	var ps []*pipeline
	for _, depth := range []int{50, 3, 2} {
		ps = append(ps, newTestEnricher(f, testResolver(f), func(c *Config, _ *Deps) { c.MaxJSONDepth = depth }).p)
	}
	qs := params{{Name: "aid", Value: strPtr("q")}, {Name: "x", Value: nil}}
	f.Fuzz(func(t *testing.T, body string) {
		for _, p := range ps {
			for _, qs := range []params{nil, qs} {
				evs, ok := p.plainBody(body, qs, nil)
				if !ok {
					continue
				}
				var members []jvm.KeyVal
				if err := jvm.CheckJSON(body, p.maxDepth, &members); err != nil {
					t.Fatalf("plainBody took %q, jvm.CheckJSON says %v", body, err)
				}
				key, data, code := rawSDJ(members)
				if code != "" {
					t.Fatalf("plainBody took %q, rawSDJ says %s", body, code)
				}
				want, ok := p.plainPayloadData(key, data, qs, nil)
				if !ok {
					t.Fatalf("plainBody took %q, plainPayloadData does not", body)
				}
				if diff := cmp.Diff(want, evs); diff != "" {
					t.Fatalf("plainBody(%q) events differ (-general +plain):\n%s", body, diff)
				}
			}
		}
	})
}

// showExtracted prints x for comparisons: its column, messages, entities and infos.
func showExtracted(x *extracted) string {
	b := []byte(x.column + "\n")
	for _, m := range x.msgs {
		j, err := m.MarshalJSON()
		if err != nil {
			return err.Error()
		}
		b = append(append(b, j...), '\n')
	}
	for i, e := range x.entities {
		b = fmt.Appendf(b, "%s %s %s\n", e.Schema, e.Data, x.keys[i])
	}
	for _, vi := range x.infos {
		b = fmt.Appendf(b, "%s %s\n", vi.original, vi.with)
	}
	return string(b)
}
