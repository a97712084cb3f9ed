package kinesis

import "github.com/prometheus/client_golang/prometheus"

// Metrics are the Kinesis streams' and lease tables' metrics of one process.
type Metrics struct {
	putRecords   *prometheus.CounterVec
	putRetries   *prometheus.CounterVec
	readRecords  *prometheus.CounterVec
	behind       *prometheus.GaugeVec
	leasesHeld   *prometheus.GaugeVec
	leaseChanges *prometheus.CounterVec
}

// NewMetrics registers the metrics on reg (nil: not exported).
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		putRecords: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "snowplow_mini_kinesis_put_records_total",
			Help: "Records written to a Kinesis stream.",
		}, []string{"stream"}),
		putRetries: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "snowplow_mini_kinesis_put_retries_total",
			Help: "Records sent again because PutRecords marked them failed (reason failed_entry) or the whole request was throttled or failed (reason request).",
		}, []string{"stream", "reason"}),
		readRecords: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "snowplow_mini_kinesis_read_records_total",
			Help: "Records read from a Kinesis stream.",
		}, []string{"stream"}),
		behind: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "snowplow_mini_kinesis_millis_behind_latest",
			Help: "How far the last read of a shard is behind its tip (GetRecords MillisBehindLatest), in milliseconds.",
		}, []string{"stream", "shard_id"}),
		leasesHeld: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "snowplow_mini_kinesis_leases_held",
			Help: "Shard leases this worker holds, per stream and consumer group.",
		}, []string{"stream", "group"}),
		leaseChanges: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "snowplow_mini_kinesis_lease_changes_total",
			Help: "Leases this worker took (change taken), stole (stolen), lost (lost) or evicted (evicted).",
		}, []string{"stream", "group", "change"}),
	}
	if reg != nil {
		reg.MustRegister(m.putRecords, m.putRetries, m.readRecords, m.behind, m.leasesHeld, m.leaseChanges)
	}
	return m
}
