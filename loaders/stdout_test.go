package loaders

import (
	"bytes"
	"context"
	"errors"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// lockedBuffer is a bytes.Buffer safe for the loader and the test at once.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) lines() []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	s := strings.TrimSuffix(b.buf.String(), "\n")
	if s == "" {
		return nil
	}
	return strings.Split(s, "\n")
}

func runStdout(t *testing.T, format string, out interface{ Write([]byte) (int, error) }, records ...[]byte) *pipeline {
	t.Helper()
	p := newPipeline(t)
	cfg := DefaultStdoutConfig()
	cfg.Format = format
	l, err := NewStdoutLoader(cfg, Deps{Streams: p.inputs(), Stdout: out, Logger: testLogger(t)})
	if err != nil {
		t.Fatal(err)
	}
	put(t, p.enriched, records...)
	errc := make(chan error, 1)
	go func() { errc <- l.Run(context.Background()) }()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := l.Shutdown(ctx); err != nil {
		t.Fatalf("Shutdown: %v", err)
	}
	if err := <-errc; err != nil {
		t.Fatalf("Run: %v", err)
	}
	return p
}

func TestStdoutLoader(t *testing.T) {
	recs := testTSV(12, "print")
	t.Run("tsv", func(t *testing.T) {
		var out lockedBuffer
		runStdout(t, "tsv", &out, recs...)
		var want []string
		for _, r := range recs {
			want = append(want, string(r))
		}
		got := out.lines()
		slices.Sort(want)
		slices.Sort(got)
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("TSV lines (-want +got):\n%s", diff)
		}
	})
	t.Run("json", func(t *testing.T) {
		var out lockedBuffer
		runStdout(t, "json", &out, append(recs, []byte("not an event"))...)
		var want []string
		for i := range recs {
			js, err := testEvent(i, "print").AppendJSON(nil)
			if err != nil {
				t.Fatal(err)
			}
			want = append(want, string(js))
		}
		got := out.lines()
		slices.Sort(want)
		slices.Sort(got)
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("JSON lines (-want +got):\n%s", diff)
		}
	})
}

// failingWriter fails its first writes.
type failingWriter struct {
	lockedBuffer
	failures int
}

func (w *failingWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	if w.failures > 0 {
		w.failures--
		w.mu.Unlock()
		return 0, errors.New("stdout closed")
	}
	w.mu.Unlock()
	return w.lockedBuffer.Write(p)
}

func TestStdoutLoaderRetriesAFailingWriter(t *testing.T) {
	out := &failingWriter{failures: 2}
	recs := testTSV(3, "retry")
	runStdout(t, "tsv", out, recs...)
	if got := len(out.lines()); got != len(recs) {
		t.Errorf("%d lines printed, want %d", got, len(recs))
	}
}

func TestNewStdoutLoaderErrors(t *testing.T) {
	p := newPipeline(t)
	for _, tc := range []struct {
		name string
		cfg  StdoutConfig
		deps Deps
		want string
	}{
		{"off", StdoutConfig{Stream: "enriched", Group: "stdout"}, Deps{Streams: p.inputs(), Stdout: &bytes.Buffer{}}, "off"},
		{"bad format", StdoutConfig{Format: "xml", Stream: "enriched", Group: "stdout"}, Deps{Streams: p.inputs(), Stdout: &bytes.Buffer{}}, "loaders.stdout.format"},
		{"no writer", StdoutConfig{Format: "tsv", Stream: "enriched", Group: "stdout"}, Deps{Streams: p.inputs()}, "no writer"},
		{"no stream", StdoutConfig{Format: "tsv", Stream: "nope", Group: "stdout"}, Deps{Streams: p.inputs(), Stdout: &bytes.Buffer{}}, `no stream "nope"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := NewStdoutLoader(tc.cfg, tc.deps)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("NewStdoutLoader error = %v, want one containing %q", err, tc.want)
			}
		})
	}
}
