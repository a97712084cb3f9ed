package poll

import (
	"strings"
	"testing"
	"time"
)

// recorder is a testing.TB that records a Fatalf instead of stopping the test.
type recorder struct {
	testing.TB
	failed string
}

func (r *recorder) Helper() {}
func (r *recorder) Fatalf(format string, args ...any) {
	r.failed = format
	panic(r)
}

func TestUntilState(t *testing.T) {
	n := 0
	Until(t, "the third call", time.Second, func() bool { n++; return n == 3 })
	if n != 3 {
		t.Errorf("Until returned after %d calls, want 3", n)
	}

	r := &recorder{TB: t}
	func() {
		defer func() {
			if p := recover(); p != r {
				panic(p)
			}
		}()
		UntilState(r, "never", 20*time.Millisecond, func() (bool, string) { return false, "still 0" })
	}()
	if !strings.Contains(r.failed, "last state") {
		t.Errorf("timeout message %q does not give the last state", r.failed)
	}
}
