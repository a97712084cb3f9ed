// Command collector measures the HTTP throughput of the snowplow-mini collector (with its
// in-memory raw stream) side by side with a bare net/http handler that only reads the
// request body, both on 127.0.0.1, with the same realistic 10-event tp2 POST built from
// the recorded tracker requests in ../shared/fixtures.
//
// Run it from the repository root:
//
//	go run ./testdata/load/collector -duration 10s -conns 64 -rounds 3
//
// It re-executes itself as a server process (both servers in one child process, as they
// would share the serve process) and drives them from the parent with a minimal HTTP/1.1
// load generator over keep-alive connections: pre-built request bytes, a response parser
// that only reads the status line, headers and Content-Length body. That keeps the
// client's CPU cost low, like wrk, without installing anything. Rounds alternate between
// the two servers, after an unmeasured warm-up of each, so that both see the same machine
// noise; the report gives every round, the medians and the ratio.
package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/snowplow-mini/snowplow-mini/collector"
	"github.com/snowplow-mini/snowplow-mini/streams"
	"github.com/snowplow-mini/snowplow-mini/testdata/load/internal/procstat"
)

const tp2Path = "/com.snowplowanalytics.snowplow/tp2"

func main() {
	serve := flag.Bool("serve", false, "run the two servers and print their addresses (used by the parent process)")
	duration := flag.Duration("duration", 10*time.Second, "length of one measuring round")
	conns := flag.Int("conns", 64, "concurrent keep-alive connections")
	rounds := flag.Int("rounds", 3, "rounds per server, alternating")
	warmup := flag.Duration("warmup", 3*time.Second, "unmeasured load on each server before the rounds (lets the raw stream and the heap reach their steady size)")
	fixtures := flag.String("fixtures", filepath.Join("..", "shared", "fixtures"), "folder of the recorded tracker requests")
	only := flag.String("only", "", `measure only this server ("bare" or "collector")`)
	cpuProfile := flag.String("cpuprofile", "", "write a CPU profile of the server process to this file")
	rawKind := flag.String("raw", "memory", `raw stream behind the collector: "memory" (the in-memory stream serve uses) or "discard" (drops records, to measure the collector alone)`)
	flag.Parse()
	var err error
	if *serve {
		err = runServers(*cpuProfile, *rawKind)
	} else {
		err = runLoad(*fixtures, *duration, *warmup, *conns, *rounds, *only, *cpuProfile, *rawKind)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "load:", err)
		os.Exit(1)
	}
}

// runServers starts the bare handler and the collector on 127.0.0.1 and serves until
// stdin closes.
func runServers(cpuProfile, rawKind string) error {
	if cpuProfile != "" {
		f, err := os.Create(cpuProfile)
		if err != nil {
			return err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
		defer pprof.StopCPUProfile()
	}
	var raw streams.Stream
	switch rawKind {
	case "memory":
		m, err := newMemory(streams.Raw)
		if err != nil {
			return err
		}
		raw = m
	case "discard":
		raw = discard{}
	default:
		return fmt.Errorf("-raw %q: want memory or discard", rawKind)
	}
	bad, err := newMemory(streams.Bad1)
	if err != nil {
		return err
	}
	c, err := collector.New(collector.DefaultConfig(), collector.Deps{
		Logger:  slog.New(slog.NewTextHandler(os.Stderr, nil)),
		Raw:     raw,
		Bad:     bad,
		Version: "0.1.0",
	})
	if err != nil {
		return err
	}
	bareLn, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	collLn, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	bare := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		_, _ = w.Write([]byte("ok"))
	})}
	coll := &http.Server{Handler: c.Handler()}
	go func() { _ = bare.Serve(bareLn) }()
	go func() { _ = coll.Serve(collLn) }()
	fmt.Printf("%s %s\n", bareLn.Addr(), collLn.Addr())
	_, _ = io.Copy(io.Discard, os.Stdin)
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	return errors.Join(bare.Shutdown(ctx), coll.Shutdown(ctx))
}

// discard is a raw stream that accepts and drops every record.
type discard struct{}

func (discard) Name() string { return streams.Raw }

func (discard) Put(_ context.Context, entries []streams.Entry) ([]streams.PutResult, error) {
	return make([]streams.PutResult, len(entries)), nil
}

func (discard) Shards(context.Context) ([]streams.Shard, error) { return nil, nil }

func (discard) Read(context.Context, string, streams.Position, int, time.Duration) ([]streams.Record, streams.Position, error) {
	return nil, streams.Position{}, errors.New("discard stream holds no records")
}

// newMemory is a raw stream as serve would make it, without a consumer: records that no
// declared group protects are trimmed to make room, so the stream never fills up.
func newMemory(name string) (*streams.Memory, error) {
	cfg := streams.DefaultMemoryConfig()
	cfg.Name = name
	return streams.NewMemory(cfg, nil, nil)
}

func runLoad(fixtures string, duration, warmup time.Duration, conns, rounds int, only, cpuProfile, rawKind string) error {
	body, err := tp2Body(fixtures)
	if err != nil {
		return err
	}
	self, err := os.Executable()
	if err != nil {
		return err
	}
	child := exec.Command(self, "-serve", "-cpuprofile", cpuProfile, "-raw", rawKind)
	child.Stderr = os.Stderr
	stdin, err := child.StdinPipe()
	if err != nil {
		return err
	}
	stdout, err := child.StdoutPipe()
	if err != nil {
		return err
	}
	if err := child.Start(); err != nil {
		return err
	}
	defer func() {
		_ = stdin.Close()
		_ = child.Wait()
	}()
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil {
		return fmt.Errorf("reading server addresses: %w", err)
	}
	addrs := strings.Fields(line)
	if len(addrs) != 2 {
		return fmt.Errorf("server printed %q, want two addresses", line)
	}
	req := []byte(fmt.Sprintf("POST %s HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json; charset=UTF-8\r\nUser-Agent: load\r\nContent-Length: %d\r\n\r\n", tp2Path, len(body)))
	req = append(req, body...)

	fmt.Printf("body %d bytes (10 events), %d connections, %s warm-up, %s per round, raw stream %s\n", len(body), conns, warmup, duration, rawKind)
	names := []string{"bare", "collector"}
	for i, name := range names {
		if only != "" && only != name || warmup <= 0 {
			continue
		}
		if _, err := load(addrs[i], req, conns, warmup); err != nil {
			return fmt.Errorf("%s warm-up: %w", name, err)
		}
	}
	results := map[string][]float64{}
	cpus := map[string][]float64{}
	for r := range rounds {
		for i, name := range names {
			if only != "" && only != name {
				continue
			}
			cpu0, cpuErr := procstat.CPU(child.Process.Pid)
			self0, selfErr := procstat.CPU(os.Getpid())
			rps, err := load(addrs[i], req, conns, duration)
			if err != nil {
				return fmt.Errorf("%s round %d: %w", name, r+1, err)
			}
			cpu1, cpuErr1 := procstat.CPU(child.Process.Pid)
			self1, selfErr1 := procstat.CPU(os.Getpid())
			results[name] = append(results[name], rps)
			cpuText := ""
			if cpuErr == nil && cpuErr1 == nil {
				perReq := (cpu1 - cpu0).Seconds() / (rps * duration.Seconds()) * 1e6
				cpus[name] = append(cpus[name], perReq)
				cpuText = fmt.Sprintf("  %6.1f µs server CPU per request", perReq)
			}
			if selfErr == nil && selfErr1 == nil {
				// The generator shares the cores with the server it measures.
				cpuText += fmt.Sprintf("  %5.1f µs generator CPU per request", (self1-self0).Seconds()/(rps*duration.Seconds())*1e6)
			}
			fmt.Printf("round %d %-9s %8.0f req/s%s\n", r+1, name, rps, cpuText)
		}
	}
	if only != "" {
		return nil
	}
	bare, coll := median(results["bare"]), median(results["collector"])
	fmt.Printf("median    bare      %8.0f req/s\nmedian    collector %8.0f req/s (%.0f%% of bare, %.0f events/s)\n",
		bare, coll, 100*coll/bare, 10*coll)
	if len(cpus["bare"]) > 0 && len(cpus["collector"]) > 0 {
		b, c := median(cpus["bare"]), median(cpus["collector"])
		fmt.Printf("median    server CPU per request: bare %.1f µs, collector %.1f µs (bare/collector = %.0f%%)\n", b, c, 100*b/c)
	}
	return nil
}

// load keeps conns connections busy sending req for d and returns the completed
// requests per second. Any answer but 200 is an error.
func load(addr string, req []byte, conns int, d time.Duration) (float64, error) {
	var done atomic.Int64
	var stop atomic.Bool
	var wg sync.WaitGroup
	errs := make(chan error, conns)
	start := time.Now()
	for range conns {
		wg.Go(func() {
			c, err := net.Dial("tcp", addr)
			if err != nil {
				errs <- err
				return
			}
			defer c.Close()
			rd := bufio.NewReaderSize(c, 4096)
			for !stop.Load() {
				_ = c.SetDeadline(time.Now().Add(10 * time.Second))
				if _, err := c.Write(req); err != nil {
					errs <- err
					return
				}
				if err := readResponse(rd); err != nil {
					errs <- err
					return
				}
				done.Add(1)
			}
		})
	}
	time.Sleep(d)
	stop.Store(true)
	elapsed := time.Since(start)
	wg.Wait()
	close(errs)
	if err := <-errs; err != nil {
		return 0, err
	}
	return float64(done.Load()) / elapsed.Seconds(), nil
}

// readResponse reads one HTTP/1.1 response with a Content-Length body and checks that
// it is a 200.
func readResponse(rd *bufio.Reader) error {
	status, err := rd.ReadSlice('\n')
	if err != nil {
		return err
	}
	if !bytes.HasPrefix(status, []byte("HTTP/1.1 200 ")) {
		return fmt.Errorf("answer %q", bytes.TrimSpace(status))
	}
	length := 0
	for {
		line, err := rd.ReadSlice('\n')
		if err != nil {
			return err
		}
		if len(line) <= 2 {
			break
		}
		if name, value, ok := bytes.Cut(line, []byte(":")); ok && bytes.EqualFold(name, []byte("Content-Length")) {
			if length, err = strconv.Atoi(string(bytes.TrimSpace(value))); err != nil {
				return fmt.Errorf("content length %q", value)
			}
		}
	}
	_, err = rd.Discard(length)
	return err
}

// tp2Body is the 10 events of the two recorded five-event batches, each with the
// contexts the tracker attached to its self-describing event (the same body as the
// collector package's benchmarks).
func tp2Body(dir string) ([]byte, error) {
	read := func(name string) ([]map[string]string, error) {
		b, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			return nil, fmt.Errorf("reading fixture (run from the repository root, or set -fixtures): %w", err)
		}
		var fx struct{ BodyUTF8 string }
		var sd struct{ Data []map[string]string }
		if err := json.Unmarshal(b, &fx); err != nil {
			return nil, err
		}
		if err := json.Unmarshal([]byte(fx.BodyUTF8), &sd); err != nil {
			return nil, err
		}
		return sd.Data, nil
	}
	ctx, err := read("node-post-sde-ctx-base64.json")
	if err != nil || len(ctx) == 0 {
		return nil, fmt.Errorf("context fixture: %w", err)
	}
	a, err := read("node-post-batch5-a.json")
	if err != nil {
		return nil, err
	}
	b, err := read("node-post-batch5-b.json")
	if err != nil {
		return nil, err
	}
	events := append(a, b...)
	for _, e := range events {
		if e["cx"] == "" {
			e["cx"] = ctx[0]["cx"]
		}
	}
	return json.Marshal(map[string]any{
		"schema": "iglu:com.snowplowanalytics.snowplow/payload_data/jsonschema/1-0-4",
		"data":   events,
	})
}

func median(xs []float64) float64 {
	s := slices.Clone(xs)
	slices.Sort(s)
	return s[len(s)/2]
}
