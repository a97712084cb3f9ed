package loaders

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"

	"github.com/snowplow-mini/snowplow-mini/streams"
)

// LastSequenceNumber returns the largest sequence number among the checkpoints that the
// sink configured by cfg keeps in its database, of any group, stream and shard: "" when
// the database or its checkpoints table does not exist yet. Streams whose numbers
// depend on a clock start after it (streams.MemoryConfig.After), so that a clock that
// went back since those checkpoints were stored does not make the sink skip new
// records. ctx bounds the wait for an unreachable database.
func LastSequenceNumber(ctx context.Context, cfg SinkConfig, dataDir string) (string, error) {
	kind, target, err := parseSinkURL(cfg.URL)
	if err != nil {
		return "", fmt.Errorf("loaders.sink.url: %w", err)
	}
	log := slog.New(slog.DiscardHandler)
	var st store
	switch kind {
	case sinkSQLite:
		if target == "" {
			target = filepath.Join(dataDir, DefaultSQLiteFile)
		}
		if _, err := os.Stat(target); errors.Is(err, fs.ErrNotExist) {
			return "", nil
		}
		st, err = newSQLiteStore(target, log)
	case sinkPostgres:
		st, err = newPostgresStore(target, cfg.Schema, log)
	}
	if err != nil {
		return "", err
	}
	defer st.close()
	db := st.readDB()
	var exists bool
	switch st.dialect() {
	case "sqlite":
		err = db.QueryRowContext(ctx, "SELECT count(*) > 0 FROM sqlite_master WHERE type = 'table' AND name = 'checkpoints'").Scan(&exists)
	default:
		err = db.QueryRowContext(ctx, "SELECT to_regclass($1) IS NOT NULL", st.table(tableCheckpoints)).Scan(&exists)
	}
	if err != nil {
		return "", fmt.Errorf("reading the checkpoints of %s: %w", st.location(), err)
	}
	if !exists {
		return "", nil
	}
	rows, err := db.QueryContext(ctx, "SELECT sequence_number FROM "+st.table(tableCheckpoints))
	if err != nil {
		return "", fmt.Errorf("reading the checkpoints of %s: %w", st.location(), err)
	}
	defer rows.Close()
	var last string
	for rows.Next() {
		var seq string
		if err := rows.Scan(&seq); err != nil {
			return "", fmt.Errorf("reading the checkpoints of %s: %w", st.location(), err)
		}
		// Something that is not a number sorts before every number: it is skipped.
		if streams.CompareSequenceNumbers(seq, "0") >= 0 && streams.CompareSequenceNumbers(seq, last) > 0 {
			last = seq
		}
	}
	if err := rows.Err(); err != nil {
		return "", fmt.Errorf("reading the checkpoints of %s: %w", st.location(), err)
	}
	return last, nil
}
