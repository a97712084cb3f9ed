package iglu

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
)

// StoredSchema is a schema published to the Iglu Server API.
type StoredSchema struct {
	Key SchemaKey
	// Body is the self-describing schema as published (compact JSON, with "$schema"
	// and "self").
	Body []byte
	// IsPublic: readable without an API key.
	IsPublic  bool
	CreatedAt time.Time
	UpdatedAt time.Time
}

// APIKey is a key created with POST /api/auth/keygen: a vendor prefix ("" for every
// vendor), a schema action (SchemaActionRead or SchemaActionCreateVendor) and key
// actions (none for keygen's keys).
type APIKey struct {
	// Key is the UUID, in canonical lower-case form.
	Key          string
	VendorPrefix string
	SchemaAction string
	KeyActions   []string
}

// SchemaStore keeps the published schemas and the API keys of the Iglu Server API. The
// server is its only writer; the resolver reads it as a repository.
type SchemaStore interface {
	// GetSchema returns the schema, or nil and no error when there is none.
	GetSchema(ctx context.Context, key SchemaKey) (*StoredSchema, error)
	// ListSchemas returns every schema of vendor (all when empty) and name (all when
	// empty), sorted by key.
	ListSchemas(ctx context.Context, vendor, name string) ([]StoredSchema, error)
	// PutSchema adds the schema, or replaces the one with the same key (keeping its
	// CreatedAt).
	PutSchema(ctx context.Context, s StoredSchema) error
	// DeleteSchema removes the schema; it reports whether there was one.
	DeleteSchema(ctx context.Context, key SchemaKey) (bool, error)
	// GetAPIKey returns the key, or nil and no error when it does not exist.
	GetAPIKey(ctx context.Context, key string) (*APIKey, error)
	// AddAPIKeys stores new keys, all or none.
	AddAPIKeys(ctx context.Context, keys ...APIKey) error
	// DeleteAPIKey removes the key; it reports whether there was one.
	DeleteAPIKey(ctx context.Context, key string) (bool, error)
	// Ping checks that the database answers.
	Ping(ctx context.Context) error
	// Kind names the database for GET /api/meta/server: "sqlite" or "postgres".
	Kind() string
}

// SQLStore is a SchemaStore in SQLite or PostgreSQL, in two tables: iglu_schemas and
// iglu_permissions (in the PostgreSQL schema given to NewSQLStore).
type SQLStore struct {
	db       *sql.DB
	postgres bool
	schemas  string // qualified table names
	keys     string
}

// The SQLStore dialects.
const (
	DialectSQLite   = "sqlite"
	DialectPostgres = "postgres"
)

var pgIdent = regexp.MustCompile(`^[a-z_][a-z0-9_]{0,62}$`)

// ValidPostgresSchema reports whether s may name the PostgreSQL schema of a SQLStore:
// 1..63 characters of a-z, 0-9 and _, starting with a letter or _.
func ValidPostgresSchema(s string) bool { return pgIdent.MatchString(s) }

// NewSQLStore creates the tables when they are missing and returns the store. dialect
// is DialectSQLite or DialectPostgres; pgSchema is the PostgreSQL schema of the tables
// (created when missing), ignored for SQLite. The store does not own db.
func NewSQLStore(ctx context.Context, db *sql.DB, dialect, pgSchema string) (*SQLStore, error) {
	s := &SQLStore{db: db, schemas: "iglu_schemas", keys: "iglu_permissions"}
	var ddl []string
	switch dialect {
	case DialectSQLite:
	case DialectPostgres:
		if !ValidPostgresSchema(pgSchema) {
			return nil, fmt.Errorf("iglu store: PostgreSQL schema %q: must be 1..63 characters of a-z, 0-9 and _, starting with a letter or _", pgSchema)
		}
		s.postgres = true
		s.schemas = `"` + pgSchema + `".iglu_schemas`
		s.keys = `"` + pgSchema + `".iglu_permissions`
		ddl = append(ddl, `CREATE SCHEMA IF NOT EXISTS "`+pgSchema+`"`)
	default:
		return nil, fmt.Errorf("iglu store: unknown dialect %q", dialect)
	}
	ddl = append(ddl,
		`CREATE TABLE IF NOT EXISTS `+s.schemas+` (
			vendor TEXT NOT NULL, name TEXT NOT NULL, format TEXT NOT NULL,
			model INTEGER NOT NULL, revision INTEGER NOT NULL, addition INTEGER NOT NULL,
			body TEXT NOT NULL, is_public BOOLEAN NOT NULL,
			created_at TEXT NOT NULL, updated_at TEXT NOT NULL,
			PRIMARY KEY (vendor, name, format, model, revision, addition))`,
		`CREATE TABLE IF NOT EXISTS `+s.keys+` (
			apikey TEXT PRIMARY KEY, vendor_prefix TEXT NOT NULL,
			schema_action TEXT NOT NULL, key_action TEXT NOT NULL)`,
	)
	for _, q := range ddl {
		if _, err := db.ExecContext(ctx, q); err != nil {
			if s.postgres && isDuplicateDDL(err) {
				continue // another process created it at the same moment
			}
			return nil, fmt.Errorf("iglu store: creating tables: %w", err)
		}
	}
	return s, nil
}

// isDuplicateDDL: PostgreSQL's IF NOT EXISTS can still fail on a concurrent creation.
func isDuplicateDDL(err error) bool {
	msg := err.Error()
	return strings.Contains(msg, "23505") || strings.Contains(msg, "42P06") || strings.Contains(msg, "42P07")
}

// Kind implements SchemaStore.
func (s *SQLStore) Kind() string {
	if s.postgres {
		return DialectPostgres
	}
	return DialectSQLite
}

// q rewrites ? placeholders as $n for PostgreSQL.
func (s *SQLStore) q(query string) string {
	if !s.postgres {
		return query
	}
	var b strings.Builder
	n := 0
	for _, r := range query {
		if r == '?' {
			n++
			b.WriteString("$" + strconv.Itoa(n))
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}

const storeTime = time.RFC3339Nano

func keyArgs(k SchemaKey) []any {
	return []any{k.Vendor, k.Name, k.Format, k.Version.Model, k.Version.Revision, k.Version.Addition}
}

const keyWhere = `vendor = ? AND name = ? AND format = ? AND model = ? AND revision = ? AND addition = ?`

// GetSchema implements SchemaStore.
func (s *SQLStore) GetSchema(ctx context.Context, key SchemaKey) (*StoredSchema, error) {
	rows, err := s.db.QueryContext(ctx, s.q(`SELECT vendor, name, format, model, revision, addition, body, is_public, created_at, updated_at FROM `+s.schemas+` WHERE `+keyWhere), keyArgs(key)...)
	if err != nil {
		return nil, fmt.Errorf("reading schema %s: %w", key, err)
	}
	out, err := scanSchemas(rows)
	if err != nil || len(out) == 0 {
		return nil, err
	}
	return &out[0], nil
}

// ListSchemas implements SchemaStore.
func (s *SQLStore) ListSchemas(ctx context.Context, vendor, name string) ([]StoredSchema, error) {
	query := `SELECT vendor, name, format, model, revision, addition, body, is_public, created_at, updated_at FROM ` + s.schemas
	var args []any
	var where []string
	if vendor != "" {
		where, args = append(where, "vendor = ?"), append(args, vendor)
	}
	if name != "" {
		where, args = append(where, "name = ?"), append(args, name)
	}
	if len(where) > 0 {
		query += " WHERE " + strings.Join(where, " AND ")
	}
	rows, err := s.db.QueryContext(ctx, s.q(query), args...)
	if err != nil {
		return nil, fmt.Errorf("listing schemas: %w", err)
	}
	out, err := scanSchemas(rows)
	if err != nil {
		return nil, err
	}
	slices.SortFunc(out, func(a, b StoredSchema) int { return a.Key.Compare(b.Key) })
	return out, nil
}

func scanSchemas(rows *sql.Rows) ([]StoredSchema, error) {
	defer rows.Close()
	var out []StoredSchema
	for rows.Next() {
		var st StoredSchema
		var body, created, updated string
		k := &st.Key
		if err := rows.Scan(&k.Vendor, &k.Name, &k.Format, &k.Version.Model, &k.Version.Revision, &k.Version.Addition, &body, &st.IsPublic, &created, &updated); err != nil {
			return nil, fmt.Errorf("reading schemas: %w", err)
		}
		st.Body = []byte(body)
		st.CreatedAt, _ = time.Parse(storeTime, created)
		st.UpdatedAt, _ = time.Parse(storeTime, updated)
		out = append(out, st)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("reading schemas: %w", err)
	}
	return out, nil
}

// PutSchema implements SchemaStore.
func (s *SQLStore) PutSchema(ctx context.Context, st StoredSchema) error {
	args := append(keyArgs(st.Key), string(st.Body), st.IsPublic, st.CreatedAt.UTC().Format(storeTime), st.UpdatedAt.UTC().Format(storeTime))
	_, err := s.db.ExecContext(ctx, s.q(`INSERT INTO `+s.schemas+` (vendor, name, format, model, revision, addition, body, is_public, created_at, updated_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (vendor, name, format, model, revision, addition)
		DO UPDATE SET body = excluded.body, is_public = excluded.is_public, updated_at = excluded.updated_at`), args...)
	if err != nil {
		return fmt.Errorf("storing schema %s: %w", st.Key, err)
	}
	return nil
}

// DeleteSchema implements SchemaStore.
func (s *SQLStore) DeleteSchema(ctx context.Context, key SchemaKey) (bool, error) {
	res, err := s.db.ExecContext(ctx, s.q(`DELETE FROM `+s.schemas+` WHERE `+keyWhere), keyArgs(key)...)
	if err != nil {
		return false, fmt.Errorf("deleting schema %s: %w", key, err)
	}
	n, err := res.RowsAffected()
	return n > 0, err
}

// GetAPIKey implements SchemaStore.
func (s *SQLStore) GetAPIKey(ctx context.Context, key string) (*APIKey, error) {
	var k APIKey
	var actions string
	err := s.db.QueryRowContext(ctx, s.q(`SELECT apikey, vendor_prefix, schema_action, key_action FROM `+s.keys+` WHERE apikey = ?`), key).
		Scan(&k.Key, &k.VendorPrefix, &k.SchemaAction, &actions)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("reading an API key: %w", err)
	}
	if actions != "" {
		k.KeyActions = strings.Split(actions, ",")
	}
	return &k, nil
}

// AddAPIKeys implements SchemaStore.
func (s *SQLStore) AddAPIKeys(ctx context.Context, keys ...APIKey) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("storing API keys: %w", err)
	}
	defer tx.Rollback()
	for _, k := range keys {
		_, err := tx.ExecContext(ctx, s.q(`INSERT INTO `+s.keys+` (apikey, vendor_prefix, schema_action, key_action) VALUES (?, ?, ?, ?)`),
			k.Key, k.VendorPrefix, k.SchemaAction, strings.Join(k.KeyActions, ","))
		if err != nil {
			return fmt.Errorf("storing API keys: %w", err)
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("storing API keys: %w", err)
	}
	return nil
}

// DeleteAPIKey implements SchemaStore.
func (s *SQLStore) DeleteAPIKey(ctx context.Context, key string) (bool, error) {
	res, err := s.db.ExecContext(ctx, s.q(`DELETE FROM `+s.keys+` WHERE apikey = ?`), key)
	if err != nil {
		return false, fmt.Errorf("deleting an API key: %w", err)
	}
	n, err := res.RowsAffected()
	return n > 0, err
}

// Ping implements SchemaStore.
func (s *SQLStore) Ping(ctx context.Context) error {
	return s.db.PingContext(ctx)
}
