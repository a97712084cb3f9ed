package web

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"

	"github.com/go-chi/chi/v5"

	"github.com/snowplow-mini/snowplow-mini/iglu"
)

// maxBodyBytes bounds the JSON body of a /micro request (filters are tiny).
const maxBodyBytes = 1 << 20

// notFoundText is Micro's answer to an unknown /micro path, listing what exists here.
const notFoundText = "Supported endpoints: /micro/all, /micro/good, /micro/bad, /micro/reset, /micro/wait, " +
	"/micro/events, /micro/columns, /micro/columnStats, /micro/timeline, /micro/stream, /micro/auth-config, " +
	"/micro/iglu/{vendor}/{name}/jsonschema/{version}, /micro/ui"

// badSchemaPathText is Micro's answer to a schema lookup whose version is not M-R-A.
const badSchemaPathText = "Schema lookup should be in format iglu/{vendor}/{schemaName}/jsonschema/{model}-{revision}-{addition}"

// Register mounts the Micro API and the UI under /micro on r. A /micro response to a
// request from an allowed origin carries CORS headers echoing it, with credentials
// allowed (see Config.AllowedOrigins); every answer is gzip-compressed when the client
// accepts it.
func (s *Server) Register(r chi.Router) {
	r.Route("/micro", func(r chi.Router) {
		r.Use(s.cors, gzipResponses)
		r.NotFound(notFound)
		r.MethodNotAllowed(notFound)

		r.Get("/", s.redirectToUI)
		r.Get("/ui", s.serveUI)
		r.Get("/ui/", s.serveUI)
		r.Get("/ui/{file}", serveAsset)

		r.Get("/all", s.handleAll)
		r.Post("/all", s.handleAll)
		r.Get("/good", s.handleGood)
		r.Post("/good", s.handleGood)
		r.Get("/bad", s.handleBad)
		r.Post("/bad", s.handleBad)
		// Reset changes state: POST only, so that a link or an <img> on any page
		// cannot wipe the events.
		r.Get("/reset", resetNeedsPost)
		r.Post("/reset", s.handleReset)
		r.Get("/wait", s.handleWait)
		r.Post("/wait", s.handleWait)
		r.Post("/events", s.handleEvents)
		r.Get("/columns", s.handleColumns)
		r.Post("/columnStats", s.handleColumnStats)
		r.Post("/timeline", s.handleTimeline)
		r.Get("/auth-config", handleAuthConfig)
		r.Get("/stream", s.handleStream)
		r.Get("/iglu/{vendor}/{name}/jsonschema/{version}", s.handleIglu)
	})
}

// RedirectToUI returns a handler that redirects to the UI, for main to mount at "/" when
// nothing else answers there.
func (s *Server) RedirectToUI() http.Handler { return http.HandlerFunc(s.redirectToUI) }

func (s *Server) redirectToUI(w http.ResponseWriter, r *http.Request) {
	http.Redirect(w, r, "/micro/ui", http.StatusFound)
}

func notFound(w http.ResponseWriter, _ *http.Request) {
	writeText(w, http.StatusNotFound, notFoundText)
}

var gzipWriters = sync.Pool{New: func() any { w, _ := gzip.NewWriterLevel(nil, gzip.BestSpeed); return w }}

// gzipResponses compresses the answer when the client accepts gzip, as Micro does.
// Server-sent events are left alone: each must reach the browser when it is written.
func gzipResponses(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Add("Vary", "Accept-Encoding")
		if !acceptsGzip(r.Header.Get("Accept-Encoding")) || r.Method == http.MethodHead || strings.HasSuffix(r.URL.Path, "/stream") {
			next.ServeHTTP(w, r)
			return
		}
		zw := gzipWriters.Get().(*gzip.Writer)
		zw.Reset(w)
		gw := &gzipWriter{ResponseWriter: w, zw: zw}
		defer func() {
			if gw.started {
				_ = zw.Close()
			} else if gw.status != 0 {
				w.WriteHeader(gw.status)
			}
			zw.Reset(io.Discard)
			gzipWriters.Put(zw)
		}()
		next.ServeHTTP(gw, r)
	})
}

// acceptsGzip reports whether an Accept-Encoding header accepts gzip.
func acceptsGzip(h string) bool {
	for part := range strings.SplitSeq(h, ",") {
		name, params, _ := strings.Cut(strings.TrimSpace(part), ";")
		if !strings.EqualFold(strings.TrimSpace(name), "gzip") {
			continue
		}
		q, ok := strings.CutPrefix(strings.ReplaceAll(params, " ", ""), "q=")
		if !ok {
			return true
		}
		v, err := strconv.ParseFloat(q, 64)
		return err == nil && v > 0
	}
	return false
}

// gzipWriter compresses what the handler writes; the header says so once the first
// byte is written (an empty answer, such as a redirect, goes out uncompressed).
type gzipWriter struct {
	http.ResponseWriter
	zw      *gzip.Writer
	started bool
	status  int
}

func (g *gzipWriter) WriteHeader(status int) {
	if g.status == 0 {
		g.status = status
	}
}

func (g *gzipWriter) start() {
	if g.started {
		return
	}
	g.started = true
	h := g.Header()
	h.Set("Content-Encoding", "gzip")
	h.Del("Content-Length")
	if g.status == 0 {
		g.status = http.StatusOK
	}
	g.ResponseWriter.WriteHeader(g.status)
}

func (g *gzipWriter) Write(b []byte) (int, error) {
	if len(b) == 0 {
		return 0, nil
	}
	g.start()
	return g.zw.Write(b)
}

// Flush sends what is compressed so far.
func (g *gzipWriter) Flush() {
	if g.started {
		_ = g.zw.Flush()
	}
	if f, ok := g.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

// Unwrap lets http.ResponseController reach the connection.
func (g *gzipWriter) Unwrap() http.ResponseWriter { return g.ResponseWriter }

// scope is the app_id filter of /micro/all and /micro/reset.
type scope struct {
	AppID *string `json:"app_id"`
}

func (sc scope) appID() string {
	if sc.AppID == nil {
		return ""
	}
	return *sc.AppID
}

func (s *Server) handleAll(w http.ResponseWriter, r *http.Request) {
	var sc scope
	sc.AppID = queryString(r, "app_id")
	if berr := decodeBody(r, &sc, false); berr != nil {
		berr.write(w)
		return
	}
	c, err := s.store.Count(r.Context(), sc.appID())
	if err != nil {
		s.storeFailed(w, r, err)
		return
	}
	writeSummary(w, c)
}

func writeSummary(w http.ResponseWriter, c Counts) {
	w.Header().Set("Content-Type", "application/json")
	fmt.Fprintf(w, `{"total":%d,"good":%d,"bad":%d}`, c.Good+c.Bad, c.Good, c.Bad)
}

func resetNeedsPost(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Allow", "POST")
	writeText(w, http.StatusMethodNotAllowed, "/micro/reset empties the store and only answers POST: use POST /micro/reset (optionally with {\"app_id\":…})")
}

// handleReset empties the store (or one app's part of it) and answers the summary of
// what is left, as Micro 3 did (older helpers read it).
func (s *Server) handleReset(w http.ResponseWriter, r *http.Request) {
	var sc scope
	sc.AppID = queryString(r, "app_id")
	if berr := decodeBody(r, &sc, false); berr != nil {
		berr.write(w)
		return
	}
	_, err := s.store.Reset(r.Context(), sc.appID())
	s.resets.Add(1)
	if err != nil {
		s.storeFailed(w, r, err)
		return
	}
	c, err := s.store.Count(r.Context(), sc.appID())
	if err != nil {
		s.storeFailed(w, r, err)
		return
	}
	writeSummary(w, c)
}

// storeFailed answers 503 when the store cannot be read: the pipeline goes on, and
// the store's own logs say why.
func (s *Server) storeFailed(w http.ResponseWriter, r *http.Request, err error) {
	if r.Context().Err() != nil {
		return // the client went away
	}
	s.log.Warn("reading the event store", "path", r.URL.Path, "err", err)
	writeText(w, http.StatusServiceUnavailable, "the event store cannot be read: "+err.Error())
}

func (s *Server) handleGood(w http.ResponseWriter, r *http.Request) {
	f, berr := parseGoodFilter(r)
	if berr != nil {
		berr.write(w)
		return
	}
	s.writeList(w, r, func(ctx context.Context, emit func(func([]byte) []byte) bool) error {
		return s.findGood(ctx, &f, limitOf(f.Limit), 0, func(se *StoredEvent) bool {
			return emit(func(dst []byte) []byte { return s.appendGood(dst, se) })
		})
	})
}

// findGood calls fn with up to limit (all when negative) good events matching f,
// newest first, loaded after afterID.
func (s *Server) findGood(ctx context.Context, f *goodFilter, limit int, afterID int64, fn func(*StoredEvent) bool) error {
	if limit == 0 {
		return nil
	}
	q, none := f.query()
	if none {
		return nil
	}
	q.AfterID = afterID
	if len(f.Contexts) == 0 && limit > 0 {
		q.Limit = limit
	}
	n := 0
	return s.store.Events(ctx, q, func(se *StoredEvent) bool {
		if !f.matchContexts(se.Event) {
			return true
		}
		n++
		return fn(se) && (limit < 0 || n < limit)
	})
}

func (s *Server) appendGood(dst []byte, se *StoredEvent) []byte {
	dst, err := appendGoodEvent(dst, se)
	if err != nil {
		s.metrics.renderErrors.Inc()
		s.log.Debug("rendering enriched event", "event_id", se.Event.Fields[0], "err", err)
	}
	return dst
}

func (s *Server) handleBad(w http.ResponseWriter, r *http.Request) {
	f, berr := parseBadFilter(r)
	if berr != nil {
		berr.write(w)
		return
	}
	s.writeList(w, r, func(ctx context.Context, emit func(func([]byte) []byte) bool) error {
		return s.findBad(ctx, &f, limitOf(f.Limit), 0, func(b *badEvent) bool {
			return emit(func(dst []byte) []byte { return append(dst, b.json...) })
		})
	})
}

// findBad calls fn with up to limit (all when negative) bad events matching f, newest
// first, loaded after afterID.
func (s *Server) findBad(ctx context.Context, f *badFilter, limit int, afterID int64, fn func(*badEvent) bool) error {
	if limit == 0 {
		return nil
	}
	q := BadQuery{AfterID: afterID}
	if f.AppID != nil {
		if *f.AppID == "" {
			return nil
		}
		q.AppID = *f.AppID
	}
	if f.Vendor == nil && f.Version == nil && limit > 0 {
		q.Limit = limit
	}
	n := 0
	var buf []byte
	return s.store.BadRows(ctx, q, func(row *StoredBadRow) bool {
		b := newBadEvent(row.Data, buf)
		b.id = row.ID
		buf = b.json
		if !f.match(b) {
			return true
		}
		n++
		return fn(b) && (limit < 0 || n < limit)
	})
}

// limitOf returns a request's limit: -1 for none, 0 for a negative one (Micro answers
// nothing then).
func limitOf(l *int) int {
	switch {
	case l == nil:
		return -1
	case *l < 0:
		return 0
	}
	return *l
}

func parseGoodFilter(r *http.Request) (goodFilter, *bodyError) {
	var f goodFilter
	f.EventType = queryString(r, "event_type")
	f.Schema = queryString(r, "schema")
	f.AppID = queryString(r, "app_id")
	f.Contexts = r.URL.Query()["contexts"]
	var err error
	if f.Limit, err = queryInt(r, "limit"); err != nil {
		return f, &bodyError{http.StatusBadRequest, err.Error()}
	}
	// Micro answers 400 to a POST /micro/good without a body.
	return f, decodeBody(r, &f, true)
}

func parseBadFilter(r *http.Request) (badFilter, *bodyError) {
	var f badFilter
	f.Vendor = queryString(r, "vendor")
	f.Version = queryString(r, "version")
	f.AppID = queryString(r, "app_id")
	var err error
	if f.Limit, err = queryInt(r, "limit"); err != nil {
		return f, &bodyError{http.StatusBadRequest, err.Error()}
	}
	return f, decodeBody(r, &f, true)
}

func queryString(r *http.Request, name string) *string {
	q := r.URL.Query()
	if !q.Has(name) {
		return nil
	}
	v := q.Get(name)
	return &v
}

func queryInt(r *http.Request, name string) (*int, error) {
	v := queryString(r, name)
	if v == nil {
		return nil, nil
	}
	n, err := strconv.Atoi(*v)
	if err != nil {
		return nil, fmt.Errorf("%s: %q is not an integer", name, *v)
	}
	return &n, nil
}

// The first line of Micro's answers to a bad body.
const (
	malformedBody = "The request body was malformed."
	invalidBody   = "The request body was invalid."
)

// bodyError is an answer to a request body that cannot be used: 400 for what is not
// JSON, 422 for JSON of the wrong shape, as Micro answers.
type bodyError struct {
	status int
	msg    string
}

func (e *bodyError) write(w http.ResponseWriter) { writeText(w, e.status, e.msg) }

func malformed(detail string) *bodyError {
	return &bodyError{http.StatusBadRequest, malformedBody + "\n" + detail}
}

func invalid(detail string) *bodyError {
	return &bodyError{http.StatusUnprocessableEntity, invalidBody + "\n" + detail}
}

// decodeBody reads the JSON object of a POST into v, over any query values already in v.
// GET bodies are ignored. An empty body leaves v alone, or is malformed when required.
func decodeBody(r *http.Request, v any, required bool) *bodyError {
	if r.Method != http.MethodPost || r.Body == nil {
		return nil
	}
	data, err := io.ReadAll(io.LimitReader(r.Body, maxBodyBytes+1))
	if err != nil {
		return malformed(fmt.Sprintf("reading request body: %v", err))
	}
	if len(data) > maxBodyBytes {
		return &bodyError{http.StatusRequestEntityTooLarge, fmt.Sprintf("request body is larger than %d bytes", maxBodyBytes)}
	}
	data = bytes.TrimSpace(data)
	if len(data) == 0 {
		if required {
			return malformed("the body is empty; send a JSON object")
		}
		return nil
	}
	if !json.Valid(data) {
		return malformed("the body is not JSON")
	}
	if data[0] != '{' {
		return invalid("the body must be a JSON object")
	}
	if err := json.Unmarshal(data, v); err != nil {
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) && te.Field != "" {
			return invalid(fmt.Sprintf("%s: %s is not a valid %s", te.Field, te.Value, te.Type))
		}
		return invalid(err.Error())
	}
	return nil
}

// flushAt is the buffered size at which a list being rendered is written out.
const flushAt = 32 << 10

// writeList answers a JSON array of what find emits, rendered as it is written so that
// memory stays flat however long the list. find calls emit with a function that
// appends one element; emit returns false once the client is gone.
func (s *Server) writeList(w http.ResponseWriter, r *http.Request, find func(ctx context.Context, emit func(func([]byte) []byte) bool) error) {
	s.writeListIn(w, r, "", "", find)
}

// writeListIn is writeList with the array between prefix and suffix.
func (s *Server) writeListIn(w http.ResponseWriter, r *http.Request, prefix, suffix string, find func(ctx context.Context, emit func(func([]byte) []byte) bool) error) {
	bp, _ := s.bufs.Get().(*[]byte)
	if bp == nil {
		bp = new([]byte)
	}
	defer s.bufs.Put(bp)
	buf := append(append((*bp)[:0], prefix...), '[')
	n, wrote, failed := 0, false, false
	err := find(r.Context(), func(appendOne func([]byte) []byte) bool {
		if n > 0 {
			buf = append(buf, ',')
		}
		n++
		buf = appendOne(buf)
		if len(buf) >= flushAt {
			if !wrote {
				w.Header().Set("Content-Type", "application/json")
				wrote = true
			}
			if _, err := w.Write(buf); err != nil {
				failed = true
				return false
			}
			buf = buf[:0]
		}
		return true
	})
	defer func() { *bp = buf[:0] }()
	if failed {
		return
	}
	if err != nil {
		if !wrote {
			s.storeFailed(w, r, err)
			return
		}
		// Part of the answer is out: cut it short so the client sees broken JSON
		// rather than a shorter list.
		s.log.Warn("reading the event store", "path", r.URL.Path, "err", err)
		return
	}
	if !wrote {
		w.Header().Set("Content-Type", "application/json")
	}
	buf = append(buf, ']')
	buf = append(buf, suffix...)
	_, _ = w.Write(buf)
}

func (s *Server) handleIglu(w http.ResponseWriter, r *http.Request) {
	vendor, name, version := chi.URLParam(r, "vendor"), chi.URLParam(r, "name"), chi.URLParam(r, "version")
	if _, err := iglu.ParseSchemaVer(version); err != nil {
		writeText(w, http.StatusNotFound, badSchemaPathText)
		return
	}
	// The key is checked against the Iglu grammar before any repository sees it: a
	// name such as ".." must never reach an HTTP registry (with its API key) as a path.
	key, err := iglu.ParseSchemaKey("iglu:" + vendor + "/" + name + "/" + iglu.FormatJSONSchema + "/" + version)
	if err == nil {
		err = key.Validate()
	}
	if err != nil {
		writeText(w, http.StatusBadRequest, "invalid schema key: vendor must match [a-zA-Z0-9-_.]+ and name [a-zA-Z0-9-_]+, got "+strconv.Quote(vendor)+" and "+strconv.Quote(name))
		return
	}
	if s.schemas == nil {
		writeText(w, http.StatusNotFound, "No Iglu resolver is configured.")
		return
	}
	schema, err := s.schemas.Lookup(r.Context(), key)
	var ce *iglu.ClientError
	switch {
	case errors.As(err, &ce):
		// Repository failures carry transport errors (addresses, DNS servers): those
		// go to the log, the answer keeps Micro's shape with a generic message.
		if ce.HasFailures() {
			s.log.Warn("looking up schema", "schema", key.String(), "err", err)
		}
		writeJSON(w, http.StatusNotFound, ce.Redacted().MicroJSON())
	case err != nil:
		s.log.Warn("looking up schema", "schema", key.String(), "err", err)
		writeText(w, http.StatusInternalServerError, "looking up "+key.String()+" failed; the server log has the details")
	default:
		writeJSON(w, http.StatusOK, schema.Raw)
	}
}

func writeJSON(w http.ResponseWriter, status int, body []byte) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

func writeText(w http.ResponseWriter, status int, msg string) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	_, _ = io.WriteString(w, strings.TrimSpace(msg))
}
