package iglu

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"
)

// Class priorities of repository kinds, as in Snowplow's resolver (lower is tried
// first among repositories whose vendor prefixes match equally). Local folders given
// with --schemas come before everything.
const (
	classLocal    = 0
	classStore    = 1
	classEmbedded = 2
	classHTTP     = 100
)

// maxSchemaBytes bounds a schema read from any repository.
const maxSchemaBytes = 4 << 20

// errListUnsupported is returned by backends that cannot list schemas.
var errListUnsupported = errors.New("repository cannot list schemas")

// fetchError is a failed fetch with its Snowplow kind.
type fetchError struct {
	kind RegistryErrorKind
	msg  string
	// transport: the repository could not be reached or failed as a whole (network
	// error, timeout, 5xx), so it is backed off for every key.
	transport bool
}

func (e *fetchError) Error() string {
	if e.msg == "" {
		return string(e.kind)
	}
	return string(e.kind) + ": " + e.msg
}

// backend fetches schema documents from one place.
type backend interface {
	// fetch returns the schema document, or a *fetchError.
	fetch(ctx context.Context, key SchemaKey) ([]byte, *fetchError)
	// list returns the keys of vendor/name/jsonschema/model-*-* held, or
	// errListUnsupported.
	list(ctx context.Context, vendor, name string, model int) ([]SchemaKey, error)
}

// repo is one configured repository: a backend with the attributes that order lookups,
// and, for HTTP repositories, the back-off state after transport failures.
type repo struct {
	name     string
	priority int
	prefixes []string
	class    int
	backend  backend
	// backoff applies to HTTP repositories only.
	backoff bool

	mu       sync.Mutex
	failures int
	until    time.Time
	lastErr  string
}

func (r *repo) matchesVendor(vendor string) bool {
	for _, p := range r.prefixes {
		if strings.HasPrefix(vendor, p) {
			return true
		}
	}
	return false
}

// skipped reports whether the repository is backing off at now, with the error to
// record instead of trying it.
func (r *repo) skipped(now time.Time) (*fetchError, time.Time, bool) {
	if !r.backoff {
		return nil, time.Time{}, false
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.failures == 0 || !now.Before(r.until) {
		return nil, time.Time{}, false
	}
	return &fetchError{kind: RepoFailure, msg: fmt.Sprintf("not tried: repository unavailable until %s after: %s",
		r.until.UTC().Format(time.RFC3339), r.lastErr)}, r.until, true
}

// record updates the back-off state after a fetch and returns when the repository may
// be tried again (zero when it may be tried at once).
func (r *repo) record(now time.Time, ferr *fetchError, minBackoff, maxBackoff time.Duration) time.Time {
	if !r.backoff {
		return time.Time{}
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if ferr == nil || !ferr.transport {
		r.failures = 0
		return time.Time{}
	}
	r.failures++
	d := minBackoff
	for i := 1; i < r.failures && d < maxBackoff; i++ {
		d *= 2
	}
	d = min(d, maxBackoff)
	r.until = now.Add(d)
	r.lastErr = ferr.msg
	return r.until
}

// fsBackend serves a static-repository layout from a file system: schemas/… is the
// root of fsys. With jsonExt, "<version>.json" is accepted as well as "<version>".
type fsBackend struct {
	fsys    fs.FS
	jsonExt bool
}

func (b *fsBackend) fetch(_ context.Context, key SchemaKey) ([]byte, *fetchError) {
	p := key.Path()
	if !fs.ValidPath(p) {
		return nil, &fetchError{kind: NotFound}
	}
	data, err := readLimited(b.fsys, p)
	if errors.Is(err, fs.ErrNotExist) && b.jsonExt {
		data, err = readLimited(b.fsys, p+".json")
	}
	switch {
	case err == nil:
		return data, nil
	case errors.Is(err, fs.ErrNotExist), errors.Is(err, fs.ErrInvalid):
		return nil, &fetchError{kind: NotFound}
	default:
		return nil, &fetchError{kind: RepoFailure, msg: err.Error()}
	}
}

func readLimited(fsys fs.FS, name string) ([]byte, error) {
	f, err := fsys.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	if st, err := f.Stat(); err == nil && st.IsDir() {
		return nil, fs.ErrNotExist
	}
	data, err := io.ReadAll(io.LimitReader(f, maxSchemaBytes+1))
	if err != nil {
		return nil, err
	}
	if len(data) > maxSchemaBytes {
		return nil, fmt.Errorf("schema file %s is larger than %d bytes", name, maxSchemaBytes)
	}
	return data, nil
}

func (b *fsBackend) list(_ context.Context, vendor, name string, model int) ([]SchemaKey, error) {
	dir := path.Join(vendor, name, FormatJSONSchema)
	if !fs.ValidPath(dir) {
		return nil, nil
	}
	entries, err := fs.ReadDir(b.fsys, dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var keys []SchemaKey
	for _, e := range entries {
		v := e.Name()
		if b.jsonExt {
			v = strings.TrimSuffix(v, ".json")
		}
		ver, ok := parseVersion(v)
		if !ok || e.IsDir() || (model > 0 && ver.Model != model) {
			continue
		}
		keys = append(keys, SchemaKey{Vendor: vendor, Name: name, Format: FormatJSONSchema, Version: ver})
	}
	return keys, nil
}

// walk calls fn for every schema file of the layout (vendor/name/format/version).
func (b *fsBackend) walk(fn func(key SchemaKey) error) error {
	return fs.WalkDir(b.fsys, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			if p == "." && errors.Is(err, fs.ErrNotExist) {
				return fs.SkipAll
			}
			return err
		}
		if d.IsDir() {
			if strings.Count(p, "/") >= 3 {
				return fs.SkipDir
			}
			return nil
		}
		parts := strings.Split(p, "/")
		if len(parts) != 4 {
			return nil
		}
		if b.jsonExt {
			parts[3] = strings.TrimSuffix(parts[3], ".json")
		}
		key, err := ParseSchemaKey("iglu:" + strings.Join(parts, "/"))
		if err != nil {
			return nil
		}
		return fn(key)
	})
}

// localDirFS returns the schema root of a local folder: DIR/schemas when that exists,
// else DIR itself.
func localDirFS(dir string) (fs.FS, string, error) {
	st, err := os.Stat(dir)
	if err != nil {
		return nil, "", fmt.Errorf("schema folder: %w", err)
	}
	if !st.IsDir() {
		return nil, "", fmt.Errorf("schema folder %s: not a directory", dir)
	}
	root := dir
	if st, err := os.Stat(filepath.Join(dir, "schemas")); err == nil && st.IsDir() {
		root = filepath.Join(dir, "schemas")
	}
	return os.DirFS(root), root, nil
}

// storeBackend serves the schemas published to the Iglu Server API.
type storeBackend struct{ store SchemaStore }

func (b storeBackend) fetch(ctx context.Context, key SchemaKey) ([]byte, *fetchError) {
	st, err := b.store.GetSchema(ctx, key)
	switch {
	case err != nil:
		return nil, &fetchError{kind: RepoFailure, msg: err.Error()}
	case st == nil:
		return nil, &fetchError{kind: NotFound}
	}
	return st.Body, nil
}

func (b storeBackend) list(ctx context.Context, vendor, name string, model int) ([]SchemaKey, error) {
	all, err := b.store.ListSchemas(ctx, vendor, name)
	if err != nil {
		return nil, err
	}
	var keys []SchemaKey
	for _, st := range all {
		if st.Key.Format == FormatJSONSchema && (model <= 0 || st.Key.Version.Model == model) {
			keys = append(keys, st.Key)
		}
	}
	return keys, nil
}

// httpBackend is a static HTTP repository or an Iglu Server:
// GET {uri}/schemas/{vendor}/{name}/{format}/{version}, with an apikey header if set.
type httpBackend struct {
	base    string // without trailing slash
	apikey  string
	client  *http.Client
	timeout time.Duration
}

func (b *httpBackend) get(ctx context.Context, p string) (*http.Response, *fetchError) {
	ctx, cancel := context.WithTimeout(ctx, b.timeout)
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, b.base+p, nil)
	if err != nil {
		cancel()
		return nil, &fetchError{kind: ClientFailure, msg: err.Error()}
	}
	req.Header.Set("Accept", "application/json")
	if b.apikey != "" {
		req.Header.Set("apikey", b.apikey)
	}
	resp, err := b.client.Do(req)
	if err != nil {
		cancel()
		return nil, &fetchError{kind: RepoFailure, msg: err.Error(), transport: true}
	}
	resp.Body = cancelOnClose{resp.Body, cancel}
	return resp, nil
}

type cancelOnClose struct {
	io.ReadCloser
	cancel context.CancelFunc
}

func (c cancelOnClose) Close() error {
	err := c.ReadCloser.Close()
	c.cancel()
	return err
}

func (b *httpBackend) fetch(ctx context.Context, key SchemaKey) ([]byte, *fetchError) {
	if key.Vendor == "." || key.Vendor == ".." {
		// A valid vendor, but as a path segment it would climb out of schemas/.
		return nil, &fetchError{kind: NotFound}
	}
	resp, ferr := b.get(ctx, "/schemas/"+escapePath(key))
	if ferr != nil {
		return nil, ferr
	}
	defer resp.Body.Close()
	if ferr := statusError(resp.StatusCode, b.base); ferr != nil {
		return nil, ferr
	}
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxSchemaBytes+1))
	if err != nil {
		return nil, &fetchError{kind: RepoFailure, msg: err.Error(), transport: true}
	}
	if len(data) > maxSchemaBytes {
		return nil, &fetchError{kind: RepoFailure, msg: fmt.Sprintf("schema larger than %d bytes", maxSchemaBytes)}
	}
	if !json.Valid(data) {
		return nil, &fetchError{kind: RepoFailure, msg: "the repository answered with a body that is not JSON"}
	}
	return data, nil
}

// statusError maps an HTTP status as Snowplow's client does, except for server
// errors: any other non-2xx status (404, or the 403 of an S3 bucket that hides
// missing keys) is NotFound; 5xx and 429 are a failing repository (Snowplow counts
// them as NotFound too, which would cache an outage as a missing schema).
func statusError(status int, base string) *fetchError {
	switch {
	case status >= 200 && status <= 299:
		return nil
	case status >= 500 || status == http.StatusTooManyRequests:
		return &fetchError{kind: RepoFailure, msg: fmt.Sprintf("unexpected HTTP status %d from %s", status, base), transport: true}
	default:
		return &fetchError{kind: NotFound}
	}
}

func escapePath(key SchemaKey) string {
	return url.PathEscape(key.Vendor) + "/" + url.PathEscape(key.Name) + "/" + url.PathEscape(key.Format) + "/" + key.Version.String()
}

// list asks an Iglu Server for the versions of one model. Static repositories answer
// 404 (or something that is not a list of URIs), which reads as "cannot list".
func (b *httpBackend) list(ctx context.Context, vendor, name string, model int) ([]SchemaKey, error) {
	p := "/schemas/" + url.PathEscape(vendor) + "/" + url.PathEscape(name) + "/" + FormatJSONSchema + "/" + fmt.Sprint(model)
	resp, ferr := b.get(ctx, p)
	if ferr != nil {
		return nil, ferr
	}
	defer resp.Body.Close()
	if ferr := statusError(resp.StatusCode, b.base); ferr != nil {
		if ferr.kind == NotFound {
			return nil, errListUnsupported
		}
		return nil, ferr
	}
	var uris []string
	if err := json.NewDecoder(io.LimitReader(resp.Body, maxSchemaBytes)).Decode(&uris); err != nil {
		return nil, errListUnsupported
	}
	var keys []SchemaKey
	for _, u := range uris {
		k, err := ParseSchemaKey(u)
		if err == nil && k.Vendor == vendor && k.Name == name && k.Version.Model == model {
			keys = append(keys, k)
		}
	}
	return keys, nil
}

// sortRepos orders repositories for a vendor as Snowplow does: those whose vendor
// prefix matches first, then by class priority, then by priority.
func sortRepos(repos []*repo, vendor string) []*repo {
	out := slices.Clone(repos)
	slices.SortStableFunc(out, func(a, b *repo) int {
		am, bm := a.matchesVendor(vendor), b.matchesVendor(vendor)
		if am != bm {
			if am {
				return -1
			}
			return 1
		}
		if a.class != b.class {
			return a.class - b.class
		}
		return a.priority - b.priority
	})
	return out
}
