// Package event is the enriched stream's record model: Snowplow's 131-field enriched event
// (EnrichedEvent), its TSV codec, the Analytics-SDK JSON shape the loaders and the
// Micro-compatible test API serve, the PartiallyEnrichedEvent and RawEvent JSON objects that
// enrich puts into bad rows, and the helpers for self-describing JSON columns.
//
// enrich writes EnrichedEvent TSV lines to the enriched stream; the loaders and web read them.
// This is a leaf model package: any stage may import it; it imports no stage and no other
// model package.
package event

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
)

// NumFields is the number of fields of an enriched event (the 128 atomic properties plus
// contexts, unstruct_event and derived_contexts).
const NumFields = 131

// Field is the index of an enriched-event field in TSV order.
type Field int

// Kind is how the TSV text of a field is to be read.
type Kind uint8

// Field kinds.
const (
	KindString    Kind = iota // text as-is
	KindInt                   // 32-bit decimal integer
	KindBool                  // "1" or "0"
	KindDecimal               // Java BigDecimal text, e.g. "12.50"
	KindFloat                 // Java Float text, e.g. "37.751"
	KindTimestamp             // "2006-01-02 15:04:05.000", UTC
	KindJSON                  // compact self-describing JSON (contexts, unstruct_event, derived_contexts)
)

var kindNames = [...]string{"string", "int", "bool", "decimal", "float", "timestamp", "json"}

// String returns the lowercase kind name.
func (k Kind) String() string {
	if int(k) < len(kindNames) {
		return kindNames[k]
	}
	return "kind(" + strconv.Itoa(int(k)) + ")"
}

type fieldInfo struct {
	name string
	kind Kind
	max  int
}

// Valid reports whether f is one of the 131 fields.
func (f Field) Valid() bool { return f >= 0 && f < NumFields }

// Name returns the enriched field name, as enrich, the atomic schema, the Scala analytics SDK
// and the loaders spell it (field 121 is "refr_dvce_tstamp").
func (f Field) Name() string {
	if !f.Valid() {
		return "field(" + strconv.Itoa(int(f)) + ")"
	}
	return fieldInfos[f].name
}

// String returns f.Name().
func (f Field) String() string { return f.Name() }

// Kind returns how the field's TSV text is to be read.
func (f Field) Kind() Kind {
	if !f.Valid() {
		return KindString
	}
	return fieldInfos[f].kind
}

// MaxLength returns enrich's default length limit for the field in characters: the
// built-in atomic field limit where enrich has one, else the atomic schema's maxLength.
// 0 means no limit (typed and JSON fields).
func (f Field) MaxLength() int {
	if !f.Valid() {
		return 0
	}
	return fieldInfos[f].max
}

// SDKName returns the field name the Go and Python analytics SDKs use; it differs from
// Name only for field 121 ("refr_device_tstamp").
func (f Field) SDKName() string {
	if f == RefrDvceTstamp {
		return "refr_device_tstamp"
	}
	return f.Name()
}

// FieldByName returns the field with the given enriched name. The Go/Python SDK spelling
// "refr_device_tstamp" is accepted for field 121.
func FieldByName(name string) (Field, bool) {
	if name == "refr_device_tstamp" {
		return RefrDvceTstamp, true
	}
	i, found := slices.BinarySearchFunc(fieldsByName[:], name, func(f Field, n string) int {
		return strings.Compare(fieldInfos[f].name, n)
	})
	if !found {
		return 0, false
	}
	return fieldsByName[i], true
}

// EnrichedEvent is one enriched event: the TSV text of each of its 131 fields, "" meaning
// null. The zero value is an event with every field null.
type EnrichedEvent struct {
	Fields [NumFields]string
}

// Get returns the TSV text of field f ("" when null).
func (e *EnrichedEvent) Get(f Field) string { return e.Fields[f] }

// Set sets the TSV text of field f ("" makes it null).
func (e *EnrichedEvent) Set(f Field, v string) { e.Fields[f] = v }

// Reset makes every field null, so the struct can be reused.
func (e *EnrichedEvent) Reset() { e.Fields = [NumFields]string{} }

// SetTimestamp sets a timestamp field to the TSV text of t; a zero t makes it null.
func (e *EnrichedEvent) SetTimestamp(f Field, t time.Time) {
	if t.IsZero() {
		e.Fields[f] = ""
		return
	}
	e.Fields[f] = FormatTimestamp(t)
}

// Timestamp returns the time held by a timestamp field; ok is false when it is null.
func (e *EnrichedEvent) Timestamp(f Field) (t time.Time, ok bool, err error) {
	v := e.Fields[f]
	if v == "" {
		return time.Time{}, false, nil
	}
	t, err = ParseTimestamp(v)
	if err != nil {
		return time.Time{}, false, fmt.Errorf("field %s: %w", f.Name(), err)
	}
	return t, true, nil
}

// SetInt sets an int field.
func (e *EnrichedEvent) SetInt(f Field, v int) { e.Fields[f] = strconv.Itoa(v) }

// SetBool sets a bool field to "1" or "0".
func (e *EnrichedEvent) SetBool(f Field, v bool) {
	if v {
		e.Fields[f] = "1"
	} else {
		e.Fields[f] = "0"
	}
}
