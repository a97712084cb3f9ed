package streams_test

import (
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/snowplow-mini/snowplow-mini/streams"
	"github.com/snowplow-mini/snowplow-mini/streams/streamtest"
)

func newMemory(t *testing.T, modify func(*streams.MemoryConfig)) *streams.Memory {
	t.Helper()
	cfg := streams.DefaultMemoryConfig()
	cfg.Name = "test"
	if modify != nil {
		modify(&cfg)
	}
	m, err := streams.NewMemory(cfg, nil, prometheus.NewRegistry())
	if err != nil {
		t.Fatalf("NewMemory(%+v) error: %v", cfg, err)
	}
	t.Cleanup(func() { m.Close() })
	return m
}

func TestMemoryContract(t *testing.T) {
	streamtest.Run(t, func(t *testing.T, cfg streamtest.Config) (streams.Stream, streams.Checkpointer) {
		m := newMemory(t, func(c *streams.MemoryConfig) {
			c.Shards = cfg.Shards
			c.ConsumerGroups = cfg.Groups
		})
		return m, m
	})
}
