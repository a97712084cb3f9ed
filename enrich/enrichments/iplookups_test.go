package enrichments

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/maxmind/mmdbwriter"
	"github.com/maxmind/mmdbwriter/mmdbtype"
)

// writeMMDB writes a MaxMind database of one network to dir/name.
func writeMMDB(t testing.TB, dir, name, dbType, cidr string, rec mmdbtype.Map) {
	t.Helper()
	tree, err := mmdbwriter.New(mmdbwriter.Options{DatabaseType: dbType, RecordSize: 24, IncludeReservedNetworks: true})
	if err != nil {
		t.Fatal(err)
	}
	_, network, err := net.ParseCIDR(cidr)
	if err != nil {
		t.Fatal(err)
	}
	if err := tree.Insert(network, rec); err != nil {
		t.Fatal(err)
	}
	f, err := os.Create(filepath.Join(dir, name))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := tree.WriteTo(f); err != nil {
		t.Fatal(err)
	}
}

func TestIPLookups(t *testing.T) {
	dir := t.TempDir()
	writeMMDB(t, dir, "GeoLite2-City.mmdb", "GeoLite2-City", "81.2.69.0/24", mmdbtype.Map{
		"city":     mmdbtype.Map{"names": mmdbtype.Map{"en": mmdbtype.String("London"), "de": mmdbtype.String("London")}},
		"country":  mmdbtype.Map{"iso_code": mmdbtype.String("GB")},
		"location": mmdbtype.Map{"latitude": mmdbtype.Float64(51.5142), "longitude": mmdbtype.Float64(-0.0931), "time_zone": mmdbtype.String("Europe/London")},
		"postal":   mmdbtype.Map{"code": mmdbtype.String("EC2V")},
		"subdivisions": mmdbtype.Slice{
			mmdbtype.Map{"iso_code": mmdbtype.String("ENG"), "names": mmdbtype.Map{"en": mmdbtype.String("England")}},
			mmdbtype.Map{"iso_code": mmdbtype.String("LND"), "names": mmdbtype.Map{"en": mmdbtype.String("City of London")}},
		},
	})
	writeMMDB(t, dir, "GeoIP2-ISP.mmdb", "GeoIP2-ISP", "81.2.69.0/24", mmdbtype.Map{
		"isp": mmdbtype.String("Andrews & Arnold"), "organization": mmdbtype.String("STONEHOUSE office network"),
		"autonomous_system_number": mmdbtype.Uint32(20712),
	})
	writeMMDB(t, dir, "GeoIP2-Domain.mmdb", "GeoIP2-Domain", "81.2.69.0/24", mmdbtype.Map{"domain": mmdbtype.String("aa.net.uk")})
	writeMMDB(t, dir, "GeoIP2-Connection-Type.mmdb", "GeoIP2-Connection-Type", "81.2.69.0/24", mmdbtype.Map{"connection_type": mmdbtype.String("Cable/DSL")})
	writeMMDB(t, dir, "GeoLite2-ASN.mmdb", "GeoLite2-ASN", "81.2.69.0/24", mmdbtype.Map{
		"autonomous_system_number": mmdbtype.Uint32(20712), "autonomous_system_organization": mmdbtype.String("Andrews & Arnold Ltd"),
	})
	// The geo database is served over HTTP, the others read from disk.
	srv := httptest.NewServer(http.FileServer(http.Dir(dir)))
	defer srv.Close()
	s := newSet(t, conf(sp, "ip_lookups", "2-0-1", `{
		"geo":{"database":"GeoLite2-City.mmdb","uri":"`+srv.URL+`/"},
		"isp":{"database":"GeoIP2-ISP.mmdb","uri":"file://`+dir+`"},
		"domain":{"database":"GeoIP2-Domain.mmdb","uri":"`+dir+`"},
		"connectionType":{"database":"GeoIP2-Connection-Type.mmdb","uri":"`+dir+`"},
		"asn":{"database":"GeoLite2-ASN.mmdb","uri":"`+dir+`"}}`))
	names := []string{"geo_country", "geo_region", "geo_city", "geo_zipcode", "geo_latitude", "geo_longitude", "geo_region_name", "geo_timezone", "ip_isp", "ip_organization", "ip_domain", "ip_netspeed"}
	tests := []struct {
		ip      string
		want    map[string]string
		derived []string
	}{
		{"81.2.69.142", map[string]string{
			"geo_country": "GB", "geo_region": "LND", "geo_city": "London", "geo_zipcode": "EC2V", "geo_latitude": "51.5142", "geo_longitude": "-0.0931",
			"geo_region_name": "City of London", "geo_timezone": "Europe/London", "ip_isp": "Andrews & Arnold", "ip_organization": "STONEHOUSE office network",
			"ip_domain": "aa.net.uk", "ip_netspeed": "Cable/DSL",
		}, []string{`{"schema":"iglu:com.snowplowanalytics.snowplow/asn/jsonschema/1-0-1","data":{"number":20712,"organization":"Andrews & Arnold Ltd"}}`}},
		{"::ffff:81.2.69.1", map[string]string{
			"geo_country": "GB", "geo_region": "LND", "geo_city": "London", "geo_zipcode": "EC2V", "geo_latitude": "51.5142", "geo_longitude": "-0.0931",
			"geo_region_name": "City of London", "geo_timezone": "Europe/London", "ip_isp": "Andrews & Arnold", "ip_organization": "STONEHOUSE office network",
			"ip_domain": "aa.net.uk", "ip_netspeed": "Cable/DSL",
		}, []string{`{"schema":"iglu:com.snowplowanalytics.snowplow/asn/jsonschema/1-0-1","data":{"number":20712,"organization":"Andrews & Arnold Ltd"}}`}},
		{"8.8.8.8", map[string]string{}, nil},
		{"unknown", map[string]string{}, nil},
		{"", map[string]string{}, nil},
	}
	for _, tt := range tests {
		ev := fields(t, "user_ipaddress", tt.ip)
		r := run(t, s, ev, nil)
		if diff := cmp.Diff(tt.want, get(ev, names...)); diff != "" {
			t.Errorf("ip_lookups(%q) mismatch (-want +got):\n%s", tt.ip, diff)
		}
		if diff := cmp.Diff(tt.derived, derivedJSON(t, r)); diff != "" {
			t.Errorf("ip_lookups(%q) contexts mismatch (-want +got):\n%s", tt.ip, diff)
		}
		if len(r.Failures) > 0 {
			t.Errorf("ip_lookups(%q) failures = %v, want none", tt.ip, r.Failures)
		}
	}

	bad := t.TempDir()
	writeFile(t, bad, "a.json", conf(sp, "ip_lookups", "2-0-1", `{"geo":{"database":"GeoIP.dat","uri":"`+dir+`"},"isp":{"database":"GeoIP2-ISP.mmdb","uri":"`+srv.URL+`/missing"}}`))
	_, err := Load(t.Context(), bad, Deps{AssetsDir: t.TempDir()})
	wantErrs(t, err, `parameters.geo.database: "GeoIP.dat" is not one of`, "parameters.isp: downloading", "404")
}

func TestJavaFloat(t *testing.T) {
	tests := []struct {
		f    float32
		want string
	}{
		{37.751, "37.751"}, {-97.822, "-97.822"}, {51, "51.0"}, {0, "0.0"}, {0.0001, "1.0E-4"}, {1.5e7, "1.5E7"}, {0.001, "0.001"},
	}
	for _, tt := range tests {
		if got := javaFloat(tt.f); got != tt.want {
			t.Errorf("javaFloat(%v) = %q, want %q", tt.f, got, tt.want)
		}
	}
}

// TestLoadDownloadHonoursContext: cancelling Load's context stops an asset download that
// the server never finishes.
func TestLoadDownloadHonoursContext(t *testing.T) {
	started := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		close(started)
		<-r.Context().Done()
	}))
	defer srv.Close()
	dir := t.TempDir()
	writeFile(t, dir, "a.json", conf(sp, "ip_lookups", "2-0-1", `{"isp":{"database":"GeoIP2-ISP.mmdb","uri":"`+srv.URL+`/slow"}}`))
	ctx, cancel := context.WithCancel(t.Context())
	go func() {
		<-started
		cancel()
	}()
	_, err := Load(ctx, dir, Deps{AssetsDir: t.TempDir()})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("Load with a cancelled download = %v, want context.Canceled", err)
	}
}
