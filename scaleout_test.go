package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/snowplow-mini/snowplow-mini/internal/emulatortest"
	"github.com/snowplow-mini/snowplow-mini/internal/poll"
)

// stageProcess is a `snowplow-mini run <stage>` child process.
type stageProcess struct {
	name string
	cmd  *exec.Cmd
	base string // http://host:port
	done chan struct{}
	logs *lockedBuffer
}

// buildBinary builds snowplow-mini once for the test.
func buildBinary(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "snowplow-mini")
	out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput()
	if err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

func startStage(t *testing.T, bin, name, stage string, env []string, args ...string) *stageProcess {
	t.Helper()
	cmd := exec.Command(bin, append([]string{"run", stage, "--addr", "127.0.0.1:0", "--log-format", "json", "--data-dir", t.TempDir()}, args...)...)
	cmd.Env = append(os.Environ(), env...)
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p := &stageProcess{name: name, cmd: cmd, done: make(chan struct{}), logs: &lockedBuffer{}}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-p.done
		if t.Failed() {
			t.Logf("logs of %s:\n%s", name, p.logs.String())
		}
	})
	addr := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stderr)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		for sc.Scan() {
			line := sc.Text()
			p.logs.Write([]byte(line + "\n"))
			var rec struct{ Msg, Addr string }
			if json.Unmarshal([]byte(line), &rec) == nil && rec.Msg == "snowplow-mini is running" && rec.Addr != "" {
				select {
				case addr <- rec.Addr:
				default:
				}
			}
		}
		_ = cmd.Wait()
		close(p.done)
	}()
	select {
	case a := <-addr:
		p.base = "http://" + a
	case <-p.done:
		t.Fatalf("%s exited at start:\n%s", name, p.logs.String())
	case <-time.After(60 * time.Second):
		t.Fatalf("%s did not start within a minute:\n%s", name, p.logs.String())
	}
	return p
}

var leasesHeldRE = regexp.MustCompile(`(?m)^snowplow_mini_kinesis_leases_held\{group="enrich",stream="raw"\} (\d+)$`)

// leasesHeld reads how many raw-stream leases an enrich process holds (-1 when it
// does not answer).
func (p *stageProcess) leasesHeld() int {
	resp, err := http.Get(p.base + "/metrics")
	if err != nil {
		return -1
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	m := leasesHeldRE.FindSubmatch(body)
	if m == nil {
		return 0
	}
	n, _ := strconv.Atoi(string(m[1]))
	return n
}

// TestScaleOutOnKinesis runs the stages as separate processes over the Kinesis and
// DynamoDB emulators: 2 collectors, 2 enrich workers on a 4-shard raw stream and a
// loader into PostgreSQL. The enrich workers split the leases 2/2; one is killed with
// SIGKILL in the middle of the load and the other takes its shards over within the
// lease duration plus the take interval; every acknowledged event ends in the events
// table exactly once. A graceful stop evicts its leases, so a takeover is immediate.
func TestScaleOutOnKinesis(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary and runs six processes")
	}
	pgURL := postgresURL(t)
	kinURL, ddbURL := emulatortest.Kinesis(t), emulatortest.DynamoDB(t)
	bin := buildBinary(t)

	id := time.Now().UnixNano() % 1e9
	prefix := fmt.Sprintf("so%d", id)
	schema := fmt.Sprintf("scaleout_%d", id)
	conn, err := pgx.Connect(context.Background(), pgURL)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_, _ = conn.Exec(context.Background(), "DROP SCHEMA IF EXISTS "+schema+" CASCADE")
		conn.Close(context.Background())
	})
	cfgFile := filepath.Join(t.TempDir(), "scaleout.yaml")
	cfg := fmt.Sprintf("loaders:\n  sink:\n    url: %q\n    schema: %s\n", pgURL, schema)
	if err := os.WriteFile(cfgFile, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	const (
		leaseDuration = 3 * time.Second
		takeInterval  = 500 * time.Millisecond
	)
	env := []string{
		"AWS_REGION=us-east-1", "AWS_ACCESS_KEY_ID=local", "AWS_SECRET_ACCESS_KEY=local",
		"AWS_EC2_METADATA_DISABLED=true",
	}
	args := []string{
		"--config", cfgFile, "--resolver", offlineResolver(t),
		"--kinesis-endpoint", kinURL, "--dynamodb-endpoint", ddbURL,
		"--kinesis-prefix", prefix, "--create-missing", "--kinesis-shards", "4",
		"--lease-duration", leaseDuration.String(), "--take-interval", takeInterval.String(),
	}

	// The first process creates the streams; the others find them.
	loader := startStage(t, bin, "loader", "loader", env, args...)
	e1 := startStage(t, bin, "enrich-1", "enrich", env, args...)
	poll.Until(t, "enrich-1 takes the 4 raw shards", 30*time.Second, func() bool { return e1.leasesHeld() == 4 })
	e2 := startStage(t, bin, "enrich-2", "enrich", env, args...)
	split := poll.Until(t, "the enrich workers split the shards 2/2", 30*time.Second, func() bool {
		return e1.leasesHeld() == 2 && e2.leasesHeld() == 2
	})
	t.Logf("leases split 2/2 %s after the second enrich worker started", split.Round(time.Millisecond))
	c1 := startStage(t, bin, "collector-1", "collector", env, args...)
	c2 := startStage(t, bin, "collector-2", "collector", env, args...)

	// Load: senders alternate between the collectors and remember every event a
	// collector acknowledged.
	const total, senders = 3000, 8
	var (
		mu    sync.Mutex
		acked []string
		// sentIDs are every event sent, acknowledged or not.
		sentIDs []string
		sent    atomic.Int64
	)
	killAt := int64(total / 3)
	killed := make(chan struct{}, 1)
	loadStart := time.Now()
	var wg sync.WaitGroup
	client := &http.Client{Timeout: 10 * time.Second}
	for w := range senders {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				n := sent.Add(1)
				if n > total {
					return
				}
				if n == killAt {
					_ = e1.cmd.Process.Signal(syscall.SIGKILL)
					killed <- struct{}{}
				}
				eid := uuid.NewString()
				mu.Lock()
				sentIDs = append(sentIDs, eid)
				mu.Unlock()
				base := c1.base
				if (int(n)+w)%2 == 0 {
					base = c2.base
				}
				resp, err := client.Get(base + "/i?e=pv&p=web&tv=load-1&aid=scaleout&url=https%3A%2F%2Fexample.com%2F&eid=" + eid)
				if err != nil {
					continue
				}
				_, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode/100 == 2 {
					mu.Lock()
					acked = append(acked, eid)
					mu.Unlock()
				}
			}
		}()
	}
	<-killed
	takeover := poll.Until(t, "enrich-2 takes over the killed worker's shards", 30*time.Second, func() bool { return e2.leasesHeld() == 4 })
	wg.Wait()
	loadTime := time.Since(loadStart)
	if bound := leaseDuration + 2*takeInterval + time.Second; takeover > bound {
		t.Errorf("takeover after SIGKILL took %s, want at most %s (lease duration + two take intervals + 1s of polling)", takeover, bound)
	}

	// Every acknowledged event reaches the events table exactly once.
	counts := map[string]int{}
	deadline := 90 * time.Second
	loaded := poll.Until(t, "every acknowledged event is loaded", deadline, func() bool {
		rows, err := conn.Query(context.Background(), "SELECT event_id, count(*) FROM "+schema+".events GROUP BY event_id")
		if err != nil {
			return false
		}
		clear(counts)
		for rows.Next() {
			var eid string
			var n int
			if rows.Scan(&eid, &n) == nil {
				counts[eid] = n
			}
		}
		rows.Close()
		for _, eid := range acked {
			if counts[eid] == 0 {
				return false
			}
		}
		return true
	})
	// Exactly once: the loader checks stream positions in its transactions (a record
	// redelivered after a lease moved is not loaded again), and drops an event enriched
	// again (the batch the killed enrich worker had written but not checkpointed, which
	// the survivor enriches once more). A request whose answer the client gave up on
	// may still have been stored: the table may hold sent events that were not
	// acknowledged, once, and nothing else.
	sentSet := map[string]bool{}
	for _, eid := range sentIDs {
		sentSet[eid] = true
	}
	for eid, n := range counts {
		if !sentSet[eid] {
			t.Errorf("event %s is in the events table but was never sent", eid)
		}
		if n != 1 {
			t.Errorf("event %s is in the events table %d times, want once", eid, n)
		}
	}
	reprocessed := metricValue(t, loader, "snowplow_mini_sink_reprocessed_events_skipped_total")
	t.Logf("%d events acknowledged in %s (%.0f events/s through 2 collectors); all loaded %s later; SIGKILL takeover %s; %v events enriched again after the SIGKILL and dropped by the loader",
		len(acked), loadTime.Round(time.Millisecond), float64(len(acked))/loadTime.Seconds(), loaded.Round(time.Millisecond), takeover.Round(time.Millisecond), reprocessed)

	// A graceful stop evicts: a new worker shares the shards, then the old one stops
	// with SIGTERM and the new one takes them within about one take interval.
	e3 := startStage(t, bin, "enrich-3", "enrich", env, args...)
	poll.Until(t, "enrich-2 and enrich-3 split the shards 2/2", 30*time.Second, func() bool {
		return e2.leasesHeld() == 2 && e3.leasesHeld() == 2
	})
	stopStart := time.Now()
	_ = e2.cmd.Process.Signal(syscall.SIGTERM)
	graceful := poll.Until(t, "enrich-3 takes the evicted shards", 10*time.Second, func() bool { return e3.leasesHeld() == 4 })
	if bound := 2*takeInterval + time.Second; graceful > bound {
		t.Errorf("takeover after a graceful stop took %s, want at most %s (well under the lease duration, %s)", graceful, bound, leaseDuration)
	}
	select {
	case <-e2.done:
	case <-time.After(30 * time.Second):
		t.Errorf("enrich-2 did not exit within 30s of SIGTERM")
	}
	if code := e2.cmd.ProcessState.ExitCode(); code != 0 {
		t.Errorf("enrich-2 exited with %d after SIGTERM, want 0", code)
	}
	t.Logf("takeover after a graceful stop: %s (from SIGTERM)", time.Since(stopStart).Round(time.Millisecond))
}

// metricValue reads a counter without labels other than constant ones from a
// process's /metrics (the sum over its series).
func metricValue(t *testing.T, p *stageProcess, name string) float64 {
	t.Helper()
	resp, err := http.Get(p.base + "/metrics")
	if err != nil {
		t.Fatalf("metrics of %s: %v", p.name, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	var sum float64
	for _, line := range regexp.MustCompile(`(?m)^`+regexp.QuoteMeta(name)+`(\{[^}]*\})? (\S+)$`).FindAllSubmatch(body, -1) {
		v, err := strconv.ParseFloat(string(line[2]), 64)
		if err == nil {
			sum += v
		}
	}
	return sum
}
