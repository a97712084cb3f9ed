package loaders

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/uuid"
	"github.com/klauspost/compress/gzip"
	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"
	"github.com/prometheus/client_golang/prometheus"
	"golang.org/x/sync/errgroup"

	"github.com/snowplow-mini/snowplow-mini/streams"
)

// DefaultS3Folder is the folder of the S3-style files in the data directory.
const DefaultS3Folder = "s3"

// S3Loader writes streams as Snowplow's S3 loader does: gzip-compressed files of
// newline-separated records, one folder per stream, partitioned by the hour the file was
// started (UTC):
//
//	<prefix>/<stream>/YYYY/MM/DD/HH/<stream>-YYYY-MM-DD-HHMMSS-<uuid>.gz
//
// Enriched events are TSV lines and bad rows JSON lines, as on their streams. Raw
// records, which are binary Thrift, are written base64-encoded (standard alphabet), one
// per line, as the Scala collector's stdout sink prints them.
//
// Files go to a local folder (the data directory's s3/ by default) or to any
// S3-compatible bucket. A file is closed when it reaches MaxFileBytes of records or
// MaxFileAge, and on Shutdown. Delivery is at least once: the consumer group's
// checkpoint moves only after the file is durably stored (fsynced and renamed locally,
// the upload completed remotely); after a crash, the records of unfinished files are
// written again.
type S3Loader struct {
	cfg     S3Config
	log     *slog.Logger
	dest    objectStore
	inputs  []s3Input
	metrics *s3Metrics
	now     func() time.Time

	drain     chan struct{}
	drainOnce sync.Once
	started   atomic.Bool
	done      chan struct{}
}

type s3Input struct {
	name string
	in   Input
	file *s3File
}

// NewS3Loader validates cfg and deps. It touches neither the folder nor the bucket:
// Run does.
func NewS3Loader(cfg S3Config, deps Deps) (*S3Loader, error) {
	if !cfg.Enabled {
		return nil, errors.New("loaders.s3.enabled: the S3 loader is disabled")
	}
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	l := &S3Loader{
		cfg:   cfg,
		log:   deps.logger("s3-loader"),
		now:   time.Now,
		drain: make(chan struct{}),
		done:  make(chan struct{}),
	}
	var errs []error
	for i, name := range cfg.Streams {
		in, err := deps.input(fmt.Sprintf("loaders.s3.streams[%d]", i), name)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		l.inputs = append(l.inputs, s3Input{name: name, in: in, file: &s3File{stream: name, base64: name == streams.Raw}})
	}
	target, _ := parseS3URL(cfg.URL) // validated above
	switch {
	case target.bucket != "":
		dest, err := newBucketStore(cfg, target, deps.getenv)
		if err != nil {
			errs = append(errs, err)
		}
		l.dest = dest
	default:
		dir := target.dir
		if dir == "" {
			if deps.DataDir == "" {
				errs = append(errs, errors.New("loaders.s3.url: the default folder needs a data directory"))
			}
			dir = filepath.Join(deps.DataDir, DefaultS3Folder)
		}
		l.dest = &folderStore{root: dir}
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	l.metrics = newS3Metrics()
	if err := register(deps.Registerer, l.metrics.collectors()...); err != nil {
		return nil, err
	}
	return l, nil
}

// s3Target is a parsed S3Config.URL: a bucket and key prefix, or a folder.
type s3Target struct {
	bucket, prefix string
	dir            string
}

func parseS3URL(u string) (s3Target, error) {
	switch {
	case u == "":
		return s3Target{}, nil
	case strings.HasPrefix(u, "s3://"):
		bucket, prefix, _ := strings.Cut(strings.TrimPrefix(u, "s3://"), "/")
		if !validBucket(bucket) {
			return s3Target{}, fmt.Errorf("bucket %q in %q is not a valid S3 bucket name", bucket, u)
		}
		return s3Target{bucket: bucket, prefix: strings.Trim(prefix, "/")}, nil
	case strings.HasPrefix(u, "file://"):
		pu, err := url.Parse(u)
		if err != nil || pu.Path == "" {
			return s3Target{}, fmt.Errorf("%q is not a file:// URL with a path", u)
		}
		return s3Target{dir: filepath.FromSlash(pu.Path)}, nil
	case strings.Contains(u, "://"):
		return s3Target{}, fmt.Errorf("must be s3://bucket/prefix, file:///path or a folder path, got %q", u)
	}
	return s3Target{dir: u}, nil
}

// validBucket checks the S3 bucket naming rules that matter for URLs.
func validBucket(b string) bool {
	if len(b) < 3 || len(b) > 63 {
		return false
	}
	for i := 0; i < len(b); i++ {
		c := b[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '.') {
			return false
		}
	}
	return b[0] != '-' && b[0] != '.' && b[len(b)-1] != '-' && b[len(b)-1] != '.'
}

// Run writes the streams until ctx is done (a hard stop: unfinished files are dropped
// and their records written again by the next run) or Shutdown has drained them and
// the last files are stored; both return nil.
func (l *S3Loader) Run(ctx context.Context) error {
	if !l.started.CompareAndSwap(false, true) {
		return errors.New("s3 loader: Run called twice")
	}
	defer close(l.done)
	if err := l.prepare(ctx); err != nil {
		return err
	}
	if ctx.Err() != nil {
		return nil
	}
	l.log.Info("s3 loader ready", "destination", l.dest.String())

	g, gctx := errgroup.WithContext(ctx)
	stopTimer := make(chan struct{})
	timerDone := make(chan struct{})
	go func() {
		defer close(timerDone)
		l.runTimer(gctx, stopTimer)
	}()
	for _, in := range l.inputs {
		g.Go(func() error { return l.consume(gctx, in) })
	}
	err := g.Wait()
	close(stopTimer)
	<-timerDone
	if err != nil || ctx.Err() != nil {
		return err
	}
	// Drained: store what is still open.
	for _, in := range l.inputs {
		if err := l.flush(ctx, in, true); err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return err
		}
	}
	return nil
}

// prepare checks the destination, retrying while it is unreachable.
func (l *S3Loader) prepare(ctx context.Context) error {
	delay := minBackoff
	for attempt := 1; ; attempt++ {
		err := l.dest.prepare(ctx)
		if err == nil {
			return nil
		}
		if ctx.Err() != nil {
			return nil
		}
		if errors.Is(err, errPermanent) {
			return fmt.Errorf("s3 loader: %w", err)
		}
		if attempt == 1 {
			l.log.Error("checking the destination failed; retrying", "destination", l.dest.String(), "err", err)
		}
		if !sleep(ctx, delay) {
			return nil
		}
		delay = min(2*delay, maxBackoff)
	}
}

// Shutdown asks Run to write everything already on its streams, store the last files
// and return, and waits for it until ctx is done.
func (l *S3Loader) Shutdown(ctx context.Context) error {
	l.drainOnce.Do(func() { close(l.drain) })
	if !l.started.Load() {
		return nil
	}
	select {
	case <-l.done:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("s3 loader shutdown: %w", ctx.Err())
	}
}

func (l *S3Loader) consume(ctx context.Context, in s3Input) error {
	// Records are checkpointed by flush, once their file is stored, not by Consume.
	cp := streams.MultiCheckpointer{From: in.in.Checkpointer}
	err := streams.Consume(ctx, in.in.Stream, cp, streams.ConsumeOptions{
		Group:     l.cfg.Group,
		BatchSize: l.cfg.ReadBatchSize,
		Drain:     l.drain,
		Logger:    l.log,
	}, func(ctx context.Context, recs []streams.Record) error {
		return l.append(ctx, in, recs)
	})
	if err != nil {
		return fmt.Errorf("s3 loader: %w", err)
	}
	return nil
}

// s3File is the open file of one stream: gzip data in memory (writes cannot fail
// half-way), and the last sequence number per shard it holds.
type s3File struct {
	stream string
	base64 bool

	mu      sync.Mutex
	open    bool
	buf     bytes.Buffer
	gz      *gzip.Writer // reused from file to file
	line    []byte       // the record being written, reused from record to record
	started time.Time
	size    int64 // record bytes before compression
	records int
	last    map[string]string // shard -> last sequence number in the file
}

// maxKeptLine is the largest record buffer a file keeps from one file to the next (a
// browser's 10-event POST is about 27 KB as a base64 line).
const maxKeptLine = 256 << 10

// append adds records to the stream's open file, storing it (and starting another)
// whenever it reaches MaxFileBytes.
func (l *S3Loader) append(ctx context.Context, in s3Input, recs []streams.Record) error {
	f := in.file
	f.mu.Lock()
	defer f.mu.Unlock()
	for i := range recs {
		if !f.open {
			if err := f.start(l.now()); err != nil {
				return err
			}
		}
		r := &recs[i]
		if f.base64 {
			f.line = appendBase64(f.line[:0], r.Data)
		} else {
			f.line = append(f.line[:0], r.Data...)
		}
		f.line = append(f.line, '\n')
		_, _ = f.gz.Write(f.line) // writes to memory cannot fail
		f.size += int64(len(f.line))
		f.records++
		f.last[r.ShardID] = r.SequenceNumber
		if f.size >= l.cfg.MaxFileBytes {
			if err := l.store(ctx, in); err != nil {
				return err
			}
		}
	}
	return nil
}

// start opens a new file.
func (f *s3File) start(now time.Time) error {
	f.buf.Reset()
	if f.gz == nil {
		// BestSpeed: on the browser load's records, the cheapest setting measured
		// (level 2 costs 17-34 % more instructions for files 11-16 % smaller, the
		// default level several times more; Huffman-only is no cheaper and 4-9 times
		// larger), and the pipeline's CPU is better spent elsewhere.
		gz, err := gzip.NewWriterLevel(&f.buf, gzip.BestSpeed)
		if err != nil {
			return fmt.Errorf("compressing %s: %w", f.stream, err)
		}
		f.gz = gz
	} else {
		f.gz.Reset(&f.buf)
	}
	f.open = true
	f.started = now
	f.size, f.records = 0, 0
	f.last = make(map[string]string)
	return nil
}

// runTimer stores files older than MaxFileAge.
func (l *S3Loader) runTimer(ctx context.Context, stop <-chan struct{}) {
	tick := min(time.Second, l.cfg.MaxFileAge.Std()/4)
	t := time.NewTicker(max(tick, 10*time.Millisecond))
	defer t.Stop()
	for {
		select {
		case <-t.C:
			for _, in := range l.inputs {
				if err := l.flush(ctx, in, false); err != nil && ctx.Err() == nil {
					l.log.Error("storing a file failed", "stream", in.name, "err", err)
				}
			}
		case <-stop:
			return
		case <-ctx.Done():
			return
		}
	}
}

// flush stores the stream's open file when it is old enough (or always, with force).
func (l *S3Loader) flush(ctx context.Context, in s3Input, force bool) error {
	f := in.file
	f.mu.Lock()
	defer f.mu.Unlock()
	if !f.open || f.records == 0 {
		return nil
	}
	if !force && l.now().Sub(f.started) < l.cfg.MaxFileAge.Std() {
		return nil
	}
	return l.store(ctx, in)
}

// store stores the stream's open file, then checkpoints what it held. A failed store is
// retried with backoff until ctx is done; meanwhile the stream's handler waits. f.mu is
// held.
func (l *S3Loader) store(ctx context.Context, in s3Input) error {
	f := in.file
	if err := f.gz.Close(); err != nil {
		return fmt.Errorf("compressing %s: %w", f.stream, err)
	}
	key := objectKey(f.stream, f.started.UTC(), uuid.NewString())
	data := f.buf.Bytes()
	delay := minBackoff
	for attempt := 1; ; attempt++ {
		err := l.dest.put(ctx, key, data)
		if err == nil {
			if attempt > 1 {
				l.log.Info("storing files recovered", "stream", f.stream, "attempts", attempt)
			}
			break
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		l.metrics.errors.Inc()
		if attempt == 1 {
			l.log.Error("storing a file failed; retrying", "stream", f.stream, "key", key, "err", err)
		}
		if !sleep(ctx, delay) {
			return ctx.Err()
		}
		delay = min(2*delay, maxBackoff)
	}
	l.metrics.files.WithLabelValues(f.stream).Inc()
	l.metrics.records.WithLabelValues(f.stream).Add(float64(f.records))
	l.metrics.bytes.WithLabelValues(f.stream).Add(float64(len(data)))
	l.log.Debug("stored file", "stream", f.stream, "key", key, "records", f.records, "bytes", len(data))
	for shard, seq := range f.last {
		if err := in.in.Checkpointer.Checkpoint(ctx, l.cfg.Group, shard, seq); err != nil {
			// The file is stored: a lost checkpoint only means its records are written
			// again after a restart. The next file's checkpoint covers this one.
			l.log.Warn("checkpointing failed", "stream", f.stream, "shard_id", shard, "err", err)
		}
	}
	f.open = false
	f.buf.Reset()
	if cap(f.line) > maxKeptLine {
		f.line = nil // a rare large record: do not hold its room for good
	}
	f.records, f.size = 0, 0
	f.last = nil
	return nil
}

// objectKey is the key (path) of a file: <stream>/YYYY/MM/DD/HH/<stream>-<time>-<id>.gz.
func objectKey(stream string, t time.Time, id string) string {
	return path.Join(stream, t.Format("2006/01/02/15"), stream+"-"+t.Format("2006-01-02-150405")+"-"+id+".gz")
}

// objectStore is where the S3 loader stores files.
type objectStore interface {
	// prepare checks that files can be stored (the folder is writable, the bucket
	// exists).
	prepare(ctx context.Context) error
	// put stores data under key, durably, before returning nil.
	put(ctx context.Context, key string, data []byte) error
	String() string
}

// folderStore stores files under a local folder.
type folderStore struct{ root string }

func (s *folderStore) String() string { return s.root }

func (s *folderStore) prepare(context.Context) error {
	// Folders only their owner can read: the files hold the user's events (CreateTemp
	// makes the files themselves 0600).
	if err := os.MkdirAll(s.root, 0o700); err != nil {
		return fmt.Errorf("creating %s: %w", s.root, err)
	}
	return nil
}

// put writes a temporary file beside the final one, fsyncs it, renames it into place
// and fsyncs the folder, so that a file either is whole or is not there.
func (s *folderStore) put(_ context.Context, key string, data []byte) error {
	final := filepath.Join(s.root, filepath.FromSlash(key))
	dir := filepath.Dir(final)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("creating %s: %w", dir, err)
	}
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(final)+".*.tmp")
	if err != nil {
		return fmt.Errorf("creating a file in %s: %w", dir, err)
	}
	defer func() {
		if err != nil {
			_ = tmp.Close()
			_ = os.Remove(tmp.Name())
		}
	}()
	if _, err = tmp.Write(data); err != nil {
		return fmt.Errorf("writing %s: %w", tmp.Name(), err)
	}
	if err = tmp.Sync(); err != nil {
		return fmt.Errorf("syncing %s: %w", tmp.Name(), err)
	}
	if err = tmp.Close(); err != nil {
		return fmt.Errorf("closing %s: %w", tmp.Name(), err)
	}
	if err = os.Rename(tmp.Name(), final); err != nil {
		return fmt.Errorf("renaming %s: %w", tmp.Name(), err)
	}
	return syncDir(dir)
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("opening %s: %w", dir, err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("syncing %s: %w", dir, err)
	}
	return nil
}

// bucketStore uploads files to an S3-compatible bucket.
type bucketStore struct {
	client   *minio.Client
	bucket   string
	prefix   string
	endpoint string
	opts     minio.PutObjectOptions
}

func (s *bucketStore) String() string {
	return "s3://" + path.Join(s.bucket, s.prefix) + " at " + s.endpoint
}

// newBucketStore builds the S3 client from the config and the AWS_* environment; it
// sends no request.
func newBucketStore(cfg S3Config, t s3Target, getenv func(string) string) (*bucketStore, error) {
	endpoint := cfg.Endpoint
	if endpoint == "" {
		endpoint = getenv("AWS_ENDPOINT_URL_S3")
	}
	if endpoint == "" {
		endpoint = getenv("AWS_ENDPOINT_URL")
	}
	host, secure := "s3.amazonaws.com", true
	if endpoint != "" {
		u, err := url.Parse(endpoint)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return nil, fmt.Errorf("loaders.s3.endpoint: must be an http:// or https:// URL, got %q", endpoint)
		}
		host, secure = u.Host, u.Scheme == "https"
	}
	region := cfg.Region
	if region == "" {
		region = getenv("AWS_REGION")
	}
	if region == "" {
		region = getenv("AWS_DEFAULT_REGION")
	}
	if region == "" {
		region = "us-east-1"
	}
	var creds *credentials.Credentials
	switch {
	case cfg.AccessKeyID != "":
		creds = credentials.NewStaticV4(cfg.AccessKeyID, cfg.SecretAccessKey, "")
	case getenv("AWS_ACCESS_KEY_ID") != "":
		creds = credentials.NewStaticV4(getenv("AWS_ACCESS_KEY_ID"), getenv("AWS_SECRET_ACCESS_KEY"), getenv("AWS_SESSION_TOKEN"))
	default:
		creds = credentials.NewFileAWSCredentials("", getenv("AWS_PROFILE"))
	}
	lookup := minio.BucketLookupAuto
	if cfg.PathStyle {
		lookup = minio.BucketLookupPath
	}
	client, err := minio.New(host, &minio.Options{
		Creds:        creds,
		Secure:       secure,
		Region:       region,
		BucketLookup: lookup,
	})
	if err != nil {
		return nil, fmt.Errorf("loaders.s3: S3 client: %w", err)
	}
	return &bucketStore{
		client:   client,
		bucket:   t.bucket,
		prefix:   t.prefix,
		endpoint: host,
		opts: minio.PutObjectOptions{
			ContentType:          "application/gzip",
			DisableContentSha256: cfg.DisableContentSHA256,
		},
	}, nil
}

func (s *bucketStore) prepare(ctx context.Context) error {
	ok, err := s.client.BucketExists(ctx, s.bucket)
	if err != nil {
		return fmt.Errorf("checking bucket %s: %w", s.bucket, err)
	}
	if !ok {
		return permanent(fmt.Errorf("bucket %s does not exist at %s", s.bucket, s.endpoint))
	}
	return nil
}

func (s *bucketStore) put(ctx context.Context, key string, data []byte) error {
	if s.prefix != "" {
		key = s.prefix + "/" + key
	}
	if _, err := s.client.PutObject(ctx, s.bucket, key, bytes.NewReader(data), int64(len(data)), s.opts); err != nil {
		return fmt.Errorf("uploading s3://%s/%s: %w", s.bucket, key, err)
	}
	return nil
}

// s3Metrics are the S3 loader's Prometheus metrics.
type s3Metrics struct {
	files, records, bytes *prometheus.CounterVec
	errors                prometheus.Counter
}

func newS3Metrics() *s3Metrics {
	return &s3Metrics{
		files: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "snowplow_mini_s3_loader_files_total", Help: "Files stored, by stream.",
		}, []string{"stream"}),
		records: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "snowplow_mini_s3_loader_records_total", Help: "Records in stored files, by stream.",
		}, []string{"stream"}),
		bytes: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "snowplow_mini_s3_loader_bytes_total", Help: "Compressed bytes stored, by stream.",
		}, []string{"stream"}),
		errors: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "snowplow_mini_s3_loader_store_errors_total", Help: "Failed attempts to store a file (retried).",
		}),
	}
}

func (m *s3Metrics) collectors() []prometheus.Collector {
	return []prometheus.Collector{m.files, m.records, m.bytes, m.errors}
}
