package enrichments

import (
	"sync"
	"testing"
)

// TestConcurrentApply runs one Set from several goroutines (run with -race).
func TestConcurrentApply(t *testing.T) {
	s := newSet(t, append(defaultJSONs(),
		jsConf(`function process(e) { e.setApp_id("js"); return [{schema:"iglu:com.acme/x/jsonschema/1-0-0",data:{}}]; }`, ""),
		conf(sp, "anon_ip", "1-0-1", `{"anonOctets":1}`))...)
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Go(func() {
			for i := range 50 {
				ev, in := benchEvent(t)
				if i%2 == g%2 {
					ev.Fields[77] = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 Version/17.0 Mobile/15E148 Safari/604.1"
				}
				r := run(t, s, ev, in)
				if len(r.Derived) != 2 || len(r.Failures) != 0 || ev.Fields[0] != "js" || ev.Fields[13] != "81.2.69.x" {
					t.Errorf("apply: %d contexts, %v failures, app_id %q, ip %q", len(r.Derived), r.Failures, ev.Fields[0], ev.Fields[13])
					return
				}
			}
		})
	}
	wg.Wait()
}

func defaultJSONs() []string {
	var out []string
	for _, c := range defaultConfigs {
		out = append(out, c.json)
	}
	return out
}
