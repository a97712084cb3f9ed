package enrichments

import (
	"context"
	"errors"
	"fmt"
	"math"
	"net/netip"
	"strconv"
	"strings"

	"github.com/oschwald/maxminddb-golang/v2"

	"github.com/snowplow-mini/snowplow-mini/enrich/event"
)

const asnContextSchema = "iglu:com.snowplowanalytics.snowplow/asn/jsonschema/1-0-1"

type ipLookupsConfig struct {
	Geo            *mmdbAsset `json:"geo"`
	ISP            *mmdbAsset `json:"isp"`
	Domain         *mmdbAsset `json:"domain"`
	ConnectionType *mmdbAsset `json:"connectionType"`
	ASN            *mmdbAsset `json:"asn"`
}

type mmdbAsset struct {
	Database string `json:"database" required:"true"`
	URI      string `json:"uri" required:"true"`
}

// ipLookups sets the geo_* and ip_* fields (and adds an asn context) from MaxMind
// databases, looking up user_ipaddress. Lookup problems are ignored, as in Snowplow.
type ipLookups struct {
	in                          Info
	geo, isp, domain, conn, asn *maxminddb.Reader
}

type geoRecord struct {
	City struct {
		Names map[string]string `maxminddb:"names"`
	} `maxminddb:"city"`
	Country struct {
		ISOCode string `maxminddb:"iso_code"`
	} `maxminddb:"country"`
	Location struct {
		Latitude  *float64 `maxminddb:"latitude"`
		Longitude *float64 `maxminddb:"longitude"`
		TimeZone  string   `maxminddb:"time_zone"`
	} `maxminddb:"location"`
	Postal struct {
		Code string `maxminddb:"code"`
	} `maxminddb:"postal"`
	Subdivisions []struct {
		ISOCode string            `maxminddb:"iso_code"`
		Names   map[string]string `maxminddb:"names"`
	} `maxminddb:"subdivisions"`
}

type ispRecord struct {
	ISP          string `maxminddb:"isp"`
	Organization string `maxminddb:"organization"`
}

type asnRecord struct {
	Number       *uint32 `maxminddb:"autonomous_system_number"`
	Organization *string `maxminddb:"autonomous_system_organization"`
}

func buildIPLookups(b *builder) (enrichment, error) {
	var c ipLookupsConfig
	if err := b.params(&c); err != nil {
		return nil, err
	}
	e := &ipLookups{in: b.info}
	var errs []error
	open := func(key string, a *mmdbAsset, allowed ...string) *maxminddb.Reader {
		if a == nil {
			return nil
		}
		ok := false
		for _, d := range allowed {
			ok = ok || a.Database == d
		}
		if !ok {
			errs = append(errs, fmt.Errorf("parameters.%s.database: %q is not one of %s", key, a.Database, strings.Join(allowed, ", ")))
			return nil
		}
		p, err := b.assets.path(b.ctx, b.dir, asset{URI: a.URI, Database: a.Database})
		if err != nil {
			errs = append(errs, fmt.Errorf("parameters.%s: %w", key, err))
			return nil
		}
		r, err := maxminddb.Open(p)
		if err != nil {
			errs = append(errs, fmt.Errorf("parameters.%s: opening %s: %w", key, p, err))
			return nil
		}
		return r
	}
	e.geo = open("geo", c.Geo, "GeoLite2-City.mmdb", "GeoIP2-City.mmdb")
	e.isp = open("isp", c.ISP, "GeoIP2-ISP.mmdb")
	e.domain = open("domain", c.Domain, "GeoIP2-Domain.mmdb")
	e.conn = open("connectionType", c.ConnectionType, "GeoIP2-Connection-Type.mmdb")
	e.asn = open("asn", c.ASN, "GeoLite2-ASN.mmdb")
	if len(errs) > 0 {
		_ = e.close()
		return nil, errors.Join(errs...)
	}
	return e, nil
}

func (e *ipLookups) close() error {
	var errs []error
	for _, r := range []*maxminddb.Reader{e.geo, e.isp, e.domain, e.conn, e.asn} {
		if r != nil {
			errs = append(errs, r.Close())
		}
	}
	return errors.Join(errs...)
}

func (e *ipLookups) info() Info { return e.in }

func (e *ipLookups) enrich(_ context.Context, st *state) {
	ip, err := netip.ParseAddr(st.ev.Fields[event.UserIPAddress])
	if err != nil {
		return
	}
	ip = ip.Unmap()
	f := &st.ev.Fields
	if e.geo != nil {
		var g geoRecord
		if r := e.geo.Lookup(ip); r.Found() && r.Decode(&g) == nil && g.Country.ISOCode != "" {
			f[event.GeoCountry] = g.Country.ISOCode
			f[event.GeoCity] = tsvSafe(g.City.Names["en"])
			f[event.GeoZipcode] = tsvSafe(g.Postal.Code)
			f[event.GeoTimezone] = tsvSafe(g.Location.TimeZone)
			f[event.GeoLatitude], f[event.GeoLongitude] = "", ""
			if g.Location.Latitude != nil {
				f[event.GeoLatitude] = javaFloat(float32(*g.Location.Latitude))
			}
			if g.Location.Longitude != nil {
				f[event.GeoLongitude] = javaFloat(float32(*g.Location.Longitude))
			}
			f[event.GeoRegion], f[event.GeoRegionName] = "", ""
			if n := len(g.Subdivisions); n > 0 { // the most specific subdivision
				f[event.GeoRegion] = tsvSafe(g.Subdivisions[n-1].ISOCode)
				f[event.GeoRegionName] = tsvSafe(g.Subdivisions[n-1].Names["en"])
			}
		}
	}
	if e.isp != nil {
		var r ispRecord
		if res := e.isp.Lookup(ip); res.Found() && res.Decode(&r) == nil {
			f[event.IPIsp] = tsvSafe(r.ISP)
			f[event.IPOrganization] = tsvSafe(r.Organization)
		}
	}
	if e.domain != nil {
		var d string
		if res := e.domain.Lookup(ip); res.Found() && res.DecodePath(&d, "domain") == nil {
			f[event.IPDomain] = tsvSafe(d)
		}
	}
	if e.conn != nil {
		var c string
		if res := e.conn.Lookup(ip); res.Found() && res.DecodePath(&c, "connection_type") == nil {
			f[event.IPNetspeed] = tsvSafe(c)
		}
	}
	if e.asn != nil {
		var a asnRecord
		if res := e.asn.Lookup(ip); res.Found() && res.Decode(&a) == nil && a.Number != nil {
			b := append([]byte(`{"number":`), strconv.FormatUint(uint64(*a.Number), 10)...)
			if a.Organization != nil {
				b = append(b, `,"organization":`...)
				b = event.AppendJSONString(b, *a.Organization)
			}
			b = append(b, '}')
			st.derived = append(st.derived, event.SelfDescribing{Schema: asnContextSchema, Data: b})
		}
	}
}

// javaFloat formats f as Java's Float.toString: the shortest decimal that reads back as f,
// with at least one fraction digit, in scientific notation ("1.0E-4") below 10^-3 or from
// 10^7 on.
func javaFloat(f float32) string {
	switch {
	case math.IsNaN(float64(f)):
		return "NaN"
	case math.IsInf(float64(f), 1):
		return "Infinity"
	case math.IsInf(float64(f), -1):
		return "-Infinity"
	case f == 0:
		if math.Signbit(float64(f)) {
			return "-0.0"
		}
		return "0.0"
	}
	abs := math.Abs(float64(f))
	if abs >= 1e-3 && abs < 1e7 {
		s := strconv.FormatFloat(float64(f), 'f', -1, 32)
		if !strings.Contains(s, ".") {
			s += ".0"
		}
		return s
	}
	s := strconv.FormatFloat(float64(f), 'e', -1, 32) // e.g. 1e-04, 1.5e+07
	mant, exp, _ := strings.Cut(s, "e")
	if !strings.Contains(mant, ".") {
		mant += ".0"
	}
	n, _ := strconv.Atoi(exp)
	return mant + "E" + strconv.Itoa(n)
}
