package web

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/snowplow-mini/snowplow-mini/enrich/event"
	"github.com/snowplow-mini/snowplow-mini/iglu/badrow"
)

// Snowplow Micro 4's paged events API, behind its UI and ours. Valid events are
// filtered, sorted and paged by the store; failed events (bad rows, shown as the event
// their raw request or partly enriched event describes, with the failure as Micro's
// failure entity) are read from the newest cfg.MaxFailedEvents bad rows and merged in.

// failureContextKey is the flattened key of the failure entity a failed event carries,
// as Micro's incomplete events do.
const failureContextKey = "contexts_com_snowplowanalytics_snowplow_failure_1"

// maxColumnValues is how many distinct values /micro/columnStats lists per column.
const maxColumnValues = 20

// maxBuckets bounds the buckets of one /micro/timeline request.
const maxBuckets = 10_000

// eventsRequest is the body of POST /micro/events.
type eventsRequest struct {
	Filters []struct {
		Column string   `json:"column"`
		Values []string `json:"values"`
	} `json:"filters"`
	ValidEvents *bool `json:"validEvents"`
	TimeRange   *struct {
		Start *time.Time `json:"start"`
		End   *time.Time `json:"end"`
	} `json:"timeRange"`
	Sorting *struct {
		Column string `json:"column"`
		Desc   bool   `json:"desc"`
	} `json:"sorting"`
	Page     *int `json:"page"`
	PageSize *int `json:"pageSize"`
}

// isComplexColumn reports whether a column holds self-describing data (or a field of
// it): neither filterable nor sortable.
func isComplexColumn(c string) bool {
	return strings.HasPrefix(c, "contexts_") || strings.HasPrefix(c, "unstruct_event") ||
		strings.HasPrefix(c, "derived_contexts") || strings.Contains(c, ".")
}

// eventsQuery is a validated eventsRequest.
type eventsQuery struct {
	q            EventQuery // filters, time range and sorting, for valid events
	valid, faild bool       // which kinds to include
	page, size   int
}

func (s *Server) parseEvents(r *http.Request) (eventsQuery, *bodyError) {
	var req eventsRequest
	if berr := decodeBody(r, &req, true); berr != nil {
		return eventsQuery{}, berr
	}
	var eq eventsQuery
	switch {
	case req.Page == nil || req.PageSize == nil:
		return eq, invalid("page and pageSize are required")
	case *req.Page < 1:
		return eq, invalid(fmt.Sprintf("page: %d: must be at least 1", *req.Page))
	case *req.PageSize < 1 || *req.PageSize > s.cfg.MaxPageSize:
		return eq, invalid(fmt.Sprintf("pageSize: %d: must be between 1 and %d", *req.PageSize, s.cfg.MaxPageSize))
	}
	eq.page, eq.size = *req.Page, *req.PageSize
	eq.valid, eq.faild = true, true
	if req.ValidEvents != nil {
		eq.valid, eq.faild = *req.ValidEvents, !*req.ValidEvents
	}
	for _, f := range req.Filters {
		if isComplexColumn(f.Column) {
			continue
		}
		var values []string
		for _, v := range f.Values {
			if v != "" {
				values = append(values, v)
			}
		}
		if len(values) > 0 {
			eq.q.AnyOf = append(eq.q.AnyOf, ColumnValues{Column: f.Column, Values: values})
		}
	}
	if tr := req.TimeRange; tr != nil {
		if tr.Start != nil {
			eq.q.Start = *tr.Start
		}
		if tr.End != nil {
			eq.q.End = *tr.End
		}
	}
	if so := req.Sorting; so != nil && so.Column != "" && !isComplexColumn(so.Column) {
		eq.q.SortColumn, eq.q.SortDesc = so.Column, so.Desc
	}
	return eq, nil
}

// failedEvent is a bad row shown as an event: what filtering, sorting and paging need.
type failedEvent struct {
	id   int64
	load time.Time
	ev   event.EnrichedEvent
}

// projectFailed returns the event a bad row describes: its partly enriched event when
// enrich got that far (schema_violations, enrichment_failures), else what the request's
// parameters say; and the failure entity. ok is false for a record that is not a bad row.
func projectFailed(row *StoredBadRow, ev *event.EnrichedEvent) (failure []byte, ok bool) {
	br, err := badrow.Parse(row.Data)
	if err != nil {
		return nil, false
	}
	ev.Reset()
	var failureTime string
	var f struct {
		Timestamp string          `json:"timestamp"`
		Messages  json.RawMessage `json:"messages"`
	}
	_ = json.Unmarshal(br.Failure, &f)
	failureTime = f.Timestamp
	if enriched, ok := br.Enriched(); ok {
		var fields map[string]json.RawMessage
		if json.Unmarshal(enriched, &fields) == nil {
			for name, v := range fields {
				fld, ok := event.FieldByName(name)
				if !ok || len(v) == 0 || string(v) == "null" {
					continue
				}
				if v[0] == '"' {
					var s string
					if json.Unmarshal(v, &s) == nil {
						ev.Fields[fld] = s
					}
					continue
				}
				ev.Fields[fld] = string(v)
			}
		}
	}
	if raw, found, err := br.RawEvent(); found && err == nil {
		fillFromParams(ev, raw.Parameters, raw.Timestamp)
	} else if cp, found, err := br.CollectorPayload(); found && err == nil {
		fillFromParams(ev, cp.Querystring, cp.Timestamp)
	}
	if ev.Fields[event.AppID] == "" && row.AppID != "" {
		ev.Fields[event.AppID] = row.AppID
	}
	if ev.Fields[event.CollectorTstamp] == "" {
		if t, err := time.Parse(time.RFC3339Nano, failureTime); err == nil {
			ev.Fields[event.CollectorTstamp] = event.FormatTimestamp(t.UTC())
		}
	}

	// Micro's failure entity: com.snowplowanalytics.snowplow/failure/jsonschema/1-0-0.
	var schema *string
	var msgs []struct {
		SchemaKey string `json:"schemaKey"`
	}
	if json.Unmarshal(f.Messages, &msgs) == nil && len(msgs) > 0 && msgs[0].SchemaKey != "" {
		schema = &msgs[0].SchemaKey
	}
	errs := f.Messages
	if len(errs) == 0 || errs[0] != '[' {
		errs = json.RawMessage("[" + string(orNull(br.Failure)) + "]")
	}
	entity := map[string]any{
		"failureType":      br.Name(),
		"errors":           errs,
		"schema":           schema,
		"data":             nil,
		"timestamp":        nullIfEmpty(failureTime),
		"componentName":    nullIfEmpty(br.Processor.Artifact),
		"componentVersion": nullIfEmpty(br.Processor.Version),
	}
	failure, err = json.Marshal(entity)
	if err != nil {
		return nil, false
	}
	return failure, true
}

func orNull(b []byte) []byte {
	if len(b) == 0 {
		return []byte("null")
	}
	return b
}

func nullIfEmpty(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// paramFields are the tracker parameters a failed event's fields are read from when
// enrich did not get as far as a partly enriched event.
var paramFields = map[string]event.Field{
	"aid": event.AppID, "p": event.Platform, "eid": event.EventID, "tv": event.VTracker,
	"tna": event.NameTracker, "uid": event.UserID, "duid": event.DomainUserID, "url": event.PageURL,
	"page": event.PageTitle, "refr": event.PageReferrer, "ua": event.UserAgent,
}

// eventNames maps the tracker's e parameter to the enriched event field.
var eventNames = map[string]string{
	"pv": "page_view", "pp": "page_ping", "se": "struct", "ue": "unstruct", "tr": "transaction", "ti": "transaction_item",
}

// fillFromParams sets the fields of ev that are still empty from tracker parameters.
func fillFromParams(ev *event.EnrichedEvent, params []event.NVP, collected time.Time) {
	for _, p := range params {
		if p.Value == nil || *p.Value == "" {
			continue
		}
		if (p.Name == "ue_pr" || p.Name == "ue_px") && ev.Fields[event.EventName] == "" {
			setEventSchema(ev, p.Name, *p.Value)
			continue
		}
		if p.Name == "e" && ev.Fields[event.Event] == "" {
			if name, ok := eventNames[*p.Value]; ok {
				ev.Fields[event.Event] = name
			}
			continue
		}
		if f, ok := paramFields[p.Name]; ok && ev.Fields[f] == "" {
			ev.Fields[f] = *p.Value
		}
	}
	if ev.Fields[event.CollectorTstamp] == "" && !collected.IsZero() {
		ev.Fields[event.CollectorTstamp] = event.FormatTimestamp(collected.UTC())
	}
}

// setEventSchema sets the event_vendor, event_name, event_format and event_version of
// a failed self-describing event from its ue_pr (JSON) or ue_px (base64) parameter.
func setEventSchema(ev *event.EnrichedEvent, name, value string) {
	data := []byte(value)
	if name == "ue_px" {
		dec, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(value, "="))
		if err != nil {
			if dec, err = base64.StdEncoding.DecodeString(value); err != nil {
				return
			}
		}
		data = dec
	}
	var ue struct {
		Data struct {
			Schema string `json:"schema"`
		} `json:"data"`
	}
	if json.Unmarshal(data, &ue) != nil {
		return
	}
	rest, ok := strings.CutPrefix(ue.Data.Schema, "iglu:")
	parts := strings.Split(rest, "/")
	if !ok || len(parts) != 4 {
		return
	}
	ev.Fields[event.EventVendor], ev.Fields[event.EventName] = parts[0], parts[1]
	ev.Fields[event.EventFormat], ev.Fields[event.EventVersion] = parts[2], parts[3]
}

// appendFailedJSON appends a failed event's lossy Analytics-SDK JSON with its failure
// entity.
func appendFailedJSON(dst []byte, ev *event.EnrichedEvent, failure []byte) []byte {
	mark := len(dst)
	out, err := ev.AppendJSON(dst)
	if err != nil {
		// A field enrich rejected may not hold a value of its kind: show the event
		// without its self-describing columns and with such fields dropped.
		c := *ev
		for i := range c.Fields {
			if _, ferr := appendFieldCheck(event.Field(i), c.Fields[i]); ferr != nil {
				c.Fields[i] = ""
			}
		}
		out, err = c.AppendJSON(dst[:mark])
		if err != nil {
			out = append(dst[:mark], "{}"...)
		}
	}
	out = out[:len(out)-1] // the closing brace
	if len(out) > mark+1 {
		out = append(out, ',')
	}
	out = append(out, `"`+failureContextKey+`":[`...)
	out = append(out, failure...)
	return append(out, "]}"...)
}

// appendFieldCheck reports whether one field renders on its own.
func appendFieldCheck(f event.Field, v string) ([]byte, error) {
	var e event.EnrichedEvent
	e.Fields[f] = v
	return e.AppendJSON(nil)
}

// fieldText returns the JSON text of an atomic column of ev (strings as they are,
// true/false, numbers' digits) and whether it has a value; sortText the text events are
// ordered by (the TSV text, as the store orders).
func fieldText(ev *event.EnrichedEvent, column string) (text string, ok bool) {
	f, found := event.FieldByName(column)
	if !found || f.Kind() == event.KindJSON {
		return "", false
	}
	v := ev.Fields[f]
	if v == "" {
		return "", false
	}
	if f.Kind() == event.KindBool {
		if v == "1" {
			return "true", true
		}
		return "false", true
	}
	return v, true
}

func sortText(ev *event.EnrichedEvent, column string) (string, bool) {
	f, found := event.FieldByName(column)
	if !found || f.Kind() == event.KindJSON || ev.Fields[f] == "" {
		return "", false
	}
	return ev.Fields[f], true
}

// matchFailed reports whether a failed event passes q's filters and time range.
func matchFailed(ev *event.EnrichedEvent, q *EventQuery) bool {
	for _, f := range q.AnyOf {
		v, ok := fieldText(ev, f.Column)
		if !ok || !slices.ContainsFunc(f.Values, func(w string) bool { return strings.EqualFold(w, v) }) {
			return false
		}
	}
	if !q.Start.IsZero() || !q.End.IsZero() {
		t, ok, err := ev.Timestamp(event.CollectorTstamp)
		if err != nil || !ok {
			return false
		}
		if !q.Start.IsZero() && t.Before(q.Start) || !q.End.IsZero() && !t.Before(q.End) {
			return false
		}
	}
	return true
}

// eachFailed calls fn with the newest cfg.MaxFailedEvents bad rows shown as events,
// until fn returns false. The event and failure are reused between calls.
func (s *Server) eachFailed(ctx context.Context, fn func(row *StoredBadRow, ev *event.EnrichedEvent, failure []byte) bool) error {
	if s.cfg.MaxFailedEvents == 0 {
		return nil
	}
	var ev event.EnrichedEvent
	return s.store.BadRows(ctx, BadQuery{Limit: s.cfg.MaxFailedEvents}, func(row *StoredBadRow) bool {
		failure, ok := projectFailed(row, &ev)
		if !ok {
			return true
		}
		return fn(row, &ev, failure)
	})
}

// before reports whether a comes before b in q's order: by the sort column (missing
// values last ascending, first descending), then newest first.
type sortKey struct {
	text   string
	has    bool
	load   time.Time
	id     int64
	failed bool
}

func before(a, b *sortKey, q *EventQuery) bool {
	if q.SortColumn != "" {
		if a.has != b.has {
			return a.has != q.SortDesc
		}
		if a.has && a.text != b.text {
			return (a.text < b.text) != q.SortDesc
		}
	}
	if !a.load.Equal(b.load) {
		return a.load.After(b.load)
	}
	if a.failed != b.failed {
		return !a.failed
	}
	return a.id > b.id
}

func (s *Server) handleEvents(w http.ResponseWriter, r *http.Request) {
	eq, berr := s.parseEvents(r)
	if berr != nil {
		berr.write(w)
		return
	}
	ctx := r.Context()
	q := eq.q
	off := (eq.page - 1) * eq.size

	// Failed events that pass the filters, in order.
	var failed []sortKey
	if eq.faild {
		err := s.eachFailed(ctx, func(row *StoredBadRow, ev *event.EnrichedEvent, _ []byte) bool {
			if matchFailed(ev, &q) {
				k := sortKey{load: row.LoadTstamp, id: row.ID, failed: true}
				if q.SortColumn != "" {
					k.text, k.has = sortText(ev, q.SortColumn)
				}
				failed = append(failed, k)
			}
			return true
		})
		if err != nil {
			s.storeFailed(w, r, err)
			return
		}
		slices.SortStableFunc(failed, func(a, b sortKey) int {
			if before(&a, &b, &q) {
				return -1
			}
			if before(&b, &a, &q) {
				return 1
			}
			return 0
		})
	}
	var total int64 = int64(len(failed))
	if eq.valid {
		n, err := s.store.CountEvents(ctx, q)
		if err != nil {
			s.storeFailed(w, r, err)
			return
		}
		total += n
	}

	// The page: rendered valid events, and the ids of the failed ones to render.
	type item struct {
		json     []byte
		failedID int64
	}
	var page []item
	pos := 0
	take := func(it item) bool {
		if pos >= off {
			page = append(page, it)
		}
		pos++
		return pos < off+eq.size
	}
	fi := 0
	if eq.valid {
		vq := q
		if len(failed) == 0 {
			vq.Offset, vq.Limit = off, eq.size
			pos = off
		} else {
			vq.Limit = off + eq.size
		}
		more := true
		err := s.store.Events(ctx, vq, func(se *StoredEvent) bool {
			k := sortKey{load: se.LoadTstamp, id: se.ID}
			if q.SortColumn != "" {
				k.text, k.has = sortText(se.Event, q.SortColumn)
			}
			for fi < len(failed) && before(&failed[fi], &k, &q) {
				more = take(item{failedID: failed[fi].id})
				fi++
				if !more {
					return false
				}
			}
			var js []byte
			if pos >= off {
				js = s.appendLossy(nil, se.Event)
			}
			more = take(item{json: js})
			return more
		})
		if err != nil {
			s.storeFailed(w, r, err)
			return
		}
		if !more {
			fi = len(failed)
		}
	}
	for ; fi < len(failed) && pos < off+eq.size; fi++ {
		take(item{failedID: failed[fi].id})
	}

	// Render the failed events of the page.
	want := map[int64]int{}
	for i, it := range page {
		if it.json == nil {
			want[it.failedID] = i
		}
	}
	if len(want) > 0 {
		err := s.eachFailed(ctx, func(row *StoredBadRow, ev *event.EnrichedEvent, failure []byte) bool {
			if i, ok := want[row.ID]; ok {
				page[i].json = appendFailedJSON(nil, ev, failure)
				delete(want, row.ID)
			}
			return len(want) > 0
		})
		if err != nil {
			s.storeFailed(w, r, err)
			return
		}
	}

	pages := max(int64(1), (total+int64(eq.size)-1)/int64(eq.size))
	var buf bytes.Buffer
	buf.WriteString(`{"events":[`)
	n := 0
	for _, it := range page {
		if it.json == nil {
			continue // deleted between the two reads
		}
		if n > 0 {
			buf.WriteByte(',')
		}
		buf.Write(it.json)
		n++
	}
	fmt.Fprintf(&buf, `],"totalPages":%d,"totalItems":%d}`, pages, total)
	writeJSON(w, http.StatusOK, buf.Bytes())
}

// appendLossy appends a good event's lossy Analytics-SDK JSON (empty fields left out,
// contexts and the self-describing event under their flattened keys).
func (s *Server) appendLossy(dst []byte, ev *event.EnrichedEvent) []byte {
	out, err := ev.AppendJSON(dst)
	if err != nil {
		s.metrics.renderErrors.Inc()
		return append(dst, "{}"...)
	}
	return out
}

func (s *Server) handleColumns(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	atomic, wide, err := s.store.EventColumns(ctx)
	if err != nil {
		s.storeFailed(w, r, err)
		return
	}
	cols := map[string]bool{}
	for _, c := range atomic {
		cols[c] = true
	}
	for _, c := range wide {
		cols[c] = true
		fields, err := s.store.WideColumnFields(ctx, c)
		if err != nil {
			s.storeFailed(w, r, err)
			return
		}
		for _, f := range fields {
			cols[c+"."+f] = true
		}
	}
	var buf []byte
	err = s.eachFailed(ctx, func(_ *StoredBadRow, ev *event.EnrichedEvent, failure []byte) bool {
		buf = appendFailedJSON(buf[:0], ev, failure)
		addKeys(cols, buf)
		return true
	})
	if err != nil {
		s.storeFailed(w, r, err)
		return
	}
	out := make([]string, 0, len(cols))
	for c := range cols {
		out = append(out, c)
	}
	slices.Sort(out)
	js, _ := json.Marshal(out)
	writeJSON(w, http.StatusOK, js)
}

// addKeys adds the top-level keys of an event's lossy JSON to cols, and
// key.field for the fields inside its self-describing columns.
func addKeys(cols map[string]bool, js []byte) {
	var top map[string]json.RawMessage
	if json.Unmarshal(js, &top) != nil {
		return
	}
	for k, v := range top {
		cols[k] = true
		if !isComplexColumn(k) {
			continue
		}
		var objs []map[string]json.RawMessage
		if len(v) > 0 && v[0] == '[' {
			_ = json.Unmarshal(v, &objs)
		} else {
			var one map[string]json.RawMessage
			if json.Unmarshal(v, &one) == nil {
				objs = append(objs, one)
			}
		}
		for _, o := range objs {
			for f := range o {
				cols[k+"."+f] = true
			}
		}
	}
}

type columnStats struct {
	Sortable   bool     `json:"sortable"`
	Filterable bool     `json:"filterable"`
	Values     []string `json:"values,omitempty"`
}

func (s *Server) handleColumnStats(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Columns *[]string `json:"columns"`
	}
	if berr := decodeBody(r, &req, true); berr != nil {
		berr.write(w)
		return
	}
	if req.Columns == nil {
		invalid("columns is required").write(w)
		return
	}
	ctx := r.Context()
	out := make(map[string]columnStats, len(*req.Columns))
	var filterable []string
	for _, c := range *req.Columns {
		switch {
		case isComplexColumn(c):
			out[c] = columnStats{}
		case strings.HasSuffix(c, "_tstamp"):
			out[c] = columnStats{Sortable: true}
		default:
			filterable = append(filterable, c)
		}
	}
	values := make(map[string]map[string]bool, len(filterable))
	for _, c := range filterable {
		vs, err := s.store.ColumnValues(ctx, c, maxColumnValues)
		if err != nil {
			s.storeFailed(w, r, err)
			return
		}
		values[c] = map[string]bool{}
		for _, v := range vs {
			values[c][v] = true
		}
	}
	if len(filterable) > 0 {
		err := s.eachFailed(ctx, func(_ *StoredBadRow, ev *event.EnrichedEvent, _ []byte) bool {
			for _, c := range filterable {
				if v, ok := fieldText(ev, c); ok {
					values[c][v] = true
				}
			}
			return true
		})
		if err != nil {
			s.storeFailed(w, r, err)
			return
		}
	}
	for _, c := range filterable {
		vs := make([]string, 0, len(values[c]))
		for v := range values[c] {
			vs = append(vs, v)
		}
		slices.Sort(vs)
		if len(vs) > maxColumnValues {
			vs = vs[:maxColumnValues]
		}
		out[c] = columnStats{Sortable: true, Filterable: true, Values: vs}
	}
	js, _ := json.Marshal(out)
	writeJSON(w, http.StatusOK, js)
}

type bucket struct {
	Start time.Time `json:"start"`
	End   time.Time `json:"end"`
}

func (s *Server) handleTimeline(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Buckets *[]struct {
			Start *time.Time `json:"start"`
			End   *time.Time `json:"end"`
		} `json:"buckets"`
	}
	if berr := decodeBody(r, &req, true); berr != nil {
		berr.write(w)
		return
	}
	if req.Buckets == nil {
		invalid("buckets is required").write(w)
		return
	}
	if len(*req.Buckets) > maxBuckets {
		invalid(fmt.Sprintf("buckets: %d: at most %d are allowed", len(*req.Buckets), maxBuckets)).write(w)
		return
	}
	ranges := make([]TimeRange, len(*req.Buckets))
	for i, b := range *req.Buckets {
		if b.Start == nil || b.End == nil {
			invalid(fmt.Sprintf("buckets[%d]: start and end are required", i)).write(w)
			return
		}
		ranges[i] = TimeRange{b.Start.UTC(), b.End.UTC()}
	}
	ctx := r.Context()
	valid, err := s.store.Timeline(ctx, ranges)
	if err != nil {
		s.storeFailed(w, r, err)
		return
	}
	failed := make([]int64, len(ranges))
	if len(ranges) > 0 {
		err = s.eachFailed(ctx, func(_ *StoredBadRow, ev *event.EnrichedEvent, _ []byte) bool {
			t, ok, err := ev.Timestamp(event.CollectorTstamp)
			if err != nil || !ok {
				return true
			}
			for i, rg := range ranges {
				if !t.Before(rg.Start) && t.Before(rg.End) {
					failed[i]++
				}
			}
			return true
		})
		if err != nil {
			s.storeFailed(w, r, err)
			return
		}
	}
	type point struct {
		ValidEvents  int64  `json:"validEvents"`
		FailedEvents int64  `json:"failedEvents"`
		Bucket       bucket `json:"bucket"`
	}
	out := struct {
		Points []point `json:"points"`
	}{Points: make([]point, len(ranges))}
	for i, rg := range ranges {
		out.Points[i] = point{valid[i], failed[i], bucket{rg.Start, rg.End}}
	}
	js, _ := json.Marshal(out)
	writeJSON(w, http.StatusOK, js)
}

// handleAuthConfig answers Micro's UI question whether it must log in: never here.
func handleAuthConfig(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, []byte(`{"authEnabled":false}`))
}
