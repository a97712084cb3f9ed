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
	"time"

	"github.com/go-chi/chi/v5"
)

// ServerConfig configures the Iglu Server API.
type ServerConfig struct {
	// Version is reported by GET /api/meta/server. Default "0.1.0".
	Version string
}

// Server answers the read side of Iglu Server's REST API (0.14) from the schemas the
// resolver holds locally: the embedded core set and the local schema folders, never
// the HTTP repositories (so a resolver that lists this server as a repository cannot
// loop). The registry is read-only: publishing (POST/PUT/DELETE /api/schemas), API keys
// and drafts answer 405; add schemas by putting files in a local folder (--schemas),
// which the API sees at once. Every schema is public and no apikey is needed.
//
// Linting (POST /api/validation/validate/schema/jsonschema) checks that the schema is
// self-describing, names the Iglu meta-schema in $schema and compiles as draft-04; the
// advisory lints of schema-ddl (warnings and infos) are not implemented.
type Server struct {
	res     *Resolver
	version string
	started time.Time
}

// NewServer builds the API over res.
func NewServer(res *Resolver, cfg ServerConfig) *Server {
	if cfg.Version == "" {
		cfg.Version = "0.1.0"
	}
	return &Server{res: res, version: cfg.Version, started: res.now()}
}

// Register adds the /api routes to r.
func (s *Server) Register(r chi.Router) {
	r.Get("/api/schemas", s.listAll)
	r.Get("/api/schemas/{vendor}", s.listVendor)
	r.Get("/api/schemas/{vendor}/{name}", s.listName)
	r.Get("/api/schemas/{vendor}/{name}/jsonschema/{model}", s.listModel)
	r.Get("/api/schemas/{vendor}/{name}/{format}/{version}", s.getSchema)
	r.Get("/api/meta/health", s.health)
	r.Get("/api/meta/server", s.serverInfo)
	r.Post("/api/validation/validate/schema/{format}", s.validateSchema)
	r.Post("/api/validation/validate/instance", s.validateInstance)
	readOnly := func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, http.StatusMethodNotAllowed, message("This schema registry is read-only: put schema files in a local schema folder instead"))
	}
	r.Post("/api/schemas", readOnly)
	r.Put("/api/schemas/{vendor}/{name}/{format}/{version}", readOnly)
	r.Delete("/api/schemas/{vendor}/{name}/{format}/{version}", readOnly)
	r.Post("/api/auth/keygen", readOnly)
	r.Delete("/api/auth/keygen", readOnly)
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

// localSchema is one schema of the browsable repositories.
type localSchema struct {
	key      SchemaKey
	raw      []byte
	modified time.Time
}

// localKeys lists the browsable schemas matching keep, first repository wins.
func (s *Server) localKeys(keep func(SchemaKey) bool) ([]SchemaKey, error) {
	seen := map[SchemaKey]bool{}
	var keys []SchemaKey
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

// localSchema reads one schema from the browsable repositories, in lookup order.
func (s *Server) localSchema(key SchemaKey) (*localSchema, error) {
	for _, rp := range sortRepos(s.res.browsable, key.Vendor) {
		b := rp.backend.(*fsBackend)
		raw, ferr := b.fetch(context.Background(), key)
		if ferr != nil {
			if ferr.kind == NotFound {
				continue
			}
			return nil, ferr
		}
		ls := &localSchema{key: key, raw: raw, modified: s.started}
		for _, name := range []string{key.Path(), key.Path() + ".json"} {
			if st, err := fs.Stat(b.fsys, name); err == nil && !st.ModTime().IsZero() {
				ls.modified = st.ModTime()
				break
			}
		}
		return ls, nil
	}
	return nil, nil
}

func (s *Server) listAll(w http.ResponseWriter, r *http.Request) {
	s.list(w, r, func(SchemaKey) bool { return true })
}

func (s *Server) listVendor(w http.ResponseWriter, r *http.Request) {
	vendor := chi.URLParam(r, "vendor")
	s.list(w, r, func(k SchemaKey) bool { return k.Vendor == vendor })
}

func (s *Server) listName(w http.ResponseWriter, r *http.Request) {
	vendor, name := chi.URLParam(r, "vendor"), chi.URLParam(r, "name")
	s.list(w, r, func(k SchemaKey) bool { return k.Vendor == vendor && k.Name == name })
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
	s.list(w, r, func(k SchemaKey) bool {
		return k.Vendor == vendor && k.Name == name && k.Format == FormatJSONSchema && k.Version.Model == m
	})
}

func (s *Server) list(w http.ResponseWriter, r *http.Request, keep func(SchemaKey) bool) {
	repr := r.URL.Query().Get("repr")
	if repr == "" {
		repr = "uri"
	}
	repr = strings.ToLower(repr)
	if repr != "uri" && repr != "meta" && repr != "canonical" {
		writeJSON(w, http.StatusBadRequest, message(fmt.Sprintf("Invalid repr %q: must be uri, meta or canonical", repr)))
		return
	}
	keys, err := s.localKeys(keep)
	if err != nil {
		s.internalError(w, "listing schemas", err)
		return
	}
	if len(keys) == 0 {
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
		ls, err := s.localSchema(k)
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
	ls, err := s.localSchema(key)
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
	var rest []member
	for _, m := range members {
		switch m.key {
		case "self", "metadata":
		case "$schema":
			schemaURI = m.value
		default:
			rest = append(rest, m)
		}
	}
	b := []byte{'{'}
	if repr == "canonical" {
		if schemaURI == nil {
			schemaURI = appendJSONString(nil, MetaSchemaURI)
		}
		b = append(b, `"$schema":`...)
		b = append(b, schemaURI...)
		b = append(b, `,"self":`...)
		b = append(b, self...)
	} else {
		if schemaURI != nil {
			b = append(b, `"$schema":`...)
			b = append(b, schemaURI...)
			b = append(b, ',')
		}
		b = append(b, `"self":`...)
		b = append(b, self...)
		b = append(b, `,"metadata":{"createdAt":"`...)
		b = ls.modified.UTC().AppendFormat(b, lastAttemptLayout)
		b = append(b, `","updatedAt":"`...)
		b = ls.modified.UTC().AppendFormat(b, lastAttemptLayout)
		b = append(b, `","isPublic":true}`...)
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

func (s *Server) serverInfo(w http.ResponseWriter, _ *http.Request) {
	keys, err := s.localKeys(func(SchemaKey) bool { return true })
	if err != nil {
		s.internalError(w, "listing schemas", err)
		return
	}
	b := []byte(`{"version":`)
	b = appendJSONString(b, s.version)
	b = append(b, `,"authInfo":{"vendor":"","schema":null,"key":[]},"database":"inmemory","schemaCount":`...)
	b = strconv.AppendInt(b, int64(len(keys)), 10)
	b = append(b, `,"debug":false,"patchesAllowed":false}`...)
	writeJSON(w, http.StatusOK, b)
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

// lintReport is one entry of a schema validation report.
type lintReport struct {
	message, level, pointer string
}

func (s *Server) validateSchema(w http.ResponseWriter, r *http.Request) {
	if f := chi.URLParam(r, "format"); f != FormatJSONSchema {
		writeJSON(w, http.StatusBadRequest, message(fmt.Sprintf("Unsupported schema format %q", f)))
		return
	}
	body, ok := readBody(w, r)
	if !ok {
		return
	}
	var report []lintReport
	key, selfErr := schemaSelf(body)
	if selfErr != nil {
		report = append(report, lintReport{"JSON Schema is not self-describing", "ERROR", "/"})
	}
	var top map[string]json.RawMessage
	if json.Unmarshal(body, &top) == nil {
		var uri string
		if json.Unmarshal(top["$schema"], &uri) != nil || uri != MetaSchemaURI {
			report = append(report, lintReport{"Schema property [$schema] with value [" + strings.Trim(string(top["$schema"]), `"`) + "] is not " + MetaSchemaURI, "ERROR", "/"})
		}
	}
	if err := s.res.CheckSchema(body); err != nil {
		var ce *ClientError
		if errors.As(err, &ce) {
			for _, is := range ce.SchemaIssues {
				report = append(report, lintReport{is.Message, "ERROR", jsonPathToPointer(is.Path)})
			}
		}
	}
	if len(report) > 0 {
		b := []byte(`{"message":"The schema does not conform to a JSON Schema v4 specification","report":[`)
		for i, rep := range report {
			if i > 0 {
				b = append(b, ',')
			}
			b = append(b, `{"message":`...)
			b = appendJSONString(b, rep.message)
			b = append(b, `,"level":`...)
			b = appendJSONString(b, rep.level)
			b = append(b, `,"pointer":`...)
			b = appendJSONString(b, rep.pointer)
			b = append(b, '}')
		}
		writeJSON(w, http.StatusOK, append(b, "]}"...))
		return
	}
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

func (s *Server) validateInstance(w http.ResponseWriter, r *http.Request) {
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
	_, err = s.res.Validate(r.Context(), sd.Schema, instance)
	var ce *ClientError
	switch {
	case err == nil:
		writeJSON(w, http.StatusOK, message("Instance is valid "+sd.Schema.String()))
	case errors.As(err, &ce) && ce.Kind == ResolutionError:
		writeJSON(w, http.StatusNotFound, message(msgSchemaNotFound))
	case errors.As(err, &ce) && len(ce.SchemaIssues) > 0:
		writeJSON(w, http.StatusInternalServerError, message("Schema "+sd.Schema.String()+" fetched from DB is invalid"))
	case errors.As(err, &ce):
		b := []byte(`{"message":"The data for a field instance is invalid against its schema","report":[`)
		for i, rep := range ce.DataReports {
			if i > 0 {
				b = append(b, ',')
			}
			b = rep.appendJSON(b)
		}
		writeJSON(w, http.StatusOK, append(b, "]}"...))
	default:
		s.internalError(w, "validating against "+sd.Schema.String(), err)
	}
}
