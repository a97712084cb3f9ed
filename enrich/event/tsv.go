package event

import (
	"bytes"
	"encoding/json"
	"math"
	"strconv"
	"strings"
)

// ParsingError is the error of ParseTSV. Its JSON is the analytics SDK's ParsingError, the
// failure of a loader_parsing_error bad row. It is one of NotTSV, *FieldNumberMismatch or
// *RowDecodingError.
type ParsingError interface {
	error
	json.Marshaler
	parsingError()
}

// NotTSV is the error for a line with no TAB at all.
type NotTSV struct{}

func (NotTSV) Error() string                { return "enriched event is not TSV: no tab character" }
func (NotTSV) MarshalJSON() ([]byte, error) { return []byte(`{"type":"NotTSV"}`), nil }
func (NotTSV) parsingError()                {}

// FieldNumberMismatch is the error for a TSV line without exactly NumFields fields.
type FieldNumberMismatch struct {
	FieldCount int
}

func (e *FieldNumberMismatch) Error() string {
	return "enriched event has " + strconv.Itoa(e.FieldCount) + " fields, want " + strconv.Itoa(NumFields)
}

// MarshalJSON returns {"type":"FieldNumberMismatch","fieldCount":n}.
func (e *FieldNumberMismatch) MarshalJSON() ([]byte, error) {
	b := append([]byte(nil), `{"type":"FieldNumberMismatch","fieldCount":`...)
	b = strconv.AppendInt(b, int64(e.FieldCount), 10)
	return append(b, '}'), nil
}
func (*FieldNumberMismatch) parsingError() {}

// RowDecodingError is the error for a line whose typed fields do not all parse. Errors has
// one entry per bad field, in field order.
type RowDecodingError struct {
	Errors []InvalidValue
}

func (e *RowDecodingError) Error() string {
	var sb strings.Builder
	sb.WriteString("enriched event fields do not parse: ")
	for i, iv := range e.Errors {
		if i > 0 {
			sb.WriteString("; ")
		}
		sb.WriteString(iv.Message)
	}
	return sb.String()
}

// MarshalJSON returns {"type":"RowDecodingError","errors":[…]}.
func (e *RowDecodingError) MarshalJSON() ([]byte, error) {
	b := append([]byte(nil), `{"type":"RowDecodingError","errors":[`...)
	for i, iv := range e.Errors {
		if i > 0 {
			b = append(b, ',')
		}
		b = iv.appendJSON(b)
	}
	return append(b, "]}"...), nil
}
func (*RowDecodingError) parsingError() {}

// InvalidValue is one field of a RowDecodingError: its name, its TSV text and why it is
// invalid.
type InvalidValue struct {
	Key     string
	Value   string
	Message string
}

// MarshalJSON returns {"type":"InvalidValue","key":…,"value":…,"message":…}.
func (iv InvalidValue) MarshalJSON() ([]byte, error) { return iv.appendJSON(nil), nil }

func (iv InvalidValue) appendJSON(b []byte) []byte {
	b = append(b, `{"type":"InvalidValue","key":`...)
	b = AppendJSONString(b, iv.Key)
	b = append(b, `,"value":`...)
	b = AppendJSONString(b, iv.Value)
	b = append(b, `,"message":`...)
	b = AppendJSONString(b, iv.Message)
	return append(b, '}')
}

// AppendTSV appends the event as one TSV line (exactly NumFields fields, no newline) to dst.
// Producers should clean values with CleanString; as a last guard, a TAB inside a value is
// written as four spaces and CR and LF are dropped, so the line always has NumFields fields.
func (e *EnrichedEvent) AppendTSV(dst []byte) []byte {
	for i := range e.Fields {
		if i > 0 {
			dst = append(dst, '\t')
		}
		v := e.Fields[i]
		if v == "" { // most of the 131 fields of an event
			continue
		}
		if !hasSeparator(v) {
			dst = append(dst, v...)
			continue
		}
		for j := 0; j < len(v); j++ {
			switch c := v[j]; c {
			case '\t':
				dst = append(dst, "    "...)
			case '\n', '\r':
			default:
				dst = append(dst, c)
			}
		}
	}
	return dst
}

// hasSeparator reports whether s holds a TAB, CR or LF.
func hasSeparator(s string) bool {
	if len(s) >= 64 {
		return strings.IndexByte(s, '\t') >= 0 || strings.IndexByte(s, '\n') >= 0 || strings.IndexByte(s, '\r') >= 0
	}
	// Most fields (timestamps, UUIDs, URLs, names) are shorter: eight bytes at a time
	// (the last eight overlapping the block before), looking for any byte below 0x0E
	// (TAB, LF and CR are 0x09, 0x0A and 0x0D), which a field hardly ever has otherwise;
	// the bytes from a flagged block on are then read one by one. A borrow can flag a
	// byte wrongly only above a rightly flagged one, so a flag means there is such a
	// byte.
	const (
		ones  = 0x0101010101010101
		highs = 0x8080808080808080
	)
	i := 0
	if len(s) >= 8 {
		for {
			w := s[i : i+8]
			x := uint64(w[0]) | uint64(w[1])<<8 | uint64(w[2])<<16 | uint64(w[3])<<24 |
				uint64(w[4])<<32 | uint64(w[5])<<40 | uint64(w[6])<<48 | uint64(w[7])<<56
			if (x-ones*0x0e)&^x&highs != 0 {
				break
			}
			if i+8 == len(s) {
				return false
			}
			i = min(i+8, len(s)-8)
		}
	}
	for ; i < len(s); i++ {
		if c := s[i]; c == '\t' || c == '\n' || c == '\r' {
			return true
		}
	}
	return false
}

// MarshalTSV returns the event as one TSV line.
func (e *EnrichedEvent) MarshalTSV() []byte {
	n := NumFields
	for i := range e.Fields {
		n += len(e.Fields[i])
	}
	return e.AppendTSV(make([]byte, 0, n))
}

// ParseTSV parses one enriched TSV line (a trailing "\n" or "\r\n" is not allowed: strip it).
// The result holds strings that share one copy of line. See UnmarshalTSV for the checks.
func ParseTSV(line []byte) (*EnrichedEvent, error) {
	e := new(EnrichedEvent)
	if err := e.UnmarshalTSV(line); err != nil {
		return nil, err
	}
	return e, nil
}

// UnmarshalTSV parses one enriched TSV line into e, replacing every field. It checks what the
// analytics SDKs check: the line has a TAB (else NotTSV), exactly NumFields fields (else
// *FieldNumberMismatch), and every non-empty typed field parses, collecting every bad field
// into one *RowDecodingError: timestamps, 32-bit ints, bools "1"/"0", finite decimals and
// floats, event_id as a UUID, and the three JSON columns as self-describing JSON of the right
// shape. collector_tstamp, event_id, v_collector and v_etl must not be empty. On error, e is
// left with the fields of line when their number was right, else unchanged.
func (e *EnrichedEvent) UnmarshalTSV(line []byte) error {
	if err := e.SplitTSV(line); err != nil {
		return err
	}
	return e.Check()
}

// SplitTSV sets the fields of e to those of line, as UnmarshalTSV does, without
// checking them: for a line known to be a good event's (the event store's, for lines
// enrich handed it). It returns NotTSV or *FieldNumberMismatch, leaving e unchanged,
// when line has not exactly NumFields fields.
func (e *EnrichedEvent) SplitTSV(line []byte) error {
	n := bytes.Count(line, tab)
	if n == 0 {
		return NotTSV{}
	}
	if n != NumFields-1 {
		return &FieldNumberMismatch{FieldCount: n + 1}
	}
	s := string(line)
	for i := 0; i < NumFields-1; i++ {
		j := strings.IndexByte(s, '\t')
		e.Fields[i] = s[:j]
		s = s[j+1:]
	}
	e.Fields[NumFields-1] = s
	return nil
}

var tab = []byte{'\t'}

// Check validates the typed fields of e as UnmarshalTSV does and returns a *RowDecodingError
// listing every invalid one, or nil.
func (e *EnrichedEvent) Check() error {
	var errs []InvalidValue
	for i := range e.Fields {
		f := Field(i)
		v := e.Fields[i]
		if v == "" {
			switch f {
			case CollectorTstamp, EventID, VCollector, VEtl:
				errs = append(errs, InvalidValue{Key: f.Name(), Value: v, Message: "Field " + f.Name() + " cannot be empty"})
			}
			continue
		}
		if msg := checkValue(f, v); msg != "" {
			errs = append(errs, InvalidValue{Key: f.Name(), Value: v, Message: msg})
		}
	}
	if errs != nil {
		return &RowDecodingError{Errors: errs}
	}
	return nil
}

// checkValue returns why the non-empty TSV text v is invalid for f, or "".
func checkValue(f Field, v string) string {
	var into string
	switch f.Kind() {
	case KindString:
		if f != EventID || isUUID(v) {
			return ""
		}
		into = "UUID"
	case KindInt:
		if _, err := strconv.ParseInt(v, 10, 32); err == nil {
			return ""
		}
		into = "integer"
	case KindBool:
		if v == "0" || v == "1" {
			return ""
		}
		into = "boolean"
	case KindDecimal, KindFloat:
		if x, err := strconv.ParseFloat(v, 64); err == nil && !math.IsInf(x, 0) && !math.IsNaN(x) {
			return ""
		}
		into = "double"
	case KindTimestamp:
		if _, err := ParseTimestamp(v); err == nil {
			return ""
		}
		into = "datetime"
	case KindJSON:
		err := checkJSONColumn(f, v)
		if err == nil {
			return ""
		}
		return "Cannot parse key " + f.Name() + " into " + jsonInto(f) + ": " + err.Error()
	}
	return "Cannot parse key " + f.Name() + " with value " + v + " into " + into
}

func jsonInto(f Field) string {
	if f == UnstructEvent {
		return "unstruct_event"
	}
	return "contexts"
}

func checkJSONColumn(f Field, v string) error {
	if f == UnstructEvent {
		_, err := scanUnstruct(bytesOf(v), true)
		return err
	}
	return scanContexts(bytesOf(v), true, nil)
}

// isUUID reports whether s is a UUID in the 8-4-4-4-12 hexadecimal form.
func isUUID(s string) bool {
	if len(s) != 36 {
		return false
	}
	for i := 0; i < 36; i++ {
		c := s[i]
		switch i {
		case 8, 13, 18, 23:
			if c != '-' {
				return false
			}
		default:
			if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F') {
				return false
			}
		}
	}
	return true
}

// CleanString makes s safe as the TSV text of a string field the way enrich does: TAB
// becomes four spaces and the other ASCII control characters (U+0000–U+001F, U+007F) are
// removed.
func CleanString(s string) string {
	clean := true
	for i := 0; i < len(s); i++ {
		if s[i] < 0x20 || s[i] == 0x7f {
			clean = false
			break
		}
	}
	if clean {
		return s
	}
	var sb strings.Builder
	sb.Grow(len(s) + 6)
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '\t':
			sb.WriteString("    ")
		case c < 0x20 || c == 0x7f:
		default:
			sb.WriteByte(c)
		}
	}
	return sb.String()
}
