// Command pipeline measures snowplow-mini end to end on this machine: it starts
// `snowplow-mini serve` (collector -> enrich -> SQLite, all in one process), sends
// realistic 10-event tp2 POSTs from concurrent keep-alive connections, and reports the
// events/s the collector acknowledged, the events/s until the last event was
// queryable in SQLite, and the CPU and peak memory snowplow-mini used for them.
//
//	go build -o /tmp/snowplow-mini . && go run ./testdata/load/pipeline -bin /tmp/snowplow-mini
//
// Two builds compare side by side, run alternately (the figures of one machine drift
// by ±10 % from minute to minute, so only runs taken together compare):
//
//	go run ./testdata/load/pipeline -bin /tmp/before,/tmp/after -rounds 5 -payload browser
//
// On a virtual machine that has just booted, the first runs also pay for memory the
// host backs only when the guest first writes to it (the database's new pages): -warmup
// 1 runs the load once, unmeasured, before the runs that count.
//
// Two payloads: "fixtures" (the default) cycles through the events of the recorded Node
// tracker POSTs in ../shared/fixtures, about 0.9 KB per event; "browser" is what the
// JavaScript browser tracker sends (internal/browserload): ten events per POST with the
// web_page, browser_context and client_session contexts base64url-encoded in cx, about
// 20 KB, with a browser's headers and sp cookie. Both are a function of the request
// number, so runs compare.
//
// The load generator runs on the same machine (and cores) as the pipeline, so the
// figures are what one laptop does with both. To take as little of them as it can, it
// builds every request before the timed window and writes each in one socket write; it
// prints the CPU it used in that window next to snowplow-mini's.
package main

import (
	"bufio"
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	_ "modernc.org/sqlite"

	"github.com/snowplow-mini/snowplow-mini/internal/browserload"
	"github.com/snowplow-mini/snowplow-mini/testdata/load/internal/procstat"
)

func main() {
	bin := flag.String("bin", "", "snowplow-mini binary (build it with: go build -o /tmp/snowplow-mini .); several, comma-separated, to compare builds side by side (see -rounds)")
	warmup := flag.Int("warmup", 0, "run the load this many times with the first -bin binary before the measured runs, and leave those runs out of the figures (the first runs on a freshly booted virtual machine pay for memory the host has not yet backed)")
	rounds := flag.Int("rounds", 1, "with several -bin binaries or more than one round: run the load this many times per binary, alternating binaries, and print each run and the medians")
	fixtures := flag.String("fixtures", "../shared/fixtures", "folder of recorded tracker requests whose POST events make up the payload")
	requests := flag.Int("requests", 20000, "number of POST requests to send")
	perRequest := flag.Int("events", 10, "events per POST (the fixtures payload; the browser payload has 10)")
	kind := flag.String("payload", "fixtures", `what to send: "fixtures" (the recorded Node tracker events, about 0.9 KB each) or "browser" (the JavaScript browser tracker's 10-event POSTs with three contexts per event, about 20 KB)`)
	conns := flag.Int("c", 32, "concurrent connections")
	timeout := flag.Duration("timeout", 5*time.Minute, "give up waiting for the sink after this long")
	keep := flag.Bool("keep", false, "keep the data dir")
	profile := flag.String("cpuprofile", "", "write a CPU profile of snowplow-mini during the load to this file")
	heapProfile := flag.String("heapprofile", "", "write a heap profile of snowplow-mini, taken when half of the requests have been sent, to this file")
	extra := flag.String("serve-args", "", "extra flags for snowplow-mini serve, space-separated")
	latency := flag.Int("latency", 0, "instead of load: send this many single-event requests one after another and report how long after each 2xx the event is visible in /micro/good")
	flood := flag.Int("flood-bytes", 0, "instead of load: send -requests POSTs whose bodies are this many bytes that are not JSON (each becomes a large bad row), and report snowplow-mini's peak RSS and what the test API retains")
	flag.Parse()
	if *bin == "" {
		log.Fatal("-bin is required: go build -o /tmp/snowplow-mini . && go run ./testdata/load/pipeline -bin /tmp/snowplow-mini")
	}
	if bins := strings.Split(*bin, ","); len(bins) > 1 || *rounds > 1 || *warmup > 0 {
		switch {
		case *rounds < 1:
			log.Fatalf("-rounds %d: want at least 1", *rounds)
		case *warmup < 0:
			log.Fatalf("-warmup %d: want 0 or more", *warmup)
		case *profile != "" || *heapProfile != "" || *latency > 0 || *flood > 0 || *keep:
			log.Fatal("-cpuprofile, -heapprofile, -latency, -flood-bytes and -keep take one run of one binary, without -rounds or -warmup")
		}
		if err := sideBySide(flag.CommandLine, bins, *rounds, *warmup, os.Stdout); err != nil {
			log.Fatal(err)
		}
		return
	}

	switch *kind {
	case "fixtures":
	case "browser":
		*perRequest = browserload.EventsPerRequest
	default:
		log.Fatalf("-payload %q: want fixtures or browser", *kind)
	}
	events, err := loadEvents(*fixtures)
	if err != nil {
		log.Fatal(err)
	}
	dataDir, err := os.MkdirTemp("", "snowplow-mini-load-")
	if err != nil {
		log.Fatal(err)
	}
	if !*keep {
		defer os.RemoveAll(dataDir)
	}
	addr, err := freeAddr()
	if err != nil {
		log.Fatal(err)
	}
	resolver := filepath.Join(dataDir, "resolver.json")
	if err := os.WriteFile(resolver, []byte(offlineResolver), 0o644); err != nil {
		log.Fatal(err)
	}

	args := []string{"serve", "--addr", addr, "--data-dir", dataDir, "--resolver", resolver, "--log-level", "warn"}
	if *profile != "" || *heapProfile != "" {
		args = append(args, "--pprof")
	}
	args = append(args, strings.Fields(*extra)...)
	cmd := exec.Command(*bin, args...)
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if err := cmd.Start(); err != nil {
		log.Fatal(err)
	}
	defer func() {
		_ = cmd.Process.Signal(os.Interrupt)
		_ = cmd.Wait()
	}()
	base := "http://" + addr
	if err := waitHealthy(base, 30*time.Second); err != nil {
		log.Fatal(err)
	}

	if *latency > 0 {
		measureLatency(base, events, *latency)
		return
	}
	if *flood > 0 {
		measureFlood(base, cmd.Process.Pid, *requests, *flood, *conns, *timeout)
		return
	}

	// Payloads: every request gets fresh event ids so nothing is a replay. Each request
	// is built whole (request line, headers, body) before the timed window, so that the
	// window spends the generator's CPU on nothing but writing and reading sockets.
	reqs := make([][]byte, *requests)
	size := 0
	gen := browserload.Generator{AppID: "load"}
	host := strings.TrimPrefix(base, "http://")
	for i := range reqs {
		var body []byte
		h := http.Header{"Content-Type": {browserload.ContentType}}
		if *kind == "browser" {
			body = gen.Body(uint64(i))
			for _, kv := range browserload.Headers(uint64(i)) {
				h.Set(kv[0], kv[1])
			}
		} else {
			body = payload(events, i, *perRequest)
		}
		size += len(body)
		if reqs[i], err = wireRequest(host, h, body); err != nil {
			log.Fatal(err)
		}
	}
	fmt.Printf("payload %s: %d events per POST, %d bytes on average; %d requests over %d connections\n",
		*kind, *perRequest, size / *requests, *requests, *conns)

	var next, acked, failed atomic.Int64
	srvUserStart, srvSysStart, cpuErr := procstat.UserSystem(cmd.Process.Pid)
	userStart, sysStart, selfErr := procstat.UserSystem(os.Getpid())
	start := time.Now()
	profDone := make(chan struct{})
	if *profile != "" {
		go func() {
			defer close(profDone)
			resp, err := http.Get(base + "/debug/pprof/profile?seconds=10")
			if err != nil {
				log.Print(err)
				return
			}
			defer resp.Body.Close()
			f, err := os.Create(*profile)
			if err != nil {
				log.Print(err)
				return
			}
			defer f.Close()
			_, _ = io.Copy(f, resp.Body)
		}()
	} else {
		close(profDone)
	}
	heapDone := make(chan struct{})
	var heapOnce sync.Once
	if *heapProfile == "" {
		close(heapDone)
	}
	var wg sync.WaitGroup
	for range *conns {
		wg.Go(func() {
			var c *conn
			defer func() {
				if c != nil {
					c.Close()
				}
			}()
			for {
				i := int(next.Add(1)) - 1
				if i >= len(reqs) {
					return
				}
				if *heapProfile != "" && i == len(reqs)/2 {
					heapOnce.Do(func() {
						go func() {
							defer close(heapDone)
							if err := download(base+"/debug/pprof/heap", *heapProfile); err != nil {
								log.Print(err)
							}
						}()
					})
				}
				if c == nil {
					var err error
					if c, err = dial(host); err != nil {
						log.Fatal(err)
					}
				}
				status, keep, err := c.roundTrip(reqs[i])
				if err != nil || !keep {
					c.Close()
					c = nil
				}
				switch {
				case err != nil:
					failed.Add(1)
				case status/100 == 2:
					acked.Add(int64(*perRequest))
				default:
					failed.Add(1)
				}
			}
		})
	}
	wg.Wait()
	sent := time.Since(start)
	want := acked.Load()
	fmt.Printf("collector: %d events acknowledged in %s = %.0f events/s (%.0f requests/s), %d requests failed\n",
		want, sent.Round(time.Millisecond), float64(want)/sent.Seconds(), float64(want)/float64(*perRequest)/sent.Seconds(), failed.Load())

	db, err := sql.Open("sqlite", "file:"+filepath.Join(dataDir, "events.db")+"?mode=ro&_pragma=busy_timeout(5000)")
	if err != nil {
		log.Fatal(err)
	}
	defer db.Close()
	deadline := time.Now().Add(*timeout)
	var n int64
	for {
		// The data dir is this run's own and holds only its events, whose ids count up
		// from 1 in load order: max(id) is how many were loaded, even when retention
		// (-serve-args) has pruned the oldest, and it costs no table scan.
		err := db.QueryRow("SELECT coalesce(max(id), 0) FROM events").Scan(&n)
		if err == nil && n >= want {
			break
		}
		if time.Now().After(deadline) {
			log.Fatalf("only %d of %d events queryable after %s (last error: %v)", n, want, *timeout, err)
		}
		time.Sleep(10 * time.Millisecond)
	}
	total := time.Since(start)
	srvUserEnd, srvSysEnd, cpuEndErr := procstat.UserSystem(cmd.Process.Pid)
	userEnd, sysEnd, selfEndErr := procstat.UserSystem(os.Getpid())
	rss, rssErr := procstat.PeakRSS(cmd.Process.Pid)
	<-profDone
	<-heapDone
	fmt.Printf("end to end: %d events queryable in SQLite %s after the first request = %.0f events/s sustained; last event queryable %s after the last acknowledgement\n",
		n, total.Round(time.Millisecond), float64(n)/total.Seconds(), (total - sent).Round(time.Millisecond))
	if cpuErr == nil && cpuEndErr == nil && n > 0 {
		user, sys := srvUserEnd-srvUserStart, srvSysEnd-srvSysStart
		cpu := user + sys
		peak := "unknown"
		if rssErr == nil {
			peak = fmt.Sprintf("%d MB", rss>>20)
		}
		// The system share tells how much of the CPU is the kernel's (file and socket
		// writes, page faults), which varies more from machine to machine than user time.
		fmt.Printf("snowplow-mini: %.2f s of CPU during the load (%.2f s user, %.2f s system) = %.0f µs per event; peak RSS %s\n",
			cpu.Seconds(), user.Seconds(), sys.Seconds(), float64(cpu.Microseconds())/float64(n), peak)
		if os.Getenv(resultEnv) != "" {
			fmt.Println(runResult{
				CPUPerEvent:  float64(cpu.Microseconds()) / float64(n),
				EventsPerSec: float64(n) / total.Seconds(),
				PeakRSSMB:    rss >> 20,
			}.line())
		}
	}
	// The generator shares the cores: what it used is CPU the pipeline could not have.
	if selfErr == nil && selfEndErr == nil && n > 0 {
		user, sys := userEnd-userStart, sysEnd-sysStart
		fmt.Printf("load generator: %.2f s of CPU during the load (%.2f s user, %.2f s system) = %.1f µs per event\n",
			(user + sys).Seconds(), user.Seconds(), sys.Seconds(), float64((user+sys).Microseconds())/float64(n))
	}
	// Rows per transaction: the writer batches what is waiting, so under load
	// transactions grow and their fixed costs (commit, index and checkpoint pages)
	// spread over more events.
	if rows, txs := metric(base, "snowplow_mini_sink_transaction_rows_sum"), metric(base, "snowplow_mini_sink_transaction_rows_count"); rows > 0 && txs > 0 {
		fmt.Printf("sink: %.0f transactions, %.0f rows per transaction on average\n", txs, rows/txs)
	}
	// Under a backlog the sink may drop raw requests before their event is loaded (the
	// event then has a null raw_event): a run where that happened measured less work.
	if d := metric(base, "snowplow_mini_sink_raw_events_dropped_total"); d > 0 {
		fmt.Printf("warning: %.0f raw requests dropped before their event was loaded (null raw_event)\n", d)
	}
}

// measureLatency sends n one-event requests, each with its own app_id, and after each
// 2xx asks /micro/wait for that app's event, timing from the 2xx to the answer.
func measureLatency(base string, events []map[string]string, n int) {
	client := &http.Client{}
	lat := make([]time.Duration, 0, n)
	for i := range n {
		body := payload(events, i, 1)
		app := fmt.Sprintf("latency-%d", i)
		body = bytes.Replace(body, []byte(`"aid":"load"`), []byte(`"aid":"`+app+`"`), 1)
		resp, err := client.Post(base+"/com.snowplowanalytics.snowplow/tp2", "application/json; charset=UTF-8", bytes.NewReader(body))
		if err != nil {
			log.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		acked := time.Now()
		if resp.StatusCode/100 != 2 {
			log.Fatalf("status %d", resp.StatusCode)
		}
		resp, err = client.Get(base + "/micro/wait?count=1&timeout=5s&app_id=" + app)
		if err != nil {
			log.Fatal(err)
		}
		var w struct {
			Complete bool `json:"complete"`
		}
		err = json.NewDecoder(resp.Body).Decode(&w)
		resp.Body.Close()
		if err != nil || !w.Complete {
			log.Fatalf("event %d not visible within 5s (%v)", i, err)
		}
		lat = append(lat, time.Since(acked))
		time.Sleep(5 * time.Millisecond) // an idle machine between events, as a tracker test sees it
	}
	slices.Sort(lat)
	q := func(p float64) time.Duration { return lat[min(len(lat)-1, int(p*float64(len(lat))))] }
	fmt.Printf("visibility after 2xx over %d events: p50 %s, p99 %s, max %s\n", n,
		q(0.50).Round(10*time.Microsecond), q(0.99).Round(10*time.Microsecond), lat[len(lat)-1].Round(10*time.Microsecond))
}

const offlineResolver = `{"schema":"iglu:com.snowplowanalytics.iglu/resolver-config/jsonschema/1-0-3",
 "data":{"cacheSize":500,"cacheTtl":600,"repositories":[
  {"name":"Embedded","priority":0,"vendorPrefixes":[],"connection":{"embedded":{"path":"/iglu-client-embedded"}}}]}}`

// loadEvents returns the events of every recorded POST in dir.
// measureFlood sends n bad requests of size bytes from conns connections (retrying
// 503s, as trackers do), waits until the event store holds every bad row (as
// /micro/all counts them), and reports the peak RSS of snowplow-mini.
func measureFlood(base string, pid, n, size, conns int, timeout time.Duration) {
	body := bytes.Repeat([]byte("x"), size)
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: conns, MaxConnsPerHost: conns}}
	var next, retries atomic.Int64
	start := time.Now()
	var wg sync.WaitGroup
	for range conns {
		wg.Go(func() {
			for int(next.Add(1)) <= n {
				for {
					resp, err := client.Post(base+"/com.snowplowanalytics.snowplow/tp2", "application/json", bytes.NewReader(body))
					if err != nil {
						log.Fatal(err)
					}
					_, _ = io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
					if resp.StatusCode == http.StatusOK {
						break
					}
					if resp.StatusCode != http.StatusServiceUnavailable {
						log.Fatalf("flood request answered %d", resp.StatusCode)
					}
					retries.Add(1)
					time.Sleep(50 * time.Millisecond)
				}
			}
		})
	}
	wg.Wait()
	sent := time.Since(start)
	deadline := time.Now().Add(timeout)
	for storedBad(base) < n {
		if time.Now().After(deadline) {
			log.Fatalf("the event store did not hold %d bad rows within %s", n, timeout)
		}
		time.Sleep(50 * time.Millisecond)
	}
	rss, err := procstat.PeakRSS(pid)
	peak := "unknown"
	if err == nil {
		peak = fmt.Sprintf("%d MB", rss>>20)
	}
	fmt.Printf("flood: %d requests of %d KB (%d MB) over %d connections in %s, %d 503s retried\n",
		n, size>>10, n*size>>20, conns, sent.Round(time.Millisecond), retries.Load())
	fmt.Printf("snowplow-mini: peak RSS %s\n", peak)
}

// storedBad returns the number of bad rows /micro/all counts.
func storedBad(base string) int {
	resp, err := http.Get(base + "/micro/all")
	if err != nil {
		log.Fatal(err)
	}
	defer resp.Body.Close()
	var sum struct {
		Bad int `json:"bad"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&sum); err != nil {
		log.Fatal(err)
	}
	return sum.Bad
}

// metric returns the sum of the samples of a metric on /metrics, whatever their
// labels, or -1 when it has none.
func metric(base, name string) float64 {
	resp, err := http.Get(base + "/metrics")
	if err != nil {
		log.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	sum, found := 0.0, false
	for _, line := range strings.Split(string(body), "\n") {
		rest, ok := strings.CutPrefix(line, name)
		if !ok || rest == "" || (rest[0] != ' ' && rest[0] != '{') {
			continue
		}
		if i := strings.LastIndexByte(rest, ' '); i >= 0 {
			var f float64
			if _, err := fmt.Sscan(rest[i+1:], &f); err == nil {
				sum, found = sum+f, true
			}
		}
	}
	if !found {
		return -1
	}
	return sum
}

func loadEvents(dir string) ([]map[string]string, error) {
	files, err := filepath.Glob(filepath.Join(dir, "*post*.json"))
	if err != nil || len(files) == 0 {
		return nil, fmt.Errorf("no POST fixtures in %s (%v)", dir, err)
	}
	var out []map[string]string
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			return nil, err
		}
		var fx struct {
			Body string `json:"bodyUtf8"`
		}
		if err := json.Unmarshal(data, &fx); err != nil {
			return nil, fmt.Errorf("%s: %w", f, err)
		}
		var sdj struct {
			Data []map[string]string `json:"data"`
		}
		if err := json.Unmarshal([]byte(fx.Body), &sdj); err != nil {
			return nil, fmt.Errorf("%s: body: %w", f, err)
		}
		out = append(out, sdj.Data...)
	}
	return out, nil
}

// payload builds request i: n events taken round-robin from the fixtures, each with a
// fresh event id and app_id "load".
func payload(events []map[string]string, i, n int) []byte {
	var b strings.Builder
	b.WriteString(`{"schema":"iglu:com.snowplowanalytics.snowplow/payload_data/jsonschema/1-0-4","data":[`)
	for j := range n {
		ev := events[(i*n+j)%len(events)]
		m := make(map[string]string, len(ev))
		for k, v := range ev {
			m[k] = v
		}
		m["eid"] = fmt.Sprintf("%08x-0000-4000-8000-%012x", i, j)
		m["aid"] = "load"
		data, _ := json.Marshal(m)
		if j > 0 {
			b.WriteByte(',')
		}
		b.Write(data)
	}
	b.WriteString(`]}`)
	return []byte(b.String())
}

// download writes what GET url answers to file.
func download(url, file string) error {
	resp, err := http.Get(url)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: %s", url, resp.Status)
	}
	f, err := os.Create(file)
	if err != nil {
		return err
	}
	if _, err := io.Copy(f, resp.Body); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// wireRequest renders a POST of body to the tracker path as net/http's client puts it
// on the wire (Host, User-Agent, Content-Length, the other headers sorted, and the
// Accept-Encoding: gzip its Transport adds unless the request has its own), so the collector sees the same request as
// from http.Client, at the cost of one socket write.
func wireRequest(host string, h http.Header, body []byte) ([]byte, error) {
	req, err := http.NewRequest(http.MethodPost, "http://"+host+browserload.Path, bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	req.Header = h.Clone()
	if req.Header.Get("Accept-Encoding") == "" {
		req.Header.Set("Accept-Encoding", "gzip")
	}
	var b bytes.Buffer
	b.Grow(len(body) + 1024)
	if err := req.Write(&b); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// conn is one keep-alive HTTP/1.1 connection that sends pre-built requests and reads
// only what it needs of the answer: the status, the body length and whether the server
// keeps the connection open.
type conn struct {
	net.Conn
	rd *bufio.Reader
}

func dial(host string) (*conn, error) {
	c, err := net.Dial("tcp", host)
	if err != nil {
		return nil, err
	}
	return &conn{Conn: c, rd: bufio.NewReaderSize(c, 4096)}, nil
}

// roundTrip writes req and reads the answer, returning its status code and whether
// the connection may carry another request.
func (c *conn) roundTrip(req []byte) (status int, keep bool, err error) {
	if _, err := c.Write(req); err != nil {
		return 0, false, err
	}
	return readResponse(c.rd)
}

// readResponse reads one HTTP/1.1 response, which must have a Content-Length body (the
// collector's answers are short and always have one).
func readResponse(rd *bufio.Reader) (status int, keep bool, err error) {
	line, err := rd.ReadSlice('\n')
	if err != nil {
		return 0, false, err
	}
	// "HTTP/1.1 200 OK\r\n"
	if len(line) < 12 || !bytes.HasPrefix(line, []byte("HTTP/1.1 ")) {
		return 0, false, fmt.Errorf("status line %q", bytes.TrimSpace(line))
	}
	if status, err = strconv.Atoi(string(line[9:12])); err != nil {
		return 0, false, fmt.Errorf("status line %q", bytes.TrimSpace(line))
	}
	length, keep := -1, true
	for {
		line, err := rd.ReadSlice('\n')
		if err != nil {
			return 0, false, err
		}
		if len(line) <= 2 {
			break
		}
		name, value, ok := bytes.Cut(line, []byte(":"))
		if !ok {
			continue
		}
		value = bytes.TrimSpace(value)
		switch {
		case bytes.EqualFold(name, []byte("Content-Length")):
			if length, err = strconv.Atoi(string(value)); err != nil || length < 0 {
				return 0, false, fmt.Errorf("content length %q", value)
			}
		case bytes.EqualFold(name, []byte("Connection")) && bytes.EqualFold(value, []byte("close")):
			keep = false
		case bytes.EqualFold(name, []byte("Transfer-Encoding")):
			return 0, false, fmt.Errorf("answer with Transfer-Encoding %q, want a Content-Length body", value)
		}
	}
	if length < 0 {
		return 0, false, errors.New("answer without Content-Length")
	}
	if _, err := rd.Discard(length); err != nil {
		return 0, false, err
	}
	return status, keep, nil
}

func freeAddr() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}

func waitHealthy(base string, within time.Duration) error {
	ctx, cancel := context.WithTimeout(context.Background(), within)
	defer cancel()
	for {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, base+"/health", nil)
		resp, err := http.DefaultClient.Do(req)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		select {
		case <-ctx.Done():
			return errors.New("snowplow-mini did not become healthy")
		case <-time.After(20 * time.Millisecond):
		}
	}
}
