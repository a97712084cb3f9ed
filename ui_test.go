package main

import (
	"encoding/json"
	"flag"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

var screenshots = flag.String("screenshots", "", "write PNG screenshots of the event browser's main views to this folder (TestEventBrowser)")

// TestEventBrowser drives the UI at /micro/ui in headless Chromium while the official
// browser tracker sends events from another page (testdata/trackers/ui.js): live
// updates without a reload, a filter, a sort, the JSON panel, a failed event's reason,
// a shared view URL, the Iglu tab, and markup in event data that never runs.
//
//	go test -run TestEventBrowser -screenshots docs/screenshots .
func TestEventBrowser(t *testing.T) {
	dir := trackerDir(t)
	chromium := chromiumPath(t)
	s := startServe(t, t.TempDir(), nil)
	site, _ := trackerSite(t, dir)

	// Markup where pages and apps put text, and a link click that fails validation.
	const script = `<script>window.__pwned=1</script>`
	const img = `<img src=x onerror="window.__pwned=1">`
	send := func(q url.Values) {
		t.Helper()
		resp, err := http.Get(s.base + "/i?" + q.Encode())
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("GET /i = %d", resp.StatusCode)
		}
	}
	send(url.Values{"e": {"pv"}, "p": {"web"}, "tv": {"test"}, "aid": {img}, "page": {script}, "url": {"https://shop.example/" + script}})
	send(url.Values{"e": {"ue"}, "p": {"web"}, "tv": {"test"}, "aid": {"xss"}, "ue_pr": {`{"schema":"iglu:com.snowplowanalytics.snowplow/unstruct_event/jsonschema/1-0-0","data":{"schema":"iglu:com.snowplowanalytics.snowplow/site_search/jsonschema/1-0-0","data":{"terms":["` + strings.ReplaceAll(img, `"`, `\"`) + `"]}}}`}})
	send(url.Values{"e": {"ue"}, "p": {"web"}, "tv": {"test"}, "aid": {"broken"}, "ue_pr": {`{"schema":"iglu:com.snowplowanalytics.snowplow/unstruct_event/jsonschema/1-0-0","data":{"schema":"iglu:com.snowplowanalytics.snowplow/link_click/jsonschema/1-0-1","data":{"elementId":"buy"}}}`}})
	var w struct{ Complete bool }
	s.getJSON(t, "/micro/wait?type=bad&timeout=10s", &w)
	if !w.Complete {
		t.Fatal("the failed link click did not reach the store")
	}

	shots := "-"
	if *screenshots != "" {
		abs, err := filepath.Abs(*screenshots)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.MkdirAll(abs, 0o755); err != nil {
			t.Fatal(err)
		}
		shots = abs
	}
	pageURL := site.URL + "/?" + url.Values{"collector": {s.base}, "run": {"ui"}}.Encode()
	out := runNode(t, dir, 180*time.Second, nil, "ui.js", chromium, s.base, pageURL, shots)
	var got struct {
		LiveMillis  int             `json:"liveMillis"`
		Filtered    []string        `json:"filtered"`
		Sorted      []string        `json:"sorted"`
		PanelEvent  string          `json:"panelEvent"`
		SharedURL   string          `json:"sharedURL"`
		Failure     string          `json:"failure"`
		Schema      json.RawMessage `json:"schema"`
		MarkupShown []string        `json:"markupShown"`
		Injected    int             `json:"injected"`
		Pwned       int             `json:"pwned"`
		Dialogs     []string        `json:"dialogs"`
		PageErrors  []string        `json:"pageErrors"`
	}
	if err := json.Unmarshal(out, &got); err != nil {
		t.Fatalf("ui.js output %q: %v", out, err)
	}
	t.Logf("events appeared %d ms after the tracker's 2xx; shared view %s", got.LiveMillis, got.SharedURL)
	if len(got.Filtered) < 3 || slices.ContainsFunc(got.Filtered, func(e string) bool { return e != "page_view" }) {
		t.Errorf("rows filtered on event = page_view: %q", got.Filtered)
	}
	if !slices.Contains(got.Sorted, img) || !slices.Contains(got.Sorted, "ui-post") || !slices.Contains(got.Sorted, "ui-get") {
		t.Errorf("sorted app_ids %q, want the tracker's two apps and the markup one", got.Sorted)
	}
	for _, want := range []string{"Why it failed", "schema_violations", "iglu:com.snowplowanalytics.snowplow/link_click/jsonschema/1-0-1", "$.targetUrl", "is missing but it is required"} {
		if !strings.Contains(got.Failure, want) {
			t.Errorf("failed event panel %q does not say %q", got.Failure, want)
		}
	}
	if !strings.Contains(string(got.Schema), `"name":"web_page"`) {
		t.Errorf("Iglu tab showed %s, want the web_page schema", got.Schema)
	}
	if got.Pwned != 0 || got.Injected != 0 || len(got.Dialogs) != 0 || len(got.PageErrors) != 0 {
		t.Errorf("markup in events ran or became elements: pwned %d, elements %d, dialogs %q, page errors %q", got.Pwned, got.Injected, got.Dialogs, got.PageErrors)
	}
	if !slices.Contains(got.MarkupShown, img) {
		t.Errorf("cells with markup %q, want the app_id %q shown as text", got.MarkupShown, img)
	}
}
