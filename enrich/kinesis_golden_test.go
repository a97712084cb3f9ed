package enrich

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/google/go-cmp/cmp"

	"github.com/snowplow-mini/snowplow-mini/internal/emulatortest"
	"github.com/snowplow-mini/snowplow-mini/streams"
	"github.com/snowplow-mini/snowplow-mini/streams/kinesis"
)

// TestGoldenOverKinesis runs enrich over Kinesis streams (the emulator) and checks the
// bytes on them against the same golden files as TestGoldenFixtures and TestBadInputs:
// the raw records are the Thrift CollectorPayloads enrich reads in memory, the enriched
// records the golden TSV lines and the bad-1 records the golden self-describing bad
// rows, byte for byte. So the official collector, enrich and loaders can be mixed
// with ours on Kinesis.
func TestGoldenOverKinesis(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	kin, ddb, err := kinesis.NewClients(ctx, kinesis.ClientConfig{
		Region:           "us-east-1",
		KinesisEndpoint:  emulatortest.Kinesis(t),
		DynamoDBEndpoint: emulatortest.DynamoDB(t),
	}, config.WithCredentialsProvider(credentials.NewStaticCredentialsProvider("local", "local", "")))
	if err != nil {
		t.Fatal(err)
	}
	res := testResolver(t)
	var runs int
	// run puts records on a new raw stream, enriches them until want outputs are
	// on the enriched and bad streams, and returns what those streams hold.
	run := func(t *testing.T, records [][]byte, want int) (raw, good, bad []streams.Record) {
		t.Helper()
		runs++
		prefix := fmt.Sprintf("golden%d-%d", time.Now().UnixNano()%1e9, runs)
		open := func(name string) *kinesis.Stream {
			s, err := kinesis.New(kinesis.Config{Name: name, StreamName: prefix + "-" + name, PollInterval: 50 * time.Millisecond,
				Leases: kinesis.LeaseConfig{CreateTables: true, LeaseDuration: 3 * time.Second}},
				kinesis.Deps{Kinesis: kin, DynamoDB: ddb})
			if err != nil {
				t.Fatal(err)
			}
			if err := s.Check(ctx, true, 1); err != nil {
				t.Fatal(err)
			}
			return s
		}
		rawS, goodS, badS := open(streams.Raw), open(streams.Enriched), open(streams.Bad1)
		for i, rec := range records {
			if _, err := rawS.Put(ctx, []streams.Entry{{PartitionKey: fmt.Sprint(i), Data: rec}}); err != nil {
				t.Fatal(err)
			}
		}
		e := newTestEnricher(t, res, func(c *Config, d *Deps) {
			d.Raw, d.Checkpointer, d.Enriched, d.Bad = rawS, rawS, goodS, badS
		})
		runCtx, stop := context.WithCancel(ctx)
		done := make(chan error, 1)
		go func() { done <- e.Run(runCtx) }()
		deadline := time.Now().Add(time.Minute)
		for len(good)+len(bad) < want && time.Now().Before(deadline) {
			time.Sleep(100 * time.Millisecond)
			good, bad = readShard(t, ctx, goodS), readShard(t, ctx, badS)
		}
		sctx, scancel := context.WithTimeout(ctx, 30*time.Second)
		defer scancel()
		if err := e.Shutdown(sctx); err != nil {
			t.Errorf("Shutdown: %v", err)
		}
		stop()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
		return readShard(t, ctx, rawS), readShard(t, ctx, goodS), readShard(t, ctx, badS)
	}

	t.Run("Good", func(t *testing.T) {
		var records [][]byte
		var wantTSV []string
		for _, name := range fixtureNames(t) {
			records = append(records, encodePayload(t, collectorPayload(loadFixture(t, name))))
			golden, err := os.ReadFile(goldenPath(t, name+".tsv"))
			if err != nil {
				t.Fatalf("reading golden file: %v", err)
			}
			wantTSV = append(wantTSV, strings.Split(strings.TrimSuffix(string(golden), "\n"), "\n")...)
		}
		raw, good, bad := run(t, records, len(wantTSV))
		var gotTSV []string
		for _, r := range good {
			gotTSV = append(gotTSV, string(r.Data))
		}
		// The enriched stream's order follows the workers; the golden files are per fixture.
		slices.Sort(gotTSV)
		slices.Sort(wantTSV)
		if diff := cmp.Diff(wantTSV, gotTSV); diff != "" {
			t.Errorf("enriched records on Kinesis differ from the golden TSV (-want +got):\n%s", diff)
		}
		if len(bad) != 0 {
			t.Errorf("%d bad rows on Kinesis, want none; first: %s", len(bad), bad[0].Data)
		}
		if len(raw) != len(records) {
			t.Fatalf("%d raw records on Kinesis, want %d", len(raw), len(records))
		}
		for i, r := range raw {
			if !bytes.Equal(r.Data, records[i]) {
				t.Errorf("raw record %d on Kinesis differs from the Thrift CollectorPayload put", i)
			}
		}
	})

	files, err := filepath.Glob(filepath.Join(goldenPath(t, "bad"), "*.json"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no bad-input catalogue: %v", err)
	}
	for _, file := range files {
		name := strings.TrimSuffix(filepath.Base(file), ".json")
		t.Run("Bad/"+name, func(t *testing.T) {
			b, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			var c badCase
			if err := json.Unmarshal(b, &c); err != nil {
				t.Fatal(err)
			}
			var records [][]byte
			for _, r := range c.Requests {
				records = append(records, encodePayload(t, collectorPayload(r)))
			}
			for _, r := range c.Records {
				raw, err := base64.StdEncoding.DecodeString(r)
				if err != nil {
					t.Fatal(err)
				}
				records = append(records, raw)
			}
			// One record at a time keeps the bad rows in the golden file's order.
			var rows bytes.Buffer
			for _, rec := range records {
				_, _, bad := run(t, [][]byte{rec}, 1)
				for _, r := range bad {
					rows.Write(r.Data)
					rows.WriteByte('\n')
				}
			}
			want, err := os.ReadFile(goldenPath(t, filepath.Join("bad", name+".badrows.jsonl")))
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(rows.Bytes(), want) {
				t.Errorf("bad rows on Kinesis differ from the golden file (-want +got):\n%s",
					cmp.Diff(strings.Split(string(want), "\n"), strings.Split(rows.String(), "\n")))
			}
		})
	}
}

// readShard reads shardId-000000000000 from the start.
func readShard(t *testing.T, ctx context.Context, s streams.Stream) []streams.Record {
	t.Helper()
	var out []streams.Record
	from := streams.Position{Type: streams.TrimHorizon}
	for {
		recs, next, err := s.Read(ctx, "shardId-000000000000", from, 1000, 0)
		if err != nil {
			t.Fatal(err)
		}
		if len(recs) == 0 {
			return out
		}
		out = append(out, recs...)
		from = next
	}
}
