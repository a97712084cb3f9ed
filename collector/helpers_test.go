package collector

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/snowplow-mini/snowplow-mini/collector/payload"
	"github.com/snowplow-mini/snowplow-mini/streams"

	"github.com/snowplow-mini/snowplow-mini/internal/sharedtest"
)

// testNow is the fixed clock of the tests.
var testNow = time.Date(2024, 3, 1, 12, 0, 0, 123e6, time.UTC)

// harness is a collector over two in-memory streams.
type harness struct {
	c        *Collector
	raw, bad *streams.Memory
	reg      *prometheus.Registry
}

func newMemory(t testing.TB, name string) *streams.Memory {
	t.Helper()
	cfg := streams.DefaultMemoryConfig()
	cfg.Name = name
	m, err := streams.NewMemory(cfg, nil, nil)
	if err != nil {
		t.Fatalf("NewMemory(%q) error = %v", name, err)
	}
	t.Cleanup(func() { _ = m.Close() })
	return m
}

func newHarness(t testing.TB, cfg Config) *harness {
	t.Helper()
	h := &harness{raw: newMemory(t, streams.Raw), bad: newMemory(t, streams.Bad1), reg: prometheus.NewRegistry()}
	c, err := New(cfg, Deps{
		Registerer: h.reg,
		Raw:        h.raw,
		Bad:        h.bad,
		Now:        func() time.Time { return testNow },
		Version:    "0.1.0",
	})
	if err != nil {
		t.Fatalf("New() error = %v", err)
	}
	h.c = c
	return h
}

// do serves req in process and returns the response.
func (h *harness) do(req *http.Request) *http.Response {
	rec := httptest.NewRecorder()
	h.c.Handler().ServeHTTP(rec, req)
	return rec.Result()
}

// readAll returns every record of s, shard by shard.
func readAll(t testing.TB, s streams.Stream) []streams.Record {
	t.Helper()
	ctx := context.Background()
	shards, err := s.Shards(ctx)
	if err != nil {
		t.Fatalf("Shards() error = %v", err)
	}
	var out []streams.Record
	for _, sh := range shards {
		recs, _, err := s.Read(ctx, sh.ID, streams.Position{Type: streams.TrimHorizon}, 10000, 0)
		if err != nil {
			t.Fatalf("Read(%s) error = %v", sh.ID, err)
		}
		out = append(out, recs...)
	}
	return out
}

// payloads decodes every record of the raw stream.
func (h *harness) payloads(t testing.TB) []*payload.CollectorPayload {
	t.Helper()
	var out []*payload.CollectorPayload
	for _, r := range readAll(t, h.raw) {
		p, err := payload.Decode(r.Data)
		if err != nil {
			t.Fatalf("Decode(raw record) error = %v", err)
		}
		out = append(out, p)
	}
	return out
}

// onePayload returns the only payload on the raw stream.
func (h *harness) onePayload(t testing.TB) *payload.CollectorPayload {
	t.Helper()
	ps := h.payloads(t)
	if len(ps) != 1 {
		t.Fatalf("raw stream holds %d payloads, want 1", len(ps))
	}
	return ps[0]
}

func body(t testing.TB, resp *http.Response) string {
	t.Helper()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("reading response body: %v", err)
	}
	return string(b)
}

// sharedDir returns ../shared beside the repository root, or skips the test.
func sharedDir(t testing.TB) string {
	t.Helper()
	return filepath.Dir(sharedtest.Path(t, "fixtures", "the recorded tracker requests"))
}

// fakeStream is a Stream whose Put fails on demand, for failure paths the in-memory
// stream cannot produce on cue.
type fakeStream struct {
	name string

	mu      sync.Mutex
	err     error // returned by Put while set
	entries []streams.Entry
}

func (f *fakeStream) Name() string { return f.name }

func (f *fakeStream) setErr(err error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.err = err
}

func (f *fakeStream) Put(ctx context.Context, entries []streams.Entry) ([]streams.PutResult, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.err != nil {
		return nil, f.err
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	for _, e := range entries {
		// Put may not keep the caller's Data.
		f.entries = append(f.entries, streams.Entry{PartitionKey: e.PartitionKey, Data: append([]byte(nil), e.Data...)})
	}
	return make([]streams.PutResult, len(entries)), nil
}

func (f *fakeStream) Shards(context.Context) ([]streams.Shard, error) {
	return []streams.Shard{{ID: "shardId-000000000000"}}, nil
}

func (f *fakeStream) Read(context.Context, string, streams.Position, int, time.Duration) ([]streams.Record, streams.Position, error) {
	return nil, streams.Position{}, errors.New("fakeStream does not read")
}

func (f *fakeStream) count() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.entries)
}

func newTP2Request(method, target, contentType, bodyText string) *http.Request {
	var rd io.Reader
	if bodyText != "" {
		rd = strings.NewReader(bodyText)
	}
	req := httptest.NewRequest(method, target, rd)
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	return req
}
