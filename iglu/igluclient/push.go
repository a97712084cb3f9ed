package igluclient

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net/http"
	"net/url"
	"reflect"
	"strconv"
	"strings"
	"time"

	"github.com/snowplow-mini/snowplow-mini/iglu"
)

// PushOptions says what to publish where.
type PushOptions struct {
	// Server is the Iglu Server's root URL, as igluctl takes it: http://host:port
	// (a trailing "/api" is accepted too). Required.
	Server string
	// APIKey is sent in the apikey header: a super key or a write key covering the
	// schemas' vendors. Required.
	APIKey string
	// Dir is the schema folder (static layout, see LintDir). Required.
	Dir string
	// Public publishes the schemas as public (readable without a key).
	Public bool
	// Retry bounds the retries of a request that could not reach the server or got a
	// 5xx or 429 answer (the server may still be starting).
	Retry RetryPolicy
	// HTTPClient defaults to a client with a 30 s timeout per request.
	HTTPClient *http.Client
	// Progress, when set, is called after each schema is done.
	Progress func(PushResult)
}

// RetryPolicy is a bounded exponential back-off.
type RetryPolicy struct {
	// Timeout is how long one request may be retried in total. Default 2 minutes;
	// negative means no retry.
	Timeout time.Duration
	// Initial is the first wait. Default 250 ms.
	Initial time.Duration
	// Max caps one wait. Default 5 s.
	Max time.Duration
}

func (p RetryPolicy) withDefaults() RetryPolicy {
	if p.Timeout == 0 {
		p.Timeout = 2 * time.Minute
	}
	if p.Initial <= 0 {
		p.Initial = 250 * time.Millisecond
	}
	if p.Max <= 0 {
		p.Max = 5 * time.Second
	}
	return p
}

// Push outcomes.
const (
	StatusCreated   = "created"   // 201: a new schema
	StatusUpdated   = "updated"   // 200: replaced (the server allows patches)
	StatusUnchanged = "unchanged" // 409 "Schema already exists" with the same content
	StatusFailed    = "failed"
)

// PushResult is the outcome for one schema.
type PushResult struct {
	Key  iglu.SchemaKey
	Path string
	// Status is one of StatusCreated, StatusUpdated, StatusUnchanged, StatusFailed.
	Status string
	// HTTPStatus is the status of the PUT (0 when it was not sent).
	HTTPStatus int
	// Message is the server's message, or why the schema failed.
	Message string
}

// PushReport is the outcome of Push.
type PushReport struct {
	// Lint is the lint of the folder; when it has errors nothing was sent.
	Lint    LintReport
	Results []PushResult
}

// Count returns how many schemas ended with status.
func (r PushReport) Count(status string) int {
	n := 0
	for _, res := range r.Results {
		if res.Status == status {
			n++
		}
	}
	return n
}

// Push lints opts.Dir and, when no schema has an ERROR-level finding, publishes every
// schema with PUT {Server}/api/schemas/{vendor}/{name}/{format}/{version}?isPublic=…
// and the apikey header, in key order (vendor, name, format, then SchemaVer, so every
// version follows its predecessor). Requests that cannot reach the server, or get a
// 5xx or 429, are retried with back-off for up to opts.Retry.Timeout. After each
// publication the schema is read back (GET, same key) and compared with the file as
// JSON; a difference fails the schema. A 409 "Schema already exists" for a schema whose
// stored copy equals the file counts as StatusUnchanged, so pushing twice succeeds.
//
// Push goes on after a failed schema (later versions of the same name will usually
// fail too) and returns an error when any schema failed; the error wraps ErrLint when
// the folder did not pass the lint. ctx cancels everything.
func Push(ctx context.Context, opts PushOptions) (PushReport, error) {
	var rep PushReport
	base, err := serverRoot(opts.Server)
	if err != nil {
		return rep, err
	}
	if opts.APIKey == "" {
		return rep, errors.New("an API key is required to publish schemas")
	}
	if opts.Dir == "" {
		return rep, errors.New("a schema folder is required")
	}
	rep.Lint, err = LintDir(opts.Dir)
	if err != nil {
		return rep, err
	}
	if n := rep.Lint.Errors(); n > 0 {
		return rep, fmt.Errorf("%d of %d schemas in %s: %w", n, len(rep.Lint.Files), rep.Lint.Root, ErrLint)
	}
	c := &client{base: base, key: opts.APIKey, http: opts.HTTPClient, retry: opts.Retry.withDefaults()}
	if c.http == nil {
		c.http = &http.Client{Timeout: 30 * time.Second}
	}
	failed := 0
	for _, f := range rep.Lint.Files {
		res := c.pushOne(ctx, f, opts.Public)
		if err := ctx.Err(); err != nil {
			return rep, err
		}
		if res.Status == StatusFailed {
			failed++
		}
		rep.Results = append(rep.Results, res)
		if opts.Progress != nil {
			opts.Progress(res)
		}
	}
	if failed > 0 {
		return rep, fmt.Errorf("%d of %d schemas could not be published", failed, len(rep.Results))
	}
	return rep, nil
}

// serverRoot normalises the server URL to its root (no trailing slash, no /api).
func serverRoot(s string) (string, error) {
	if s == "" {
		return "", errors.New("an Iglu Server URL is required")
	}
	if !strings.Contains(s, "://") {
		s = "http://" + s
	}
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return "", fmt.Errorf("invalid Iglu Server URL %q: want http(s)://host[:port]", s)
	}
	u.Path = strings.TrimSuffix(strings.TrimRight(u.Path, "/"), "/api")
	u.RawQuery, u.Fragment = "", ""
	return strings.TrimRight(u.String(), "/"), nil
}

type client struct {
	base  string
	key   string
	http  *http.Client
	retry RetryPolicy
}

// serverMessage is the body of Iglu Server's answers to a publication.
type serverMessage struct {
	Message  string `json:"message"`
	Location string `json:"location"`
	Updated  bool   `json:"updated"`
}

func (c *client) pushOne(ctx context.Context, f SchemaFile, public bool) PushResult {
	res := PushResult{Key: f.Key, Path: f.Path}
	fail := func(format string, args ...any) PushResult {
		res.Status = StatusFailed
		res.Message = fmt.Sprintf(format, args...)
		return res
	}
	u := c.base + "/api/schemas/" + schemaPath(f.Key) + "?isPublic=" + strconv.FormatBool(public)
	status, body, err := c.do(ctx, http.MethodPut, u, f.Raw)
	res.HTTPStatus = status
	if err != nil {
		return fail("%v", err)
	}
	var msg serverMessage
	_ = json.Unmarshal(body, &msg)
	res.Message = msg.Message
	if res.Message == "" {
		res.Message = strings.TrimSpace(string(body))
	}
	switch {
	case status == http.StatusCreated:
		res.Status = StatusCreated
	case status == http.StatusOK:
		res.Status = StatusUpdated
	case status == http.StatusConflict && msg.Message == "Schema already exists":
		res.Status = StatusUnchanged
	default:
		return fail("HTTP %d: %s", status, res.Message)
	}
	// Read back and compare.
	status, body, err = c.do(ctx, http.MethodGet, c.base+"/api/schemas/"+schemaPath(f.Key), nil)
	if err != nil {
		return fail("reading back: %v", err)
	}
	if status != http.StatusOK {
		return fail("reading back: HTTP %d: %s", status, strings.TrimSpace(string(body)))
	}
	same, err := sameSchema(f.Raw, body)
	if err != nil {
		return fail("reading back: %v", err)
	}
	if !same {
		if res.Status == StatusUnchanged {
			return fail("a different schema is already published at %s (and the server does not allow patches)", f.Key)
		}
		return fail("the schema read back from the server differs from %s", f.Path)
	}
	return res
}

func schemaPath(k iglu.SchemaKey) string {
	return url.PathEscape(k.Vendor) + "/" + url.PathEscape(k.Name) + "/" + url.PathEscape(k.Format) + "/" + k.Version.String()
}

// do sends one request, retrying transport failures, 5xx and 429 within the policy.
// It returns the final status and body.
func (c *client) do(ctx context.Context, method, u string, body []byte) (int, []byte, error) {
	deadline := time.Now().Add(c.retry.Timeout)
	wait := c.retry.Initial
	for {
		status, respBody, err := c.once(ctx, method, u, body)
		retriable := err != nil || status >= 500 || status == http.StatusTooManyRequests
		if !retriable {
			return status, respBody, nil
		}
		if ctx.Err() != nil {
			return 0, nil, ctx.Err()
		}
		if c.retry.Timeout < 0 || time.Now().Add(wait).After(deadline) {
			if err != nil {
				return 0, nil, fmt.Errorf("%s %s: %w (gave up after retrying for %s)", method, u, err, c.retry.Timeout)
			}
			return status, respBody, nil
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return 0, nil, ctx.Err()
		case <-t.C:
		}
		wait = min(wait*2, c.retry.Max)
	}
}

func (c *client) once(ctx context.Context, method, u string, body []byte) (int, []byte, error) {
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, u, rd)
	if err != nil {
		return 0, nil, err
	}
	req.Header.Set("apikey", c.key)
	req.Header.Set("Accept", "application/json")
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, maxSchemaFile+1))
	if err != nil {
		return 0, nil, err
	}
	return resp.StatusCode, b, nil
}

// sameSchema compares two schema documents as JSON values (member order and number
// spelling aside: 1.0 equals 1).
func sameSchema(a, b []byte) (bool, error) {
	va, err := decode(a)
	if err != nil {
		return false, fmt.Errorf("the local schema is not JSON: %w", err)
	}
	vb, err := decode(b)
	if err != nil {
		return false, fmt.Errorf("the server answered with something that is not JSON: %w", err)
	}
	return reflect.DeepEqual(normalizeNumbers(va), normalizeNumbers(vb)), nil
}

func decode(b []byte) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var v any
	err := dec.Decode(&v)
	return v, err
}

// jsonNumber is a number's exact value, spelled one way.
type jsonNumber string

// normalizeNumbers replaces every json.Number by its jsonNumber.
func normalizeNumbers(v any) any {
	switch t := v.(type) {
	case json.Number:
		if f, _, err := big.ParseFloat(string(t), 10, 200, big.ToNearestEven); err == nil {
			return jsonNumber(f.Text('g', -1))
		}
		return jsonNumber(t)
	case map[string]any:
		for k, x := range t {
			t[k] = normalizeNumbers(x)
		}
	case []any:
		for i, x := range t {
			t[i] = normalizeNumbers(x)
		}
	}
	return v
}
