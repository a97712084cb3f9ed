package enrich

import (
	"strings"

	"github.com/snowplow-mini/snowplow-mini/enrich/event"
	"github.com/snowplow-mini/snowplow-mini/enrich/internal/jvm"

	"github.com/snowplow-mini/snowplow-mini/iglu"
)

// rawSDJ is parseSDJ on the members of a valid JSON object (as jvm.CheckJSON lists them;
// none when the text is not an object), without decoding it.
func rawSDJ(members []jvm.KeyVal) (key iglu.SchemaKey, dataRaw string, code string) {
	var schema, data string
	var haveData bool
	for _, m := range members {
		switch jvm.RawString(m.Key) {
		case "schema":
			schema = m.Val
		case "data":
			data, haveData = m.Val, true
		}
	}
	if schema == "" || schema[0] != '"' {
		return key, "", iglu.CodeInvalidDataPayload
	}
	k, err := iglu.ParseSchemaKey(jvm.RawString(schema))
	if err != nil {
		if pe, ok := err.(*iglu.ParseError); ok {
			return key, "", pe.Code
		}
		return key, "", iglu.CodeInvalidIgluURI
	}
	if !haveData {
		return key, "", iglu.CodeInvalidDataPayload
	}
	return k, data, ""
}

// payloadDataKeys returns, per ADDITION of payload_data 1-0-*, the parameters its schema
// allows. Every published version (1-0-0 to 1-0-4, which never change) is an array of at
// least one object whose properties are all strings, no other property allowed, tv, p and
// e required.
func payloadDataKeys() []*paramBits {
	base := strings.Fields(`tna aid p dtm tz e tid eid tv duid nuid uid vid ip res url page refr fp ctype
		cookie lang f_pdf f_qt f_realp f_wma f_dir f_fla f_java f_gears f_ag cd ds cs vp mac pp_mix pp_max
		pp_miy pp_may ad_ba ad_ca ad_ad ad_uid tr_id tr_af tr_tt tr_tx tr_sh tr_ci tr_st tr_co tr_cu ti_id
		ti_sk ti_nm ti_na ti_ca ti_pr ti_qu ti_cu sa sn st sp se_ca se_ac se_la se_pr se_va ue_na ue_pr
		ue_px co cx`)
	added := [][]string{nil, {"ua"}, {"tnuid"}, {"sid", "stm"}, {"ttm"}}
	// Each allowed parameter gets a bit number (1..127; 0 means not allowed).
	out := make([]*paramBits, len(added))
	cur := &paramBits{}
	n := 0
	for _, k := range base {
		n++
		cur.add(k, uint8(n))
	}
	for i, extra := range added {
		for _, k := range extra {
			n++
			cur.add(k, uint8(n))
		}
		c := *cur
		out[i] = &c
	}
	return out
}

// paramBits maps parameter names to bit numbers: an open-addressing table, faster than a
// map for a few dozen short names looked up for every parameter of every event.
type paramBits struct {
	slots [256]paramBit // at most a third full
	mask  [2]uint64     // the bits given
}

type paramBit struct {
	name string
	bit  uint8
}

func paramSlot(name string) int {
	return (len(name)*131 + int(name[0])*31 + int(name[len(name)-1])) & 255
}

func (t *paramBits) add(name string, bit uint8) {
	i := paramSlot(name)
	for t.slots[i].name != "" {
		i = (i + 1) & 255
	}
	t.slots[i] = paramBit{name, bit}
	t.mask[bit>>6] |= 1 << (bit & 63)
}

// allows reports whether every bit of seen is one of t's.
func (t *paramBits) allows(seen [2]uint64) bool {
	return seen[0]&^t.mask[0] == 0 && seen[1]&^t.mask[1] == 0
}

// get returns the bit of name, 0 when it has none.
func (t *paramBits) get(name string) uint8 {
	if name == "" {
		return 0
	}
	for i := paramSlot(name); ; i = (i + 1) & 255 {
		switch s := &t.slots[i]; s.name {
		case name:
			return s.bit
		case "":
			return 0
		}
	}
}

// plainPayloadData reads the data array of a payload_data body in one pass when it is
// certainly valid against the published schema key: an array of at least one object,
// every member a string of an allowed parameter, tv, p and e present. Then it returns the
// events (the query-string parameters merged over each) and true; any doubt (a repeated
// key included) returns false, and the generic validator decides, with its reports.
// The parameters are in b's buffers when b is not nil.
func (p *pipeline) plainPayloadData(key iglu.SchemaKey, data string, qs params, b *recordBufs) ([]params, bool) {
	allowed := p.payloadDataBits(key)
	if allowed == nil {
		return nil, false
	}
	evs, end, seen, ok := p.plainEvents(data, jvm.SkipWS(data, 0), qs, b)
	if !ok || !allowed.allows(seen) || jvm.SkipWS(data, end) != len(data) {
		return nil, false
	}
	return evs, true
}

// payloadDataBits returns the parameters allowed by key, nil when key is not a published
// payload_data schema.
func (p *pipeline) payloadDataBits(key iglu.SchemaKey) *paramBits {
	if !p.payloadDataCriterion.Matches(key) || key.Version.Addition >= len(p.payloadDataKeys) {
		return nil
	}
	return p.payloadDataKeys[key.Version.Addition]
}

// plainBody reads a whole tp2 body in one pass when it is a plain payload_data: a JSON
// object of exactly a "schema" string naming a published payload_data schema and a "data"
// array that plainPayloadData accepts for it. Such a text is what jvm.CheckJSON accepts and
// what rawSDJ and plainPayloadData read, with the same events; anything else (another
// member, a key with escapes) returns false and the body goes the general way. The
// parameters are in b's buffers when b is not nil.
func (p *pipeline) plainBody(body string, qs params, b *recordBufs) ([]params, bool) {
	if p.maxDepth < 3 { // the events are objects at depth 3
		return nil, false
	}
	s := body
	i := jvm.SkipWS(s, 0)
	if i >= len(s) || s[i] != '{' {
		return nil, false
	}
	var (
		allowed           *paramBits
		evs               []params
		seen              [2]uint64
		haveKey, haveData bool
	)
	for n := 0; n < 2; n++ {
		i = jvm.SkipWS(s, i+1) // after '{' or ','
		var name string
		switch {
		case strings.HasPrefix(s[i:], `"schema"`) && !haveKey:
			name, haveKey = "schema", true
		case strings.HasPrefix(s[i:], `"data"`) && !haveData:
			name, haveData = "data", true
		default:
			return nil, false
		}
		i = jvm.SkipWS(s, i+len(name)+2)
		if i >= len(s) || s[i] != ':' {
			return nil, false
		}
		i = jvm.SkipWS(s, i+1)
		var ok bool
		if name == "schema" {
			var uri string
			if uri, i, ok = jvm.ReadString(s, i); !ok {
				return nil, false
			}
			key, err := iglu.ParseSchemaKey(uri)
			if err != nil {
				return nil, false
			}
			if allowed = p.payloadDataBits(key); allowed == nil {
				return nil, false
			}
		} else if evs, i, seen, ok = p.plainEvents(s, i, qs, b); !ok {
			return nil, false
		}
		i = jvm.SkipWS(s, i)
		if i >= len(s) || s[i] != ",}"[n] {
			return nil, false
		}
	}
	if !allowed.allows(seen) || jvm.SkipWS(s, i+1) != len(s) {
		return nil, false
	}
	return evs, true
}

// plainEvents reads the array at s[i] (not whitespace) for plainPayloadData, checking its
// syntax as it goes, with the parameters of the latest payload_data schema (whose bits
// the earlier ones share): it returns the events, the index after the array and the
// parameters seen, for the caller to check against the schema of the body.
func (p *pipeline) plainEvents(s string, i int, qs params, b *recordBufs) ([]params, int, [2]uint64, bool) {
	var all [2]uint64
	if i >= len(s) || s[i] != '[' {
		return nil, 0, all, false
	}
	allowed := p.payloadDataKeys[len(p.payloadDataKeys)-1]
	var events []params
	// The parameters and values of all events share two slices (a pointer into an
	// outgrown one keeps it alive), sized for about 64 bytes a parameter, or b's from
	// an earlier record, whose events are done with.
	guess := min((len(s)-i)/64+8, 4096)
	var nvps []event.NVP
	var vals []string
	if b != nil && cap(b.nvps) >= guess && cap(b.vals) >= guess {
		nvps, vals = b.nvps[:0], b.vals[:0]
	} else {
		nvps, vals = make([]event.NVP, 0, guess), make([]string, 0, guess)
	}
	for {
		i = jvm.SkipWS(s, i+1) // after '[' or ','
		if i >= len(s) || s[i] != '{' {
			return nil, 0, all, false
		}
		start := len(nvps)
		var seen [2]uint64
		i = jvm.SkipWS(s, i+1)
		if i < len(s) && s[i] == '}' {
			return nil, 0, all, false // tv, p and e are required
		}
		for {
			k, next, ok := jvm.ReadString(s, i)
			if !ok {
				return nil, 0, all, false
			}
			i = jvm.SkipWS(s, next)
			if i >= len(s) || s[i] != ':' {
				return nil, 0, all, false
			}
			v, next, ok := jvm.ReadString(s, jvm.SkipWS(s, i+1))
			if !ok {
				return nil, 0, all, false // not a string
			}
			bit := allowed.get(k)
			if bit == 0 || seen[bit>>6]&(1<<(bit&63)) != 0 {
				return nil, 0, all, false
			}
			seen[bit>>6] |= 1 << (bit & 63)
			vals = append(vals, v)
			nvps = append(nvps, event.NVP{Name: k, Value: &vals[len(vals)-1]})
			if i = jvm.SkipWS(s, next); i < len(s) && s[i] == ',' {
				i = jvm.SkipWS(s, i+1)
				continue
			}
			break
		}
		if i >= len(s) || s[i] != '}' {
			return nil, 0, all, false
		}
		has := func(k string) bool { b := allowed.get(k); return seen[b>>6]&(1<<(b&63)) != 0 }
		if !has("tv") || !has("p") || !has("e") {
			return nil, 0, all, false
		}
		ev := params(nvps[start:len(nvps):len(nvps)])
		for _, q := range qs {
			ev.set(q.Name, q.Value)
		}
		events = append(events, ev)
		all[0] |= seen[0]
		all[1] |= seen[1]
		if i = jvm.SkipWS(s, i+1); i < len(s) && s[i] == ',' {
			continue
		}
		if i >= len(s) || s[i] != ']' {
			return nil, 0, all, false
		}
		if b != nil {
			b.nvps, b.vals = nvps[:0], vals[:0]
		}
		return events, i + 1, all, true
	}
}

// plainEnvelope reports whether data certainly validates against the published envelope
// schemas contexts 1-0-0 / 1-0-1 (an array, non-empty for 1-0-0, of objects with exactly
// a string "schema" Iglu URI and a "data") or unstruct_event 1-0-0 (one such object).
// Any doubt answers false and the generic validator decides.
func plainEnvelope(key iglu.SchemaKey, data any) bool {
	switch plainEnvelopeName(key) {
	case "contexts":
		arr, ok := data.([]any)
		if !ok || (key.Version.Addition == 0 && len(arr) == 0) {
			return false
		}
		for _, v := range arr {
			if !plainSDJObject(v) {
				return false
			}
		}
		return true
	case "unstruct_event":
		return plainSDJObject(data)
	}
	return false
}

// plainEnvelopeName returns "contexts" or "unstruct_event" when key is one of the
// envelope schemas plainEnvelope knows (contexts 1-0-0 and 1-0-1, unstruct_event 1-0-0),
// "" otherwise.
func plainEnvelopeName(key iglu.SchemaKey) string {
	if key.Vendor != "com.snowplowanalytics.snowplow" || key.Format != "jsonschema" || key.Version.Model != 1 || key.Version.Revision != 0 {
		return ""
	}
	switch {
	case key.Name == "contexts" && key.Version.Addition <= 1:
		return "contexts"
	case key.Name == "unstruct_event" && key.Version.Addition == 0:
		return "unstruct_event"
	}
	return ""
}

// plainSDJObject: an object of exactly "schema" and "data", the schema a plain Iglu URI
// (plainSchemaURI).
func plainSDJObject(v any) bool {
	m, ok := v.(map[string]any)
	if !ok || len(m) != 2 {
		return false
	}
	if _, ok := m["data"]; !ok {
		return false
	}
	s, ok := m["schema"].(string)
	return ok && plainSchemaURI(s)
}

// plainSchemaURI: s matches ^iglu:vendor/name/format/N-N-N$ with letters, digits, '_'
// and (vendor only) '.'.
func plainSchemaURI(s string) bool {
	rest, ok := strings.CutPrefix(s, "iglu:")
	vendor, rest, ok1 := strings.Cut(rest, "/")
	name, rest, ok2 := strings.Cut(rest, "/")
	format, version, ok3 := strings.Cut(rest, "/")
	if !ok || !ok1 || !ok2 || !ok3 || !plainIdent(vendor, true) || !plainIdent(name, false) || !plainIdent(format, false) {
		return false
	}
	model, rest, ok1 := strings.Cut(version, "-")
	revision, addition, ok2 := strings.Cut(rest, "-")
	return ok1 && ok2 && asciiDigits(model) && asciiDigits(revision) && asciiDigits(addition)
}

func plainIdent(s string, dots bool) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || (dots && c == '.')) {
			return false
		}
	}
	return true
}
