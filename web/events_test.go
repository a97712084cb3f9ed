package web

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/snowplow-mini/snowplow-mini/enrich/event"
)

// TestEventsMergesValidAndFailed checks that /micro/events pages through good events
// and bad rows together, newest first, and shows a bad row as an event with Micro's
// failure entity. (Filters and sorting are tested on the real stores.)
func TestEventsMergesValidAndFailed(t *testing.T) {
	fx := loadFixtures(t)
	ts := newTestServer(t, nil)
	// Oldest first: good, bad, good, good, bad.
	var want []string
	for i, kind := range []string{"good", "bad", "good", "good", "bad"} {
		id := fmt.Sprintf("00000000-0000-4000-8000-%012d", i)
		if kind == "good" {
			v := fx["page_view"].variant(map[event.Field]string{event.EventID: id})
			ts.ObserveGood(v.raw, v.ev)
			want = append([]string{"valid " + id}, want...)
			continue
		}
		f := fx["link_click"].variant(map[event.Field]string{event.EventID: id})
		ts.addBad(t, schemaViolation(t, f, "shop"))
		want = append([]string{"failed " + id}, want...)
	}
	type page struct {
		Events     []map[string]any `json:"events"`
		TotalPages int              `json:"totalPages"`
		TotalItems int              `json:"totalItems"`
	}
	describe := func(p page) []string {
		var out []string
		for _, e := range p.Events {
			kind := "valid"
			if _, ok := e[failureContextKey]; ok {
				kind = "failed"
			}
			out = append(out, fmt.Sprint(kind, " ", e["event_id"]))
		}
		return out
	}
	var all page
	ts.doJSON(t, http.MethodPost, "/micro/events", `{"page":1,"pageSize":10}`, &all)
	if diff := cmp.Diff(want, describe(all)); diff != "" {
		t.Errorf("one page (-want +got):\n%s", diff)
	}
	var paged []string
	for i := 1; i <= 3; i++ {
		var p page
		ts.doJSON(t, http.MethodPost, "/micro/events", fmt.Sprintf(`{"page":%d,"pageSize":2}`, i), &p)
		if p.TotalItems != 5 || p.TotalPages != 3 {
			t.Errorf("page %d: totalItems %d, totalPages %d; want 5 and 3", i, p.TotalItems, p.TotalPages)
		}
		paged = append(paged, describe(p)...)
	}
	if diff := cmp.Diff(want, paged); diff != "" {
		t.Errorf("pages of 2 (-want +got):\n%s", diff)
	}
	var failed page
	ts.doJSON(t, http.MethodPost, "/micro/events", `{"page":1,"pageSize":10,"validEvents":false}`, &failed)
	if len(failed.Events) != 2 {
		t.Fatalf("failed events = %d, want 2", len(failed.Events))
	}
	var entity []struct {
		FailureType string            `json:"failureType"`
		Schema      string            `json:"schema"`
		Errors      []json.RawMessage `json:"errors"`
		Timestamp   string            `json:"timestamp"`
	}
	raw, _ := json.Marshal(failed.Events[0][failureContextKey])
	if err := json.Unmarshal(raw, &entity); err != nil || len(entity) != 1 {
		t.Fatalf("failure entity %s: %v", raw, err)
	}
	got := entity[0]
	if got.FailureType != "schema_violations" || got.Schema != "iglu:com.snowplowanalytics.snowplow/link_click/jsonschema/1-0-1" ||
		len(got.Errors) != 1 || !bytes.Contains(got.Errors[0], []byte("is missing but it is required")) || got.Timestamp != "2026-11-22T02:08:07.600Z" {
		t.Errorf("failure entity = %+v", got)
	}
	if e := failed.Events[0]; e["app_id"] != "shop" || e["event"] != "unstruct" || e["collector_tstamp"] == nil {
		t.Errorf("failed event fields = %v", e)
	}
}

func TestGzip(t *testing.T) {
	fx := loadFixtures(t)
	ts := newTestServer(t, nil)
	ts.ObserveGood(fx["page_view"].raw, fx["page_view"].ev)
	plain := ts.do(t, http.MethodGet, "/micro/good", "")
	for _, tt := range []struct {
		accept string
		gzip   bool
	}{
		{"gzip", true}, {"deflate, gzip;q=0.5", true}, {"gzip;q=0", false}, {"br", false}, {"", false},
	} {
		res := ts.do(t, http.MethodGet, "/micro/good", "", "Accept-Encoding", tt.accept)
		if got := res.header.Get("Content-Encoding") == "gzip"; got != tt.gzip {
			t.Errorf("Accept-Encoding %q: gzip %v, want %v", tt.accept, got, tt.gzip)
			continue
		}
		body := res.body
		if tt.gzip {
			zr, err := gzip.NewReader(bytes.NewReader(body))
			if err != nil {
				t.Fatal(err)
			}
			if body, err = io.ReadAll(zr); err != nil {
				t.Fatal(err)
			}
		}
		if !bytes.Equal(body, plain.body) {
			t.Errorf("Accept-Encoding %q: body differs from the plain answer", tt.accept)
		}
	}
	// An answer without a body keeps its status.
	res := ts.do(t, http.MethodGet, "/micro", "", "Accept-Encoding", "gzip")
	if res.status != http.StatusFound {
		t.Errorf("GET /micro with gzip = %d, want 302", res.status)
	}
}

// TestStream checks /micro/stream: the summary at once, then after each change of the
// store, until the server shuts down.
func TestStream(t *testing.T) {
	fx := loadFixtures(t)
	ts := newTestServer(t, nil)
	srv := httptest.NewServer(ts.h)
	defer srv.Close()
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, srv.URL+"/micro/stream", nil)
	req.Header.Set("Accept-Encoding", "gzip")
	resp, err := http.DefaultTransport.RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if ct := resp.Header.Get("Content-Type"); ct != "text/event-stream" || resp.Header.Get("Content-Encoding") != "" {
		t.Fatalf("Content-Type %q, Content-Encoding %q; want an uncompressed event stream", ct, resp.Header.Get("Content-Encoding"))
	}
	lines := bufio.NewScanner(resp.Body)
	next := func() string {
		t.Helper()
		for lines.Scan() {
			if data, ok := strings.CutPrefix(lines.Text(), "data: "); ok {
				return data
			}
		}
		t.Fatalf("stream ended: %v", lines.Err())
		return ""
	}
	if got := next(); got != `{"good":0,"bad":0}` {
		t.Errorf("first message = %s", got)
	}
	ts.ObserveGood(fx["page_view"].raw, fx["page_view"].ev)
	if got := next(); got != `{"good":1,"bad":0}` {
		t.Errorf("after a good event = %s", got)
	}
	ts.addBad(t, sizeViolation(t))
	if got := next(); got != `{"good":1,"bad":1}` {
		t.Errorf("after a bad row = %s", got)
	}
	ts.EndWaits()
	for lines.Scan() {
	}
	if ctx.Err() != nil {
		t.Error("the stream did not end at shutdown")
	}
}
