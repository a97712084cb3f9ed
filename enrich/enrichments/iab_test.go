package enrichments

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestIAB(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, dir, "ip_exclude_current_cidr.txt", "# excluded networks\n192.0.2.0/24\n198.51.100.7\n")
	writeFile(t, dir, "include_current.txt", "mozilla|1\nopera|1\nlegacybrowser|0\n")
	writeFile(t, dir, "exclude_current.txt", "bot|1|cubot,abbot|3\nold-crawler|0||1\n")
	s := newSet(t, conf(spe, "iab_spiders_and_robots_enrichment", "1-0-1", `{
		"ipFile":{"database":"ip_exclude_current_cidr.txt","uri":"`+dir+`"},
		"excludeUseragentFile":{"database":"exclude_current.txt","uri":"`+dir+`"},
		"includeUseragentFile":{"database":"include_current.txt","uri":"`+dir+`"},
		"includeUseragents":["curl"],"excludeUseragents":["headless"]}`))
	ctx := func(robot, category, reason, impact string) []string {
		return []string{`{"schema":"iglu:com.iab.snowplow/spiders_and_robots/jsonschema/1-0-0","data":{"spiderOrRobot":` + robot +
			`,"category":"` + category + `","reason":"` + reason + `","primaryImpact":"` + impact + `"}}`}
	}
	tests := []struct {
		name, ua, ip string
		want         []string
	}{
		{"browser", "Mozilla/5.0 (X11; Linux x86_64)", "203.0.113.9", ctx("false", "BROWSER", "PASSED_ALL", "NONE")},
		{"ip excluded", "Mozilla/5.0", "192.0.2.44", ctx("true", "SPIDER_OR_ROBOT", "FAILED_IP_EXCLUDE", "UNKNOWN")},
		{"single ip excluded", "Mozilla/5.0", "198.51.100.7", ctx("true", "SPIDER_OR_ROBOT", "FAILED_IP_EXCLUDE", "UNKNOWN")},
		{"not a browser", "python-requests/2.31", "203.0.113.9", ctx("true", "SPIDER_OR_ROBOT", "FAILED_UA_INCLUDE", "UNKNOWN")},
		{"inactive include entry", "LegacyBrowser/1", "203.0.113.9", ctx("true", "SPIDER_OR_ROBOT", "FAILED_UA_INCLUDE", "UNKNOWN")},
		{"active robot", "Mozilla/5.0 (compatible; Googlebot/2.1)", "203.0.113.9", ctx("true", "ACTIVE_SPIDER_OR_ROBOT", "FAILED_UA_EXCLUDE", "PAGE_AND_AD_IMPRESSIONS")},
		{"exception", "Mozilla/5.0 (Linux; Android 9; Cubot X19)", "203.0.113.9", ctx("false", "BROWSER", "PASSED_ALL", "NONE")},
		{"inactive robot", "Mozilla/5.0 old-crawler", "", ctx("true", "INACTIVE_SPIDER_OR_ROBOT", "FAILED_UA_EXCLUDE", "PAGE_IMPRESSIONS")},
		{"extra include and exclude", "curl/8.0 headless", "203.0.113.9", ctx("true", "ACTIVE_SPIDER_OR_ROBOT", "FAILED_UA_EXCLUDE", "UNKNOWN")},
		{"neither", "", "", nil},
	}
	for _, tt := range tests {
		r := run(t, s, fields(t, "useragent", tt.ua, "user_ipaddress", tt.ip), nil)
		if diff := cmp.Diff(tt.want, derivedJSON(t, r)); diff != "" {
			t.Errorf("iab(%s) mismatch (-want +got):\n%s", tt.name, diff)
		}
	}
}
