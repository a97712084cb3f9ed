package enrich

import (
	"strings"

	"github.com/snowplow-mini/snowplow-mini/enrich/event"

	"github.com/snowplow-mini/snowplow-mini/iglu"
)

// rawSDJ is parseSDJ on the members of a valid JSON object (as checkJSON lists them;
// none when the text is not an object), without decoding it.
func rawSDJ(members []keyVal) (key iglu.SchemaKey, dataRaw string, code string) {
	var schema, data string
	var haveData bool
	for _, m := range members {
		switch rawString(m.key) {
		case "schema":
			schema = m.val
		case "data":
			data, haveData = m.val, true
		}
	}
	if schema == "" || schema[0] != '"' {
		return key, "", iglu.CodeInvalidDataPayload
	}
	k, err := iglu.ParseSchemaKey(rawString(schema))
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
func (p *pipeline) plainPayloadData(key iglu.SchemaKey, data string, qs params) ([]params, bool) {
	if !p.payloadDataCriterion.Matches(key) || key.Version.Addition >= len(p.payloadDataKeys) {
		return nil, false
	}
	allowed := p.payloadDataKeys[key.Version.Addition]
	var events []params
	// One pass over the array: objects of string members only, anything else gives up.
	d := data
	i := rawSkipWS(d, 0)
	if i >= len(d) || d[i] != '[' {
		return nil, false
	}
	i = rawSkipWS(d, i+1)
	// The parameters and values of all events share two slices (a pointer into an
	// outgrown one keeps it alive), sized for about 64 bytes a parameter.
	guess := min(len(d)/64+8, 4096)
	nvps := make([]event.NVP, 0, guess)
	vals := make([]string, 0, guess)
	for i < len(d) && d[i] == '{' {
		start := len(nvps)
		var seen [2]uint64
		i = rawSkipWS(d, i+1)
		for i < len(d) && d[i] == '"' {
			ke := rawSkipString(d, i)
			k := rawStringUTF8(d[i:ke])
			i = rawSkipWS(d, ke)
			if i >= len(d) || d[i] != ':' {
				return nil, false
			}
			i = rawSkipWS(d, i+1)
			if i >= len(d) || d[i] != '"' {
				return nil, false // not a string
			}
			ve := rawSkipString(d, i)
			bit := allowed.get(k)
			if bit == 0 || seen[bit>>6]&(1<<(bit&63)) != 0 {
				return nil, false
			}
			seen[bit>>6] |= 1 << (bit & 63)
			vals = append(vals, rawStringUTF8(d[i:ve]))
			nvps = append(nvps, event.NVP{Name: k, Value: &vals[len(vals)-1]})
			i = rawSkipWS(d, ve)
			if i < len(d) && d[i] == ',' {
				i = rawSkipWS(d, i+1)
			}
		}
		if i >= len(d) || d[i] != '}' {
			return nil, false
		}
		has := func(k string) bool { b := allowed.get(k); return seen[b>>6]&(1<<(b&63)) != 0 }
		if !has("tv") || !has("p") || !has("e") {
			return nil, false
		}
		ev := params(nvps[start:len(nvps):len(nvps)])
		for _, q := range qs {
			ev.set(q.Name, q.Value)
		}
		events = append(events, ev)
		i = rawSkipWS(d, i+1)
		if i < len(d) && d[i] == ',' {
			i = rawSkipWS(d, i+1)
		}
	}
	if i >= len(d) || d[i] != ']' || len(events) == 0 {
		return nil, false
	}
	return events, true
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
