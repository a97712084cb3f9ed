package main

import (
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/snowplow-mini/snowplow-mini/streams"
)

type testClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *testClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *testClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

func TestStalls(t *testing.T) {
	cfg := DefaultConfig()
	cfg.Loaders.S3.Enabled = true
	clock := &testClock{now: time.Unix(1_700_000_000, 0)}
	ss := map[string]pipeStream{}
	groups := consumerGroups(cfg)
	for _, name := range []string{streams.Raw, streams.Enriched, streams.Bad1, streams.Bad2} {
		sc := cfg.streamConfig(name, groups[name])
		sc.Clock = clock.Now
		m, err := streams.NewMemory(sc, nil, nil)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { m.Close() })
		ss[name] = m
	}
	ws := watches(cfg, ss)
	timeout := cfg.Health.StallTimeout

	res, err := ss[streams.Enriched].Put(t.Context(), []streams.Entry{{PartitionKey: "k", Data: []byte("event")}})
	if err != nil {
		t.Fatal(err)
	}
	if errs := stalls(ws, timeout); len(errs) != 0 {
		t.Errorf("stalls() just after a put = %v, want none", errs)
	}
	clock.Advance(timeout)
	errs := stalls(ws, timeout)
	if len(errs) != 1 || !strings.Contains(errs[0].Error(), "event store: no progress for 1m0s on 1 records pending on stream enriched") {
		t.Errorf("stalls() after %s = %v, want the event store reported", timeout, errs)
	}
	if err := ss[streams.Enriched].Checkpoint(t.Context(), cfg.Loaders.Sink.Group, res[0].ShardID, res[0].SequenceNumber); err != nil {
		t.Fatal(err)
	}
	// The S3-style loader holds records until their file is stored.
	if errs := stalls(ws, timeout); len(errs) != 0 {
		t.Errorf("stalls() after the sink's checkpoint = %v, want none", errs)
	}
	clock.Advance(cfg.Loaders.S3.MaxFileAge.Std())
	errs = stalls(ws, timeout)
	if len(errs) != 1 || !strings.Contains(errs[0].Error(), "s3 loader: no progress") {
		t.Errorf("stalls() after the S3 file age = %v, want the s3 loader reported", errs)
	}

	// Raw records enrich has not read.
	if _, err := ss[streams.Raw].Put(t.Context(), []streams.Entry{{PartitionKey: "k", Data: []byte("payload")}}); err != nil {
		t.Fatal(err)
	}
	clock.Advance(timeout)
	var stages []string
	for _, err := range stalls(ws, timeout) {
		stages = append(stages, strings.SplitN(err.Error(), ":", 2)[0])
	}
	// The S3-style loader's raw record is within its file age still.
	if strings.Join(stages, ",") != "enrich,s3 loader" {
		t.Errorf("stalled stages = %v, want enrich (raw) and the s3 loader (enriched)", stages)
	}
}

func TestHealthConfigValidate(t *testing.T) {
	for _, d := range []time.Duration{0, -time.Second, 500 * time.Millisecond} {
		cfg := DefaultConfig()
		cfg.Health.StallTimeout = d
		err := cfg.Validate()
		if err == nil || !strings.Contains(err.Error(), "health.stallTimeout") {
			t.Errorf("Validate() with health.stallTimeout %s = %v, want an error naming the key", d, err)
		}
	}
	if err := (HealthConfig{StallTimeout: defaultStallTimeout}).Validate(); err != nil {
		t.Errorf("Validate() of the default = %v", err)
	}
}
