package loaders

import (
	"fmt"
	"strconv"
	"strings"
	"sync"

	"github.com/snowplow-mini/snowplow-mini/enrich/event"
	"github.com/snowplow-mini/snowplow-mini/iglu"
)

// The wide-row layout (Snowflake and Databricks loaders) gives each self-describing type one
// column: contexts_<vendor>_<name>_<model> holds a JSON array of the data objects of every
// entity of that type in contexts and derived_contexts (the two share the column, contexts
// first), unstruct_event_<vendor>_<name>_<model> holds the event's data object.
//
// The sink computes these for every event, so this file extracts them without decoding:
// one pass over each JSON field finds the schema and the byte span of the data of every
// entity, and a column value is those spans joined. The fields were validated by
// event.ParseTSV already, so the scanner does not validate again; it only guarantees to
// stay in bounds and to report structure it does not expect.

// Column-name prefixes of the wide-row layout.
const (
	contextsPrefix      = "contexts"
	unstructEventPrefix = "unstruct_event"
)

// wideColumn is the value of one wide-row column of one event.
type wideColumn struct {
	name  string // e.g. contexts_com_snowplowanalytics_snowplow_web_page_1
	value string // JSON array (contexts) or the event's data (unstruct_event)
}

// fieldError is a JSON field that could not be read.
type fieldError struct {
	field string
	err   error
}

func (e *fieldError) Error() string { return e.field + ": " + e.err.Error() }
func (e *fieldError) Unwrap() error { return e.err }

// columnNames caches the wide-column name of each schema URI: events carry the same
// few schemas over and over. It stops growing at maxCachedNames per prefix.
type columnNames struct {
	mu       sync.RWMutex
	contexts map[string]string // URI -> contexts_… column
	unstruct map[string]string // URI -> unstruct_event_… column
}

const maxCachedNames = 4096

func (c *columnNames) get(prefix, uri string) (string, error) {
	c.mu.RLock()
	m := c.contexts
	if prefix != contextsPrefix {
		m = c.unstruct
	}
	name, ok := m[uri]
	c.mu.RUnlock()
	if ok {
		return name, nil
	}
	name, err := wideColumnName(prefix, uri)
	if err != nil {
		return "", err
	}
	c.mu.Lock()
	m = c.contexts
	if prefix != contextsPrefix {
		m = c.unstruct
	}
	if m == nil {
		m = make(map[string]string)
		if prefix == contextsPrefix {
			c.contexts = m
		} else {
			c.unstruct = m
		}
	}
	if len(m) < maxCachedNames {
		// The URI may be a substring of a whole event: keep a copy of its own.
		m[strings.Clone(uri)] = name
	}
	c.mu.Unlock()
	return name, nil
}

// wideColumns returns the wide-row columns of an event given the texts of its contexts,
// unstruct_event and derived_contexts fields ("" = null), in order of first appearance.
// An error is a *fieldError naming the field. names may be nil.
func wideColumns(names *columnNames, contexts, unstruct, derived string) ([]wideColumn, error) {
	if names == nil {
		names = &columnNames{}
	}
	var b wideBuilder
	if contexts != "" {
		if err := b.addContexts(names, contexts); err != nil {
			return nil, &fieldError{field: "contexts", err: err}
		}
	}
	if derived != "" {
		if err := b.addContexts(names, derived); err != nil {
			return nil, &fieldError{field: "derived_contexts", err: err}
		}
	}
	if unstruct != "" {
		if err := b.addUnstruct(names, unstruct); err != nil {
			return nil, &fieldError{field: "unstruct_event", err: err}
		}
	}
	return b.columns(), nil
}

// wideBuilder accumulates the data spans per column.
type wideBuilder struct {
	cols  []wideColumn // unstruct_event columns have their value; contexts ones get it from spans
	spans []wideSpan   // the data of each contexts entity, in order
}

// wideSpan is the data of one contexts entity and the index of its column.
type wideSpan struct {
	col  int
	data string
}

func (b *wideBuilder) add(name, data string, single bool) {
	col := -1
	for i := range b.cols {
		if b.cols[i].name == name {
			col = i
			break
		}
	}
	if col < 0 {
		if b.cols == nil {
			b.cols = make([]wideColumn, 0, 4)
		}
		col = len(b.cols)
		b.cols = append(b.cols, wideColumn{name: name})
	}
	if single {
		b.cols[col].value = data
		return
	}
	if b.spans == nil {
		b.spans = make([]wideSpan, 0, 8)
	}
	b.spans = append(b.spans, wideSpan{col: col, data: data})
}

// columns joins the spans of each contexts column into a JSON array. All the arrays are
// written into one string, each column's value a slice of it.
func (b *wideBuilder) columns() []wideColumn {
	if len(b.spans) == 0 {
		return b.cols
	}
	size := 0
	for _, sp := range b.spans {
		size += len(sp.data) + 3 // the data, a comma or a bracket, and a closing bracket at worst
	}
	var sb strings.Builder
	sb.Grow(size)
	var bounds [][2]int
	var boundBuf [8][2]int
	bounds = boundBuf[:0]
	for col := range b.cols {
		start, n := sb.Len(), 0
		for _, sp := range b.spans {
			if sp.col != col {
				continue
			}
			if n == 0 {
				sb.WriteByte('[')
			} else {
				sb.WriteByte(',')
			}
			sb.WriteString(sp.data)
			n++
		}
		if n == 0 {
			bounds = append(bounds, [2]int{-1, -1}) // an unstruct_event column
			continue
		}
		sb.WriteByte(']')
		bounds = append(bounds, [2]int{start, sb.Len()})
	}
	all := sb.String()
	for col, bd := range bounds {
		if bd[0] >= 0 {
			b.cols[col].value = all[bd[0]:bd[1]]
		}
	}
	return b.cols
}

// addContexts reads {"schema":"iglu:…/contexts/…","data":[{"schema":…,"data":…},…]} in
// one pass: the entities are read where they stand in the envelope's data array.
func (b *wideBuilder) addContexts(names *columnNames, s string) error {
	found := false
	err := members(s, 0, func(key string, i int) (int, error) {
		if key != "data" {
			return skipValue(s, i), nil
		}
		found = true
		if s[i] != '[' {
			return -1, fmt.Errorf("%w: the data of contexts is not an array", errNotSelfDescribing)
		}
		i = skipSpace(s, i+1)
		if i < len(s) && s[i] == ']' {
			return i + 1, nil
		}
		for i < len(s) {
			schema, entity, end, err := selfDescribingAt(s, i)
			if err != nil {
				return -1, fmt.Errorf("entity: %w", err)
			}
			name, err := names.get(contextsPrefix, schema)
			if err != nil {
				return -1, err
			}
			b.add(name, entity, false)
			i = skipSpace(s, end)
			if i < len(s) && s[i] == ',' {
				i = skipSpace(s, i+1)
				continue
			}
			if i < len(s) && s[i] == ']' {
				return i + 1, nil
			}
			break
		}
		return -1, errUnexpected
	})
	if err != nil {
		return err
	}
	if !found {
		return fmt.Errorf("%w: schema and data are required", errNotSelfDescribing)
	}
	return nil
}

// addUnstruct reads {"schema":"iglu:…/unstruct_event/…","data":{"schema":…,"data":…}}.
func (b *wideBuilder) addUnstruct(names *columnNames, s string) error {
	_, data, _, err := selfDescribingAt(s, 0)
	if err != nil {
		return err
	}
	schema, ev, _, err := selfDescribingAt(data, 0)
	if err != nil {
		return fmt.Errorf("event: %w", err)
	}
	name, err := names.get(unstructEventPrefix, schema)
	if err != nil {
		return err
	}
	b.add(name, ev, true)
	return nil
}

// members calls f for each member of the object starting at or after s[i] (after
// spaces) with the key and the index of its value; f returns the index after the value
// (-1 and an error to stop). members returns an error for anything but an object.
func members(s string, i int, f func(key string, value int) (int, error)) error {
	i = skipSpace(s, i)
	if i >= len(s) || s[i] != '{' {
		return fmt.Errorf("%w: not an object", errNotSelfDescribing)
	}
	i = skipSpace(s, i+1)
	for i < len(s) && s[i] != '}' {
		if s[i] != '"' {
			return errUnexpected
		}
		kend := skipString(s, i)
		if kend < 0 {
			return errUnexpected
		}
		key := s[i+1 : kend-1]
		i = skipSpace(s, kend)
		if i >= len(s) || s[i] != ':' {
			return errUnexpected
		}
		i = skipSpace(s, i+1)
		if i >= len(s) {
			return errUnexpected
		}
		end, err := f(key, i)
		if err != nil {
			return err
		}
		if end < 0 {
			return errUnexpected
		}
		i = skipSpace(s, end)
		if i < len(s) && s[i] == ',' {
			i = skipSpace(s, i+1)
		}
	}
	if i >= len(s) {
		return errUnexpected
	}
	return nil
}

// selfDescribingAt reads the object at s[i] with a string "schema" and a "data" member
// (others are ignored, as Iglu clients do) and returns the schema, the text of the data
// value and the index after the object.
func selfDescribingAt(s string, i int) (schema, data string, end int, err error) {
	var haveSchema, haveData bool
	last := -1
	err = members(s, i, func(key string, v int) (int, error) {
		e := skipValue(s, v)
		if e < 0 {
			return -1, errUnexpected
		}
		switch key {
		case "schema":
			if s[v] != '"' {
				return -1, fmt.Errorf("%w: schema is not a string", errNotSelfDescribing)
			}
			var err error
			if schema, err = unquote(s[v:e]); err != nil {
				return -1, err
			}
			haveSchema = true
		case "data":
			data, haveData = s[v:e], true
		}
		last = e
		return e, nil
	})
	if err != nil {
		return "", "", -1, err
	}
	if !haveSchema || !haveData {
		return "", "", -1, fmt.Errorf("%w: schema and data are required", errNotSelfDescribing)
	}
	// The object ends at the first '}' after its last member.
	end = strings.IndexByte(s[last:], '}')
	if end < 0 {
		return "", "", -1, errUnexpected
	}
	return schema, data, last + end + 1, nil
}

func skipSpace(s string, i int) int {
	for i < len(s) && isSpace(s[i]) {
		i++
	}
	return i
}

// skipString returns the index after the string literal starting at s[i], or -1.
func skipString(s string, i int) int {
	j := i + 1
	for {
		k := strings.IndexByte(s[j:], '"')
		if k < 0 {
			return -1
		}
		j += k
		// The quote is escaped when an odd number of backslashes precede it.
		n := 0
		for p := j - 1; p > i && s[p] == '\\'; p-- {
			n++
		}
		if n%2 == 0 {
			return j + 1
		}
		j++
	}
}

// skipValue returns the index after the JSON value starting at s[i], or -1. It trusts
// the value to be valid JSON, counting only brackets outside strings.
func skipValue(s string, i int) int {
	if i >= len(s) {
		return -1
	}
	switch s[i] {
	case '"':
		return skipString(s, i)
	case '{', '[':
		depth := 0
		for j := i; j < len(s); j++ {
			switch s[j] {
			case '"':
				end := skipString(s, j)
				if end < 0 {
					return -1
				}
				j = end - 1
			case '{', '[':
				depth++
			case '}', ']':
				depth--
				if depth == 0 {
					return j + 1
				}
			}
		}
		return -1
	}
	// A number, true, false or null: up to the next delimiter.
	j := i
	for j < len(s) {
		switch s[j] {
		case ',', '}', ']', ' ', '\t', '\n', '\r':
			return j
		}
		j++
	}
	return j
}

// unquote decodes a JSON string literal.
func unquote(lit string) (string, error) {
	if len(lit) < 2 {
		return "", errUnexpected
	}
	body := lit[1 : len(lit)-1]
	if strings.IndexByte(body, '\\') < 0 {
		return body, nil
	}
	v, err := strconv.Unquote(`"` + strings.ReplaceAll(body, `\/`, `/`) + `"`)
	if err != nil {
		return "", fmt.Errorf("%w: invalid string %s", errNotSelfDescribing, lit)
	}
	return v, nil
}

// wideColumnName returns the wide-row column of the entities of an Iglu schema:
// <prefix>_<vendor>_<name>_<model> with Snowplow's naming rule (event.ShredColumnName, the
// keys of the Analytics-SDK JSON).
func wideColumnName(prefix, uri string) (string, error) {
	key, err := iglu.ParseSchemaKey(uri)
	if err != nil {
		return "", fmt.Errorf("%w: schema %q is not an Iglu URI", errNotSelfDescribing, uri)
	}
	return event.ShredColumnName(prefix, key.Vendor, key.Name, key.Version.Model), nil
}

// isWideColumn reports whether a column of the events table is a wide-row column.
func isWideColumn(name string) bool {
	return strings.HasPrefix(name, contextsPrefix+"_") || strings.HasPrefix(name, unstructEventPrefix+"_")
}

// entityColumns returns the wide-row columns of an observed event from the entities
// enrich gave with it, and whether they are the columns wideColumns reads from the
// event's fields. They are when each of the three JSON fields is, byte for byte, what
// enrich writes for its entities (event.MarshalContexts, event.MarshalUnstruct): that
// is compared here, not assumed, as an enrichment may have rewritten a field. The
// reading of wideColumns then finds each entity's schema and data where the layout
// puts them, given what enrich guarantees of the data (one valid JSON value) and what
// is checked below (a schema without quote or backslash, data without surrounding
// spaces). The values are taken from o.line, never from the entities: those are
// enrich's memory.
func entityColumns(names *columnNames, o *observedEvent, ents *event.Entities) ([]wideColumn, bool) {
	var b wideBuilder
	if !b.addContextEntities(names, o.field(event.Contexts), ents.Contexts) ||
		!b.addContextEntities(names, o.field(event.DerivedContexts), ents.Derived) ||
		!b.addUnstructEntity(names, o.field(event.UnstructEvent), ents.Unstruct) {
		return nil, false
	}
	return b.columns(), true
}

// Heads of the contexts and unstruct_event envelopes enrich writes.
const (
	contextsHead = `{"schema":"` + event.ContextsSchema + `","data":[`
	unstructHead = `{"schema":"` + event.UnstructEventSchema + `","data":`
)

// addContextEntities adds ents, when s is event.MarshalContexts(ents).
func (b *wideBuilder) addContextEntities(names *columnNames, s string, ents []event.SelfDescribing) bool {
	if len(ents) == 0 {
		return s == ""
	}
	if !strings.HasPrefix(s, contextsHead) {
		return false
	}
	i := len(contextsHead)
	for k := range ents {
		if k > 0 {
			if i >= len(s) || s[i] != ',' {
				return false
			}
			i++
		}
		data, end, ok := entityText(s, i, &ents[k])
		if !ok {
			return false
		}
		name, err := names.get(contextsPrefix, ents[k].Schema)
		if err != nil {
			return false // wideColumns reports it
		}
		b.add(name, data, false)
		i = end
	}
	return s[i:] == "]}"
}

// addUnstructEntity adds ue, when s is event.MarshalUnstruct(*ue) ("" when ue is nil).
func (b *wideBuilder) addUnstructEntity(names *columnNames, s string, ue *event.SelfDescribing) bool {
	if ue == nil {
		return s == ""
	}
	if !strings.HasPrefix(s, unstructHead) {
		return false
	}
	data, end, ok := entityText(s, len(unstructHead), ue)
	if !ok || s[end:] != "}" {
		return false
	}
	name, err := names.get(unstructEventPrefix, ue.Schema)
	if err != nil {
		return false
	}
	b.add(name, data, true)
	return true
}

// entityText checks that s[i:] starts with what SelfDescribing.AppendJSON writes for e
// and returns the text of its data there and the index after it.
func entityText(s string, i int, e *event.SelfDescribing) (data string, end int, ok bool) {
	// A schema needing no escapes is written as it is, and read back the same.
	if strings.IndexByte(e.Schema, '"') >= 0 || strings.IndexByte(e.Schema, '\\') >= 0 {
		return "", 0, false
	}
	if !hasAt(s, i, `{"schema":"`) || !hasAt(s, i+len(`{"schema":"`), e.Schema) {
		return "", 0, false
	}
	i += len(`{"schema":"`) + len(e.Schema)
	if !hasAt(s, i, `","data":`) {
		return "", 0, false
	}
	i += len(`","data":`)
	n := len(e.Data)
	switch {
	case n == 0:
		if !hasAt(s, i, "null") {
			return "", 0, false
		}
		n = len("null")
	// wideColumns skips spaces around the data: its value has none.
	case isSpace(e.Data[0]) || isSpace(e.Data[n-1]):
		return "", 0, false
	case len(s)-i < n || s[i:i+n] != string(e.Data): // compared in place, not converted
		return "", 0, false
	}
	if !hasAt(s, i+n, "}") {
		return "", 0, false
	}
	return s[i : i+n], i + n + 1, true
}

// hasAt reports whether s[i:] starts with p.
func hasAt(s string, i int, p string) bool { return len(s)-i >= len(p) && s[i:i+len(p)] == p }

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }
