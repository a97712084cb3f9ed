package web

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/snowplow-mini/snowplow-mini/enrich/event"
)

type waitJSON struct {
	Complete bool              `json:"complete"`
	Found    int               `json:"found"`
	Events   []json.RawMessage `json:"events"`
}

// pending is a request being served in the background.
type pending struct {
	rec  *httptest.ResponseRecorder
	done chan struct{}
}

func (ts *testServer) start(ctx context.Context, method, target, body string) *pending {
	req := httptest.NewRequestWithContext(ctx, method, target, strings.NewReader(body))
	p := &pending{rec: httptest.NewRecorder(), done: make(chan struct{})}
	go func() {
		defer close(p.done)
		ts.h.ServeHTTP(p.rec, req)
	}()
	return p
}

func (p *pending) finished() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

func (p *pending) result(t *testing.T) waitJSON {
	t.Helper()
	if !p.finished() {
		t.Fatal("request has not been answered")
	}
	if p.rec.Code != http.StatusOK {
		t.Fatalf("answer = %d %s, want 200", p.rec.Code, p.rec.Body)
	}
	var w waitJSON
	if err := json.Unmarshal(p.rec.Body.Bytes(), &w); err != nil {
		t.Fatalf("decoding %s: %v", p.rec.Body, err)
	}
	return w
}

func observeApp(ts *testServer, f fixture, app string, n int) {
	for range n {
		v := f.variant(map[event.Field]string{event.AppID: app})
		ts.ObserveGood(v.raw, v.ev)
	}
}

func TestWaitReturnsWhenTheNthEventArrives(t *testing.T) {
	fx := loadFixtures(t)
	synctest.Test(t, func(t *testing.T) {
		ts := newTestServer(t, nil)
		start := time.Now()
		observeApp(ts, fx["page_view"], "mine", 1) // already there: counts
		p := ts.start(t.Context(), http.MethodPost, "/micro/wait", `{"count":3,"app_id":"mine","event_type":"page_view","timeout":"10s"}`)

		observeApp(ts, fx["page_view"], "other", 5) // another test's events
		observeApp(ts, fx["struct"], "mine", 2)     // not page views
		observeApp(ts, fx["page_view"], "mine", 1)  // the second
		synctest.Wait()
		if p.finished() {
			t.Fatalf("wait answered with 2 of 3 events: %s", p.rec.Body)
		}
		observeApp(ts, fx["page_view"], "mine", 1) // the third
		synctest.Wait()
		got := p.result(t)
		if !got.Complete || got.Found != 3 || len(got.Events) != 3 {
			t.Errorf("wait = complete %t, found %d, %d events; want true, 3, 3", got.Complete, got.Found, len(got.Events))
		}
		if elapsed := time.Since(start); elapsed != 0 {
			t.Errorf("wait took %s of fake time, want 0 (no polling)", elapsed)
		}
	})
}

func TestWaitTimesOut(t *testing.T) {
	fx := loadFixtures(t)
	synctest.Test(t, func(t *testing.T) {
		ts := newTestServer(t, nil)
		start := time.Now()
		p := ts.start(t.Context(), http.MethodGet, "/micro/wait?count=2&app_id=mine&timeout=1.5", "")
		observeApp(ts, fx["page_view"], "mine", 1)
		time.Sleep(1499 * time.Millisecond)
		synctest.Wait()
		if p.finished() {
			t.Fatalf("wait answered before its timeout: %s", p.rec.Body)
		}
		time.Sleep(time.Millisecond)
		synctest.Wait()
		got := p.result(t)
		if got.Complete || got.Found != 1 || len(got.Events) != 1 {
			t.Errorf("wait = complete %t, found %d, %d events; want false, 1, 1", got.Complete, got.Found, len(got.Events))
		}
		if elapsed := time.Since(start); elapsed != 1500*time.Millisecond {
			t.Errorf("wait took %s, want 1.5s", elapsed)
		}
	})
}

func TestWaitDefaultTimeout(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ts := newTestServer(t, func(c *Config, _ *Deps) { c.Wait.DefaultTimeout = 3 * time.Second })
		start := time.Now()
		p := ts.start(t.Context(), http.MethodGet, "/micro/wait", "")
		<-p.done
		if got := p.result(t); got.Complete || got.Found != 0 || got.Events == nil {
			t.Errorf("wait on an empty store = %+v, want incomplete with an empty list", got)
		}
		if elapsed := time.Since(start); elapsed != 3*time.Second {
			t.Errorf("wait took %s, want the default 3s", elapsed)
		}
	})
}

func TestWaitForBadEvents(t *testing.T) {
	fx := loadFixtures(t)
	synctest.Test(t, func(t *testing.T) {
		ts := newTestServer(t, nil)
		p := ts.start(t.Context(), http.MethodPost, "/micro/wait", `{"type":"bad","app_id":"mine","count":2,"limit":1}`)
		ts.addBad(t, schemaViolation(t, fx["link_click"], "mine"))
		observeApp(ts, fx["page_view"], "mine", 3) // good events do not count
		synctest.Wait()
		if p.finished() {
			t.Fatalf("wait answered with 1 of 2 bad events: %s", p.rec.Body)
		}
		ts.addBad(t, trackerProtocolViolation(t, "com.snowplowanalytics.snowplow", "tp2", "mine"))
		synctest.Wait()
		got := p.result(t)
		if !got.Complete || got.Found != 2 || len(got.Events) != 1 {
			t.Fatalf("wait = complete %t, found %d, %d events; want true, 2, 1 (limit)", got.Complete, got.Found, len(got.Events))
		}
		var newest badJSON
		if err := json.Unmarshal(got.Events[0], &newest); err != nil {
			t.Fatal(err)
		}
		if newest.CollectorPayload == nil || newest.RawEvent != nil {
			t.Errorf("newest bad event = %s, want the tracker protocol violation", got.Events[0])
		}
	})
}

func TestWaitSatisfiedAtOnceAndCountZero(t *testing.T) {
	fx := loadFixtures(t)
	synctest.Test(t, func(t *testing.T) {
		ts := newTestServer(t, nil)
		observeApp(ts, fx["page_view"], "mine", 2)
		for _, target := range []string{"/micro/wait?app_id=mine&count=2", "/micro/wait?count=0"} {
			p := ts.start(t.Context(), http.MethodGet, target, "")
			synctest.Wait()
			if got := p.result(t); !got.Complete {
				t.Errorf("GET %s = %+v, want complete at once", target, got)
			}
		}
	})
}

func TestWaitSurvivesReset(t *testing.T) {
	fx := loadFixtures(t)
	synctest.Test(t, func(t *testing.T) {
		ts := newTestServer(t, nil)
		observeApp(ts, fx["page_view"], "mine", 2)
		p := ts.start(t.Context(), http.MethodGet, "/micro/wait?app_id=mine&count=3&timeout=5s", "")
		synctest.Wait()
		// The two stored events are reset away: they no longer count.
		ts.do(t, http.MethodPost, "/micro/reset", `{"app_id":"mine"}`)
		observeApp(ts, fx["page_view"], "mine", 2)
		synctest.Wait()
		if p.finished() {
			t.Fatalf("wait counted reset events: %s", p.rec.Body)
		}
		observeApp(ts, fx["page_view"], "other", 4)
		observeApp(ts, fx["page_view"], "mine", 1)
		synctest.Wait()
		if got := p.result(t); !got.Complete || got.Found != 3 {
			t.Errorf("wait = %+v, want complete with 3", got)
		}
	})
}

func TestWaitEndsWithClientEndWaitsAndShutdown(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ts := newTestServer(t, nil)
		ctx, cancel := context.WithCancel(t.Context())
		gone := ts.start(ctx, http.MethodGet, "/micro/wait?timeout=60s", "")
		held := ts.start(t.Context(), http.MethodGet, "/micro/wait?timeout=60s", "")
		synctest.Wait()
		cancel()
		synctest.Wait()
		if !gone.finished() {
			t.Error("wait goes on after its client went away")
		}
		if held.finished() {
			t.Fatal("wait answered early")
		}
		ts.EndWaits()
		synctest.Wait()
		if got := held.result(t); got.Complete {
			t.Errorf("wait at EndWaits = %+v, want incomplete", got)
		}
		later := ts.start(t.Context(), http.MethodGet, "/micro/wait?timeout=60s", "")
		synctest.Wait()
		if !later.finished() {
			t.Error("wait after EndWaits blocks")
		}
	})
	synctest.Test(t, func(t *testing.T) {
		ts := newTestServer(t, nil)
		held := ts.start(t.Context(), http.MethodGet, "/micro/wait?timeout=60s", "")
		synctest.Wait()
		if err := ts.Shutdown(t.Context()); err != nil {
			t.Fatal(err)
		}
		synctest.Wait()
		if got := held.result(t); got.Complete {
			t.Errorf("wait at Shutdown = %+v, want incomplete", got)
		}
	})
}

func TestWaitBadRequests(t *testing.T) {
	ts := newTestServer(t, func(c *Config, _ *Deps) { c.Wait.MaxTimeout = 10 * time.Second })
	for _, tt := range []struct {
		method, target, body, want string
	}{
		{"GET", "/micro/wait?timeout=11s", "", "timeout: 11s: must be at most 10s"},
		{"POST", "/micro/wait", `{"timeout":11}`, "must be at most 10s"},
		{"GET", "/micro/wait?timeout=soon", "", `timeout: "soon" is neither`},
		{"POST", "/micro/wait", `{"timeout":"-1s"}`, "timeout"},
		{"GET", "/micro/wait?count=-1", "", "count: -1: must not be negative"},
		{"GET", "/micro/wait?type=ugly", "", `type: "ugly": must be "good" or "bad"`},
		{"GET", "/micro/wait?vendor=com.acme", "", "vendor and version filter bad events"},
		{"POST", "/micro/wait", `{"type":"bad","event_type":"page_view"}`, "not allowed with type"},
		{"POST", "/micro/wait", `{"count":"3"}`, "count"},
	} {
		res := ts.do(t, tt.method, tt.target, tt.body)
		want := http.StatusBadRequest
		if tt.method == "POST" && strings.Contains(tt.body, `"3"`) || strings.Contains(tt.body, "-1s") {
			want = http.StatusUnprocessableEntity // JSON of the wrong shape
		}
		if res.status != want || !strings.Contains(string(res.body), tt.want) {
			t.Errorf("%s %s %s = %d %q, want %d mentioning %q", tt.method, tt.target, tt.body, res.status, res.body, want, tt.want)
		}
	}
}
