package event

import (
	"bytes"
	"math"
	"strconv"
)

// AppendJSON appends the event in the lossy Analytics-SDK JSON shape to dst, the shape the
// loaders' JSON outputs and the Micro test API serve:
//
//   - every non-empty field under its Name (field 121 is "refr_dvce_tstamp" as in the Scala
//     SDK and the loaders; the Go and Python SDKs say "refr_device_tstamp"); empty fields are
//     left out;
//   - timestamps as ISO-8601 strings with milliseconds, "2024-03-01T12:00:00.123Z" (the
//     Python SDK's form; the Scala SDK drops ".000");
//   - ints and the decimal and float fields (se_value, tr_*, ti_price, *_base, geo_*) as JSON
//     numbers, written with the digits of the TSV text (the Scala SDK's choice; the Go and
//     Python SDKs keep se_value a string); booleans as true/false;
//   - "geo_location": "<lat>,<lon>" after geo_longitude when both are set;
//   - the unstruct event under unstruct_event_<vendor>_<name>_<model> (its data object), then
//     the contexts grouped under contexts_<vendor>_<name>_<model> (arrays of data objects),
//     where a key from derived_contexts replaces the same key from contexts. Keys follow
//     ShredColumnName.
//
// It returns a *RowDecodingError when a field does not hold a value of its kind.
func (e *EnrichedEvent) AppendJSON(dst []byte) ([]byte, error) {
	return e.appendSDKJSON(dst, jsonOptions{flatten: true})
}

// AppendMicroJSON appends the event as Snowplow Micro's GoodEvent "event" object, the Scala
// analytics SDK's non-lossy JSON as Micro serves it: exactly the NumFields keys in field
// order (null when empty), typed as in AppendJSON, with contexts, derived_contexts and
// unstruct_event as their self-describing envelopes and {} when a column is empty (the SDK's
// encoding of no contexts), and no flattened or geo_location keys.
func (e *EnrichedEvent) AppendMicroJSON(dst []byte) ([]byte, error) {
	return e.appendSDKJSON(dst, jsonOptions{full: true, emptyObjects: true})
}

// AppendFullJSON appends the event as the Scala analytics SDK's non-lossy JSON, the payload of
// loader_iglu_error and loader_runtime_error bad rows: exactly the NumFields keys in field
// order (null when empty), typed as in AppendJSON, with the JSON columns as their
// self-describing envelopes (see AppendMicroJSON) and no flattened or geo_location keys.
func (e *EnrichedEvent) AppendFullJSON(dst []byte) ([]byte, error) {
	return e.appendSDKJSON(dst, jsonOptions{full: true})
}

// jsonOptions selects one of the SDK JSON shapes.
type jsonOptions struct {
	flatten bool // geo_location and the unstruct_event_… / contexts_… keys
	full    bool // every field key (null when empty) and the JSON columns as envelopes
	// emptyObjects writes the JSON columns in the Scala SDK's envelopes, {} when empty
	// (with full).
	emptyObjects bool
}

// MarshalJSON returns AppendJSON's object.
func (e *EnrichedEvent) MarshalJSON() ([]byte, error) {
	return e.AppendJSON(nil)
}

// shredEntry is one flattened entity: its key (keys[ks:ke]) and its data.
type shredEntry struct {
	ks, ke int
	data   []byte
}

func (e *EnrichedEvent) appendSDKJSON(dst []byte, o jsonOptions) ([]byte, error) {
	dst = append(dst, '{')
	first := true
	sep := func() {
		if !first {
			dst = append(dst, ',')
		}
		first = false
	}
	key := func(name string) {
		sep()
		dst = append(dst, '"')
		dst = append(dst, name...)
		dst = append(dst, '"', ':')
	}
	for i := range e.Fields {
		f := Field(i)
		v := e.Fields[i]
		if f.Kind() == KindJSON {
			if !o.full {
				continue
			}
			key(f.Name())
			switch {
			case o.emptyObjects:
				var err error
				if dst, err = appendSDKEnvelope(dst, f, v); err != nil {
					return dst, err
				}
			case v != "":
				if !validJSON(bytesOf(v)) {
					return dst, invalid(f, v, "Cannot parse key "+f.Name()+" into "+jsonInto(f)+": invalid JSON")
				}
				dst = append(dst, v...)
			case f == UnstructEvent:
				dst = append(dst, "null"...)
			default:
				dst = AppendContexts(dst, nil)
			}
			continue
		}
		if v == "" {
			if o.full {
				key(f.Name())
				dst = append(dst, "null"...)
			}
			continue
		}
		key(f.Name())
		var err error
		dst, err = appendTyped(dst, f, v)
		if err != nil {
			return dst, err
		}
		if o.flatten && f == GeoLongitude && e.Fields[GeoLatitude] != "" {
			key("geo_location")
			dst = append(dst, '"')
			dst = append(dst, e.Fields[GeoLatitude]...)
			dst = append(dst, ',')
			dst = append(dst, v...)
			dst = append(dst, '"')
		}
	}

	if !o.flatten {
		return append(dst, '}'), nil
	}
	var keyArr [256]byte
	var entArr [16]shredEntry
	keys, ents := keyArr[:0], entArr[:0]
	var err error
	if v := e.Fields[UnstructEvent]; v != "" {
		ue, perr := scanUnstruct(bytesOf(v), true)
		if perr != nil {
			return dst, invalid(UnstructEvent, v, "Cannot parse key unstruct_event into unstruct_event: "+perr.Error())
		}
		sep()
		dst = append(dst, '"')
		dst = appendShredColumnName(dst, "unstruct_event", ue.key.Vendor, ue.key.Name, ue.key.Version.Model)
		dst = append(dst, '"', ':')
		dst = append(dst, ue.data...)
	}
	nCtx := 0
	if keys, ents, err = shredContexts(keys, ents, e, Contexts); err != nil {
		return dst, err
	}
	nCtx = len(ents)
	if keys, ents, err = shredContexts(keys, ents, e, DerivedContexts); err != nil {
		return dst, err
	}
	ctxEnts, derEnts := ents[:nCtx], ents[nCtx:]
	k := func(en shredEntry) []byte { return keys[en.ks:en.ke] }
	emitGroups := func(group []shredEntry, skip []shredEntry) {
		for i, en := range group {
			dup := false
			for _, prev := range group[:i] {
				if bytes.Equal(k(prev), k(en)) {
					dup = true
					break
				}
			}
			for _, s := range skip {
				if bytes.Equal(k(s), k(en)) {
					dup = true
					break
				}
			}
			if dup {
				continue
			}
			sep()
			dst = append(dst, '"')
			dst = append(dst, k(en)...)
			dst = append(dst, '"', ':', '[')
			dst = append(dst, en.data...)
			for _, other := range group[i+1:] {
				if bytes.Equal(k(other), k(en)) {
					dst = append(dst, ',')
					dst = append(dst, other.data...)
				}
			}
			dst = append(dst, ']')
		}
	}
	emitGroups(ctxEnts, derEnts)
	emitGroups(derEnts, nil)
	return append(dst, '}'), nil
}

// Envelope schemas of the Scala analytics SDK's JSON, whatever version the TSV had.
const (
	sdkContextsSchema = "iglu:com.snowplowanalytics.snowplow/contexts/jsonschema/1-0-0"
	sdkUnstructSchema = "iglu:com.snowplowanalytics.snowplow/unstruct_event/jsonschema/1-0-0"
)

// appendSDKEnvelope appends a JSON column as the Scala analytics SDK encodes it: its data
// in the SDK's envelope, or {} when there is none.
func appendSDKEnvelope(dst []byte, f Field, v string) ([]byte, error) {
	if v == "" {
		return append(dst, "{}"...), nil
	}
	fail := func(err error) ([]byte, error) {
		return dst, invalid(f, v, "Cannot parse key "+f.Name()+" into "+jsonInto(f)+": "+err.Error())
	}
	if f == UnstructEvent {
		if _, err := scanUnstruct(bytesOf(v), true); err != nil {
			return fail(err)
		}
		env, _ := scanWhole(bytesOf(v), true)
		dst = append(dst, `{"schema":"`+sdkUnstructSchema+`","data":`...)
		dst = append(dst, env.data...)
		return append(dst, '}'), nil
	}
	n := 0
	if err := scanContexts(bytesOf(v), true, func(sdjScan) { n++ }); err != nil {
		return fail(err)
	}
	if n == 0 {
		return append(dst, "{}"...), nil
	}
	env, _ := scanWhole(bytesOf(v), true)
	dst = append(dst, `{"schema":"`+sdkContextsSchema+`","data":`...)
	dst = append(dst, env.data...)
	return append(dst, '}'), nil
}

// shredContexts appends the flattened entities of a contexts column.
func shredContexts(keys []byte, ents []shredEntry, e *EnrichedEvent, f Field) ([]byte, []shredEntry, error) {
	v := e.Fields[f]
	if v == "" {
		return keys, ents, nil
	}
	err := scanContexts(bytesOf(v), true, func(r sdjScan) {
		ks := len(keys)
		keys = appendShredColumnName(keys, "contexts", r.key.Vendor, r.key.Name, r.key.Version.Model)
		ents = append(ents, shredEntry{ks: ks, ke: len(keys), data: r.data})
	})
	if err != nil {
		return keys, ents, invalid(f, v, "Cannot parse key "+f.Name()+" into contexts: "+err.Error())
	}
	return keys, ents, nil
}

func invalid(f Field, v, msg string) error {
	return &RowDecodingError{Errors: []InvalidValue{{Key: f.Name(), Value: v, Message: msg}}}
}

// appendTyped appends the JSON value of the non-empty text v of a non-JSON field f.
func appendTyped(dst []byte, f Field, v string) ([]byte, error) {
	switch f.Kind() {
	case KindString:
		return AppendJSONString(dst, v), nil
	case KindInt:
		if isPlainInt(v) {
			return append(dst, v...), nil
		}
		n, err := strconv.ParseInt(v, 10, 32)
		if err != nil {
			return dst, invalid(f, v, checkValue(f, v))
		}
		return strconv.AppendInt(dst, n, 10), nil
	case KindBool:
		switch v {
		case "1":
			return append(dst, "true"...), nil
		case "0":
			return append(dst, "false"...), nil
		}
		return dst, invalid(f, v, checkValue(f, v))
	case KindDecimal, KindFloat:
		if isJSONNumber(v) {
			return append(dst, v...), nil
		}
		x, err := strconv.ParseFloat(v, 64)
		if err != nil || math.IsInf(x, 0) || math.IsNaN(x) {
			return dst, invalid(f, v, checkValue(f, v))
		}
		return strconv.AppendFloat(dst, x, 'g', -1, 64), nil
	case KindTimestamp:
		if _, ok := parseTimestampFast(v); ok {
			dst = append(dst, '"')
			dst = append(dst, v[:10]...)
			dst = append(dst, 'T')
			dst = append(dst, v[11:]...)
			return append(dst, 'Z', '"'), nil
		}
		t, err := ParseTimestamp(v)
		if err != nil {
			return dst, invalid(f, v, checkValue(f, v))
		}
		dst = append(dst, '"')
		dst = AppendISO(dst, t)
		return append(dst, '"'), nil
	}
	return AppendJSONString(dst, v), nil
}

// isPlainInt reports whether s is an optional '-' and 1 to 9 digits without a leading zero
// (so it fits in 32 bits and is a valid JSON number).
func isPlainInt(s string) bool {
	d := s
	if len(d) > 0 && d[0] == '-' {
		d = d[1:]
	}
	if len(d) == 0 || len(d) > 9 || (d[0] == '0' && len(d) > 1) {
		return false
	}
	for i := 0; i < len(d); i++ {
		if d[i] < '0' || d[i] > '9' {
			return false
		}
	}
	return true
}

// validJSON reports whether b is one valid JSON value (surrounding space allowed).
func validJSON(b []byte) bool {
	end := scanValue(b, skipSpace(b, 0), 0)
	return end >= 0 && skipSpace(b, end) == len(b)
}
