package web

import (
	"context"
	"time"

	"github.com/snowplow-mini/snowplow-mini/enrich/event"
)

// Store is the event store the test API and the UI read: the loaders' SQLite or
// PostgreSQL sink, wired by main. It is the only copy of the events web answers from:
// web keeps none, so a restart on the same data shows every stored event and the
// store's retention is the only window.
//
// Methods that call fn pass one row at a time and reuse it for the next: fn must not
// keep the row or its slices. Every method is safe for concurrent use.
type Store interface {
	// Count returns the numbers of stored good events and bad rows of appID ("" = all).
	Count(ctx context.Context, appID string) (Counts, error)
	// Reset deletes the good events and bad rows of appID ("" = all), returning how
	// many it deleted.
	Reset(ctx context.Context, appID string) (Counts, error)
	// Events calls fn with the good events q selects, in q's order, until fn returns
	// false.
	Events(ctx context.Context, q EventQuery, fn func(*StoredEvent) bool) error
	// CountEvents returns how many good events q selects (order, offset, limit aside).
	CountEvents(ctx context.Context, q EventQuery) (int64, error)
	// BadRows calls fn with the bad rows q selects, newest first, until fn returns false.
	BadRows(ctx context.Context, q BadQuery, fn func(*StoredBadRow) bool) error
	// EventColumns returns the atomic columns some good event has a value in, and the
	// store's self-describing (wide-row) columns, named as the Analytics SDK keys.
	EventColumns(ctx context.Context) (atomic, wide []string, err error)
	// WideColumnFields returns the keys seen in the data objects of a wide column.
	WideColumnFields(ctx context.Context, column string) ([]string, error)
	// ColumnValues returns up to n distinct JSON texts of an atomic column, sorted.
	ColumnValues(ctx context.Context, column string, n int) ([]string, error)
	// Timeline returns how many good events have a collector_tstamp in each range.
	Timeline(ctx context.Context, ranges []TimeRange) ([]int64, error)
	// Changed returns a channel closed at the store's next commit, reset or prune.
	Changed() <-chan struct{}
}

// Counts are numbers of stored good events and bad rows.
type Counts struct{ Good, Bad int64 }

// EventQuery selects good events. The zero value selects all, newest first.
type EventQuery struct {
	// AppID keeps only events of this app_id ("" = all).
	AppID string
	// AfterID keeps only events loaded after the one with this ID.
	AfterID int64
	// Equal keeps events whose column holds exactly the value.
	Equal []ColumnValue
	// AnyOf keeps events whose column's JSON text equals one of the values, ignoring
	// case. Only atomic columns; others match nothing.
	AnyOf []ColumnValues
	// Start and End bound collector_tstamp: Start <= t < End; zero: no bound.
	Start, End time.Time
	// SortColumn orders by an atomic column's text (missing values last ascending,
	// first descending), then newest first; "": newest first.
	SortColumn string
	SortDesc   bool
	// Offset skips events; Limit caps them (0: no cap).
	Offset, Limit int
}

// ColumnValue is a column and a value.
type ColumnValue struct{ Column, Value string }

// ColumnValues is a column and the values it may hold.
type ColumnValues struct {
	Column string
	Values []string
}

// BadQuery selects bad rows.
type BadQuery struct {
	AppID   string
	AfterID int64
	Limit   int // 0: no limit
}

// TimeRange is a span of collector_tstamp, Start inclusive, End exclusive.
type TimeRange struct{ Start, End time.Time }

// StoredEvent is one good event read from the store.
type StoredEvent struct {
	// ID orders events by load.
	ID         int64
	LoadTstamp time.Time
	Event      *event.EnrichedEvent
	// RawEvent is Micro's rawEvent JSON of the tracker's request, nil when unknown.
	RawEvent []byte
}

// StoredBadRow is one bad row read from the store.
type StoredBadRow struct {
	ID         int64
	LoadTstamp time.Time
	// AppID is the app_id the store read from the bad row's payload, "" when none.
	AppID string
	// Data is the record as it was on the bad stream.
	Data []byte
}
