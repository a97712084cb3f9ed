package web

import (
	"errors"
	"fmt"
	"time"
)

// Config configures the Micro-compatible test API and the UI.
type Config struct {
	// MaxEvents bounds the in-memory store: good and bad events together. When a new
	// event would exceed it, the oldest event (good or bad) is dropped and counted in
	// snowplow_mini_web_events_evicted_total. A stored event takes about 5 KB (typical
	// web events; more with big contexts), so the default 20000 holds about 100 MB.
	// Events that must be kept longer belong in a loader's sink.
	MaxEvents int `json:"maxEvents" yaml:"maxEvents"`

	// ConsumerGroup is the consumer group the bad-event reader uses on the bad stream.
	// Default "micro".
	ConsumerGroup string `json:"consumerGroup" yaml:"consumerGroup"`

	// BatchSize is the most bad rows read from the bad stream at a time. Default 500.
	BatchSize int `json:"batchSize" yaml:"batchSize"`

	// Wait configures /micro/wait.
	Wait WaitConfig `json:"wait" yaml:"wait"`

	// UIRefresh is how often the UI polls for new events. Default 2s.
	UIRefresh time.Duration `json:"uiRefresh" yaml:"uiRefresh"`
}

// WaitConfig bounds how long /micro/wait may block.
type WaitConfig struct {
	// DefaultTimeout applies when a request names no timeout. Default 5s.
	DefaultTimeout time.Duration `json:"defaultTimeout" yaml:"defaultTimeout"`
	// MaxTimeout is the longest timeout a request may ask for. Default 60s.
	MaxTimeout time.Duration `json:"maxTimeout" yaml:"maxTimeout"`
}

// DefaultConfig returns the configuration used when nothing is set.
func DefaultConfig() Config {
	return Config{
		MaxEvents:     20_000,
		ConsumerGroup: "micro",
		BatchSize:     500,
		Wait: WaitConfig{
			DefaultTimeout: 5 * time.Second,
			MaxTimeout:     60 * time.Second,
		},
		UIRefresh: 2 * time.Second,
	}
}

// Validate reports every problem of c, each with its key path under "web".
func (c Config) Validate() error {
	var errs []error
	bad := func(key string, format string, args ...any) {
		errs = append(errs, fmt.Errorf("web.%s: %s", key, fmt.Sprintf(format, args...)))
	}
	if c.MaxEvents < 1 {
		bad("maxEvents", "%d: must be at least 1", c.MaxEvents)
	}
	if c.ConsumerGroup == "" {
		bad("consumerGroup", "must not be empty")
	}
	if c.BatchSize < 1 || c.BatchSize > 10_000 {
		bad("batchSize", "%d: must be between 1 and 10000", c.BatchSize)
	}
	if c.Wait.DefaultTimeout <= 0 {
		bad("wait.defaultTimeout", "%s: must be positive", c.Wait.DefaultTimeout)
	}
	if c.Wait.MaxTimeout <= 0 {
		bad("wait.maxTimeout", "%s: must be positive", c.Wait.MaxTimeout)
	}
	if c.Wait.DefaultTimeout > c.Wait.MaxTimeout && c.Wait.MaxTimeout > 0 {
		bad("wait.defaultTimeout", "%s: must not exceed wait.maxTimeout (%s)", c.Wait.DefaultTimeout, c.Wait.MaxTimeout)
	}
	if c.UIRefresh < 100*time.Millisecond {
		bad("uiRefresh", "%s: must be at least 100ms", c.UIRefresh)
	}
	return errors.Join(errs...)
}
