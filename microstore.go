package main

import (
	"context"

	"github.com/snowplow-mini/snowplow-mini/loaders"
	"github.com/snowplow-mini/snowplow-mini/web"
)

// microStore lets the test API and the UI read the event store: it implements
// web.Store on the loaders' sink, translating between the two packages' types (stages
// do not import each other).
type microStore struct{ sink *loaders.Sink }

var _ web.Store = microStore{}

func (m microStore) Count(ctx context.Context, appID string) (web.Counts, error) {
	c, err := m.sink.Count(ctx, appID)
	return web.Counts{Good: c.Good, Bad: c.Bad}, err
}

func (m microStore) Reset(ctx context.Context, appID string) (web.Counts, error) {
	c, err := m.sink.Reset(ctx, appID)
	return web.Counts{Good: c.Good, Bad: c.Bad}, err
}

func eventQuery(q web.EventQuery) loaders.EventQuery {
	lq := loaders.EventQuery{
		AppID: q.AppID, AfterID: q.AfterID, Start: q.Start, End: q.End,
		SortColumn: q.SortColumn, SortDesc: q.SortDesc, Offset: q.Offset, Limit: q.Limit,
	}
	for _, e := range q.Equal {
		lq.Equal = append(lq.Equal, loaders.ColumnValue{Column: e.Column, Value: e.Value})
	}
	for _, f := range q.AnyOf {
		lq.AnyOf = append(lq.AnyOf, loaders.ColumnValues{Column: f.Column, Values: f.Values})
	}
	return lq
}

func (m microStore) Events(ctx context.Context, q web.EventQuery, fn func(*web.StoredEvent) bool) error {
	var we web.StoredEvent
	return m.sink.Events(ctx, eventQuery(q), func(se *loaders.StoredEvent) bool {
		we = web.StoredEvent{ID: se.ID, LoadTstamp: se.LoadTstamp, Event: se.Event, RawEvent: se.RawEvent}
		return fn(&we)
	})
}

func (m microStore) CountEvents(ctx context.Context, q web.EventQuery) (int64, error) {
	return m.sink.CountEvents(ctx, eventQuery(q))
}

func (m microStore) BadRows(ctx context.Context, q web.BadQuery, fn func(*web.StoredBadRow) bool) error {
	var wb web.StoredBadRow
	return m.sink.BadRows(ctx, loaders.Query{AppID: q.AppID, AfterID: q.AfterID, Limit: q.Limit}, func(b *loaders.StoredBadRow) bool {
		wb = web.StoredBadRow{ID: b.ID, LoadTstamp: b.LoadTstamp, AppID: b.AppID, Data: b.Data}
		return fn(&wb)
	})
}

func (m microStore) EventColumns(ctx context.Context) (atomic, wide []string, err error) {
	return m.sink.EventColumns(ctx)
}

func (m microStore) WideColumnFields(ctx context.Context, column string) ([]string, error) {
	return m.sink.WideColumnFields(ctx, column)
}

func (m microStore) ColumnValues(ctx context.Context, column string, n int) ([]string, error) {
	return m.sink.ColumnValues(ctx, column, n)
}

func (m microStore) Timeline(ctx context.Context, ranges []web.TimeRange) ([]int64, error) {
	lr := make([]loaders.TimeRange, len(ranges))
	for i, r := range ranges {
		lr[i] = loaders.TimeRange{Start: r.Start, End: r.End}
	}
	return m.sink.Timeline(ctx, lr)
}

func (m microStore) Changed() <-chan struct{} { return m.sink.Changed() }
