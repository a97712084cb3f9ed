package loaders

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/snowplow-mini/snowplow-mini/enrich/event"
)

// The read side of the sink: the queries the test API and the UI run on the event store.
// They read with the store's read-only handle, never hold the writer, and hand rows to a
// callback one at a time (the row is reused: a caller keeps nothing of it), so a query
// costs memory for one row whatever it matches.

// EventQuery selects events for Events and CountEvents. The zero value selects every
// event, newest first.
type EventQuery struct {
	// AppID keeps only events of this app_id ("" = all).
	AppID string
	// AfterID keeps only events loaded after the event with this ID.
	AfterID int64
	// Equal keeps events whose column holds exactly the value (case-sensitive; the
	// column's TSV text).
	Equal []ColumnValue
	// AnyOf keeps events whose column's JSON text (a string as is, true/false, numbers)
	// equals one of the values, ignoring case. Values must not be empty. A column that
	// is not an atomic column matches nothing.
	AnyOf []ColumnValues
	// Start and End keep events with Start <= collector_tstamp < End; a zero time is no
	// bound.
	Start, End time.Time
	// SortColumn orders by an atomic column's text, events without a value last when
	// ascending and first when descending, then newest first. "" or a column that is not
	// atomic: newest first.
	SortColumn string
	SortDesc   bool
	// Offset skips that many events; Limit returns at most that many (0: no limit).
	Offset, Limit int
}

// ColumnValue is a column and one value.
type ColumnValue struct{ Column, Value string }

// ColumnValues is a column and the values it may hold.
type ColumnValues struct {
	Column string
	Values []string
}

// sqlDialect is what the query builder needs of a store's SQL.
type sqlDialect struct {
	// ph returns the placeholder of the n-th argument (1-based).
	ph func(n int) string
	// param returns a timestamp as the driver takes it for a comparison with a
	// TIMESTAMP column.
	param func(t time.Time) any
	// text returns the expression of a column's JSON text (strings as is, booleans
	// true/false, numbers as digits).
	text func(c column) string
	// sortText returns the expression events are sorted by for a column.
	sortText func(c column) string
	// events is the events table's name.
	events string
}

func sqliteDialect() sqlDialect {
	return sqlDialect{
		ph:    func(int) string { return "?" },
		param: func(t time.Time) any { return t.UTC().Format(sqliteTimeLayout) },
		text: func(c column) string {
			if c.kind == event.KindBool {
				return "CASE " + c.name + " WHEN 1 THEN 'true' WHEN 0 THEN 'false' END"
			}
			return "CAST(" + c.name + " AS TEXT)"
		},
		sortText: func(c column) string { return "CAST(" + c.name + " AS TEXT)" },
		events:   "events",
	}
}

func postgresDialect(events string) sqlDialect {
	return sqlDialect{
		ph:    func(n int) string { return "$" + strconv.Itoa(n) },
		param: func(t time.Time) any { return t.UTC() },
		text: func(c column) string {
			if c.kind == event.KindBool {
				return "CASE WHEN " + c.name + " THEN 'true' WHEN NOT " + c.name + " THEN 'false' END"
			}
			return c.name + "::text"
		},
		sortText: func(c column) string {
			if c.kind == event.KindTimestamp {
				return c.name
			}
			return c.name + `::text COLLATE "C"`
		},
		events: events,
	}
}

// queryBuilder collects a WHERE clause and its arguments.
type queryBuilder struct {
	d     sqlDialect
	conds []string
	args  []any
}

func (b *queryBuilder) arg(v any) string {
	b.args = append(b.args, v)
	return b.d.ph(len(b.args))
}

func (b *queryBuilder) where() string {
	if len(b.conds) == 0 {
		return ""
	}
	return " WHERE " + strings.Join(b.conds, " AND ")
}

// atomicColumn returns the atomic column of that name.
func atomicColumn(cols []column, name string) (column, bool) {
	i := slices.IndexFunc(cols, func(c column) bool { return c.name == name })
	if i < 0 {
		return column{}, false
	}
	return cols[i], true
}

// eventFilter builds the WHERE clause of q.
func eventFilter(d sqlDialect, atomic []column, q EventQuery) *queryBuilder {
	b := &queryBuilder{d: d}
	if q.AppID != "" {
		b.conds = append(b.conds, "app_id = "+b.arg(q.AppID))
	}
	if q.AfterID > 0 {
		b.conds = append(b.conds, "id > "+b.arg(q.AfterID))
	}
	for _, eq := range q.Equal {
		c, ok := atomicColumn(atomic, eq.Column)
		if !ok {
			b.conds = append(b.conds, "1 = 0")
			continue
		}
		b.conds = append(b.conds, d.text(c)+" = "+b.arg(eq.Value))
	}
	for _, f := range q.AnyOf {
		c, ok := atomicColumn(atomic, f.Column)
		if !ok || len(f.Values) == 0 {
			b.conds = append(b.conds, "1 = 0")
			continue
		}
		phs := make([]string, len(f.Values))
		for i, v := range f.Values {
			phs[i] = b.arg(strings.ToLower(v))
		}
		b.conds = append(b.conds, "lower("+d.text(c)+") IN ("+strings.Join(phs, ", ")+")")
	}
	if !q.Start.IsZero() {
		b.conds = append(b.conds, "collector_tstamp >= "+b.arg(d.param(q.Start)))
	}
	if !q.End.IsZero() {
		b.conds = append(b.conds, "collector_tstamp < "+b.arg(d.param(q.End)))
	}
	return b
}

// eventOrder returns the ORDER BY, LIMIT and OFFSET clauses of q.
func eventOrder(b *queryBuilder, atomic []column, q EventQuery) string {
	var sb strings.Builder
	sb.WriteString(" ORDER BY ")
	if c, ok := atomicColumn(atomic, q.SortColumn); ok {
		dir := " ASC"
		if q.SortDesc {
			dir = " DESC"
		}
		fmt.Fprintf(&sb, "(%s IS NULL)%s, %s%s, ", c.name, dir, b.d.sortText(c), dir)
	}
	sb.WriteString("id DESC")
	if q.Limit > 0 {
		sb.WriteString(" LIMIT " + b.arg(q.Limit))
	} else if q.Offset > 0 {
		sb.WriteString(" LIMIT " + b.arg(int64(1)<<62))
	}
	if q.Offset > 0 {
		sb.WriteString(" OFFSET " + b.arg(q.Offset))
	}
	return sb.String()
}

// Events calls fn with the events q selects, in q's order, until fn returns false. The
// event passed to fn (and its slices) is reused for the next row. Its RawEvent is Micro's
// rawEvent JSON whatever form the store keeps (see Sink.rawEventValue), rendered with
// the row's fields the compact form refers to: rows written before the compact form
// hold the JSON itself.
func (s *Sink) Events(ctx context.Context, q EventQuery, fn func(*StoredEvent) bool) error {
	if err := s.waitReady(ctx); err != nil {
		return err
	}
	atomic := atomicColumns()
	b := eventFilter(s.store.sqlDialect(), atomic, q)
	tail := b.where() + eventOrder(b, atomic, q)
	var raw []byte
	warned := false
	return s.store.scanEvents(ctx, tail, b.args, func(se *StoredEvent) bool {
		if event.IsCompactRaw(se.RawEvent) {
			var err error
			if raw, err = event.AppendMicroJSONOf(raw[:0], se.RawEvent, se.Event); err != nil {
				// Only a damaged file gives this, or a request observed with another
				// event of the same event_id whose fields it refers to differ (the
				// checksum of the compact form): the event reads without its request.
				if !warned {
					s.log.Warn("reading the raw_event column", "event_id", se.Event.Fields[event.EventID], "err", err)
					warned = true
				}
				raw = nil
			}
			se.RawEvent = raw
		}
		return fn(se)
	})
}

// CountEvents returns how many events q selects (its order, offset and limit aside).
func (s *Sink) CountEvents(ctx context.Context, q EventQuery) (int64, error) {
	if err := s.waitReady(ctx); err != nil {
		return 0, err
	}
	d := s.store.sqlDialect()
	b := eventFilter(d, atomicColumns(), q)
	var n int64
	if err := s.store.readDB().QueryRowContext(ctx, "SELECT count(*) FROM "+d.events+b.where(), b.args...).Scan(&n); err != nil {
		return 0, fmt.Errorf("counting events: %w", err)
	}
	return n, nil
}

// BadRows calls fn with stored bad rows, newest first, until fn returns false. q.Limit
// 0 means no limit. The row passed to fn is reused for the next one.
func (s *Sink) BadRows(ctx context.Context, q Query, fn func(*StoredBadRow) bool) error {
	if err := s.waitReady(ctx); err != nil {
		return err
	}
	b := &queryBuilder{d: s.store.sqlDialect()}
	if q.AppID != "" {
		b.conds = append(b.conds, "app_id = "+b.arg(q.AppID))
	}
	if q.AfterID > 0 {
		b.conds = append(b.conds, "id > "+b.arg(q.AfterID))
	}
	tail := b.where() + " ORDER BY id DESC"
	if q.Limit > 0 {
		tail += " LIMIT " + b.arg(q.Limit)
	}
	return s.store.scanBad(ctx, tail, b.args, fn)
}

// EventColumns returns the names of the atomic columns that some stored event has a
// value in, and of the wide columns, in table order.
func (s *Sink) EventColumns(ctx context.Context) (atomic, wide []string, err error) {
	if err := s.waitReady(ctx); err != nil {
		return nil, nil, err
	}
	cols := atomicColumns()
	var sb strings.Builder
	sb.WriteString("SELECT ")
	for i, c := range cols {
		if i > 0 {
			sb.WriteString(", ")
		}
		sb.WriteString("count(" + c.name + ") > 0")
	}
	sb.WriteString(" FROM " + s.store.sqlDialect().events)
	has := make([]bool, len(cols))
	dest := make([]any, len(cols))
	for i := range has {
		dest[i] = &has[i]
	}
	if err := s.store.readDB().QueryRowContext(ctx, sb.String()).Scan(dest...); err != nil {
		return nil, nil, fmt.Errorf("reading the columns in use: %w", err)
	}
	for i, c := range cols {
		if has[i] {
			atomic = append(atomic, c.name)
		}
	}
	return atomic, s.store.wideColumns(), nil
}

// WideColumnFields returns the keys seen in the data objects stored in a wide column
// (contexts_…: the objects of its arrays; unstruct_event_…: the object), sorted.
func (s *Sink) WideColumnFields(ctx context.Context, name string) ([]string, error) {
	if err := s.waitReady(ctx); err != nil {
		return nil, err
	}
	if !slices.Contains(s.store.wideColumns(), name) {
		return nil, nil
	}
	return s.store.wideFields(ctx, name)
}

// ColumnValues returns up to n distinct JSON texts of an atomic column (see
// EventQuery.AnyOf), sorted; nil for a column that is not atomic.
func (s *Sink) ColumnValues(ctx context.Context, name string, n int) ([]string, error) {
	if err := s.waitReady(ctx); err != nil {
		return nil, err
	}
	c, ok := atomicColumn(atomicColumns(), name)
	if !ok {
		return nil, nil
	}
	d := s.store.sqlDialect()
	expr := d.text(c)
	rows, err := s.store.readDB().QueryContext(ctx, "SELECT DISTINCT "+expr+" AS v FROM "+d.events+
		" WHERE "+c.name+" IS NOT NULL ORDER BY v LIMIT "+strconv.Itoa(n))
	if err != nil {
		return nil, fmt.Errorf("reading the values of %s: %w", name, err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var v string
		if err := rows.Scan(&v); err != nil {
			return nil, fmt.Errorf("reading the values of %s: %w", name, err)
		}
		out = append(out, v)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("reading the values of %s: %w", name, err)
	}
	return out, nil
}

// TimeRange is a span of collector_tstamp: Start inclusive, End exclusive.
type TimeRange struct{ Start, End time.Time }

// Timeline returns how many events have a collector_tstamp in each range, in one pass
// over the table.
func (s *Sink) Timeline(ctx context.Context, ranges []TimeRange) ([]int64, error) {
	if err := s.waitReady(ctx); err != nil {
		return nil, err
	}
	out := make([]int64, len(ranges))
	if len(ranges) == 0 {
		return out, nil
	}
	d := s.store.sqlDialect()
	b := &queryBuilder{d: d}
	var sb strings.Builder
	sb.WriteString("SELECT ")
	lo, hi := ranges[0].Start, ranges[0].End
	for i, r := range ranges {
		if i > 0 {
			sb.WriteString(", ")
		}
		fmt.Fprintf(&sb, "coalesce(sum(CASE WHEN collector_tstamp >= %s AND collector_tstamp < %s THEN 1 ELSE 0 END), 0)",
			b.arg(d.param(r.Start)), b.arg(d.param(r.End)))
		if r.Start.Before(lo) {
			lo = r.Start
		}
		if r.End.After(hi) {
			hi = r.End
		}
	}
	fmt.Fprintf(&sb, " FROM %s WHERE collector_tstamp >= %s AND collector_tstamp < %s", d.events, b.arg(d.param(lo)), b.arg(d.param(hi)))
	dest := make([]any, len(out))
	for i := range out {
		dest[i] = &out[i]
	}
	if err := s.store.readDB().QueryRowContext(ctx, sb.String(), b.args...).Scan(dest...); err != nil {
		return nil, fmt.Errorf("counting events per time range: %w", err)
	}
	return out, nil
}

// Changed returns a channel that is closed at the next commit, reset or prune of the
// store: readers that follow the store (waits, live views) wait on it instead of
// polling.
func (s *Sink) Changed() <-chan struct{} { return s.changes.wait() }
