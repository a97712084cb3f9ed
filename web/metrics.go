package web

import (
	"errors"
	"fmt"

	"github.com/prometheus/client_golang/prometheus"
)

type metrics struct {
	renderErrors prometheus.Counter
	waits        *prometheus.CounterVec // result: complete|timeout
	streams      prometheus.Gauge
}

func newMetrics(reg prometheus.Registerer) (*metrics, error) {
	m := &metrics{
		renderErrors: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "snowplow_mini_web_render_errors_total",
			Help: "Good events whose enriched fields could not be rendered as JSON (served with \"event\":null).",
		}),
		waits: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "snowplow_mini_web_waits_total",
			Help: "Answered /micro/wait requests, by whether enough events arrived in time.",
		}, []string{"result"}),
		streams: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "snowplow_mini_web_live_streams",
			Help: "Open /micro/stream connections (UI pages following the store).",
		}),
	}
	for _, r := range []string{"complete", "timeout"} {
		m.waits.WithLabelValues(r)
	}
	if reg == nil {
		return m, nil
	}
	var errs []error
	for _, c := range []prometheus.Collector{m.renderErrors, m.waits, m.streams} {
		if err := reg.Register(c); err != nil {
			errs = append(errs, err)
		}
	}
	if err := errors.Join(errs...); err != nil {
		return nil, fmt.Errorf("registering web metrics: %w", err)
	}
	return m, nil
}
