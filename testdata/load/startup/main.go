// Command startup measures how long `snowplow-mini serve` takes from exec to its first
// 200 on /health: on a fresh data dir, and on one whose event store already holds many
// events (made by loading one browser-tracker request and copying its rows in SQL). It
// reports wall-clock time and the CPU time the process used until then (all threads, from
// /proc), which depends far less on what else runs on the machine.
//
//	go build -o /tmp/snowplow-mini . && go run ./testdata/load/startup -bin /tmp/snowplow-mini
package main

import (
	"bytes"
	"database/sql"
	"errors"
	"flag"
	"fmt"
	"log"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"time"

	_ "modernc.org/sqlite"

	"github.com/snowplow-mini/snowplow-mini/internal/browserload"
	"github.com/snowplow-mini/snowplow-mini/testdata/load/internal/procstat"
)

func main() {
	bin := flag.String("bin", "", "snowplow-mini binary (build it with: go build -o /tmp/snowplow-mini .)")
	rounds := flag.Int("rounds", 5, "starts to measure in each case")
	events := flag.Int("events", 1_000_000, "events in the store of the second case (0: fresh data dir only)")
	flag.Parse()
	if *bin == "" {
		log.Fatal("-bin is required: go build -o /tmp/snowplow-mini . && go run ./testdata/load/startup -bin /tmp/snowplow-mini")
	}

	var fresh []sample
	for range *rounds {
		dir, err := os.MkdirTemp("", "snowplow-mini-startup-")
		if err != nil {
			log.Fatal(err)
		}
		s, err := measure(*bin, dir, nil)
		os.RemoveAll(dir)
		if err != nil {
			log.Fatal(err)
		}
		fresh = append(fresh, s)
	}
	report("fresh data dir", fresh)
	if *events == 0 {
		return
	}

	dir, err := os.MkdirTemp("", "snowplow-mini-startup-")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	if _, err := measure(*bin, dir, loadOne); err != nil {
		log.Fatal(err)
	}
	if err := grow(filepath.Join(dir, "events.db"), *events); err != nil {
		log.Fatal(err)
	}
	var stored []sample
	for range *rounds {
		s, err := measure(*bin, dir, nil)
		if err != nil {
			log.Fatal(err)
		}
		stored = append(stored, s)
	}
	report(fmt.Sprintf("data dir with %d stored events", *events), stored)
}

type sample struct{ wall, cpu time.Duration }

func report(what string, ss []sample) {
	walls := make([]time.Duration, len(ss))
	cpus := make([]time.Duration, len(ss))
	for i, s := range ss {
		walls[i], cpus[i] = s.wall, s.cpu
	}
	slices.Sort(walls)
	slices.Sort(cpus)
	load, _ := os.ReadFile("/proc/loadavg")
	fmt.Printf("%s: start to /health ready over %d starts: wall median %s (min %s), CPU median %s (min %s); load average %s\n",
		what, len(ss), walls[len(ss)/2].Round(time.Millisecond), walls[0].Round(time.Millisecond),
		cpus[len(ss)/2].Round(time.Millisecond), cpus[0].Round(time.Millisecond), strings.Fields(string(load))[0])
}

// measure starts serve on dir, times it to the first 200 on /health, runs then (if not
// nil) against it, and stops it.
func measure(bin, dir string, then func(base, dir string) error) (sample, error) {
	addr, err := freeAddr()
	if err != nil {
		return sample{}, err
	}
	cmd := exec.Command(bin, "serve", "--addr", addr, "--data-dir", dir, "--log-level", "error")
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	start := time.Now()
	if err := cmd.Start(); err != nil {
		return sample{}, err
	}
	defer func() {
		_ = cmd.Process.Signal(os.Interrupt)
		_ = cmd.Wait()
	}()
	base := "http://" + addr
	client := &http.Client{Timeout: time.Second}
	for {
		resp, err := client.Get(base + "/health")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				break
			}
		}
		if time.Since(start) > 30*time.Second {
			return sample{}, errors.New("snowplow-mini did not become healthy within 30 s")
		}
		time.Sleep(time.Millisecond)
	}
	s := sample{wall: time.Since(start)}
	if s.cpu, err = procstat.CPU(cmd.Process.Pid); err != nil {
		return sample{}, err
	}
	if then != nil {
		return s, then(base, dir)
	}
	return s, nil
}

// loadOne sends one browser-tracker request and waits until its events are in SQLite.
func loadOne(base, dir string) error {
	var g browserload.Generator
	req, err := http.NewRequest(http.MethodPost, base+browserload.Path, bytes.NewReader(g.Body(0)))
	if err != nil {
		return err
	}
	for _, h := range browserload.Headers(0) {
		req.Header.Set(h[0], h[1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("collector answered %d", resp.StatusCode)
	}
	db, err := sql.Open("sqlite", "file:"+filepath.Join(dir, "events.db")+"?mode=ro&_pragma=busy_timeout(5000)")
	if err != nil {
		return err
	}
	defer db.Close()
	deadline := time.Now().Add(30 * time.Second)
	for {
		var n int
		if err := db.QueryRow("SELECT count(*) FROM events").Scan(&n); err == nil && n >= browserload.EventsPerRequest {
			return nil
		}
		if time.Now().After(deadline) {
			return errors.New("the events did not reach SQLite within 30 s")
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// grow copies the rows of events until there are n.
func grow(path string, n int) error {
	db, err := sql.Open("sqlite", "file:"+path+"?_pragma=busy_timeout(5000)")
	if err != nil {
		return err
	}
	defer db.Close()
	rows, err := db.Query("SELECT name FROM pragma_table_info('events') WHERE name != 'id'")
	if err != nil {
		return err
	}
	var cols []string
	for rows.Next() {
		var c string
		if err := rows.Scan(&c); err != nil {
			return err
		}
		cols = append(cols, c)
	}
	if err := rows.Err(); err != nil {
		return err
	}
	list := strings.Join(cols, ", ")
	for {
		var have int
		if err := db.QueryRow("SELECT count(*) FROM events").Scan(&have); err != nil {
			return err
		}
		if have >= n {
			return nil
		}
		q := "INSERT INTO events (" + list + ") SELECT " + list + " FROM events LIMIT ?"
		if _, err := db.Exec(q, min(have, n-have)); err != nil {
			return fmt.Errorf("copying rows: %w", err)
		}
	}
}

func freeAddr() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}
