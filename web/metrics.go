package web

import (
	"errors"
	"fmt"

	"github.com/prometheus/client_golang/prometheus"
)

type metrics struct {
	evicted      *prometheus.CounterVec // kind: good|bad
	truncated    *prometheus.CounterVec // kind: good|bad
	badRecords   *prometheus.CounterVec // result: ok|unrecognised
	renderErrors prometheus.Counter
	waits        *prometheus.CounterVec // result: complete|timeout
}

func newMetrics(reg prometheus.Registerer, st *store) (*metrics, error) {
	m := &metrics{
		evicted: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "snowplow_mini_web_events_evicted_total",
			Help: "Events dropped from the in-memory Micro store because it held web.maxEvents events or web.maxBytes bytes.",
		}, []string{"kind"}),
		truncated: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "snowplow_mini_web_events_truncated_total",
			Help: "Events stored in the in-memory Micro store with long values truncated because their copy was over web.maxEventBytes.",
		}, []string{"kind"}),
		badRecords: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "snowplow_mini_web_bad_records_total",
			Help: "Records read from the bad stream into the Micro store, by whether they were recognised bad rows.",
		}, []string{"result"}),
		renderErrors: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "snowplow_mini_web_render_errors_total",
			Help: "Good events whose enriched fields could not be rendered as JSON (served with \"event\":null).",
		}),
		waits: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "snowplow_mini_web_waits_total",
			Help: "Answered /micro/wait requests, by whether enough events arrived in time.",
		}, []string{"result"}),
	}
	stored := prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "snowplow_mini_web_events_stored",
		Help: "Events (good and bad) currently held by the in-memory Micro store.",
	}, func() float64 {
		good, bad := st.counts()
		return float64(good + bad)
	})
	retained := prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "snowplow_mini_web_retained_bytes",
		Help: "Bytes held by the events of the in-memory Micro store (bounded by web.maxBytes), about.",
	}, func() float64 { return float64(st.retained()) })
	// Pre-create the label values so the series exist from the start.
	for _, k := range []string{"good", "bad"} {
		m.evicted.WithLabelValues(k)
		m.truncated.WithLabelValues(k)
	}
	for _, r := range []string{"ok", "unrecognised"} {
		m.badRecords.WithLabelValues(r)
	}
	for _, r := range []string{"complete", "timeout"} {
		m.waits.WithLabelValues(r)
	}
	if reg == nil {
		return m, nil
	}
	var errs []error
	for _, c := range []prometheus.Collector{m.evicted, m.truncated, m.badRecords, m.renderErrors, m.waits, stored, retained} {
		if err := reg.Register(c); err != nil {
			errs = append(errs, err)
		}
	}
	if err := errors.Join(errs...); err != nil {
		return nil, fmt.Errorf("registering web metrics: %w", err)
	}
	return m, nil
}
