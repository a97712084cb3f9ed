package streams

import "github.com/prometheus/client_golang/prometheus"

// memoryCollector exports a Memory stream's counters and state. Values are read at
// scrape time from the stream's atomic counters, so the hot paths pay nothing for
// metrics. Each stream is one collector with a constant "stream" label.
type memoryCollector struct {
	m *Memory

	putRecords, putBytes   *prometheus.Desc
	readRecords, readBytes *prometheus.Desc
	dropRecords, dropBytes *prometheus.Desc
	putsFull               *prometheus.Desc
	records, bytes         *prometheus.Desc
	unreadBytes, maxBytes  *prometheus.Desc
	lag                    *prometheus.Desc
}

func newMemoryCollector(m *Memory) *memoryCollector {
	labels := prometheus.Labels{"stream": m.cfg.Name}
	desc := func(name, help string, variable ...string) *prometheus.Desc {
		return prometheus.NewDesc("snowplow_mini_streams_"+name, help, variable, labels)
	}
	return &memoryCollector{
		m:           m,
		putRecords:  desc("put_records_total", "Records put to the stream."),
		putBytes:    desc("put_bytes_total", "Bytes (data and partition keys) put to the stream."),
		readRecords: desc("read_records_total", "Records returned by reads of the stream, all readers together."),
		readBytes:   desc("read_bytes_total", "Bytes (data and partition keys) returned by reads of the stream."),
		dropRecords: desc("dropped_records_total", "Records dropped by retention after every declared consumer group processed them."),
		dropBytes:   desc("dropped_bytes_total", "Bytes dropped by retention after every declared consumer group processed them."),
		putsFull:    desc("full_puts_total", "Puts refused with ErrFull because consumer groups did not make room in time."),
		records:     desc("retained_records", "Records retained."),
		bytes:       desc("retained_bytes", "Bytes (data and partition keys) retained."),
		unreadBytes: desc("unread_bytes", "Retained bytes that some declared consumer group has not processed; retention cannot drop them."),
		maxBytes:    desc("max_bytes", "Retention bound on retained bytes; Puts wait when unread bytes reach it."),
		lag:         desc("consumer_lag_records", "Retained records after a declared consumer group's checkpoints.", "group"),
	}
}

func (c *memoryCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{
		c.putRecords, c.putBytes, c.readRecords, c.readBytes, c.dropRecords, c.dropBytes,
		c.putsFull, c.records, c.bytes, c.unreadBytes, c.maxBytes, c.lag,
	} {
		ch <- d
	}
}

func (c *memoryCollector) Collect(ch chan<- prometheus.Metric) {
	m := c.m
	send := func(d *prometheus.Desc, t prometheus.ValueType, v int64, labels ...string) {
		metric, err := prometheus.NewConstMetric(d, t, float64(v), labels...)
		if err != nil {
			metric = prometheus.NewInvalidMetric(d, err)
		}
		ch <- metric
	}
	counter := func(d *prometheus.Desc, v int64) { send(d, prometheus.CounterValue, v) }
	gauge := func(d *prometheus.Desc, v int64, labels ...string) { send(d, prometheus.GaugeValue, v, labels...) }
	counter(c.putRecords, m.putRecords.Load())
	counter(c.putBytes, m.putBytes.Load())
	counter(c.readRecords, m.readRecords.Load())
	counter(c.readBytes, m.readBytes.Load())
	counter(c.dropRecords, m.dropRecords.Load())
	counter(c.dropBytes, m.dropBytes.Load())
	counter(c.putsFull, m.putsFull.Load())
	st := m.Stats()
	gauge(c.records, st.Records)
	gauge(c.bytes, st.Bytes)
	gauge(c.unreadBytes, st.UnreadBytes)
	gauge(c.maxBytes, st.MaxBytes)
	for g, n := range st.Lag {
		gauge(c.lag, n, g)
	}
}
