package enrichments

import (
	"bufio"
	"context"
	"fmt"
	"net/netip"
	"os"
	"strings"

	"github.com/snowplow-mini/snowplow-mini/enrich/event"
)

const iabContextSchema = "iglu:com.iab.snowplow/spiders_and_robots/jsonschema/1-0-0"

type iabConfig struct {
	IPFile               asset    `json:"ipFile" required:"true"`
	ExcludeUseragentFile asset    `json:"excludeUseragentFile" required:"true"`
	IncludeUseragentFile asset    `json:"includeUseragentFile" required:"true"`
	IncludeUseragents    []string `json:"includeUseragents"`
	ExcludeUseragents    []string `json:"excludeUseragents"`
}

// iab classifies the event's user agent and IP address with the IAB/ABC International
// Spiders and Robots lists (user-supplied files) and adds a spiders_and_robots context.
type iab struct {
	in      Info
	ips     []netip.Prefix
	include []string // lower-cased substrings of browsers
	exclude []iabRule
}

type iabRule struct {
	pattern    string   // lower-cased substring
	active     bool     // the robot is still active
	exceptions []string // lower-cased substrings that make the rule not apply
	impact     string
}

func buildIAB(b *builder) (enrichment, error) {
	var c iabConfig
	if err := b.params(&c); err != nil {
		return nil, err
	}
	e := &iab{in: b.info}
	var errs []error
	read := func(key string, a asset, line func(fields []string) error) {
		p, err := b.assets.path(b.ctx, b.dir, a)
		if err != nil {
			errs = append(errs, fmt.Errorf("parameters.%s: %w", key, err))
			return
		}
		if err := readListFile(p, line); err != nil {
			errs = append(errs, fmt.Errorf("parameters.%s: %w", key, err))
		}
	}
	read("ipFile", c.IPFile, func(f []string) error {
		s := strings.TrimSpace(f[0])
		if !strings.Contains(s, "/") {
			s += "/32"
			if strings.Contains(s, ":") {
				s = strings.TrimSuffix(s, "/32") + "/128"
			}
		}
		p, err := netip.ParsePrefix(s)
		if err != nil {
			return err
		}
		e.ips = append(e.ips, p.Masked())
		return nil
	})
	read("includeUseragentFile", c.IncludeUseragentFile, func(f []string) error {
		if len(f) > 1 && strings.TrimSpace(f[1]) == "0" {
			return nil // inactive entry
		}
		e.include = append(e.include, strings.ToLower(f[0]))
		return nil
	})
	read("excludeUseragentFile", c.ExcludeUseragentFile, func(f []string) error {
		r := iabRule{pattern: strings.ToLower(f[0]), active: true, impact: "UNKNOWN"}
		if len(f) > 1 {
			r.active = strings.TrimSpace(f[1]) != "0"
		}
		if len(f) > 2 {
			for _, x := range strings.Split(f[2], ",") {
				if x = strings.TrimSpace(x); x != "" {
					r.exceptions = append(r.exceptions, strings.ToLower(x))
				}
			}
		}
		if len(f) > 3 {
			switch strings.TrimSpace(f[3]) {
			case "0":
				r.impact = "NONE"
			case "1":
				r.impact = "PAGE_IMPRESSIONS"
			case "2":
				r.impact = "AD_IMPRESSIONS"
			case "3":
				r.impact = "PAGE_AND_AD_IMPRESSIONS"
			}
		}
		e.exclude = append(e.exclude, r)
		return nil
	})
	for _, s := range c.IncludeUseragents {
		e.include = append(e.include, strings.ToLower(s))
	}
	for _, s := range c.ExcludeUseragents {
		e.exclude = append(e.exclude, iabRule{pattern: strings.ToLower(s), active: true, impact: "UNKNOWN"})
	}
	return e, joinErrs(errs)
}

// readListFile calls line with the "|"-separated fields of every line that is not empty or
// a "#" comment.
func readListFile(path string, line func(fields []string) error) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	n := 0
	for sc.Scan() {
		n++
		t := strings.TrimSpace(sc.Text())
		if t == "" || strings.HasPrefix(t, "#") {
			continue
		}
		fields := strings.Split(t, "|")
		if strings.TrimSpace(fields[0]) == "" {
			continue
		}
		if err := line(fields); err != nil {
			return fmt.Errorf("%s:%d: %w", path, n, err)
		}
	}
	return sc.Err()
}

func (e *iab) info() Info { return e.in }

func (e *iab) enrich(_ context.Context, st *state) {
	ua := strings.TrimSpace(st.ev.Fields[event.UserAgent])
	ipText := st.ev.Fields[event.UserIPAddress]
	if ua == "" && ipText == "" {
		return
	}
	robot, category, reason, impact := false, "BROWSER", "PASSED_ALL", "NONE"
	if ip, err := netip.ParseAddr(ipText); err == nil && e.ipExcluded(ip.Unmap()) {
		robot, category, reason, impact = true, "SPIDER_OR_ROBOT", "FAILED_IP_EXCLUDE", "UNKNOWN"
	} else if ua != "" {
		lower := strings.ToLower(ua)
		included := false
		for _, p := range e.include {
			if strings.Contains(lower, p) {
				included = true
				break
			}
		}
		if !included {
			robot, category, reason, impact = true, "SPIDER_OR_ROBOT", "FAILED_UA_INCLUDE", "UNKNOWN"
		} else if r := e.excludedBy(lower); r != nil {
			robot, reason, impact = true, "FAILED_UA_EXCLUDE", r.impact
			category = "INACTIVE_SPIDER_OR_ROBOT"
			if r.active {
				category = "ACTIVE_SPIDER_OR_ROBOT"
			}
		}
	}
	b := []byte(`{"spiderOrRobot":`)
	if robot {
		b = append(b, "true"...)
	} else {
		b = append(b, "false"...)
	}
	b = append(b, `,"category":"`+category+`","reason":"`+reason+`","primaryImpact":"`+impact+`"}`...)
	st.derived = append(st.derived, event.SelfDescribing{Schema: iabContextSchema, Data: b})
}

func (e *iab) ipExcluded(ip netip.Addr) bool {
	for _, p := range e.ips {
		if p.Contains(ip) {
			return true
		}
	}
	return false
}

func (e *iab) excludedBy(ua string) *iabRule {
	for i := range e.exclude {
		r := &e.exclude[i]
		if !strings.Contains(ua, r.pattern) {
			continue
		}
		except := false
		for _, x := range r.exceptions {
			if strings.Contains(ua, x) {
				except = true
				break
			}
		}
		if !except {
			return r
		}
	}
	return nil
}
