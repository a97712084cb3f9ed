package main

import (
	"bufio"
	"bytes"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"slices"
	"strings"
)

// resultEnv, set in a run's environment, makes it print its figures on one line (result)
// after the report: the side-by-side mode reads them from there.
const resultEnv = "SNOWPLOW_MINI_LOAD_RESULT"

// runResult is what one run measured.
type runResult struct {
	CPUPerEvent  float64 // µs of snowplow-mini's CPU per event
	EventsPerSec float64 // until the last event was queryable
	PeakRSSMB    int64
}

const resultPrefix = "result: "

func (r runResult) line() string {
	return fmt.Sprintf("%scpu_us_per_event=%.1f events_per_s=%.0f peak_rss_mb=%d", resultPrefix, r.CPUPerEvent, r.EventsPerSec, r.PeakRSSMB)
}

// parseResult reads the result line of a run's output.
func parseResult(out []byte) (runResult, error) {
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		rest, ok := strings.CutPrefix(sc.Text(), resultPrefix)
		if !ok {
			continue
		}
		var r runResult
		if _, err := fmt.Sscanf(rest, "cpu_us_per_event=%g events_per_s=%g peak_rss_mb=%d", &r.CPUPerEvent, &r.EventsPerSec, &r.PeakRSSMB); err != nil {
			return runResult{}, fmt.Errorf("result line %q: %w", sc.Text(), err)
		}
		return r, nil
	}
	return runResult{}, fmt.Errorf("no %q line in the run's output", strings.TrimSpace(resultPrefix))
}

// childArgs are the flags of this invocation for one run of bin: every flag set on the
// command line but -bin, -rounds and -warmup, and -bin bin.
func childArgs(fs *flag.FlagSet, bin string) []string {
	args := []string{"-bin=" + bin}
	fs.Visit(func(f *flag.Flag) {
		if f.Name != "bin" && f.Name != "rounds" && f.Name != "warmup" {
			args = append(args, "-"+f.Name+"="+f.Value.String())
		}
	})
	return args
}

// sideBySide runs the same load against each of bins in turn, rounds times (bins
// alternate, so that a machine whose speed drifts affects each alike), each run a fresh
// process of this command with a fresh data dir, and prints every run and, per binary,
// the median and range of each figure. On a machine whose runs vary by ±10 %, this is
// how two builds compare. First, warmup runs of bins[0] are made and printed but left
// out of the figures.
func sideBySide(fs *flag.FlagSet, bins []string, rounds, warmup int, w io.Writer) error {
	self, err := os.Executable()
	if err != nil {
		return err
	}
	run := func(label, bin string) (runResult, error) {
		cmd := exec.Command(self, childArgs(fs, bin)...)
		cmd.Env = append(os.Environ(), resultEnv+"=1")
		cmd.Stderr = os.Stderr
		out, err := cmd.Output()
		if err == nil {
			var res runResult
			if res, err = parseResult(out); err == nil {
				fmt.Fprintf(w, "%-9s %-28s %6.1f µs per event  %7.0f events/s  peak RSS %4d MB\n", label, bin, res.CPUPerEvent, res.EventsPerSec, res.PeakRSSMB)
				return res, nil
			}
		}
		return runResult{}, fmt.Errorf("%s, %s: %w\n%s", label, bin, err, out)
	}
	for r := range warmup {
		if _, err := run(fmt.Sprintf("warm-up %d", r+1), bins[0]); err != nil {
			return err
		}
	}
	results := make([][]runResult, len(bins))
	for r := range rounds {
		for i, bin := range bins {
			res, err := run(fmt.Sprintf("round %d", r+1), bin)
			if err != nil {
				return err
			}
			results[i] = append(results[i], res)
		}
	}
	fmt.Fprintln(w)
	for i, bin := range bins {
		fmt.Fprintln(w, summarize(bin, results[i]))
	}
	return nil
}

// summarize is one binary's line: median and range of each figure over its runs.
func summarize(bin string, rs []runResult) string {
	cpu := make([]float64, len(rs))
	rate := make([]float64, len(rs))
	rss := make([]float64, len(rs))
	for i, r := range rs {
		cpu[i], rate[i], rss[i] = r.CPUPerEvent, r.EventsPerSec, float64(r.PeakRSSMB)
	}
	return fmt.Sprintf("%s, %d runs: CPU per event median %.0f µs (%.0f–%.0f), events/s median %.0f (%.0f–%.0f), peak RSS median %.0f MB (%.0f–%.0f)",
		bin, len(rs), median(cpu), slices.Min(cpu), slices.Max(cpu), median(rate), slices.Min(rate), slices.Max(rate), median(rss), slices.Min(rss), slices.Max(rss))
}

// median of xs (not empty): the middle value, or the mean of the two middle ones.
func median(xs []float64) float64 {
	s := slices.Clone(xs)
	slices.Sort(s)
	n := len(s)
	if n%2 == 1 {
		return s[n/2]
	}
	return (s[n/2-1] + s[n/2]) / 2
}
