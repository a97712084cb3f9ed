package enrichments

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/snowplow-mini/snowplow-mini/enrich/event"
)

func apiConf(uri, method string, extra string) string {
	return conf(spe, "api_request_enrichment_config", "1-0-2", `{
		"inputs":[{"key":"user","pojo":{"field":"user_id"}},
		          {"key":"client","json":{"field":"contexts","schemaCriterion":"iglu:com.acme/client/jsonschema/1-*-*","jsonPath":"$.id"}}],
		"api":{"http":{"method":"`+method+`","uri":"`+uri+`/users/{{user}}?client={{client}}","timeout":2000,"authentication":{"httpBasic":{"username":"u","password":"p"}}}},
		"outputs":[{"schema":"iglu:com.acme/user/jsonschema/1-0-0","json":{"jsonPath":"$.record"}}],
		"cache":{"size":10,"ttl":60}`+extra+`}`)
}

func TestAPIRequest(t *testing.T) {
	var calls atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		user, pass, _ := r.BasicAuth()
		body, _ := io.ReadAll(r.Body)
		if user != "u" || pass != "p" {
			http.Error(w, "no auth", http.StatusUnauthorized)
			return
		}
		if strings.Contains(r.URL.Path, "broken") {
			http.Error(w, "boom", http.StatusInternalServerError)
			return
		}
		rec, _ := json.Marshal(map[string]string{"path": r.URL.Path, "client": r.URL.Query().Get("client"), "method": r.Method, "body": string(body)})
		w.Write([]byte(`{"record": ` + string(rec) + `, "other": 1}`))
	}))
	defer srv.Close()
	ctxs := []event.SelfDescribing{{Schema: "iglu:com.acme/client/jsonschema/1-0-3", Data: json.RawMessage(`{"id":"c 1"}`)}}

	s := newSet(t, apiConf(srv.URL, "GET", ""))
	for range 2 {
		ev := fields(t, "user_id", "alice/x")
		r, err := s.Apply(t.Context(), ev, &event.RawEvent{}, ctxs, nil)
		if err != nil {
			t.Fatal(err)
		}
		want := []string{`{"schema":"iglu:com.acme/user/jsonschema/1-0-0","data":{"body":"","client":"c 1","method":"GET","path":"/users/alice/x"}}`}
		if diff := cmp.Diff(want, derivedJSON(t, r)); diff != "" {
			t.Errorf("api_request mismatch (-want +got):\n%s", diff)
		}
	}
	if n := calls.Load(); n != 1 {
		t.Errorf("API calls = %d, want 1 (the second answer from the cache)", n)
	}

	// A missing input: no request, no context, no failure.
	r, _ := s.Apply(t.Context(), fields(t, "user_id", "bob"), &event.RawEvent{}, nil, nil)
	if len(r.Derived)+len(r.Failures) != 0 || calls.Load() != 1 {
		t.Errorf("missing input: %d contexts, %d failures, %d calls; want none and 1 call", len(r.Derived), len(r.Failures), calls.Load())
	}

	post := newSet(t, apiConf(srv.URL, "POST", ""))
	r, _ = post.Apply(t.Context(), fields(t, "user_id", "carol"), &event.RawEvent{}, ctxs, nil)
	want := []string{`{"schema":"iglu:com.acme/user/jsonschema/1-0-0","data":{"body":"{\"client\":\"c 1\",\"user\":\"carol\"}","client":"c 1","method":"POST","path":"/users/carol"}}`}
	if diff := cmp.Diff(want, derivedJSON(t, r)); diff != "" {
		t.Errorf("api_request POST mismatch (-want +got):\n%s", diff)
	}

	// Errors are enrichment failures unless ignoreOnError.
	r, _ = s.Apply(t.Context(), fields(t, "user_id", "broken"), &event.RawEvent{}, ctxs, nil)
	if len(r.Failures) != 1 || r.Failures[0].Identifier != "api-request" || !strings.Contains(r.Failures[0].Message.(Simple).Error, "500") {
		t.Errorf("failures = %v, want one api-request failure with the status", failuresJSON(t, r))
	}
	ignore := newSet(t, apiConf(srv.URL, "GET", `,"ignoreOnError":true`))
	r, _ = ignore.Apply(t.Context(), fields(t, "user_id", "broken"), &event.RawEvent{}, ctxs, nil)
	if len(r.Failures) != 0 {
		t.Errorf("ignoreOnError: failures = %v, want none", failuresJSON(t, r))
	}
	srv.Close()
	r, _ = s.Apply(t.Context(), fields(t, "user_id", "dave"), &event.RawEvent{}, ctxs, nil)
	if len(r.Failures) != 1 {
		t.Errorf("unreachable API: failures = %v, want one", failuresJSON(t, r))
	}
}
