// Package config holds the value types that the configurations of several packages share,
// so that each is defined, parsed and printed once. The stages re-export them under their
// own names (collector.Duration, loaders.Duration) as aliases. It imports nothing of the
// repository.
package config

import (
	"fmt"
	"time"
)

// Duration is a time.Duration written in configuration files as a Go duration string
// ("10s", "168h"). Unlike a bare time.Duration field, a number without a unit is an
// error rather than nanoseconds.
type Duration time.Duration

// MarshalText implements encoding.TextMarshaler.
func (d Duration) MarshalText() ([]byte, error) { return []byte(time.Duration(d).String()), nil }

// UnmarshalText implements encoding.TextUnmarshaler.
func (d *Duration) UnmarshalText(b []byte) error {
	v, err := time.ParseDuration(string(b))
	if err != nil {
		return fmt.Errorf("parsing duration: %w", err)
	}
	*d = Duration(v)
	return nil
}

// String returns the duration as time.Duration prints it.
func (d Duration) String() string { return time.Duration(d).String() }

// Std returns d as a time.Duration.
func (d Duration) Std() time.Duration { return time.Duration(d) }
