package loaders

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/base64"
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"

	"github.com/snowplow-mini/snowplow-mini/internal/poll"
	"github.com/snowplow-mini/snowplow-mini/streams"
)

// s3Records are records of every kind, per stream: raw Thrift is binary (with bytes
// that would break lines), enriched TSV and bad rows are text.
func s3Records() map[string][][]byte {
	raw := [][]byte{{0x0b, 0x00, 0x64, '\n', 0x00, 0xff}, []byte("\x0b\x7a\x69\x00\x00\x00\x41iglu:com.snowplowanalytics.snowplow/CollectorPayload/thrift/1-0-0\n\r")}
	return map[string][][]byte{
		streams.Raw:      raw,
		streams.Enriched: testTSV(30, "files"),
		streams.Bad1:     {[]byte(`{"schema":"iglu:com.snowplowanalytics.snowplow.badrows/generic_error/jsonschema/1-0-0","data":{"processor":{"artifact":"x","version":"1.0.0"},"failure":{"timestamp":"2024-03-01T12:00:00.000Z","errors":["e"]},"payload":"p"}}`)},
		streams.Bad2:     {[]byte(`{"schema":"iglu:com.snowplowanalytics.snowplow.badrows/loader_parsing_error/jsonschema/2-0-0","data":{"processor":{"artifact":"snowplow-mini-loader","version":"0.1.0"},"failure":{"type":"NotTSV"},"payload":"x"}}`)},
	}
}

// fileName is the S3 loader's file name: <stream>-YYYY-MM-DD-HHMMSS-<uuid>.gz.
var fileName = regexp.MustCompile(`^([a-z0-9-]+)-(\d{4}-\d{2}-\d{2}-\d{6})-[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\.gz$`)

// gunzipLines returns the lines of a gzip file.
func gunzipLines(t *testing.T, data []byte) []string {
	t.Helper()
	zr, err := gzip.NewReader(bytes.NewReader(data))
	if err != nil {
		t.Fatalf("not gzip: %v", err)
	}
	b, err := io.ReadAll(zr)
	if err != nil {
		t.Fatalf("gunzip: %v", err)
	}
	if len(b) == 0 || b[len(b)-1] != '\n' {
		t.Fatalf("file content %q does not end with a newline", b)
	}
	return strings.Split(string(b[:len(b)-1]), "\n")
}

// checkFiles checks that files (key -> content) hold exactly the records of each
// stream, partitioned by the hour of when.
func checkFiles(t *testing.T, files map[string][]byte, records map[string][][]byte, when time.Time) {
	t.Helper()
	got := make(map[string][]string)
	for key, data := range files {
		parts := strings.Split(key, "/")
		if len(parts) != 6 {
			t.Errorf("key %q: want <stream>/YYYY/MM/DD/HH/<file>", key)
			continue
		}
		stream := parts[0]
		if hour := strings.Join(parts[1:5], "/"); hour != when.UTC().Format("2006/01/02/15") {
			t.Errorf("key %q: partition %s, want %s", key, hour, when.UTC().Format("2006/01/02/15"))
		}
		m := fileName.FindStringSubmatch(parts[5])
		if m == nil || m[1] != stream || m[2] != when.UTC().Format("2006-01-02-150405") {
			t.Errorf("file name %q, want %s-%s-<uuid>.gz", parts[5], stream, when.UTC().Format("2006-01-02-150405"))
		}
		for _, line := range gunzipLines(t, data) {
			if stream == streams.Raw {
				b, err := base64.StdEncoding.DecodeString(line)
				if err != nil {
					t.Errorf("raw line %q is not base64: %v", line, err)
				}
				line = string(b)
			}
			got[stream] = append(got[stream], line)
		}
	}
	want := make(map[string][]string)
	for stream, recs := range records {
		for _, r := range recs {
			want[stream] = append(want[stream], string(r))
		}
		slices.Sort(want[stream])
		slices.Sort(got[stream])
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("records in files (-want +got):\n%s", diff)
	}
}

// readFolder returns the files under root by slash-separated key; temporary files fail
// the test.
func readFolder(t *testing.T, root string) map[string][]byte {
	t.Helper()
	files := make(map[string][]byte)
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		if strings.HasSuffix(path, ".tmp") {
			t.Errorf("temporary file %s left behind", path)
		}
		rel, _ := filepath.Rel(root, path)
		b, err := os.ReadFile(path)
		files[filepath.ToSlash(rel)] = b
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return files
}

// runLoader runs l until the test shuts it down.
func runLoader(t *testing.T, l *S3Loader) func() {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() { errc <- l.Run(ctx) }()
	stopped := false
	stop := func() {
		if stopped {
			return
		}
		stopped = true
		sctx, scancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer scancel()
		if err := l.Shutdown(sctx); err != nil {
			t.Errorf("Shutdown: %v", err)
		}
		if err := <-errc; err != nil {
			t.Errorf("Run: %v", err)
		}
		cancel()
	}
	t.Cleanup(stop)
	return stop
}

func TestS3LoaderFolder(t *testing.T) {
	p := newPipeline(t, "s3-loader")
	root := t.TempDir()
	cfg := DefaultS3Config()
	cfg.URL = root
	cfg.MaxFileBytes = 4000 // several files for the enriched stream
	cfg.MaxFileAge = Duration(time.Hour)
	l, err := NewS3Loader(cfg, Deps{Streams: p.inputs(), Logger: testLogger(t)})
	if err != nil {
		t.Fatal(err)
	}
	when := time.Date(2024, 3, 1, 12, 34, 56, 0, time.UTC)
	l.now = func() time.Time { return when }
	records := s3Records()
	last := make(map[string]map[string]string) // stream -> shard -> seq
	for stream, recs := range records {
		s := map[string]*streams.Memory{streams.Raw: p.raw, streams.Enriched: p.enriched, streams.Bad1: p.bad1, streams.Bad2: p.bad2}[stream]
		last[stream] = make(map[string]string)
		for _, r := range put(t, s, recs...) {
			if streams.CompareSequenceNumbers(r.SequenceNumber, last[stream][r.ShardID]) > 0 || last[stream][r.ShardID] == "" {
				last[stream][r.ShardID] = r.SequenceNumber
			}
		}
	}
	stop := runLoader(t, l)
	stop()

	files := readFolder(t, root)
	checkFiles(t, files, records, when)
	n := 0
	for key := range files {
		if strings.HasPrefix(key, streams.Enriched+"/") {
			n++
		}
	}
	if n < 3 {
		t.Errorf("%d enriched files, want several (rotated at %d bytes)", n, cfg.MaxFileBytes)
	}
	for stream, want := range last {
		cp := p.inputs()[stream].Checkpointer
		got, err := cp.Checkpoints(context.Background(), "s3-loader")
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("checkpoints of %s (-want +got):\n%s", stream, diff)
		}
	}
}

// flakyStore fails its first puts, and records what was stored.
type flakyStore struct {
	mu       sync.Mutex
	failures int
	stored   int
	inner    objectStore
}

func (s *flakyStore) String() string                    { return "flaky " + s.inner.String() }
func (s *flakyStore) prepare(ctx context.Context) error { return s.inner.prepare(ctx) }
func (s *flakyStore) put(ctx context.Context, key string, data []byte) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.failures > 0 {
		s.failures--
		return errors.New("store unavailable")
	}
	s.stored++
	return s.inner.put(ctx, key, data)
}

// watchedCheckpointer fails the test when a checkpoint comes before a file is stored.
type watchedCheckpointer struct {
	streams.Checkpointer
	t     *testing.T
	store *flakyStore
}

func (w watchedCheckpointer) Checkpoint(ctx context.Context, group, shard, seq string) error {
	w.store.mu.Lock()
	stored := w.store.stored
	w.store.mu.Unlock()
	if stored == 0 {
		w.t.Errorf("checkpoint %s of shard %s before any file was stored", seq, shard)
	}
	return w.Checkpointer.Checkpoint(ctx, group, shard, seq)
}

// TestS3LoaderCheckpointsAfterStoring makes storing fail a few times: the records are
// checkpointed only once their file is stored, and a file old enough is stored without
// a shutdown.
func TestS3LoaderCheckpointsAfterStoring(t *testing.T) {
	p := newPipeline(t, "s3-loader")
	root := t.TempDir()
	cfg := DefaultS3Config()
	cfg.URL = root
	cfg.Streams = []string{streams.Enriched}
	cfg.MaxFileAge = Duration(20 * time.Millisecond)
	store := &flakyStore{failures: 2, inner: &folderStore{root: root}}
	in := p.inputs()
	in[streams.Enriched] = Input{Stream: p.enriched, Checkpointer: watchedCheckpointer{Checkpointer: p.enriched, t: t, store: store}}
	l, err := NewS3Loader(cfg, Deps{Streams: in, Logger: testLogger(t)})
	if err != nil {
		t.Fatal(err)
	}
	l.dest = store
	clock := &fakeClock{now: time.Date(2024, 3, 1, 0, 0, 0, 0, time.UTC)}
	l.now = clock.Now
	recs := testTSV(5, "age")
	put(t, p.enriched, recs...)
	runLoader(t, l)
	f := l.inputs[0].file
	poll.Until(t, "the records in the open file", 20*time.Second, func() bool {
		f.mu.Lock()
		defer f.mu.Unlock()
		return f.records == len(recs)
	})
	clock.advance(time.Second)
	poll.Until(t, "a file stored by age", 20*time.Second, func() bool {
		cps, _ := p.enriched.Checkpoints(context.Background(), "s3-loader")
		return len(cps) > 0 && len(readFolder(t, root)) > 0
	})
	checkFiles(t, readFolder(t, root), map[string][][]byte{streams.Enriched: recs}, time.Date(2024, 3, 1, 0, 0, 0, 0, time.UTC))
}

// fakeClock is a clock the test moves.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

func TestS3LoaderBucket(t *testing.T) {
	endpoint := os.Getenv("SNOWPLOW_MINI_TEST_S3")
	if endpoint == "" {
		skipOrFail(t, "no S3-compatible server: set SNOWPLOW_MINI_TEST_S3 to its endpoint (e.g. http://127.0.0.1:4568), with AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (and SNOWPLOW_MINI_TEST_S3_UNSIGNED_PAYLOAD=1 for s3rver)")
	}
	ctx := context.Background()
	env := map[string]string{
		"AWS_ENDPOINT_URL":      endpoint,
		"AWS_ACCESS_KEY_ID":     os.Getenv("AWS_ACCESS_KEY_ID"),
		"AWS_SECRET_ACCESS_KEY": os.Getenv("AWS_SECRET_ACCESS_KEY"),
		"AWS_REGION":            "us-east-1",
	}
	cfg := DefaultS3Config()
	bucket := "snowplow-mini-test-" + randomHex(4)
	cfg.URL = "s3://" + bucket + "/pipeline/files"
	cfg.PathStyle = true
	cfg.DisableContentSHA256 = os.Getenv("SNOWPLOW_MINI_TEST_S3_UNSIGNED_PAYLOAD") == "1"
	cfg.MaxFileBytes = 4000
	cfg.MaxFileAge = Duration(time.Hour)

	// The test's own client makes the bucket and reads the files back.
	host := strings.TrimPrefix(strings.TrimPrefix(endpoint, "http://"), "https://")
	client, err := minio.New(host, &minio.Options{
		Creds:        credentials.NewStaticV4(env["AWS_ACCESS_KEY_ID"], env["AWS_SECRET_ACCESS_KEY"], ""),
		Secure:       strings.HasPrefix(endpoint, "https://"),
		Region:       "us-east-1",
		BucketLookup: minio.BucketLookupPath,
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := client.MakeBucket(ctx, bucket, minio.MakeBucketOptions{Region: "us-east-1"}); err != nil {
		skipOrFail(t, "S3 server at %s not usable (making bucket %s: %v)", endpoint, bucket, err)
	}
	t.Cleanup(func() {
		for obj := range client.ListObjects(ctx, bucket, minio.ListObjectsOptions{Recursive: true}) {
			if obj.Err == nil {
				_ = client.RemoveObject(ctx, bucket, obj.Key, minio.RemoveObjectOptions{})
			}
		}
		if err := client.RemoveBucket(ctx, bucket); err != nil {
			t.Logf("removing bucket %s: %v", bucket, err)
		}
	})

	p := newPipeline(t, "s3-loader")
	l, err := NewS3Loader(cfg, Deps{Streams: p.inputs(), Logger: testLogger(t), Getenv: func(k string) string { return env[k] }})
	if err != nil {
		t.Fatal(err)
	}
	when := time.Date(2024, 3, 1, 23, 59, 59, 0, time.UTC)
	l.now = func() time.Time { return when }
	records := s3Records()
	for stream, recs := range records {
		put(t, p.inputs()[stream].Stream, recs...)
	}
	stop := runLoader(t, l)
	stop()

	files := make(map[string][]byte)
	for obj := range client.ListObjects(ctx, bucket, minio.ListObjectsOptions{Prefix: "pipeline/files/", Recursive: true}) {
		if obj.Err != nil {
			t.Fatal(obj.Err)
		}
		o, err := client.GetObject(ctx, bucket, obj.Key, minio.GetObjectOptions{})
		if err != nil {
			t.Fatal(err)
		}
		b, err := io.ReadAll(o)
		_ = o.Close()
		if err != nil {
			t.Fatalf("reading %s: %v", obj.Key, err)
		}
		files[strings.TrimPrefix(obj.Key, "pipeline/files/")] = b
	}
	checkFiles(t, files, records, when)
}

func TestS3LoaderMissingBucket(t *testing.T) {
	endpoint := os.Getenv("SNOWPLOW_MINI_TEST_S3")
	if endpoint == "" {
		skipOrFail(t, "no S3-compatible server: set SNOWPLOW_MINI_TEST_S3 (see TestS3LoaderBucket)")
	}
	cfg := DefaultS3Config()
	cfg.URL = "s3://snowplow-mini-missing-" + randomHex(4)
	cfg.Endpoint = endpoint
	cfg.PathStyle = true
	p := newPipeline(t)
	l, err := NewS3Loader(cfg, Deps{Streams: p.inputs(), Logger: testLogger(t)})
	if err != nil {
		t.Fatal(err)
	}
	err = l.Run(context.Background())
	if err == nil || !strings.Contains(err.Error(), "does not exist") {
		t.Errorf("Run = %v, want an error saying the bucket does not exist", err)
	}
}

func TestParseS3URL(t *testing.T) {
	cases := []struct {
		in   string
		want s3Target
		err  bool
	}{
		{"", s3Target{}, false},
		{"s3://bucket", s3Target{bucket: "bucket"}, false},
		{"s3://my.bucket-1/a/b/", s3Target{bucket: "my.bucket-1", prefix: "a/b"}, false},
		{"file:///var/data/s3", s3Target{dir: "/var/data/s3"}, false},
		{"relative/folder", s3Target{dir: "relative/folder"}, false},
		{"s3://UPPER/x", s3Target{}, true},
		{"s3://ab", s3Target{}, true},
		{"gs://bucket/x", s3Target{}, true},
	}
	for _, tc := range cases {
		t.Run(tc.in, func(t *testing.T) {
			got, err := parseS3URL(tc.in)
			if (err != nil) != tc.err {
				t.Fatalf("parseS3URL(%q) error = %v, want error %v", tc.in, err, tc.err)
			}
			if got != tc.want {
				t.Errorf("parseS3URL(%q) = %+v, want %+v", tc.in, got, tc.want)
			}
		})
	}
}

func TestObjectKey(t *testing.T) {
	got := objectKey("bad-1", time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC), "5cea9899-10df-4ccf-bf66-8c36f4a4bba2")
	if want := "bad-1/2024/01/02/03/bad-1-2024-01-02-030405-5cea9899-10df-4ccf-bf66-8c36f4a4bba2.gz"; got != want {
		t.Errorf("objectKey = %q, want %q", got, want)
	}
}
