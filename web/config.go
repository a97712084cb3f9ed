package web

import (
	"errors"
	"fmt"
	"time"
)

// Config configures the Micro-compatible test API and the UI.
type Config struct {
	// MaxPageSize is the largest pageSize POST /micro/events accepts. Default 1000.
	MaxPageSize int `json:"maxPageSize" yaml:"maxPageSize"`

	// MaxFailedEvents bounds how many of the newest bad rows the Micro 4 routes
	// (/micro/events, /micro/columns, /micro/columnStats, /micro/timeline) read as
	// failed events: those are filtered and sorted in memory, unlike good events, which
	// the store filters, sorts and pages. /micro/bad is not bounded. Default 10000.
	MaxFailedEvents int `json:"maxFailedEvents" yaml:"maxFailedEvents"`

	// AllowedOrigins are the web origins whose pages may call /micro/* from a browser
	// (CORS with credentials). An entry is an origin ("https://app.test:8443"), an
	// origin with "*" for any port ("http://localhost:*"), or "*" for every origin.
	// A request from the same origin as its Host is always allowed. A cross-origin
	// request from any other origin gets no CORS headers, and is refused with 403
	// unless it is a GET or HEAD (which a browser will not let the page read).
	// Default: the loopback origins http(s)://localhost:*, http(s)://127.0.0.1:*,
	// http(s)://[::1]:*.
	AllowedOrigins []string `json:"allowedOrigins" yaml:"allowedOrigins"`

	// Wait configures /micro/wait.
	Wait WaitConfig `json:"wait" yaml:"wait"`
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
		MaxPageSize:     1000,
		MaxFailedEvents: 10_000,
		AllowedOrigins: []string{
			"http://localhost:*", "http://127.0.0.1:*", "http://[::1]:*",
			"https://localhost:*", "https://127.0.0.1:*", "https://[::1]:*",
		},
		Wait: WaitConfig{
			DefaultTimeout: 5 * time.Second,
			MaxTimeout:     60 * time.Second,
		},
	}
}

// Validate reports every problem of c, each with its key path under "web".
func (c Config) Validate() error {
	var errs []error
	bad := func(key string, format string, args ...any) {
		errs = append(errs, fmt.Errorf("web.%s: %s", key, fmt.Sprintf(format, args...)))
	}
	if c.MaxPageSize < 1 || c.MaxPageSize > 100_000 {
		bad("maxPageSize", "%d: must be between 1 and 100000", c.MaxPageSize)
	}
	if c.MaxFailedEvents < 0 || c.MaxFailedEvents > 1_000_000 {
		bad("maxFailedEvents", "%d: must be between 0 and 1000000", c.MaxFailedEvents)
	}
	for i, o := range c.AllowedOrigins {
		if err := validOriginPattern(o); err != nil {
			bad(fmt.Sprintf("allowedOrigins[%d]", i), "%q: %v", o, err)
		}
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
	return errors.Join(errs...)
}
