package main

import (
	"bufio"
	"database/sql"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/snowplow-mini/snowplow-mini/internal/poll"
)

// crashServer is `snowplow-mini serve` as a child process.
type crashServer struct {
	cmd  *exec.Cmd
	base string
	logs *lockedBuffer
}

var collectorURL = regexp.MustCompile(`collector=(http://[^ ]+)`)

func startBinary(t *testing.T, bin, dataDir string, extra ...string) *crashServer {
	t.Helper()
	args := append([]string{"serve", "--addr", "127.0.0.1:0", "--data-dir", dataDir, "--resolver", offlineResolver(t), "--log-level", "info"}, extra...)
	cmd := exec.Command(bin, args...)
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	s := &crashServer{cmd: cmd, logs: &lockedBuffer{}}
	found := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stderr)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		for sc.Scan() {
			line := sc.Text()
			fmt.Fprintln(s.logs, line)
			if m := collectorURL.FindStringSubmatch(line); m != nil {
				select {
				case found <- m[1]:
				default:
				}
			}
		}
		_, _ = io.Copy(io.Discard, stderr)
	}()
	select {
	case s.base = <-found:
	case <-time.After(30 * time.Second):
		_ = cmd.Process.Kill()
		t.Fatalf("serve did not start within 30s:\n%s", s.logs.String())
	}
	return s
}

// TestKill9LosesNoAcknowledgedEvent loads the durable pipeline with 4 writers, kills
// the process with SIGKILL at a random moment, restarts it on the same data dir and
// checks that every acknowledged event is stored exactly once. Several rounds, each
// on the data dir the previous one left.
func TestKill9LosesNoAcknowledgedEvent(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary and runs it several times; skipped with -short")
	}
	bin := filepath.Join(t.TempDir(), "snowplow-mini")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	dataDir := t.TempDir()
	acked := map[string]bool{}
	const rounds = 4
	for round := range rounds {
		s := startBinary(t, bin, dataDir, "--durable")
		var (
			mu   sync.Mutex
			ids  []string
			stop = make(chan struct{})
			wg   sync.WaitGroup
		)
		client := &http.Client{Timeout: 10 * time.Second}
		for w := range 4 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := 0; ; i++ {
					select {
					case <-stop:
						return
					default:
					}
					var batch, events []string
					for j := range 5 {
						id := fmt.Sprintf("00000000-0000-4000-8%03d-%04d%04d%04d", round, w, i%10000, j)
						batch = append(batch, id)
						events = append(events, fmt.Sprintf(`{"e":"se","p":"srv","tv":"test","aid":"crash","eid":%q,"se_ca":"c","se_ac":"a"}`, id))
					}
					body := `{"schema":"iglu:com.snowplowanalytics.snowplow/payload_data/jsonschema/1-0-4","data":[` + strings.Join(events, ",") + `]}`
					resp, err := client.Post(s.base+"/com.snowplowanalytics.snowplow/tp2", "application/json", strings.NewReader(body))
					if err != nil {
						return // killed
					}
					_, _ = io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
					if resp.StatusCode/100 == 2 {
						mu.Lock()
						ids = append(ids, batch...)
						mu.Unlock()
					}
				}
			}()
		}
		time.Sleep(time.Duration(300+rand.IntN(2500)) * time.Millisecond) // the random moment of the crash
		if err := s.cmd.Process.Signal(syscall.SIGKILL); err != nil {
			t.Fatal(err)
		}
		_ = s.cmd.Wait()
		close(stop)
		wg.Wait()
		for _, id := range ids {
			acked[id] = true
		}
		t.Logf("round %d: %d events acknowledged before kill -9 (%d in all)", round, len(ids), len(acked))
	}

	// Restart, drain, stop gracefully.
	s := startBinary(t, bin, dataDir, "--durable")
	db, err := sql.Open("sqlite", "file:"+filepath.Join(dataDir, "events.db")+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	stored := func() (map[string]int, error) {
		rows, err := db.Query("SELECT event_id, count(*) FROM events WHERE app_id = 'crash' GROUP BY event_id")
		if err != nil {
			return nil, err
		}
		defer rows.Close()
		out := map[string]int{}
		for rows.Next() {
			var id string
			var n int
			if err := rows.Scan(&id, &n); err != nil {
				return nil, err
			}
			out[id] = n
		}
		return out, rows.Err()
	}
	poll.UntilState(t, "every acknowledged event", 60*time.Second, func() (bool, string) {
		got, err := stored()
		if err != nil {
			return false, err.Error()
		}
		missing := 0
		for id := range acked {
			if got[id] == 0 {
				missing++
			}
		}
		return missing == 0, fmt.Sprintf("%d of %d acknowledged events missing", missing, len(acked))
	})
	if err := s.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- s.cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("serve exited with %v:\n%s", err, s.logs.String())
		}
	case <-time.After(60 * time.Second):
		_ = s.cmd.Process.Kill()
		t.Fatalf("serve did not stop within 60s")
	}
	got, err := stored()
	if err != nil {
		t.Fatal(err)
	}
	dups := 0
	for id, n := range got {
		if n > 1 {
			dups++
			if dups <= 5 {
				t.Errorf("event %s stored %d times", id, n)
			}
		}
	}
	t.Logf("acknowledged %d events over %d kill -9 rounds; stored %d distinct, %d duplicated", len(acked), rounds, len(got), dups)
	if dups > 0 {
		t.Errorf("%d events stored more than once", dups)
	}
}
