package web

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/snowplow-mini/snowplow-mini/enrich/event"
)

// BenchmarkObserveGood stores into a small and a full default-sized store: the second
// includes the garbage collector's work over the events kept.
func BenchmarkObserveGood(b *testing.B) {
	fx := loadFixtures(b)["link_click"]
	for _, max := range []int{100, DefaultConfig().MaxEvents} {
		b.Run(fmt.Sprint("max=", max), func(b *testing.B) {
			ts := newTestServer(b, func(c *Config, _ *Deps) { c.MaxEvents = max })
			for range max {
				ts.ObserveGood(fx.raw, fx.ev)
			}
			b.ReportAllocs()
			for b.Loop() {
				ts.ObserveGood(fx.raw, fx.ev)
			}
		})
	}
}

func BenchmarkGetGood1000(b *testing.B) {
	fx := loadFixtures(b)
	ts := newTestServer(b, nil)
	for i := range 1000 {
		f := fx[[]string{"page_view", "link_click", "struct"}[i%3]]
		v := f.variant(map[event.Field]string{event.EventID: fmt.Sprintf("00000000-0000-4000-8000-%012d", i)})
		ts.ObserveGood(v.raw, v.ev)
	}
	req := httptest.NewRequest(http.MethodGet, "/micro/good", nil)
	w := &countingWriter{header: http.Header{}}
	b.ReportAllocs()
	for b.Loop() {
		w.n = 0
		ts.h.ServeHTTP(w, req)
	}
	b.SetBytes(int64(w.n))
}

// countingWriter is a ResponseWriter that only counts, so that the benchmark measures
// the server rather than a recorder's buffer growth.
type countingWriter struct {
	header http.Header
	n      int
}

func (w *countingWriter) Header() http.Header         { return w.header }
func (w *countingWriter) WriteHeader(int)             {}
func (w *countingWriter) Write(p []byte) (int, error) { w.n += len(p); return len(p), nil }

func BenchmarkAllForApp(b *testing.B) {
	fx := loadFixtures(b)["page_view"]
	ts := newTestServer(b, func(c *Config, _ *Deps) { c.MaxEvents = 100_000 })
	for i := range 100_000 {
		v := fx.variant(map[event.Field]string{event.AppID: fmt.Sprint("app", i%50)})
		ts.ObserveGood(v.raw, v.ev)
	}
	req := httptest.NewRequest(http.MethodGet, "/micro/all?app_id=app7", nil)
	b.ReportAllocs()
	for b.Loop() {
		rec := httptest.NewRecorder()
		ts.h.ServeHTTP(rec, req)
	}
}
