package collector

import (
	"errors"
	"strconv"

	"github.com/prometheus/client_golang/prometheus"
)

// Route labels of snowplow_mini_collector_requests_total. The set is closed so that the
// label stays bounded whatever paths clients send.
const (
	routeTP2      = "tp2"      // /com.snowplowanalytics.snowplow/tp2 (after path mapping)
	routePixel    = "pixel"    // /i, /ice.png
	routeVendor   = "vendor"   // any other /{vendor}/{version}
	routeRedirect = "redirect" // /r/…
	routeOptions  = "options"  // CORS preflight
	routeOther    = "other"    // robots.txt, crossdomain.xml, /, /sink-health, 404s
)

type metrics struct {
	requests       *prometheus.CounterVec
	requestBytes   prometheus.Counter
	recordsPut     *prometheus.CounterVec
	putErrors      *prometheus.CounterVec
	sizeViolations prometheus.Counter

	// ok caches the requests counter of each route for status 200, the label pair
	// of nearly every request, sparing the label lookup.
	ok map[string]prometheus.Counter
}

func newMetrics(reg prometheus.Registerer) (*metrics, error) {
	m := &metrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "snowplow_mini_collector_requests_total",
			Help: "HTTP requests answered by the collector, by route and status code.",
		}, []string{"route", "code"}),
		requestBytes: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "snowplow_mini_collector_request_body_bytes_total",
			Help: "Bytes of request bodies read by the collector.",
		}),
		recordsPut: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "snowplow_mini_collector_records_put_total",
			Help: "Records the collector put on a stream (raw: payloads, bad: size_violation bad rows).",
		}, []string{"stream"}),
		putErrors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "snowplow_mini_collector_put_errors_total",
			Help: "Puts to a stream that failed, so that the request was answered 5xx.",
		}, []string{"stream"}),
		sizeViolations: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "snowplow_mini_collector_size_violations_total",
			Help: "Requests, or parts of split requests, too large for a stream record, written as size_violation bad rows.",
		}),
	}
	m.ok = make(map[string]prometheus.Counter)
	for _, route := range []string{routeTP2, routePixel, routeVendor, routeRedirect, routeOptions, routeOther} {
		m.ok[route] = m.requests.WithLabelValues(route, "200")
	}
	if reg == nil {
		return m, nil
	}
	var errs []error
	for _, c := range []prometheus.Collector{m.requests, m.requestBytes, m.recordsPut, m.putErrors, m.sizeViolations} {
		errs = append(errs, reg.Register(c))
	}
	return m, errors.Join(errs...)
}

func (m *metrics) request(route string, code int) {
	if code == 200 {
		m.ok[route].Inc()
		return
	}
	m.requests.WithLabelValues(route, strconv.Itoa(code)).Inc()
}
