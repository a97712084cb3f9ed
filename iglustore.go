package main

import (
	"context"
	"database/sql"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"

	_ "github.com/jackc/pgx/v5/stdlib" // the "pgx" database/sql driver
	_ "modernc.org/sqlite"             // the "sqlite" database/sql driver

	"github.com/snowplow-mini/snowplow-mini/iglu"
)

// igluStoreFile is the SQLite file of the Iglu Server API in the data directory.
const igluStoreFile = "iglu.db"

// openIgluStore opens the store of the schemas published to the Iglu Server API and of
// its API keys: in the event store's PostgreSQL database (schema iglu.postgresSchema,
// by default the event store's own)
// when the sink is PostgreSQL, else in iglu.db in the data directory (created 0600: it
// holds API keys). The returned function closes it.
func openIgluStore(ctx context.Context, cfg Config) (iglu.SchemaStore, func() error, error) {
	sink := cfg.Loaders.Sink.URL
	if strings.HasPrefix(sink, "postgres://") || strings.HasPrefix(sink, "postgresql://") {
		db, err := sql.Open("pgx", sink)
		if err != nil {
			return nil, nil, fmt.Errorf("iglu store: %w", err)
		}
		db.SetMaxOpenConns(4)
		schema := cfg.Iglu.PostgresSchema
		if schema == "" {
			schema = cfg.Loaders.Sink.Schema
		}
		st, err := iglu.NewSQLStore(ctx, db, iglu.DialectPostgres, schema)
		if err != nil {
			db.Close()
			return nil, nil, err
		}
		return st, db.Close, nil
	}
	path, err := filepath.Abs(filepath.Join(cfg.DataDir, igluStoreFile))
	if err != nil {
		return nil, nil, fmt.Errorf("iglu store: %w", err)
	}
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, nil, fmt.Errorf("iglu store: %w", err)
	}
	f.Close()
	q := url.Values{}
	q.Add("_pragma", "busy_timeout(10000)")
	q.Add("_pragma", "journal_mode(WAL)")
	q.Add("_pragma", "synchronous(NORMAL)")
	dsn := (&url.URL{Scheme: "file", Path: filepath.ToSlash(path), RawQuery: q.Encode()}).String()
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, nil, fmt.Errorf("iglu store: %w", err)
	}
	// One connection: writes are rare, and SQLite has one writer anyway.
	db.SetMaxOpenConns(1)
	st, err := iglu.NewSQLStore(ctx, db, iglu.DialectSQLite, "")
	if err != nil {
		db.Close()
		return nil, nil, fmt.Errorf("%w (%s)", err, path)
	}
	return st, db.Close, nil
}
