// Package emulatortest gives tests the endpoint of a local Kinesis or DynamoDB
// emulator (kinesalite, dynalite; pinned in testdata/emulators). Only tests import it.
//
// An endpoint named by SNOWPLOW_MINI_TEST_KINESIS or SNOWPLOW_MINI_TEST_DYNAMODB is used
// as is (CI starts both emulators once, see .ci/run). Otherwise the emulator is started
// from testdata/emulators/node_modules on a free 127.0.0.1 port for the test and stopped
// by its cleanup. When neither is possible the test is skipped with how to enable it, or
// fails when SNOWPLOW_MINI_INTEGRATION=1 makes such tests mandatory.
//
// The emulators accept any credentials and region; state is in memory, so tests use
// unique stream and table names when they share an endpoint.
package emulatortest

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// Kinesis returns the base URL of a Kinesis emulator, e.g. "http://127.0.0.1:4567".
func Kinesis(t testing.TB) string {
	t.Helper()
	return endpoint(t, "kinesis", "SNOWPLOW_MINI_TEST_KINESIS", "kinesalite")
}

// DynamoDB returns the base URL of a DynamoDB emulator, e.g. "http://127.0.0.1:4569".
func DynamoDB(t testing.TB) string {
	t.Helper()
	return endpoint(t, "dynamodb", "SNOWPLOW_MINI_TEST_DYNAMODB", "dynalite")
}

const startTimeout = 30 * time.Second

func endpoint(t testing.TB, kind, env, pkg string) string {
	t.Helper()
	if u := os.Getenv(env); u != "" {
		return strings.TrimRight(u, "/")
	}
	dir, err := emulatorsDir()
	if err != nil {
		t.Fatal(err)
	}
	node, nodeErr := exec.LookPath("node")
	_, pkgErr := os.Stat(filepath.Join(dir, "node_modules", pkg, "package.json"))
	if nodeErr != nil || pkgErr != nil {
		msg := fmt.Sprintf("no %s emulator: set %s to its endpoint, or install it with "+
			"`npm ci --prefix testdata/emulators` (needs Node.js)", kind, env)
		if os.Getenv("SNOWPLOW_MINI_INTEGRATION") == "1" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	return start(t, node, dir, kind)
}

// start runs start.js on port 0 and waits for its "listening host:port" line.
func start(t testing.TB, node, dir, kind string) string {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	cmd := exec.CommandContext(ctx, node, "start.js", kind, "0", "--exit-with-stdin")
	cmd.Dir = dir
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		cancel()
		t.Fatalf("starting the %s emulator: %v", kind, err)
	}
	t.Cleanup(func() {
		stdin.Close()
		cancel()
		_ = cmd.Wait()
	})

	addr := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			if a, ok := strings.CutPrefix(sc.Text(), "listening "); ok {
				addr <- a
				break
			}
		}
		close(addr)
		_, _ = io.Copy(io.Discard, stdout)
	}()
	select {
	case a, ok := <-addr:
		if !ok {
			t.Fatalf("the %s emulator exited before listening: %s", kind, stderr.String())
		}
		return "http://" + a
	case <-time.After(startTimeout):
		t.Fatalf("the %s emulator did not listen within %v: %s", kind, startTimeout, stderr.String())
	}
	return ""
}

// emulatorsDir finds testdata/emulators at the repository root, above the test's package.
func emulatorsDir() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return filepath.Join(dir, "testdata", "emulators"), nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", fmt.Errorf("go.mod not found above %s", dir)
		}
		dir = parent
	}
}
