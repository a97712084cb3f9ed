package web

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/snowplow-mini/snowplow-mini/enrich/event"
)

func BenchmarkObserveGood(b *testing.B) {
	fx := loadFixtures(b)["link_click"]
	ts := newTestServer(b, func(c *Config, _ *Deps) { c.MaxEvents = 10_000 })
	b.ReportAllocs()
	for b.Loop() {
		ts.ObserveGood(fx.raw, fx.ev)
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
	b.ReportAllocs()
	var n int
	for b.Loop() {
		rec := httptest.NewRecorder()
		ts.h.ServeHTTP(rec, req)
		if rec.Code != http.StatusOK {
			b.Fatalf("GET /micro/good = %d", rec.Code)
		}
		n = rec.Body.Len()
	}
	b.SetBytes(int64(n))
}

func BenchmarkAllForApp(b *testing.B) {
	fx := loadFixtures(b)["page_view"]
	ts := newTestServer(b, nil)
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
