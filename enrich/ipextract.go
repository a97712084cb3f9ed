package enrich

import (
	"regexp"
	"strings"
)

// ipHeaderRegexps are the X-Forwarded-For and Forwarded patterns of Snowplow's
// IpAddressExtractor, matched against whole lower-cased header lines. Group 1 is an IPv4
// address, group 2 something IPv6-like. Go's regexp picks the submatches a backtracking
// engine would, so the captured text is what Java captures.
type ipHeaderRegexps struct {
	xff, fwd *regexp.Regexp
}

func newIPHeaderRegexps() ipHeaderRegexps {
	const ip = `"?\[?(?:(?:(\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}).*)|((?:[0-9a-f]|\.|:+)+).*)\]?"?`
	return ipHeaderRegexps{
		xff: regexp.MustCompile(`^x-forwarded-for: ` + ip + `.*$`),
		fwd: regexp.MustCompile(`^forwarded: for=` + ip + `.*$`),
	}
}

// extractIP returns the client IP as Snowplow's IpAddressExtractor.extractIpAddress: the
// first X-Forwarded-For header that matches wins; a Forwarded: for= header wins only if
// every header after it is also a matching Forwarded header (Snowplow forgets it on the
// next non-matching header); otherwise lastIP (the CollectorPayload's ipAddress).
func (r ipHeaderRegexps) extractIP(headers []string, lastIP string) string {
	forwarded := ""
	haveForwarded := false
	for _, h := range headers {
		if len(h) < 14 {
			haveForwarded = false
			continue
		}
		switch {
		case hasPrefixFold(h, "x-forwarded-for: "):
			if m := r.xff.FindStringSubmatch(strings.ToLower(h)); m != nil {
				return pickIP(m)
			}
		case hasPrefixFold(h, "forwarded: for="):
			if m := r.fwd.FindStringSubmatch(strings.ToLower(h)); m != nil {
				forwarded, haveForwarded = pickIP(m), true
				continue
			}
		}
		haveForwarded = false
	}
	if haveForwarded {
		return forwarded
	}
	return lastIP
}

func pickIP(m []string) string {
	if m[1] != "" {
		return m[1]
	}
	return m[2]
}

func hasPrefixFold(s, prefix string) bool {
	return len(s) >= len(prefix) && strings.EqualFold(s[:len(prefix)], prefix)
}
