package web

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"

	"github.com/go-chi/chi/v5"

	"github.com/snowplow-mini/snowplow-mini/iglu"
)

// maxBodyBytes bounds the JSON body of a /micro request (filters are tiny).
const maxBodyBytes = 1 << 20

// notFoundText is Micro's answer to an unknown /micro path, listing what exists here.
const notFoundText = "Supported endpoints: /micro/all, /micro/good, /micro/bad, /micro/reset, /micro/wait, " +
	"/micro/iglu/{vendor}/{name}/jsonschema/{version}, /micro/ui"

// badSchemaPathText is Micro's answer to a schema lookup whose version is not M-R-A.
const badSchemaPathText = "Schema lookup should be in format iglu/{vendor}/{schemaName}/jsonschema/{model}-{revision}-{addition}"

// Register mounts the Micro API and the UI under /micro on r. A /micro response to a
// request from an allowed origin carries CORS headers echoing it, with credentials
// allowed (see Config.AllowedOrigins).
func (s *Server) Register(r chi.Router) {
	r.Route("/micro", func(r chi.Router) {
		r.Use(s.cors)
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

// scope is the app_id filter of /micro/all and /micro/reset.
type scope struct {
	AppID *string `json:"app_id"`
}

func (sc scope) match(e *entry) bool { return sc.AppID == nil || e.appID == *sc.AppID }

func (s *Server) handleAll(w http.ResponseWriter, r *http.Request) {
	var sc scope
	sc.AppID = queryString(r, "app_id")
	if err := decodeBody(r, &sc); err != nil {
		writeText(w, http.StatusBadRequest, err.Error())
		return
	}
	good, bad := s.summary(sc)
	writeSummary(w, good, bad)
}

// summary counts the live good and bad events in scope.
func (s *Server) summary(sc scope) (good, bad int) {
	if sc.AppID == nil {
		return s.store.counts()
	}
	v, _ := s.store.snapshot(false)
	v.newest(0, func(e *entry) bool {
		if sc.match(e) {
			if e.good != nil {
				good++
			} else {
				bad++
			}
		}
		return true
	})
	return good, bad
}

func writeSummary(w http.ResponseWriter, good, bad int) {
	w.Header().Set("Content-Type", "application/json")
	fmt.Fprintf(w, `{"total":%d,"good":%d,"bad":%d}`, good+bad, good, bad)
}

func resetNeedsPost(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Allow", "POST")
	writeText(w, http.StatusMethodNotAllowed, "/micro/reset empties the store and only answers POST: use POST /micro/reset (optionally with {\"app_id\":…})")
}

func (s *Server) handleReset(w http.ResponseWriter, r *http.Request) {
	var sc scope
	sc.AppID = queryString(r, "app_id")
	if err := decodeBody(r, &sc); err != nil {
		writeText(w, http.StatusBadRequest, err.Error())
		return
	}
	if sc.AppID == nil {
		s.store.reset(nil)
	} else {
		s.store.reset(sc.match)
	}
	good, bad := s.summary(sc)
	writeSummary(w, good, bad)
}

func (s *Server) handleGood(w http.ResponseWriter, r *http.Request) {
	f, err := parseGoodFilter(r)
	if err != nil {
		writeText(w, http.StatusBadRequest, err.Error())
		return
	}
	s.writeEvents(w, s.find(f.match, limitOf(f.Limit)))
}

func (s *Server) handleBad(w http.ResponseWriter, r *http.Request) {
	f, err := parseBadFilter(r)
	if err != nil {
		writeText(w, http.StatusBadRequest, err.Error())
		return
	}
	s.writeEvents(w, s.find(f.match, limitOf(f.Limit)))
}

func limitOf(l *int) int {
	if l == nil {
		return -1
	}
	return *l
}

// find returns up to limit (all when negative) matching entries, newest first.
func (s *Server) find(match func(*entry) bool, limit int) []*entry {
	var out []*entry
	if limit == 0 {
		return out
	}
	v, _ := s.store.snapshot(false)
	v.newest(0, func(e *entry) bool {
		if match(e) {
			out = append(out, e)
		}
		return limit < 0 || len(out) < limit
	})
	return out
}

func parseGoodFilter(r *http.Request) (goodFilter, error) {
	var f goodFilter
	f.EventType = queryString(r, "event_type")
	f.Schema = queryString(r, "schema")
	f.AppID = queryString(r, "app_id")
	f.Contexts = r.URL.Query()["contexts"]
	var err error
	if f.Limit, err = queryInt(r, "limit"); err != nil {
		return f, err
	}
	if err := decodeBody(r, &f); err != nil {
		return f, err
	}
	if f.Limit != nil && *f.Limit < 0 {
		return f, fmt.Errorf("limit: %d: must not be negative", *f.Limit)
	}
	return f, nil
}

func parseBadFilter(r *http.Request) (badFilter, error) {
	var f badFilter
	f.Vendor = queryString(r, "vendor")
	f.Version = queryString(r, "version")
	f.AppID = queryString(r, "app_id")
	var err error
	if f.Limit, err = queryInt(r, "limit"); err != nil {
		return f, err
	}
	if err := decodeBody(r, &f); err != nil {
		return f, err
	}
	if f.Limit != nil && *f.Limit < 0 {
		return f, fmt.Errorf("limit: %d: must not be negative", *f.Limit)
	}
	return f, nil
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

// decodeBody reads the JSON object of a POST into v, over any query values already in v.
// An empty body leaves v alone; GET bodies are ignored.
func decodeBody(r *http.Request, v any) error {
	if r.Method != http.MethodPost || r.Body == nil {
		return nil
	}
	data, err := io.ReadAll(io.LimitReader(r.Body, maxBodyBytes+1))
	if err != nil {
		return fmt.Errorf("reading request body: %w", err)
	}
	if len(data) > maxBodyBytes {
		return fmt.Errorf("request body is larger than %d bytes", maxBodyBytes)
	}
	data = bytes.TrimSpace(data)
	if len(data) == 0 {
		return nil
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(v); err != nil {
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) && te.Field != "" {
			return fmt.Errorf("invalid request body: %s: %s is not a valid %s", te.Field, te.Value, te.Type)
		}
		return fmt.Errorf("invalid request body: %w", err)
	}
	if dec.More() {
		return errors.New("invalid request body: more than one JSON value")
	}
	return nil
}

// flushAt is the buffered size at which a list being rendered is written out.
const flushAt = 32 << 10

// writeEvents answers a JSON array of the entries' Micro objects, rendered as they are
// written so that memory stays flat however long the list.
func (s *Server) writeEvents(w http.ResponseWriter, list []*entry) {
	w.Header().Set("Content-Type", "application/json")
	bp, _ := s.bufs.Get().(*[]byte)
	if bp == nil {
		bp = new([]byte)
	}
	defer s.bufs.Put(bp)
	buf := append((*bp)[:0], '[')
	sc := new(renderScratch)
	for i, e := range list {
		if i > 0 {
			buf = append(buf, ',')
		}
		buf = s.appendEntry(buf, e, sc)
		if len(buf) >= flushAt {
			if _, err := w.Write(buf); err != nil {
				*bp = buf[:0]
				return // the client went away; nothing to tell it
			}
			buf = buf[:0]
		}
	}
	buf = append(buf, ']')
	_, _ = w.Write(buf)
	*bp = buf[:0]
}

func (s *Server) appendEntry(dst []byte, e *entry, sc *renderScratch) []byte {
	if e.bad != nil {
		return append(dst, e.bad.json...)
	}
	dst, err := e.good.appendJSON(dst, sc)
	if err != nil {
		s.metrics.renderErrors.Inc()
		s.log.Debug("rendering enriched event", "err", err)
	}
	return dst
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
