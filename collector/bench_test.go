package collector

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/snowplow-mini/snowplow-mini/collector/payload"
	"github.com/snowplow-mini/snowplow-mini/streams"
)

// benchBody is a realistic 10-event tp2 POST body built from the recorded tracker
// requests: the ten events of the two five-event batches, each carrying the contexts
// (web_page, client_session) that the tracker attached to its self-describing event, as
// a browser tracker attaches contexts to every event.
func benchBody(tb testing.TB) []byte {
	tb.Helper()
	dir := filepath.Join(sharedDir(tb), "fixtures")
	read := func(name string) []map[string]string {
		b, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			tb.Fatal(err)
		}
		var fx struct{ BodyUTF8 string }
		var sd struct{ Data []map[string]string }
		if err := json.Unmarshal(b, &fx); err != nil {
			tb.Fatal(err)
		}
		if err := json.Unmarshal([]byte(fx.BodyUTF8), &sd); err != nil {
			tb.Fatal(err)
		}
		return sd.Data
	}
	cx := read("node-post-sde-ctx-base64.json")[0]["cx"]
	events := append(read("node-post-batch5-a.json"), read("node-post-batch5-b.json")...)
	for _, e := range events {
		if e["cx"] == "" {
			e["cx"] = cx
		}
	}
	body, err := json.Marshal(map[string]any{
		"schema": "iglu:com.snowplowanalytics.snowplow/payload_data/jsonschema/1-0-4",
		"data":   events,
	})
	if err != nil {
		tb.Fatal(err)
	}
	return body
}

// bareHandler is the baseline: a net/http handler that only reads the body.
func bareHandler(w http.ResponseWriter, r *http.Request) {
	_, _ = io.Copy(io.Discard, r.Body)
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	_, _ = w.Write([]byte("ok"))
}

// benchHTTP posts body to handler over loopback HTTP from 8 goroutines per CPU, each
// with a keep-alive connection, and reports requests per second.
func benchHTTP(b *testing.B, handler http.Handler, body []byte) {
	srv := httptest.NewServer(handler)
	defer srv.Close()
	tr := &http.Transport{MaxIdleConnsPerHost: 256, DisableCompression: true}
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr, Timeout: 10 * time.Second}
	url := srv.URL + tp2Path
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	b.SetParallelism(8)
	start := time.Now()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			req, err := http.NewRequest("POST", url, bytes.NewReader(body))
			if err != nil {
				b.Error(err)
				return
			}
			req.Header.Set("Content-Type", "application/json; charset=UTF-8")
			resp, err := client.Do(req)
			if err != nil {
				b.Error(err)
				return
			}
			_, _ = io.Copy(io.Discard, resp.Body)
			_ = resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				b.Errorf("status %d", resp.StatusCode)
				return
			}
		}
	})
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "req/s")
}

// BenchmarkBareHandler and BenchmarkCollectorTP2 measure the same requests side by
// side; run them together:
//
//	go test -run '^$' -bench 'BareHandler|CollectorTP2' -benchtime 3s ./collector/
func BenchmarkBareHandler(b *testing.B) {
	benchHTTP(b, http.HandlerFunc(bareHandler), benchBody(b))
}

// BenchmarkCollectorTP2 runs the collector with an in-memory raw stream that no one
// reads (it has no consumer group, so old records are trimmed to make room).
func BenchmarkCollectorTP2(b *testing.B) {
	h := newHarness(b, DefaultConfig())
	body := benchBody(b)
	benchHTTP(b, h.c.Handler(), body)
	if n := counterValue(h.c.metrics.recordsPut.WithLabelValues(streams.Raw)); n < float64(b.N) {
		b.Fatalf("raw stream took %v records for %d requests", n, b.N)
	}
}

// BenchmarkRecordInProcess measures the collector's own work per request, without
// HTTP: body read, payload, Thrift, put.
func BenchmarkRecordInProcess(b *testing.B) {
	h := newHarness(b, DefaultConfig())
	body := benchBody(b)
	handler := h.c.Handler()
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		req := httptest.NewRequest("POST", tp2Path, bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json; charset=UTF-8")
		rec := httptest.NewRecorder()
		handler.ServeHTTP(rec, req)
		if rec.Code != http.StatusOK {
			b.Fatalf("status %d", rec.Code)
		}
	}
}

// BenchmarkSplit measures splitting a 1 MB, 500-event body into records.
func BenchmarkSplit(b *testing.B) {
	h := newHarness(b, DefaultConfig())
	var elems []string
	for i := range 500 {
		elems = append(elems, event(i, 1950))
	}
	p := &payload.CollectorPayload{Schema: payload.SchemaURI, Path: tp2Path, Body: sdj(elems...)}
	b.SetBytes(int64(len(p.Body)))
	b.ReportAllocs()
	for b.Loop() {
		recs, err := h.c.serialize(p, nil, streams.MaxRecordBytes-36, testNow)
		if err != nil || len(recs.good) < 2 || len(recs.bad) != 0 {
			b.Fatalf("serialize() = %d good, %d bad, %v; want a split", len(recs.good), len(recs.bad), err)
		}
	}
}
