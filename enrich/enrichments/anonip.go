package enrichments

import (
	"context"
	"net/netip"
	"strconv"
	"strings"

	"github.com/snowplow-mini/snowplow-mini/enrich/event"
)

type anonIPConfig struct {
	AnonOctets   int  `json:"anonOctets" required:"true"`
	AnonSegments *int `json:"anonSegments"`
}

// anonIP masks the end of user_ipaddress with "x".
type anonIP struct {
	in       Info
	octets   int // IPv4 octets to mask, 1–4
	segments int // IPv6 segments to mask, 1–8
}

func buildAnonIP(b *builder) (enrichment, error) {
	var c anonIPConfig
	if err := b.params(&c); err != nil {
		return nil, err
	}
	e := &anonIP{in: b.info, octets: c.AnonOctets, segments: 8}
	var errs []error
	if c.AnonOctets < 1 || c.AnonOctets > 4 {
		errs = append(errs, errorf("parameters.anonOctets: %d is not between 1 and 4", c.AnonOctets))
	}
	if c.AnonSegments != nil {
		e.segments = *c.AnonSegments
		if e.segments < 1 || e.segments > 8 {
			errs = append(errs, errorf("parameters.anonSegments: %d is not between 1 and 8", e.segments))
		}
	}
	return e, joinErrs(errs)
}

func (e *anonIP) info() Info { return e.in }

func (e *anonIP) enrich(_ context.Context, st *state) {
	if ip := st.ev.Fields[event.UserIPAddress]; ip != "" {
		st.ev.Fields[event.UserIPAddress] = e.anonymize(ip)
	}
}

// anonymize masks ip as Snowplow does: a parsable IPv4 (or the IPv4 tail of an IPv4-mapped
// address, prefix kept) loses its last octets, a parsable IPv6 in its expanded form its last
// segments; unparsable text is masked by the IPv4 rule when it has a ".", by the IPv6 rule
// when it has a ":", and kept otherwise.
func (e *anonIP) anonymize(ip string) string {
	if a, err := netip.ParseAddr(ip); err == nil {
		switch {
		case a.Is4():
			return e.v4(ip)
		case a.Is4In6() && strings.Contains(ip, "."):
			return e.v4(ip)
		default:
			return e.v6(expandIPv6(a))
		}
	}
	switch {
	case strings.Contains(ip, "."):
		return e.v4(ip)
	case strings.Contains(ip, ":"):
		return e.v6(ip)
	}
	return ip
}

func (e *anonIP) v4(ip string) string {
	parts := strings.Split(ip, ".")
	for i := range parts {
		if len(parts)-i <= e.octets {
			parts[i] = "x"
		}
	}
	return strings.Join(parts, ".")
}

func (e *anonIP) v6(ip string) string {
	parts := strings.Split(ip, ":")
	keep := min(8-e.segments, len(parts))
	out := append([]string(nil), parts[:keep]...)
	for len(out) < 8 {
		out = append(out, "x")
	}
	return strings.Join(out, ":")
}

// expandIPv6 renders a as Java does: eight lowercase hex groups without leading zeros and
// without "::" compression.
func expandIPv6(a netip.Addr) string {
	b := a.As16()
	var sb strings.Builder
	for i := 0; i < 16; i += 2 {
		if i > 0 {
			sb.WriteByte(':')
		}
		sb.WriteString(strconv.FormatUint(uint64(b[i])<<8|uint64(b[i+1]), 16))
	}
	return sb.String()
}
