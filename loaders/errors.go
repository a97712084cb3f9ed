package loaders

import (
	"errors"
	"fmt"
)

// The loaders' errors are reported to their callers with context; these sentinels only
// classify them inside the package.
var (
	// errPermanent marks errors that retrying cannot fix (Run returns them).
	errPermanent = errors.New("permanent")

	// errNotSelfDescribing is a JSON field of an enriched event that is not the
	// expected self-describing envelope.
	errNotSelfDescribing = errors.New("not a self-describing JSON")

	// errColumnLimit means the events table has as many columns as the database allows
	// (SQLite 2,000, PostgreSQL 1,600): a new type keeps its data in the raw JSON
	// columns only.
	errColumnLimit = errors.New("the events table is at the database's column limit")

	// errUnexpected is JSON whose structure the wide-row scanner does not expect.
	errUnexpected = fmt.Errorf("%w: unexpected JSON structure", errNotSelfDescribing)
)

// permanent marks err as one that retrying cannot fix.
func permanent(err error) error { return fmt.Errorf("%w: %w", errPermanent, err) }
