package iglu

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/go-chi/chi/v5"
)

// Iglu Server's answers to publications.
const (
	msgDecodeError    = "Cannot decode JSON schema"
	msgMismatch       = "Mismatch: the schema metadata does not match the payload and URI"
	msgNotAuthorized  = "Authentication error: not authorized"
	msgNonSequential  = "The schema version is not sequential"
	msgAlreadyExists  = "Schema already exists"
	msgPreviousMiss   = "Preceding SchemaVer in the group is missing, check that schemas published in proper order"
	msgSupersededMiss = "Superseded schema version(s) do not exist"
	msgSupersededBad  = "Superseded schema version(s) must be below the superseding version"
	msgSchemaInvalid  = "The schema does not conform to a JSON Schema v4 specification"
)

// publishable is a schema received for publication.
type publishable struct {
	key        SchemaKey
	doc        []member // the schema's members, "$schema" and "self" first
	supersedes []SchemaVer
}

// body renders the schema to store: "$schema" (the Iglu meta-schema unless the
// publisher gave one), "self", then the rest in the publisher's order.
func (p publishable) body() []byte {
	b := []byte{'{'}
	for i, m := range p.doc {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendJSONString(b, m.key)
		b = append(b, ':')
		b = append(b, m.value...)
	}
	return append(b, '}')
}

// readPublishable reads a publication's body: a self-describing schema, or (urlKey not
// zero, PUT) a bare JSON Schema published at urlKey. It answers the request itself
// when the body cannot be published (ok false).
func readPublishable(w http.ResponseWriter, r *http.Request, urlKey SchemaKey) (publishable, bool) {
	raw, ok := readBody(w, r)
	if !ok {
		return publishable{}, false
	}
	if err := CheckJSONDepth(raw, DefaultMaxJSONDepth); err != nil {
		writeJSON(w, http.StatusBadRequest, message(err.Error()))
		return publishable{}, false
	}
	members, err := objectMembers(raw)
	if err != nil {
		writeJSON(w, http.StatusBadRequest, message(msgDecodeError))
		return publishable{}, false
	}
	var p publishable
	var schemaURI json.RawMessage
	var rest []member
	hasSelf := false
	for _, m := range members {
		switch m.key {
		case "$schema":
			schemaURI = m.value
		case "self":
			hasSelf = true
		case "$supersedes":
			var vs []string
			if json.Unmarshal(m.value, &vs) != nil {
				writeJSON(w, http.StatusBadRequest, message(msgDecodeError))
				return publishable{}, false
			}
			for _, v := range vs {
				ver, err := ParseSchemaVer(v)
				if err != nil {
					writeJSON(w, http.StatusBadRequest, message(msgDecodeError))
					return publishable{}, false
				}
				p.supersedes = append(p.supersedes, ver)
			}
			rest = append(rest, m)
		default:
			rest = append(rest, m)
		}
	}
	self, selfErr := schemaSelf(raw)
	switch {
	case hasSelf && selfErr == nil:
		p.key = self
		if !urlKey.IsZero() && self != urlKey {
			b := []byte(`{"uriSchemaKey":`)
			b = appendJSONString(b, urlKey.String())
			b = append(b, `,"payloadSchemaKey":`...)
			b = appendJSONString(b, self.String())
			b = append(b, `,"message":`...)
			b = appendJSONString(b, msgMismatch)
			writeJSON(w, http.StatusBadRequest, append(b, '}'))
			return publishable{}, false
		}
	case urlKey.IsZero():
		// POST needs a self-describing schema.
		writeJSON(w, http.StatusBadRequest, message(msgDecodeError))
		return publishable{}, false
	default:
		p.key = urlKey
	}
	if schemaURI == nil {
		schemaURI = appendJSONString(nil, MetaSchemaURI)
	}
	p.doc = append([]member{{key: "$schema", value: schemaURI}, {key: "self", value: appendSelf(nil, p.key)}}, rest...)
	return p, true
}

// parseIsPublic reads ?isPublic= (default false).
func parseIsPublic(w http.ResponseWriter, r *http.Request) (bool, bool) {
	v := r.URL.Query().Get("isPublic")
	if v == "" {
		return false, true
	}
	b, err := strconv.ParseBool(strings.ToLower(v))
	if err != nil || (strings.ToLower(v) != "true" && strings.ToLower(v) != "false") {
		writeJSON(w, http.StatusBadRequest, message("Invalid isPublic "+strconv.Quote(v)+": must be true or false"))
		return false, false
	}
	return b, true
}

func (s *Server) postSchema(w http.ResponseWriter, r *http.Request) {
	s.publish(w, r, SchemaKey{})
}

func (s *Server) putSchema(w http.ResponseWriter, r *http.Request) {
	key, err := ParseSchemaKey("iglu:" + chi.URLParam(r, "vendor") + "/" + chi.URLParam(r, "name") + "/" + chi.URLParam(r, "format") + "/" + chi.URLParam(r, "version"))
	if err != nil {
		writeJSON(w, http.StatusBadRequest, message(err.Error()))
		return
	}
	s.publish(w, r, key)
}

// publish implements POST /api/schemas and PUT /api/schemas/{key}, in Iglu Server's
// order: the key, the body, the permission, the lint, then the versioning rules.
func (s *Server) publish(w http.ResponseWriter, r *http.Request, urlKey SchemaKey) {
	perm, ok := s.auth(w, r)
	if !ok {
		return
	}
	isPublic, ok := parseIsPublic(w, r)
	if !ok {
		return
	}
	p, ok := readPublishable(w, r, urlKey)
	if !ok {
		return
	}
	if !perm.canCreateSchema(p.key.Vendor) {
		s.forbidden(w, msgNotAuthorized)
		return
	}
	body := p.body()
	if report := Lint(body); HasLintErrors(report) {
		writeJSON(w, http.StatusBadRequest, appendLintReport([]byte(`{"message":`+strconv.Quote(msgSchemaInvalid)+`,"report":`), report))
		return
	}

	s.writeMu.Lock()
	defer s.writeMu.Unlock()
	ctx := r.Context()
	group, err := s.store.ListSchemas(ctx, p.key.Vendor, p.key.Name)
	if err != nil {
		s.storeFailed(w, err)
		return
	}
	var versions []SchemaVer
	var existing *StoredSchema
	previousPublic := true
	for i, g := range group {
		versions = append(versions, g.Key.Version)
		previousPublic = previousPublic && g.IsPublic
		if g.Key == p.key {
			existing = &group[i]
		}
	}
	if len(group) > 0 && isPublic != previousPublic {
		writeJSON(w, http.StatusConflict, message("Inconsistent schema availability. Cannot add "+availability(isPublic)+" schema, previous versions are "+availability(previousPublic)))
		return
	}
	if msg := versionAllowed(p.key.Version, versions, s.patchesAllowed, p.supersedes); msg != "" {
		writeJSON(w, http.StatusConflict, message(msg))
		return
	}
	now := s.res.now().UTC()
	st := StoredSchema{Key: p.key, Body: body, IsPublic: isPublic, CreatedAt: now, UpdatedAt: now}
	if existing != nil {
		st.CreatedAt = existing.CreatedAt
	}
	if err := s.store.PutSchema(ctx, st); err != nil {
		s.storeFailed(w, err)
		return
	}
	s.res.Invalidate(p.key)
	for _, v := range p.supersedes {
		if err := s.markSuperseded(ctx, group, p.key, v); err != nil {
			s.storeFailed(w, err)
			return
		}
	}
	updated := existing != nil
	s.res.log.Info("schema published", "schema", p.key.String(), "updated", updated, "public", isPublic)
	status, msg := http.StatusCreated, "Schema created"
	if updated {
		status, msg = http.StatusOK, "Schema updated"
	}
	b := []byte(`{"message":`)
	b = appendJSONString(b, msg)
	b = append(b, `,"updated":`...)
	b = strconv.AppendBool(b, updated)
	b = append(b, `,"location":`...)
	b = appendJSONString(b, p.key.String())
	b = append(b, `,"status":`...)
	b = strconv.AppendInt(b, int64(status), 10)
	writeJSON(w, status, append(b, '}'))
}

// markSuperseded records in the stored version v of by's name that by supersedes it,
// as Iglu Server does: v is then served with "$supersededBy", and the resolver
// validates v's instances against by (enrich adds its validation_info context). A
// version superseded twice keeps the later superseding version.
func (s *Server) markSuperseded(ctx context.Context, group []StoredSchema, by SchemaKey, v SchemaVer) error {
	for _, g := range group {
		if g.Key.Version != v || g.Key.Format != by.Format {
			continue
		}
		members, err := objectMembers(g.Body)
		if err != nil {
			return fmt.Errorf("reading stored %s: %w", g.Key, err)
		}
		value := appendJSONString(nil, by.Version.String())
		out := make([]member, 0, len(members)+1)
		placed := false
		for _, m := range members {
			switch {
			case m.key == "$supersededBy":
				var cur string
				if old, err := ParseSchemaVer(strings.Trim(string(m.value), `"`)); err == nil && json.Unmarshal(m.value, &cur) == nil && old.Compare(by.Version) > 0 {
					value = m.value
				}
				continue
			case m.key == "self" && !placed:
				out = append(out, member{key: "$supersededBy", value: value})
				placed = true
			}
			out = append(out, m)
		}
		if !placed {
			out = append([]member{{key: "$supersededBy", value: value}}, out...)
		}
		g.Body = publishable{doc: out}.body()
		g.UpdatedAt = s.res.now().UTC()
		if err := s.store.PutSchema(ctx, g); err != nil {
			return err
		}
		s.res.Invalidate(g.Key)
		s.res.log.Info("schema superseded", "schema", g.Key.String(), "superseded_by", by.Version.String())
	}
	return nil
}

func availability(public bool) string {
	if public {
		return "public"
	}
	return "private"
}

func (s *Server) storeFailed(w http.ResponseWriter, err error) {
	s.internalError(w, "the schema store", err)
}

// versionAllowed applies Iglu Server's VersionCursor: "" when v may be published next to
// the existing versions of its vendor/name, else the message of the 409.
func versionAllowed(v SchemaVer, existing []SchemaVer, patchesAllowed bool, supersedes []SchemaVer) string {
	if slices.Contains(existing, v) && !patchesAllowed {
		return msgAlreadyExists
	}
	has := func(keep func(SchemaVer) bool) bool { return slices.ContainsFunc(existing, keep) }
	switch {
	case v == SchemaVer{1, 0, 0}:
	case v.Revision == 0 && v.Addition == 0:
		if !has(func(e SchemaVer) bool { return e.Model == v.Model-1 }) {
			return msgPreviousMiss
		}
	case v.Addition == 0:
		if !has(func(e SchemaVer) bool { return e.Model == v.Model && e.Revision == v.Revision-1 }) {
			return msgPreviousMiss
		}
	default:
		if has(func(e SchemaVer) bool { return e.Model == v.Model && e.Revision == v.Revision+1 }) {
			return msgNonSequential
		}
		if !has(func(e SchemaVer) bool {
			return e.Model == v.Model && e.Revision == v.Revision && e.Addition == v.Addition-1
		}) {
			return msgPreviousMiss
		}
	}
	for _, sv := range supersedes {
		if !slices.Contains(existing, sv) {
			return msgSupersededMiss
		}
	}
	for _, sv := range supersedes {
		if sv.Compare(v) > 0 {
			return msgSupersededBad
		}
	}
	return ""
}

// deleteSchema implements DELETE /api/schemas/{key}: the super key only, and only when
// patches are allowed.
func (s *Server) deleteSchema(w http.ResponseWriter, r *http.Request) {
	perm, ok := s.auth(w, r)
	if !ok {
		return
	}
	key, err := ParseSchemaKey("iglu:" + chi.URLParam(r, "vendor") + "/" + chi.URLParam(r, "name") + "/" + chi.URLParam(r, "format") + "/" + chi.URLParam(r, "version"))
	if err != nil {
		writeJSON(w, http.StatusBadRequest, message(err.Error()))
		return
	}
	switch {
	case !perm.super:
		msg := "Not enough permissions"
		if s.superKey == "" {
			msg += ". " + NoSuperKeyHint
		}
		writeJSON(w, http.StatusUnauthorized, message(msg))
		return
	case !s.patchesAllowed:
		writeJSON(w, http.StatusMethodNotAllowed, message("DELETE is forbidden on production registry"))
		return
	}
	s.writeMu.Lock()
	defer s.writeMu.Unlock()
	if _, err := s.store.DeleteSchema(r.Context(), key); err != nil {
		s.storeFailed(w, err)
		return
	}
	s.res.Invalidate(key)
	s.res.log.Info("schema deleted", "schema", key.String())
	writeJSON(w, http.StatusOK, message("Schema deleted"))
}

// appendLintReport writes "report":[…]} after prefix.
func appendLintReport(b []byte, report []LintMessage) []byte {
	b = append(b, '[')
	for i, rep := range report {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, `{"message":`...)
		b = appendJSONString(b, rep.Message)
		b = append(b, `,"level":`...)
		b = appendJSONString(b, string(rep.Level))
		b = append(b, `,"pointer":`...)
		b = appendJSONString(b, rep.Pointer)
		b = append(b, '}')
	}
	return append(b, "]}"...)
}
