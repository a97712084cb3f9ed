// Package poll is the one way tests wait for something another goroutine or process
// does: poll a condition with a deadline, never sleep a guessed time. Only tests import
// it.
package poll

import (
	"testing"
	"time"
)

// interval is how often a condition is checked: short next to the deadlines tests use,
// long enough not to starve the code being waited for on a busy machine.
const interval = 5 * time.Millisecond

// Until calls cond until it returns true, failing t after timeout with what. It returns
// how long that took, for tests that report it.
func Until(t testing.TB, what string, timeout time.Duration, cond func() bool) time.Duration {
	t.Helper()
	return UntilState(t, what, timeout, func() (bool, string) { return cond(), "" })
}

// UntilState is Until for a condition that also describes what it saw; the last
// description is in the failure message.
func UntilState(t testing.TB, what string, timeout time.Duration, cond func() (ok bool, state string)) time.Duration {
	t.Helper()
	start := time.Now()
	deadline := start.Add(timeout)
	for {
		ok, state := cond()
		if ok {
			return time.Since(start)
		}
		if time.Now().After(deadline) {
			if state != "" {
				t.Fatalf("timed out after %s waiting for %s; last state: %s", timeout, what, state)
			}
			t.Fatalf("timed out after %s waiting for %s", timeout, what)
		}
		time.Sleep(interval)
	}
}
