package iglu

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/google/uuid"
)

// ServerConfig configures the Iglu Server API.
type ServerConfig struct {
	// Version is reported by GET /api/meta/server. Default "0.1.0".
	Version string
	// SuperAPIKey is the key (a UUID) that may do everything: publish and delete
	// schemas, create and delete keys. Empty: nobody can write until one is set (the
	// answers say how). It is never logged.
	SuperAPIKey string
	// PatchesAllowed lets a published version be replaced (200 "Schema updated") and
	// deleted, as Iglu Server's patchesAllowed. Default false: "Schema already exists".
	PatchesAllowed bool
	// Store keeps published schemas and API keys. Nil makes the API read-only
	// (publishing and keys answer 405).
	Store SchemaStore
}

// Server answers Iglu Server's REST API (0.14) under /api. It serves the schemas
// published to it (kept in ServerConfig.Store, private or public) together with the
// schemas the resolver holds locally, which are public and read-only: the local
// schema folders and the embedded core set, never the HTTP repositories (so a resolver
// that lists this server as a repository cannot loop). A key is looked up as the
// resolver does: local folders first, then published schemas, then the embedded set.
//
// Publishing (POST/PUT /api/schemas) follows Iglu Server's rules: an apikey allowed to
// create schemas of the vendor, a schema without ERROR-level lint findings (see Lint),
// a version whose predecessor is published (VersionCursor), the same isPublic as the
// other versions of the name, and no re-publication unless PatchesAllowed. Each
// publication and deletion drops the resolver's cached answer for that key, so enrich
// uses a new schema from the next event on. Keys come from the super key and
// POST /api/auth/keygen; anonymous callers read public schemas only, and validation
// needs a key, as in Iglu Server. Drafts are not implemented.
type Server struct {
	res            *Resolver
	version        string
	started        time.Time
	store          SchemaStore
	superKey       string
	patchesAllowed bool
	// writeMu makes each publication's checks and write one step.
	writeMu sync.Mutex
}

// NewServer builds the API over res. An invalid SuperAPIKey is an error.
func NewServer(res *Resolver, cfg ServerConfig) (*Server, error) {
	if cfg.Version == "" {
		cfg.Version = "0.1.0"
	}
	s := &Server{res: res, version: cfg.Version, started: res.now(), store: cfg.Store, patchesAllowed: cfg.PatchesAllowed}
	if cfg.SuperAPIKey != "" {
		id, err := uuid.Parse(cfg.SuperAPIKey)
		if err != nil {
			return nil, errors.New("iglu.superApiKey: must be a UUID (such as the output of uuidgen)")
		}
		s.superKey = id.String()
	}
	return s, nil
}

// Register adds the /api routes to r.
func (s *Server) Register(r chi.Router) {
	r.Get("/api/schemas", s.listAll)
	r.Get("/api/schemas/{vendor}", s.listVendor)
	r.Get("/api/schemas/{vendor}/{name}", s.listName)
	r.Get("/api/schemas/{vendor}/{name}/jsonschema/{model}", s.listModel)
	r.Get("/api/schemas/{vendor}/{name}/{format}/{version}", s.getSchema)
	r.Get("/api/meta/health", s.health)
	r.Get("/api/meta/health/db", s.healthDB)
	r.Get("/api/meta/server", s.serverInfo)
	r.Post("/api/validation/validate/schema/{format}", s.validateSchema)
	r.Post("/api/validation/validate/instance", s.validateInstance)
	if s.store == nil {
		readOnly := func(w http.ResponseWriter, _ *http.Request) {
			writeJSON(w, http.StatusMethodNotAllowed, message("This schema registry is read-only: put schema files in a local schema folder instead"))
		}
		r.Post("/api/schemas", readOnly)
		r.Put("/api/schemas/{vendor}/{name}/{format}/{version}", readOnly)
		r.Delete("/api/schemas/{vendor}/{name}/{format}/{version}", readOnly)
		r.Post("/api/auth/keygen", readOnly)
		r.Delete("/api/auth/keygen", readOnly)
		return
	}
	r.Post("/api/schemas", s.postSchema)
	r.Put("/api/schemas/{vendor}/{name}/{format}/{version}", s.putSchema)
	r.Delete("/api/schemas/{vendor}/{name}/{format}/{version}", s.deleteSchema)
	r.Post("/api/auth/keygen", s.keygen)
	r.Delete("/api/auth/keygen", s.deleteKey)
}

const (
	msgSchemaNotFound = "The schema is not found"
	msgNoSchemas      = "No schemas available"
)

// internalError logs err and answers 500 with what failed but not why: the details
// (file paths, transport errors) are for the server's log, not for clients.
func (s *Server) internalError(w http.ResponseWriter, what string, err error) {
	s.res.log.Error(what, "err", err)
	writeJSON(w, http.StatusInternalServerError, message(what+" failed; the server log has the details"))
}

func message(m string) []byte {
	return append(appendJSONString([]byte(`{"message":`), m), '}')
}

func writeJSON(w http.ResponseWriter, status int, body []byte) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	// body may be a cached schema: write the newline separately, never append to it.
	_, _ = w.Write(body)
	_, _ = w.Write([]byte{'\n'})
}

// localSchema is one schema the API serves.
type localSchema struct {
	key              SchemaKey
	raw              []byte
	created, updated time.Time
	public           bool
}

// localKeys lists the schemas matching keep that perm may read: published ones and
// those of the browsable repositories, each key once.
func (s *Server) localKeys(ctx context.Context, perm permission, keep func(SchemaKey) bool) ([]SchemaKey, error) {
	seen := map[SchemaKey]bool{}
	var keys []SchemaKey
	if s.store != nil {
		stored, err := s.store.ListSchemas(ctx, "", "")
		if err != nil {
			return nil, fmt.Errorf("listing published schemas: %w", err)
		}
		for _, st := range stored {
			if keep(st.Key) && (st.IsPublic || perm.canRead(st.Key.Vendor)) {
				seen[st.Key] = true
				keys = append(keys, st.Key)
			}
		}
	}
	for _, rp := range s.res.browsable {
		b := rp.backend.(*fsBackend)
		err := b.walk(func(k SchemaKey) error {
			if keep(k) && !seen[k] {
				seen[k] = true
				keys = append(keys, k)
			}
			return nil
		})
		if err != nil {
			return nil, fmt.Errorf("listing %s: %w", rp.name, err)
		}
	}
	slices.SortFunc(keys, SchemaKey.Compare)
	return keys, nil
}

// localSchema reads one schema perm may read: from the local folders, the published
// schemas, then the embedded set. It returns nil when there is none.
func (s *Server) localSchema(ctx context.Context, perm permission, key SchemaKey) (*localSchema, error) {
	storeTried := s.store == nil
	tryStore := func() (*localSchema, error) {
		storeTried = true
		st, err := s.store.GetSchema(ctx, key)
		if err != nil || st == nil || !(st.IsPublic || perm.canRead(key.Vendor)) {
			return nil, err
		}
		return &localSchema{key: key, raw: st.Body, created: st.CreatedAt, updated: st.UpdatedAt, public: st.IsPublic}, nil
	}
	for _, rp := range sortRepos(s.res.browsable, key.Vendor) {
		if rp.class != classLocal && !storeTried {
			if ls, err := tryStore(); ls != nil || err != nil {
				return ls, err
			}
		}
		b := rp.backend.(*fsBackend)
		raw, ferr := b.fetch(ctx, key)
		if ferr != nil {
			if ferr.kind == NotFound {
				continue
			}
			return nil, ferr
		}
		ls := &localSchema{key: key, raw: raw, created: s.started, public: true}
		for _, name := range []string{key.Path(), key.Path() + ".json"} {
			if st, err := fs.Stat(b.fsys, name); err == nil && !st.ModTime().IsZero() {
				ls.created = st.ModTime()
				break
			}
		}
		ls.updated = ls.created
		return ls, nil
	}
	if !storeTried {
		return tryStore()
	}
	return nil, nil
}

func (s *Server) listAll(w http.ResponseWriter, r *http.Request) {
	s.list(w, r, true, func(SchemaKey) bool { return true })
}

func (s *Server) listVendor(w http.ResponseWriter, r *http.Request) {
	vendor := chi.URLParam(r, "vendor")
	s.list(w, r, false, func(k SchemaKey) bool { return k.Vendor == vendor })
}

func (s *Server) listName(w http.ResponseWriter, r *http.Request) {
	vendor, name := chi.URLParam(r, "vendor"), chi.URLParam(r, "name")
	s.list(w, r, false, func(k SchemaKey) bool { return k.Vendor == vendor && k.Name == name })
}

// listModel answers /api/schemas/{vendor}/{name}/jsonschema/{model}; a full version
// in the last segment is a request for one schema.
func (s *Server) listModel(w http.ResponseWriter, r *http.Request) {
	vendor, name, model := chi.URLParam(r, "vendor"), chi.URLParam(r, "name"), chi.URLParam(r, "model")
	if strings.Contains(model, "-") {
		s.getOne(w, r, vendor, name, FormatJSONSchema, model)
		return
	}
	m, err := strconv.Atoi(model)
	if err != nil || m < 1 {
		writeJSON(w, http.StatusBadRequest, message(fmt.Sprintf("Invalid model %q: must be a positive number", model)))
		return
	}
	s.list(w, r, false, func(k SchemaKey) bool {
		return k.Vendor == vendor && k.Name == name && k.Format == FormatJSONSchema && k.Version.Model == m
	})
}

// list answers a list route; all (GET /api/schemas) answers an empty list with 200, the
// narrower lists with 404.
func (s *Server) list(w http.ResponseWriter, r *http.Request, all bool, keep func(SchemaKey) bool) {
	repr := r.URL.Query().Get("repr")
	if repr == "" {
		repr = "uri"
	}
	repr = strings.ToLower(repr)
	if repr != "uri" && repr != "meta" && repr != "canonical" {
		writeJSON(w, http.StatusBadRequest, message(fmt.Sprintf("Invalid repr %q: must be uri, meta or canonical", repr)))
		return
	}
	perm, ok := s.auth(w, r)
	if !ok {
		return
	}
	keys, err := s.localKeys(r.Context(), perm, keep)
	if err != nil {
		s.internalError(w, "listing schemas", err)
		return
	}
	if len(keys) == 0 && !all {
		writeJSON(w, http.StatusNotFound, message(msgNoSchemas))
		return
	}
	body := []byte{'['}
	for i, k := range keys {
		if i > 0 {
			body = append(body, ',')
		}
		if repr == "uri" {
			body = appendJSONString(body, k.String())
			continue
		}
		ls, err := s.localSchema(r.Context(), perm, k)
		if err == nil && ls == nil {
			err = errors.New("the schema disappeared while listing")
		}
		if err != nil {
			s.internalError(w, "reading "+k.String(), err)
			return
		}
		enc, err := ls.render(repr)
		if err != nil {
			s.internalError(w, "reading "+k.String(), err)
			return
		}
		body = append(body, enc...)
	}
	writeJSON(w, http.StatusOK, append(body, ']'))
}

func (s *Server) getSchema(w http.ResponseWriter, r *http.Request) {
	s.getOne(w, r, chi.URLParam(r, "vendor"), chi.URLParam(r, "name"), chi.URLParam(r, "format"), chi.URLParam(r, "version"))
}

func (s *Server) getOne(w http.ResponseWriter, r *http.Request, vendor, name, format, version string) {
	key, err := ParseSchemaKey("iglu:" + vendor + "/" + name + "/" + format + "/" + version)
	if err != nil {
		writeJSON(w, http.StatusBadRequest, message(err.Error()))
		return
	}
	repr := strings.ToLower(r.URL.Query().Get("repr"))
	switch repr {
	case "":
		repr = "canonical"
	case "canonical", "meta":
	default:
		writeJSON(w, http.StatusBadRequest, message(fmt.Sprintf("Invalid repr %q: must be canonical or meta", repr)))
		return
	}
	perm, ok := s.auth(w, r)
	if !ok {
		return
	}
	ls, err := s.localSchema(r.Context(), perm, key)
	if err != nil {
		s.internalError(w, "reading "+key.String(), err)
		return
	}
	if ls == nil {
		writeJSON(w, http.StatusNotFound, message(msgSchemaNotFound))
		return
	}
	body, err := ls.render(repr)
	if err != nil {
		s.internalError(w, "reading "+key.String(), err)
		return
	}
	writeJSON(w, http.StatusOK, body)
}

// render encodes the schema as Iglu Server does: canonical = $schema and self first,
// then the body; meta = self and metadata first, then the body.
func (ls *localSchema) render(repr string) ([]byte, error) {
	members, err := objectMembers(ls.raw)
	if err != nil {
		return nil, err
	}
	self := appendSelf(nil, ls.key)
	var schemaURI json.RawMessage
	var superseding, rest []member // superseding: "$supersededBy", "$supersedes"
	for _, m := range members {
		switch m.key {
		case "self", "metadata":
		case "$schema":
			schemaURI = m.value
		case "$supersededBy", "$supersedes":
			superseding = append(superseding, m)
		default:
			rest = append(rest, m)
		}
	}
	// Iglu Server's order: $schema, $supersededBy, $supersedes, self, metadata, the rest.
	slices.SortStableFunc(superseding, func(a, b member) int { return strings.Compare(a.key, b.key) })
	b := []byte{'{'}
	if repr == "canonical" && schemaURI == nil {
		schemaURI = appendJSONString(nil, MetaSchemaURI)
	}
	if schemaURI != nil {
		b = append(b, `"$schema":`...)
		b = append(b, schemaURI...)
		b = append(b, ',')
	}
	for _, m := range superseding {
		b = appendJSONString(b, m.key)
		b = append(b, ':')
		b = append(b, m.value...)
		b = append(b, ',')
	}
	if repr == "canonical" {
		b = append(b, `"self":`...)
		b = append(b, self...)
	} else {
		b = append(b, `"self":`...)
		b = append(b, self...)
		b = append(b, `,"metadata":{"createdAt":"`...)
		b = ls.created.UTC().AppendFormat(b, lastAttemptLayout)
		b = append(b, `","updatedAt":"`...)
		b = ls.updated.UTC().AppendFormat(b, lastAttemptLayout)
		b = append(b, `","isPublic":`...)
		b = strconv.AppendBool(b, ls.public)
		b = append(b, '}')
	}
	for _, m := range rest {
		b = append(b, ',')
		b = appendJSONString(b, m.key)
		b = append(b, ':')
		b = append(b, m.value...)
	}
	return append(b, '}'), nil
}

func appendSelf(b []byte, k SchemaKey) []byte {
	b = append(b, `{"vendor":`...)
	b = appendJSONString(b, k.Vendor)
	b = append(b, `,"name":`...)
	b = appendJSONString(b, k.Name)
	b = append(b, `,"format":`...)
	b = appendJSONString(b, k.Format)
	b = append(b, `,"version":"`...)
	b = k.Version.AppendText(b)
	return append(b, `"}`...)
}

type member struct {
	key   string
	value json.RawMessage
}

// objectMembers returns the members of a JSON object in document order, compacted.
func objectMembers(raw []byte) ([]member, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	tok, err := dec.Token()
	if err != nil {
		return nil, err
	}
	if d, ok := tok.(json.Delim); !ok || d != '{' {
		return nil, errors.New("schema is not a JSON object")
	}
	var out []member
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, err
		}
		key, _ := tok.(string)
		var v json.RawMessage
		if err := dec.Decode(&v); err != nil {
			return nil, err
		}
		var buf bytes.Buffer
		if err := json.Compact(&buf, v); err != nil {
			return nil, err
		}
		out = append(out, member{key: key, value: buf.Bytes()})
	}
	return out, nil
}

func (s *Server) health(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	_, _ = io.WriteString(w, "OK")
}

// healthDB answers GET /api/meta/health/db: OK when the schema store answers a ping.
func (s *Server) healthDB(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	if s.store != nil {
		if err := s.store.Ping(r.Context()); err != nil {
			w.WriteHeader(http.StatusServiceUnavailable)
			_, _ = io.WriteString(w, "Service Unavailable")
			return
		}
	}
	_, _ = io.WriteString(w, "OK")
}

// serverInfo answers GET /api/meta/server. schemaCount counts the schemas the caller's
// key may read (public schemas do not count for an anonymous caller, as in Iglu
// Server); database is "sqlite" or "postgres" ("inmemory" without a store).
func (s *Server) serverInfo(w http.ResponseWriter, r *http.Request) {
	perm, ok := s.auth(w, r)
	if !ok {
		return
	}
	keys, err := s.localKeys(r.Context(), perm, func(k SchemaKey) bool { return perm.canRead(k.Vendor) })
	if err != nil {
		s.internalError(w, "listing schemas", err)
		return
	}
	database := "inmemory"
	if s.store != nil {
		database = s.store.Kind()
	}
	b := []byte(`{"version":`)
	b = appendJSONString(b, s.version)
	b = append(b, `,"authInfo":`...)
	b = perm.appendJSON(b)
	b = append(b, `,"database":`...)
	b = appendJSONString(b, database)
	b = append(b, `,"schemaCount":`...)
	b = strconv.AppendInt(b, int64(len(keys)), 10)
	b = append(b, `,"debug":false,"patchesAllowed":`...)
	b = strconv.AppendBool(b, s.patchesAllowed)
	writeJSON(w, http.StatusOK, append(b, '}'))
}

const maxRequestBody = 4 << 20

func readBody(w http.ResponseWriter, r *http.Request) ([]byte, bool) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxRequestBody))
	if err != nil {
		writeJSON(w, http.StatusRequestEntityTooLarge, message("Request body too large or unreadable: "+err.Error()))
		return nil, false
	}
	if !json.Valid(body) {
		writeJSON(w, http.StatusBadRequest, message("The request body is invalid JSON"))
		return nil, false
	}
	return body, true
}

// validateSchema answers POST /api/validation/validate/schema/jsonschema with Lint's
// findings (every level: a schema is "valid" only with none), for any valid key.
func (s *Server) validateSchema(w http.ResponseWriter, r *http.Request) {
	perm, ok := s.auth(w, r)
	if !ok {
		return
	}
	if f := chi.URLParam(r, "format"); f != FormatJSONSchema {
		writeJSON(w, http.StatusBadRequest, message(fmt.Sprintf("Unsupported schema format %q", f)))
		return
	}
	if !perm.canValidate() {
		s.forbidden(w, msgNotAuthorized)
		return
	}
	body, ok := readBody(w, r)
	if !ok {
		return
	}
	report := Lint(body)
	if len(report) > 0 {
		writeJSON(w, http.StatusOK, appendLintReport([]byte(`{"message":"The schema does not conform to a JSON Schema v4 specification","report":`), report))
		return
	}
	key, _ := schemaSelf(body)
	writeJSON(w, http.StatusOK, message("The schema provided is a valid self-describing "+key.String()+" schema"))
}

// schemaSelf reads a schema's self as a key.
func schemaSelf(raw []byte) (SchemaKey, error) {
	var doc struct {
		Self *struct {
			Vendor  string `json:"vendor"`
			Name    string `json:"name"`
			Format  string `json:"format"`
			Version string `json:"version"`
		} `json:"self"`
	}
	if err := json.Unmarshal(raw, &doc); err != nil || doc.Self == nil {
		return SchemaKey{}, &ParseError{Code: CodeInvalidSchema}
	}
	k, err := ParseSchemaKey("iglu:" + doc.Self.Vendor + "/" + doc.Self.Name + "/" + doc.Self.Format + "/" + doc.Self.Version)
	if err != nil {
		return SchemaKey{}, &ParseError{Code: CodeInvalidSchema, Input: err.Error()}
	}
	return k, nil
}

// jsonPathToPointer turns the JSONPaths this package writes ($.a['b c'][0]) into JSON
// pointers (/a/b c/0).
func jsonPathToPointer(p string) string {
	p = strings.TrimPrefix(p, "$")
	var sb strings.Builder
	for p != "" {
		var tok string
		switch {
		case strings.HasPrefix(p, "['"):
			end := strings.Index(p, "']")
			if end < 0 {
				end = len(p) - 2
			}
			tok = strings.NewReplacer(`\'`, `'`, `\\`, `\`).Replace(p[2:end])
			p = p[min(end+2, len(p)):]
		case strings.HasPrefix(p, "["):
			end := strings.IndexByte(p, ']')
			if end < 0 {
				end = len(p)
			}
			tok = p[1:end]
			p = p[min(end+1, len(p)):]
		case strings.HasPrefix(p, "."):
			p = p[1:]
			end := strings.IndexAny(p, ".[")
			if end < 0 {
				end = len(p)
			}
			tok = p[:end]
			p = p[end:]
		default:
			tok, p = p, ""
		}
		sb.WriteByte('/')
		sb.WriteString(strings.ReplaceAll(strings.ReplaceAll(tok, "~", "~0"), "/", "~1"))
	}
	if sb.Len() == 0 {
		return "/"
	}
	return sb.String()
}

// validateInstance answers POST /api/validation/validate/instance: the instance is
// validated against the schema this API serves for its key (one the caller may read),
// for any valid key.
func (s *Server) validateInstance(w http.ResponseWriter, r *http.Request) {
	perm, ok := s.auth(w, r)
	if !ok {
		return
	}
	if !perm.canValidate() {
		writeJSON(w, http.StatusNotFound, message(msgSchemaNotFound))
		return
	}
	body, ok := readBody(w, r)
	if !ok {
		return
	}
	sd, err := ParseSelfDescribing(body)
	if err != nil {
		code := CodeInvalidDataPayload
		var pe *ParseError
		if errors.As(err, &pe) {
			code = pe.Code
		}
		writeJSON(w, http.StatusBadRequest, message("JSON payload is not self-describing, "+code))
		return
	}
	instance, err := DecodeJSON(sd.Data, DefaultMaxJSONDepth)
	if err != nil {
		writeJSON(w, http.StatusBadRequest, message(err.Error()))
		return
	}
	ls, err := s.localSchema(r.Context(), perm, sd.Schema)
	if err != nil {
		s.internalError(w, "reading "+sd.Schema.String(), err)
		return
	}
	if ls == nil {
		writeJSON(w, http.StatusNotFound, message(msgSchemaNotFound))
		return
	}
	v, cerr := compileSchema(ls.raw, s.res.compile)
	if cerr != nil {
		writeJSON(w, http.StatusInternalServerError, message("Schema "+sd.Schema.String()+" fetched from DB is invalid"))
		return
	}
	reports, err := v.validate(instance)
	switch {
	case err != nil:
		s.internalError(w, "validating against "+sd.Schema.String(), err)
	case len(reports) == 0:
		writeJSON(w, http.StatusOK, message("Instance is valid "+sd.Schema.String()))
	default:
		b := []byte(`{"message":"The data for a field instance is invalid against its schema","report":[`)
		for i, rep := range reports {
			if i > 0 {
				b = append(b, ',')
			}
			b = rep.appendJSON(b)
		}
		writeJSON(w, http.StatusOK, append(b, "]}"...))
	}
}
