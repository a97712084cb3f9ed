package main

import (
	"bytes"
	"context"
	"os"
	"strings"
	"sync"
	"syscall"
	"testing"
	"testing/synctest"
)

func TestWatchSignals(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		sigs := make(chan os.Signal, 2)
		var mu sync.Mutex
		var stderr bytes.Buffer
		exited := -1
		exit := func(code int) {
			mu.Lock()
			defer mu.Unlock()
			exited = code
		}
		ctx := watchSignals(context.Background(), sigs, &lockedWriter{mu: &mu, w: &stderr}, exit)

		sigs <- syscall.SIGINT
		synctest.Wait()
		if ctx.Err() == nil {
			t.Fatal("the first signal did not cancel the context")
		}
		mu.Lock()
		if exited != -1 {
			t.Errorf("the first signal exited with %d, want a drain", exited)
		}
		mu.Unlock()

		sigs <- syscall.SIGINT
		synctest.Wait()
		mu.Lock()
		defer mu.Unlock()
		if exited != 130 {
			t.Errorf("second signal: exit code %d, want 130", exited)
		}
		if !strings.Contains(stderr.String(), "second interrupt: stopping at once") {
			t.Errorf("stderr = %q, want the reason", stderr.String())
		}
	})
}

type lockedWriter struct {
	mu *sync.Mutex
	w  *bytes.Buffer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}
