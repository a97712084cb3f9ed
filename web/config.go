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

	// MaxBytes bounds the bytes the in-memory store retains, whatever the number of
	// events: when a new event would exceed it, the oldest events are dropped (and
	// counted in snowplow_mini_web_events_evicted_total). Default 134217728 (128 MiB);
	// at least MaxEventBytes.
	MaxBytes int64 `json:"maxBytes" yaml:"maxBytes"`

	// MaxEventBytes caps what the store keeps of one event. A bad event whose Micro
	// JSON is larger keeps its sentence, a size_violation bad row in place of the
	// original (with the original's first MaxEventBytes/10 bytes as its payload, as
	// Snowplow's size_violation rows do) and its request with the body and every
	// parameter value cut to MaxEventBytes/10 bytes followed by
	// "…[truncated by snowplow-mini: N bytes in all]". A good event larger than the
	// cap keeps its enriched event whole (at most one 1 MB record) and has its raw
	// parameter values cut the same way. Truncations are counted in
	// snowplow_mini_web_events_truncated_total. Default 262144 (256 KiB), 4096..MaxBytes.
	MaxEventBytes int `json:"maxEventBytes" yaml:"maxEventBytes"`

	// AllowedOrigins are the web origins whose pages may call /micro/* from a browser
	// (CORS with credentials). An entry is an origin ("https://app.test:8443"), an
	// origin with "*" for any port ("http://localhost:*"), or "*" for every origin.
	// A request from the same origin as its Host is always allowed. A cross-origin
	// request from any other origin gets no CORS headers, and is refused with 403
	// unless it is a GET or HEAD (which a browser will not let the page read).
	// Default: the loopback origins http(s)://localhost:*, http(s)://127.0.0.1:*,
	// http(s)://[::1]:*.
	AllowedOrigins []string `json:"allowedOrigins" yaml:"allowedOrigins"`

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

// minEventBytes is the smallest per-event cap: room for a bad event's sentence and
// its size_violation row.
const minEventBytes = 4096

// DefaultConfig returns the configuration used when nothing is set.
func DefaultConfig() Config {
	return Config{
		MaxEvents:     20_000,
		MaxBytes:      128 << 20,
		MaxEventBytes: 256 << 10,
		AllowedOrigins: []string{
			"http://localhost:*", "http://127.0.0.1:*", "http://[::1]:*",
			"https://localhost:*", "https://127.0.0.1:*", "https://[::1]:*",
		},
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
	if c.MaxEventBytes < minEventBytes {
		bad("maxEventBytes", "%d: must be at least %d", c.MaxEventBytes, minEventBytes)
	}
	if c.MaxBytes < int64(c.MaxEventBytes) {
		bad("maxBytes", "%d: must be at least web.maxEventBytes (%d)", c.MaxBytes, c.MaxEventBytes)
	}
	for i, o := range c.AllowedOrigins {
		if err := validOriginPattern(o); err != nil {
			bad(fmt.Sprintf("allowedOrigins[%d]", i), "%q: %v", o, err)
		}
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
