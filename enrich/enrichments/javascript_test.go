package enrichments

import (
	"encoding/base64"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func jsConf(script, config string) string {
	p := `{"script":"` + base64.URLEncoding.EncodeToString([]byte(script)) + `"`
	if config != "" {
		p += `,"config":` + config
	}
	return conf(sp, "javascript_script_config", "1-0-1", p+"}")
}

func TestJavaScript(t *testing.T) {
	script := `
function process(event, params, headers) {
  if (event.getApp_id() === "drop-me") { event.drop(); return null; }
  if (event.getApp_id() === "throw") { throw new Error("bad app"); }
  if (event.getApp_id() === "object") { return {a: 1}; }
  if (event.getApp_id() === "not-sdj") { return [{a: 1}]; }
  event.setApp_id(event.getApp_id().toUpperCase());
  event.setTxn_id(event.getTxn_id() + 1);
  event.setBr_cookies(true);
  event.setPage_title(null);
  var hosts = headers.filter(function (h) { return h.indexOf("Host:") === 0; });
  return [{schema: "iglu:com.acme/js/jsonschema/1-0-0",
           data: {prefix: params.prefix, host: hosts[0], ctx: event.getContexts() !== null, derived: event.getDerived_contexts()}}];
}`
	s := newSet(t, jsConf(script, `{"prefix":"p-"}`))
	in := &rawInput{headers: []string{"Host: c.example", "Accept: */*"}}
	t.Run("getters, setters, params, headers", func(t *testing.T) {
		ev := fields(t, "app_id", "shop", "txn_id", "41", "page_title", "Home", "contexts", `{"schema":"x","data":[]}`)
		r := run(t, s, ev, in)
		want := map[string]string{"app_id": "SHOP", "txn_id": "42", "br_cookies": "1"}
		if diff := cmp.Diff(want, get(ev, "app_id", "txn_id", "br_cookies", "page_title")); diff != "" {
			t.Errorf("fields mismatch (-want +got):\n%s", diff)
		}
		wantCtx := []string{`{"schema":"iglu:com.acme/js/jsonschema/1-0-0","data":{"prefix":"p-","host":"Host: c.example","ctx":true,"derived":null}}`}
		if diff := cmp.Diff(wantCtx, derivedJSON(t, r)); diff != "" {
			t.Errorf("contexts mismatch (-want +got):\n%s", diff)
		}
		if len(r.Failures) > 0 || r.Drop || r.Revalidate {
			t.Errorf("result = %+v, want no failures, no drop, no revalidation", r)
		}
	})
	tests := []struct {
		app     string
		drop    bool
		failure string
	}{
		{"drop-me", true, ""},
		{"throw", false, "Evaluating JavaScript script threw an exception: [Error: bad app]"},
		{"object", false, `JavaScript script must return an Array; got [{"a":1}]`},
		{"not-sdj", false, `Resulting contexts are not self-describing: {"a":1}.`},
	}
	for _, tt := range tests {
		t.Run(tt.app, func(t *testing.T) {
			r := run(t, s, fields(t, "app_id", tt.app), in)
			if r.Drop != tt.drop {
				t.Errorf("Drop = %v, want %v", r.Drop, tt.drop)
			}
			got := failuresJSON(t, r)
			if tt.failure == "" {
				if len(got) > 0 {
					t.Errorf("failures = %v, want none", got)
				}
				return
			}
			if len(r.Failures) != 1 || r.Failures[0].Identifier != "javascript-script" ||
				!strings.Contains(r.Failures[0].Message.(Simple).Error, tt.failure) {
				t.Errorf("failures = %v, want one containing %q", got, tt.failure)
			}
		})
	}
}

func TestJavaScriptContextsAndErase(t *testing.T) {
	script := `function process(event) {
  event.eraseDerived_contexts();
  event.setUnstruct_event('{"schema":"iglu:com.snowplowanalytics.snowplow/unstruct_event/jsonschema/1-0-0","data":{"schema":"iglu:com.acme/e/jsonschema/1-0-0","data":{}}}');
}`
	s := newSet(t, conf(sp, "ua_parser_config", "1-0-0", `{}`), jsConf(script, ""))
	ev := fields(t, "useragent", "node")
	r := run(t, s, ev, nil)
	if len(r.Derived) != 0 || !r.Revalidate || ev.Fields[58] == "" {
		t.Errorf("after erase and setUnstruct_event: derived = %d, revalidate = %v, unstruct = %q; want 0, true, set", len(r.Derived), r.Revalidate, ev.Fields[58])
	}
}

func TestJavaScriptConfigErrors(t *testing.T) {
	tests := []struct{ name, conf, want string }{
		{"not base64", conf(sp, "javascript_script_config", "1-0-0", `{"script":"!!!"}`), "parameters.script: not base64"},
		{"syntax", jsConf("function process( {", ""), "parameters.script: compiling JavaScript"},
		{"no process", jsConf("var x = 1;", ""), "does not define a function process"},
	}
	for _, tt := range tests {
		dir := t.TempDir()
		writeFile(t, dir, "js.json", tt.conf)
		_, err := Load(t.Context(), dir, Deps{})
		wantErrs(t, err, tt.want)
	}
}
