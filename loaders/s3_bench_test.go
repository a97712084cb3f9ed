package loaders

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"log/slog"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/snowplow-mini/snowplow-mini/collector/payload"
	"github.com/snowplow-mini/snowplow-mini/internal/browserload"
	"github.com/snowplow-mini/snowplow-mini/streams"
)

// browserRecords returns n stream records of what the browser load puts on stream:
// raw, the Thrift payloads of browserload's 10-event POSTs; enriched, the TSV lines
// of such events (testdata/browser-enriched.tsv.gz, 200 of them, repeated).
func browserRecords(b *testing.B, stream string, n int) []streams.Record {
	b.Helper()
	recs := make([]streams.Record, n)
	switch stream {
	case streams.Raw:
		var gen browserload.Generator
		for i := range recs {
			p := payload.CollectorPayload{
				Schema: payload.SchemaURI, IPAddress: "127.0.0.1", Timestamp: 1796530292736 + int64(i),
				Encoding: "UTF-8", Collector: "snowplow-mini-collector-0.1.0",
				UserAgent: browserload.UserAgent(uint64(i)), Path: browserload.Path,
				Body: string(gen.Body(uint64(i))), ContentType: browserload.ContentType,
				Hostname: "localhost", NetworkUserID: browserload.NetworkUserID(uint64(i)),
			}
			for _, h := range browserload.Headers(uint64(i)) {
				p.Headers = append(p.Headers, h[0]+": "+h[1])
			}
			data, err := payload.Encode(&p)
			if err != nil {
				b.Fatal(err)
			}
			recs[i].Data = data
		}
	case streams.Enriched:
		f, err := os.Open("testdata/browser-enriched.tsv.gz")
		if err != nil {
			b.Fatal(err)
		}
		defer f.Close()
		zr, err := gzip.NewReader(f)
		if err != nil {
			b.Fatal(err)
		}
		var lines [][]byte
		sc := bufio.NewScanner(zr)
		sc.Buffer(nil, 1<<20)
		for sc.Scan() {
			lines = append(lines, bytes.Clone(sc.Bytes()))
		}
		if err := sc.Err(); err != nil || len(lines) == 0 {
			b.Fatalf("reading testdata/browser-enriched.tsv.gz: %d lines, %v", len(lines), err)
		}
		for i := range recs {
			recs[i].Data = lines[i%len(lines)]
		}
	}
	for i := range recs {
		recs[i].ShardID = "shardId-000000000000"
		recs[i].SequenceNumber = strconv.Itoa(i + 1)
	}
	return recs
}

// discardStore stores nothing and counts the bytes it was given.
type discardStore struct{ bytes int64 }

func (s *discardStore) String() string                { return "discard" }
func (s *discardStore) prepare(context.Context) error { return nil }
func (s *discardStore) put(_ context.Context, _ string, data []byte) error {
	s.bytes += int64(len(data))
	return nil
}

type nopCheckpointer struct{}

func (nopCheckpointer) Checkpoint(context.Context, string, string, string) error { return nil }
func (nopCheckpointer) Checkpoints(context.Context, string) (map[string]string, error) {
	return nil, nil
}

// BenchmarkS3Append is the S3 loader's work per record of the browser load: encode
// (raw), compress, and store whole files (to memory), in batches as Consume reads them.
// It reports the compressed size as a percentage of the records' bytes.
func BenchmarkS3Append(b *testing.B) {
	for _, stream := range []string{streams.Raw, streams.Enriched} {
		b.Run(stream, func(b *testing.B) {
			recs := browserRecords(b, stream, 1000)
			var size int64
			for _, r := range recs {
				size += int64(len(r.Data))
			}
			dest := &discardStore{}
			l := &S3Loader{cfg: DefaultS3Config(), log: slog.New(slog.DiscardHandler), dest: dest, metrics: newS3Metrics(), now: time.Now}
			in := s3Input{name: stream, in: Input{Checkpointer: nopCheckpointer{}}, file: &s3File{stream: stream, base64: stream == streams.Raw}}
			ctx := context.Background()
			b.SetBytes(size)
			b.ReportAllocs()
			var written int64
			for b.Loop() {
				for i := 0; i < len(recs); i += 100 {
					if err := l.append(ctx, in, recs[i:i+100]); err != nil {
						b.Fatal(err)
					}
				}
				written += size
			}
			if err := l.store(ctx, in); err != nil {
				b.Fatal(err)
			}
			b.ReportMetric(float64(dest.bytes)/float64(written)*100, "%stored")
		})
	}
}
