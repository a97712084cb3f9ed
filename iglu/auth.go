package iglu

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"

	"github.com/google/uuid"
)

// Iglu Server's schema actions, from least to most.
const (
	SchemaActionRead         = "READ"
	SchemaActionBump         = "BUMP"
	SchemaActionCreate       = "CREATE"
	SchemaActionCreateVendor = "CREATE_VENDOR"
)

// Iglu Server's key actions.
const (
	KeyActionCreate = "CREATE"
	KeyActionDelete = "DELETE"
)

// permission is what a request may do, as Iglu Server's Permission: a vendor (dot
// separated parts; a key covers its vendor and every vendor below it), an optional
// schema action and key actions. The anonymous permission covers no vendor.
type permission struct {
	anyVendor bool     // the wildcard vendor ("*" or "")
	vendor    []string // the vendor's parts, when not anyVendor
	schema    string   // "" for none
	keys      []string
	super     bool // the configured super key
}

var (
	permAnonymous = permission{}
	permSuper     = permission{anyVendor: true, schema: SchemaActionCreateVendor, keys: []string{KeyActionCreate, KeyActionDelete}, super: true}
)

// parseVendorPrefix reads a key's vendor prefix as Iglu Server does: "*" or blank is
// every vendor.
func parseVendorPrefix(p string) permission {
	if p == "*" || strings.TrimSpace(p) == "" {
		return permission{anyVendor: true}
	}
	return permission{vendor: strings.Split(p, ".")}
}

func (p permission) vendorString() string {
	if p.anyVendor {
		return ""
	}
	return strings.Join(p.vendor, ".")
}

// covers reports whether the permission's vendor covers schemaVendor.
func (p permission) covers(schemaVendor string) bool {
	if p.anyVendor {
		return true
	}
	if len(p.vendor) == 0 {
		return false
	}
	parts := strings.Split(schemaVendor, ".")
	return len(parts) >= len(p.vendor) && slices.Equal(parts[:len(p.vendor)], p.vendor)
}

func (p permission) canRead(vendor string) bool {
	return (p.schema != "" || len(p.keys) > 0) && p.covers(vendor)
}

func (p permission) canCreateSchema(vendor string) bool {
	return ((p.schema != "" && p.schema != SchemaActionRead) || len(p.keys) > 0) && p.covers(vendor)
}

func (p permission) canCreateKey(vendor string) bool {
	return slices.Contains(p.keys, KeyActionCreate) && p.covers(vendor)
}

func (p permission) canValidate() bool { return p.schema != "" || len(p.keys) > 0 }

// appendJSON writes the permission as GET /api/meta/server's authInfo.
func (p permission) appendJSON(b []byte) []byte {
	b = append(b, `{"vendor":`...)
	b = appendJSONString(b, p.vendorString())
	b = append(b, `,"schema":`...)
	if p.schema == "" {
		b = append(b, "null"...)
	} else {
		b = appendJSONString(b, p.schema)
	}
	b = append(b, `,"key":[`...)
	for i, k := range p.keys {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendJSONString(b, k)
	}
	return append(b, "]}"...)
}

// auth reads the apikey header: no header, or a key this server does not know, is
// anonymous; the super key is everything; a stored key is what it was created with. A
// header that is not a UUID is answered 400 here (ok false), as Iglu Server does.
func (s *Server) auth(w http.ResponseWriter, r *http.Request) (permission, bool) {
	h, ok := r.Header[http.CanonicalHeaderKey("apikey")]
	if !ok || len(h) == 0 {
		return permAnonymous, true
	}
	id, err := uuid.Parse(strings.TrimSpace(h[0]))
	if err != nil {
		writeJSON(w, http.StatusBadRequest, message("Invalid UUID for ApiKey"))
		return permission{}, false
	}
	key := id.String()
	if s.superKey != "" && key == s.superKey {
		return permSuper, true
	}
	if s.store == nil {
		return permAnonymous, true
	}
	k, err := s.store.GetAPIKey(r.Context(), key)
	if err != nil {
		s.internalError(w, "reading API keys", err)
		return permission{}, false
	}
	if k == nil {
		return permAnonymous, true
	}
	p := parseVendorPrefix(k.VendorPrefix)
	p.schema = k.SchemaAction
	p.keys = k.KeyActions
	return p, true
}

// notAuthorized answers 403 with Iglu Server's message, and says how to configure a
// super key when this server has none (then nobody can write).
func (s *Server) forbidden(w http.ResponseWriter, msg string) {
	if s.superKey == "" {
		msg += ". " + NoSuperKeyHint
	}
	writeJSON(w, http.StatusForbidden, message(msg))
}

// NoSuperKeyHint tells how to enable writes on a server started without a super API key.
const NoSuperKeyHint = "This Iglu Server has no super API key, so schemas and keys cannot be written: " +
	"set one (a UUID) with --iglu-super-api-key, the SNOWPLOW_MINI_IGLU_SUPER_API_KEY environment variable " +
	"or iglu.superApiKey in the config file, then use it as the apikey header or create keys with POST /api/auth/keygen"

// keygen answers POST /api/auth/keygen: {"vendorPrefix":"com.acme"} gives a read key
// (READ on the prefix) and a write key (CREATE_VENDOR on the prefix).
func (s *Server) keygen(w http.ResponseWriter, r *http.Request) {
	perm, ok := s.auth(w, r)
	if !ok {
		return
	}
	body, ok := readBody(w, r)
	if !ok {
		return
	}
	var req struct {
		VendorPrefix *string `json:"vendorPrefix"`
	}
	if err := json.Unmarshal(body, &req); err != nil || req.VendorPrefix == nil {
		writeJSON(w, http.StatusBadRequest, message(`The request body must be {"vendorPrefix":"<vendor prefix or *>"}`))
		return
	}
	if !slices.Contains(perm.keys, KeyActionCreate) {
		s.forbidden(w, "Not sufficient privileges to create keys")
		return
	}
	prefix := parseVendorPrefix(*req.VendorPrefix)
	if !perm.canCreateKey(prefix.vendorString()) {
		show := prefix.vendorString()
		if prefix.anyVendor {
			show = "'wildcard vendor'"
		}
		writeJSON(w, http.StatusForbidden, message(fmt.Sprintf("Cannot create %s using your permissions", show)))
		return
	}
	read, write := uuid.NewString(), uuid.NewString()
	err := s.store.AddAPIKeys(r.Context(),
		APIKey{Key: read, VendorPrefix: prefix.vendorString(), SchemaAction: SchemaActionRead},
		APIKey{Key: write, VendorPrefix: prefix.vendorString(), SchemaAction: SchemaActionCreateVendor},
	)
	if err != nil {
		s.internalError(w, "storing API keys", err)
		return
	}
	s.res.log.Info("API keys created", "vendor_prefix", prefix.vendorString())
	b := append([]byte(`{"read":`), appendJSONString(nil, read)...)
	b = append(append(b, `,"write":`...), appendJSONString(nil, write)...)
	writeJSON(w, http.StatusOK, append(b, '}'))
}

// deleteKey answers DELETE /api/auth/keygen?key=<uuid> (igluctl 0.13 sends the key as
// a "key" header, which is accepted too).
func (s *Server) deleteKey(w http.ResponseWriter, r *http.Request) {
	perm, ok := s.auth(w, r)
	if !ok {
		return
	}
	raw := r.URL.Query().Get("key")
	if raw == "" {
		raw = r.Header.Get("key")
	}
	id, err := uuid.Parse(raw)
	if err != nil {
		writeJSON(w, http.StatusBadRequest, message(fmt.Sprintf("Invalid key %q: the key query parameter must be a UUID", raw)))
		return
	}
	if !slices.Contains(perm.keys, KeyActionDelete) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.WriteHeader(http.StatusForbidden)
		_, _ = w.Write([]byte("Not sufficient privileges to delete key"))
		return
	}
	if _, err := s.store.DeleteAPIKey(r.Context(), id.String()); err != nil {
		s.internalError(w, "deleting an API key", err)
		return
	}
	writeJSON(w, http.StatusOK, message("Keys have been deleted"))
}
