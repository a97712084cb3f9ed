package enrichments

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestCurrencyConversion(t *testing.T) {
	var calls atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		if r.URL.Path != "/historical/2024-02-29.json" || r.URL.Query().Get("app_id") != "KEY" {
			http.Error(w, "not found", http.StatusNotFound)
			return
		}
		w.Write([]byte(`{"base":"USD","rates":{"EUR":0.8,"GBP":0.5,"JPY":150}}`))
	}))
	defer srv.Close()
	dir := t.TempDir()
	writeFile(t, dir, "c.json", conf(sp, "currency_conversion_config", "1-0-0", `{"accountType":"DEVELOPER","apiKey":"KEY","baseCurrency":"EUR","rateAt":"EOD_PRIOR"}`))
	s, err := Load(t.Context(), dir, Deps{CurrencyAPI: srv.URL})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	in := &rawInput{tstamp: time.Date(2024, 3, 1, 12, 0, 0, 0, time.UTC)}
	names := []string{"base_currency", "tr_total_base", "tr_tax_base", "tr_shipping_base", "ti_price_base"}
	tests := []struct {
		name    string
		ev      []string
		in      *rawInput
		want    map[string]string
		failure string
	}{
		{"transaction in GBP", []string{"tr_currency", "GBP", "tr_total", "10.00", "tr_tax", "1.5", "tr_shipping", "0.01"}, in,
			map[string]string{"base_currency": "EUR", "tr_total_base": "16.00", "tr_tax_base": "2.40", "tr_shipping_base": "0.02"}, ""},
		{"item in USD", []string{"ti_currency", "USD", "ti_price", "12.5"}, in,
			map[string]string{"base_currency": "EUR", "ti_price_base": "10.00"}, ""},
		{"half even", []string{"ti_currency", "EUR", "ti_price", "0.125"}, in,
			map[string]string{"base_currency": "EUR", "ti_price_base": "0.12"}, ""},
		{"nothing to convert", []string{"tr_total", "3"}, in, map[string]string{"base_currency": "EUR"}, ""},
		{"unknown currency", []string{"tr_currency", "XYZ", "tr_total", "1"}, in, map[string]string{"base_currency": "EUR"},
			`{"field":"tr_currency","value":"XYZ","expectation":"Unknown currency 'XYZ'"}`},
		{"rates unavailable", []string{"tr_currency", "GBP", "tr_total", "1"}, &rawInput{tstamp: time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC)},
			map[string]string{"base_currency": "EUR"}, "404"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ev := fields(t, tt.ev...)
			r := run(t, s, ev, tt.in)
			if diff := cmp.Diff(tt.want, get(ev, names...)); diff != "" {
				t.Errorf("currency mismatch (-want +got):\n%s", diff)
			}
			got := failuresJSON(t, r)
			if tt.failure == "" && len(got) > 0 || tt.failure != "" && (len(got) != 1 || !strings.Contains(got[0], tt.failure) || !strings.Contains(got[0], `"identifier":"currency-conversion"`)) {
				t.Errorf("failures = %v, want %q", got, tt.failure)
			}
		})
	}
	if n := calls.Load(); n != 2 {
		t.Errorf("rate requests = %d, want 2 (one per day, cached)", n)
	}
}

func TestWeather(t *testing.T) {
	var calls atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		q := r.URL.Query()
		if r.URL.Path != "/data/2.5/history/city" || q.Get("appid") != "KEY" || q.Get("lat") != "51.5" || q.Get("start") != "1709251200" || q.Get("end") != "1709337600" {
			http.Error(w, "bad request "+r.URL.String(), http.StatusBadRequest)
			return
		}
		w.Write([]byte(`{"list":[
			{"dt":1709290800,"main":{"temp":280.1},"wind":{"speed":3},"clouds":{"all":75},"weather":[{"id":803,"main":"Clouds"}]},
			{"dt":1709301600,"main":{"temp":282.4},"wind":{"speed":4},"clouds":{"all":20},"weather":[{"id":801,"main":"Clouds"}]}]}`))
	}))
	defer srv.Close()
	host := strings.TrimPrefix(srv.URL, "http://")
	s := newSet(t, conf(spe, "weather_enrichment_config", "1-0-0", `{"apiKey":"KEY","apiHost":"`+host+`","timeout":5,"cacheSize":10,"geoPrecision":2}`))
	ev := fields(t, "geo_latitude", "51.5142", "geo_longitude", "-0.0931", "derived_tstamp", "2024-03-01 13:30:00.000")
	r := run(t, s, ev, nil)
	want := []string{`{"schema":"iglu:org.openweathermap/weather/jsonschema/1-0-0","data":{"main":{"temp":282.4},"wind":{"speed":4},"clouds":{"all":20},"weather":[{"id":801,"main":"Clouds"}],"dt":"2024-03-01T14:00:00.000Z"}}`}
	if diff := cmp.Diff(want, derivedJSON(t, r)); diff != "" || len(r.Failures) > 0 {
		t.Errorf("weather mismatch (-want +got):\n%s\nfailures: %v", diff, failuresJSON(t, r))
	}
	run(t, s, fields(t, "geo_latitude", "51.5", "geo_longitude", "-0.09", "derived_tstamp", "2024-03-01 08:00:00.000"), nil)
	if n := calls.Load(); n != 1 {
		t.Errorf("weather requests = %d, want 1 (same rounded place and day)", n)
	}
	r = run(t, s, fields(t, "derived_tstamp", "2024-03-01 08:00:00.000"), nil)
	wantF := []string{
		`{"enrichment":{"schemaKey":"iglu:com.snowplowanalytics.snowplow.enrichments/weather_enrichment_config/jsonschema/1-0-0","identifier":"weather"},"message":{"field":"geo_latitude","value":null,"expectation":"missing"}}`,
		`{"enrichment":{"schemaKey":"iglu:com.snowplowanalytics.snowplow.enrichments/weather_enrichment_config/jsonschema/1-0-0","identifier":"weather"},"message":{"field":"geo_longitude","value":null,"expectation":"missing"}}`,
	}
	if diff := cmp.Diff(wantF, failuresJSON(t, r)); diff != "" {
		t.Errorf("weather without location mismatch (-want +got):\n%s", diff)
	}
	srv.Close()
	r = run(t, s, fields(t, "geo_latitude", "10", "geo_longitude", "10", "derived_tstamp", "2024-03-01 08:00:00.000"), nil)
	if len(r.Failures) != 1 || !strings.Contains(r.Failures[0].Message.(Simple).Error, "weather request") {
		t.Errorf("unreachable weather API: failures = %v, want one", failuresJSON(t, r))
	}
}
