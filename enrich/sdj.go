package enrich

import (
	"context"
	"errors"
	"strings"
	"unsafe"

	"github.com/snowplow-mini/snowplow-mini/enrich/event"
	"github.com/snowplow-mini/snowplow-mini/enrich/internal/jvm"
	"github.com/snowplow-mini/snowplow-mini/iglu"
	"github.com/snowplow-mini/snowplow-mini/iglu/badrow"
)

// Resolver validates instances against Iglu schemas (*iglu.Resolver satisfies it).
//
// Validate looks key up (following "$supersededBy") and validates the decoded instance
// (map[string]any, []any, string, json.Number, bool, nil). Failures are *iglu.ClientError
// (ResolutionError or ValidationError); any other error is operational (ctx done) and
// stops the batch.
type Resolver interface {
	Validate(ctx context.Context, key iglu.SchemaKey, instance any) (iglu.Validation, error)
}

// textValidator is implemented by resolvers that can tell from the text of an instance
// that it is valid (*iglu.Resolver does): ok true is what Validate answers for the
// decoded instance; ok false means "cannot tell", and Validate decides.
type textValidator interface {
	ValidText(ctx context.Context, key iglu.SchemaKey, instance string) (v iglu.Validation, ok bool)
}

// sdj is a parsed self-describing JSON: its key, its decoded data and the JSON text of the
// data as received.
type sdj struct {
	key     iglu.SchemaKey
	data    any
	dataRaw string
}

// parseSDJ reads a decoded value whose text is raw as Snowplow's SelfDescribingData.parse:
// an object with a string "schema" that is an Iglu URI and a "data" member. The error is
// the NotIglu code.
func parseSDJ(v any, raw string) (sdj, string) {
	key, data, err := iglu.ParseSelfDescribingValue(v)
	if err != nil {
		var pe *iglu.ParseError
		if errors.As(err, &pe) {
			return sdj{}, pe.Code
		}
		return sdj{}, iglu.CodeInvalidDataPayload
	}
	dr, _ := jvm.RawMember(raw, "data")
	return sdj{key: key, data: data, dataRaw: dr}, ""
}

// validate checks s against its schema. A *iglu.ClientError comes back as ce; any other
// error is operational.
func (p *pipeline) validate(ctx context.Context, key iglu.SchemaKey, data any) (iglu.Validation, *iglu.ClientError, error) {
	v, err := p.resolver.Validate(ctx, key, data)
	if err == nil {
		return v, nil, nil
	}
	var ce *iglu.ClientError
	if errors.As(err, &ce) {
		return iglu.Validation{}, ce, nil
	}
	return iglu.Validation{}, nil, err
}

// notIglu builds a NotIglu message for the JSON text raw.
func notIglu(raw, code string) badrow.NotIglu {
	return badrow.NotIglu{JSON: jvm.AppendCanonical(nil, raw), Error: code}
}

// validationInfo is a validation_info derived context: an entity of schema original was
// validated with the superseding version with.
type validationInfo struct {
	original string
	with     string
}

func (vi validationInfo) entity() event.SelfDescribing {
	b := []byte(`{"originalSchema":`)
	b = jvm.AppendCirceString(b, vi.original)
	b = append(b, `,"validatedWith":`...)
	b = jvm.AppendCirceString(b, vi.with)
	b = append(b, '}')
	return event.SelfDescribing{Schema: "iglu:com.snowplowanalytics.iglu/validation_info/jsonschema/1-0-0", Data: b}
}

// inputs are the validated contexts and self-describing event of an event.
type inputs struct {
	contexts       []event.SelfDescribing
	contextsColumn string
	unstruct       *event.SelfDescribing
	unstructK      iglu.SchemaKey
	unstructColumn string
	infos          []validationInfo
}

func (in *inputs) addInfo(vi validationInfo) {
	for _, x := range in.infos {
		if x == vi {
			return
		}
	}
	in.infos = append(in.infos, vi)
}

// extracted is the outcome of reading one contexts or self-describing-event text.
type extracted struct {
	entities []event.SelfDescribing // valid entities (one for an unstruct event)
	column   string                 // the contexts or unstruct_event column for them
	keys     []iglu.SchemaKey       // their keys
	infos    []validationInfo
	msgs     []badrow.Message
}

// inputMemo remembers, within one raw record, what each contexts and event text gave:
// trackers attach the same contexts to every event of a batch, and validation is a
// function of the text and the schema, so each distinct text is read once.
type inputMemo struct {
	contexts, contextsB64 map[string]*extracted // by co / cx text
	unstruct, unstructB64 map[string]*extracted // by ue_pr / ue_px text

	// The etl_tstamp and collector_tstamp texts, the same for every event of a record.
	etlTstamp, collectorTstamp string

	// The page and referrer URLs read, by text: the events of a record are mostly on
	// the same few pages.
	uris map[string]*parsedURI

	// The plain schema URIs read (see schemaKey): the contexts of a record's events have
	// the same few schemas.
	keys  [maxMemoKeys]memoKey
	nkeys int

	// The conversions of tracker parameters the events repeat.
	conv convMemo

	// The derived contexts found valid (see validateDerivedOnce).
	derived  [2]event.SelfDescribing
	nderived int

	// The user agent header and what cleanUserAgent made of it, the same for every event
	// of a record.
	userAgent, cleanedUserAgent string
}

// cleanUserAgent is cleanUserAgent(ua), computed once per record.
func (m *inputMemo) cleanUserAgent(ua string) string {
	if ua != m.userAgent || m.cleanedUserAgent == "" {
		m.userAgent, m.cleanedUserAgent = ua, cleanUserAgent(ua)
	}
	return m.cleanedUserAgent
}

// memoKey is a schema URI text and what schemaKey made of it.
type memoKey struct {
	uri string
	key iglu.SchemaKey
	ok  bool
}

// maxMemoKeys bounds the schema URIs a record remembers; more are read every time.
const maxMemoKeys = 8

// schemaKey returns the key of the schema URI text uri when plainSchemaURI accepts it and
// iglu.ParseSchemaKey reads it, reading each text once per record (m may be nil).
func (m *inputMemo) schemaKey(uri string) (iglu.SchemaKey, bool) {
	if m != nil {
		for i := range m.keys[:m.nkeys] {
			if m.keys[i].uri == uri {
				return m.keys[i].key, m.keys[i].ok
			}
		}
	}
	var key iglu.SchemaKey
	ok := plainSchemaURI(uri)
	if ok {
		var err error
		key, err = iglu.ParseSchemaKey(uri)
		ok = err == nil
	}
	if m != nil && m.nkeys < len(m.keys) {
		m.keys[m.nkeys] = memoKey{uri, key, ok}
		m.nkeys++
	}
	return key, ok
}

// parsedURI is what stringToURI and explode make of a URL text.
type parsedURI struct {
	u     jvm.URI
	msg   string // stringToURI's failure; u and parts are unset
	parts uriParts
}

// uri returns stringToURI and explode of s, reading each text once per record.
func (m *inputMemo) uri(s string) *parsedURI {
	if u, ok := m.uris[s]; ok {
		return u
	}
	u := &parsedURI{}
	if u.u, u.msg = stringToURI(s); u.msg == "" {
		u.parts = explode(u.u)
	}
	if m.uris == nil {
		m.uris = make(map[string]*parsedURI, 4)
	}
	m.uris[s] = u
	return u
}

func (m *inputMemo) forContexts(j *jsonParam) *map[string]*extracted {
	if j.base64 {
		return &m.contextsB64
	}
	return &m.contexts
}

func (m *inputMemo) forUnstruct(j *jsonParam) *map[string]*extracted {
	if j.base64 {
		return &m.unstructB64
	}
	return &m.unstruct
}

// extractInputs parses and validates the co/cx and ue_pr/ue_px texts as Snowplow's
// IgluUtils.extractAndValidateInputJsons: contexts first, then the self-describing event.
// Invalid entities are dropped and reported; valid ones are kept (with the superseding
// version when one was used).
func (p *pipeline) extractInputs(ctx context.Context, memo *inputMemo, contextsRaw, unstructRaw *jsonParam) (inputs, []badrow.Message, error) {
	var in inputs
	var msgs []badrow.Message
	if contextsRaw != nil {
		x, err := memoized(memo.forContexts(contextsRaw), contextsRaw.text, func() (*extracted, error) { return p.extractContexts(ctx, memo, contextsRaw.json()) })
		if err != nil {
			return in, nil, err
		}
		in.contexts, in.contextsColumn = x.entities, x.column
		msgs = append(msgs, x.msgs...)
		for _, vi := range x.infos {
			in.addInfo(vi)
		}
	}
	if unstructRaw != nil {
		x, err := memoized(memo.forUnstruct(unstructRaw), unstructRaw.text, func() (*extracted, error) { return p.extractUnstruct(ctx, memo, unstructRaw.json()) })
		if err != nil {
			return in, nil, err
		}
		msgs = append(msgs, x.msgs...)
		if len(x.entities) == 1 {
			in.unstruct, in.unstructK, in.unstructColumn = &x.entities[0], x.keys[0], x.column
		}
		for _, vi := range x.infos {
			in.addInfo(vi)
		}
	}
	return in, msgs, nil
}

func memoized(m *map[string]*extracted, key string, f func() (*extracted, error)) (*extracted, error) {
	if x, ok := (*m)[key]; ok {
		return x, nil
	}
	x, err := f()
	if err != nil {
		return nil, err
	}
	if *m == nil {
		*m = make(map[string]*extracted, 2)
	}
	(*m)[key] = x
	return x, nil
}

func (p *pipeline) extractContexts(ctx context.Context, memo *inputMemo, raw string) (*extracted, error) {
	if x, ok, err := p.extractContextsPlain(ctx, memo, raw); ok || err != nil {
		return x, err
	}
	return p.extractContextsGeneral(ctx, raw)
}

func (p *pipeline) extractContextsGeneral(ctx context.Context, raw string) (*extracted, error) {
	x := &extracted{}
	data, dataRaw, m, err := p.extractInputData(ctx, raw, "contexts", p.contextsCriterion)
	if err != nil {
		return nil, err
	}
	if m != nil {
		x.msgs = append(x.msgs, m)
		return x, nil
	}
	arr, _ := data.([]any)
	i := 0
	var ierr error
	jvm.RawElements(dataRaw, func(el string) bool {
		if i >= len(arr) {
			return false
		}
		v := arr[i]
		i++
		ent, key, vi, m, err := p.parseAndValidate(ctx, v, el)
		if err != nil {
			ierr = err
			return false
		}
		if m != nil {
			x.msgs = append(x.msgs, m)
			return true
		}
		x.entities = append(x.entities, ent)
		x.keys = append(x.keys, key)
		if vi != nil {
			x.infos = append(x.infos, *vi)
		}
		return true
	})
	if ierr != nil {
		return nil, ierr
	}
	x.column = event.MarshalContexts(x.entities)
	return x, nil
}

func (p *pipeline) extractUnstruct(ctx context.Context, memo *inputMemo, raw string) (*extracted, error) {
	if x, ok, err := p.extractUnstructPlain(ctx, memo, raw); ok || err != nil {
		return x, err
	}
	return p.extractUnstructGeneral(ctx, raw)
}

func (p *pipeline) extractUnstructGeneral(ctx context.Context, raw string) (*extracted, error) {
	x := &extracted{}
	data, dataRaw, m, err := p.extractInputData(ctx, raw, "unstruct", p.unstructCriterion)
	if err != nil {
		return nil, err
	}
	if m != nil {
		x.msgs = append(x.msgs, m)
		return x, nil
	}
	ent, key, vi, m, err := p.parseAndValidate(ctx, data, dataRaw)
	if err != nil {
		return nil, err
	}
	if m != nil {
		x.msgs = append(x.msgs, m)
		return x, nil
	}
	x.entities, x.keys = []event.SelfDescribing{ent}, []iglu.SchemaKey{key}
	x.column = event.MarshalUnstruct(ent)
	if vi != nil {
		x.infos = append(x.infos, *vi)
	}
	return x, nil
}

// extractInputData parses the envelope text, checks it is self-describing with a schema
// matching crit, validates it, and returns its data.
func (p *pipeline) extractInputData(ctx context.Context, raw, field string, crit iglu.Criterion) (any, string, badrow.Message, error) {
	v, jerr := jvm.ParseValidJSON(raw, p.maxDepth) // from a decoded parameter: valid UTF-8
	if jerr != nil {
		return nil, "", badrow.NotJSON{Field: field, Value: badrow.Str(raw), Error: jerr.Error()}, nil
	}
	s, code := parseSDJ(v, raw)
	if code != "" {
		return nil, "", notIglu(raw, code), nil
	}
	if !crit.Matches(s.key) {
		return nil, "", badrow.CriterionMismatch{SchemaKey: s.key.String(), SchemaCriterion: crit.String()}, nil
	}
	if !plainEnvelope(s.key, s.data) {
		_, ce, err := p.validate(ctx, s.key, s.data)
		if err != nil {
			return nil, "", nil, err
		}
		if ce != nil {
			return nil, "", badrow.IgluError{SchemaKey: s.key.String(), Error: ce}, nil
		}
	}
	return s.data, s.dataRaw, nil, nil
}

// parseAndValidate reads one entity (or the event inside unstruct_event), decoded as v
// from the text raw, and validates it.
func (p *pipeline) parseAndValidate(ctx context.Context, v any, raw string) (event.SelfDescribing, iglu.SchemaKey, *validationInfo, badrow.Message, error) {
	s, code := parseSDJ(v, raw)
	if code != "" {
		return event.SelfDescribing{}, iglu.SchemaKey{}, nil, notIglu(raw, code), nil
	}
	return p.validateEntity(ctx, s.key, s.dataRaw, s.data, true, false)
}

// validateEntity validates the data of an entity of schema key, given as the text dataRaw
// and, when decoded is set, as its decoded value data; otherwise dataRaw (part of a text
// jvm.CheckJSON accepted) is decoded only when the verdicts do not know the pair.
// canonical says that dataRaw is known to be printed as jvm.AppendCanonical prints it.
func (p *pipeline) validateEntity(ctx context.Context, key iglu.SchemaKey, dataRaw string, data any, decoded, canonical bool) (event.SelfDescribing, iglu.SchemaKey, *validationInfo, badrow.Message, error) {
	var buf [512]byte
	var k []byte
	if p.verdicts != nil {
		k = verdictKey(buf[:0], key, dataRaw)
		if vd := p.verdicts.valid(ctx, key, k); vd != nil {
			data := vd.data
			if data == nil { // remembered as a derived context
				data = jvm.AppendCanonical(nil, dataRaw)
			}
			return event.SelfDescribing{Schema: vd.uri, Data: data}, key, nil, nil, nil
		}
	}
	var val iglu.Validation
	ok := false
	if !decoded && p.textValidator != nil {
		// Most entities (a session context whose event index changes with every event)
		// are told valid from their text, never decoded.
		val, ok = p.textValidator.ValidText(ctx, key, dataRaw)
	}
	if !ok {
		if !decoded {
			data, _ = jvm.ParseValidJSON(dataRaw, p.maxDepth)
		}
		var ce *iglu.ClientError
		var err error
		val, ce, err = p.validate(ctx, key, data)
		if err != nil {
			return event.SelfDescribing{}, iglu.SchemaKey{}, nil, nil, err
		}
		if ce != nil {
			return event.SelfDescribing{}, iglu.SchemaKey{}, nil, badrow.IgluError{SchemaKey: key.String(), Error: ce}, nil
		}
	}
	var printed []byte
	if canonical {
		printed = unsafe.Slice(unsafe.StringData(dataRaw), len(dataRaw)) // as canonicalData
	} else {
		printed = canonicalData(dataRaw)
	}
	p.verdicts.remember(k, val, printed)
	orig := key
	var vi *validationInfo
	if !val.SupersededBy.IsZero() {
		vi = &validationInfo{original: orig.String(), with: val.SupersededBy.String()}
		key.Version = val.SupersededBy
	}
	uri := ""
	if val.Schema != nil && val.Schema.Key == key {
		uri = val.Schema.URI() // made once per schema
	} else {
		uri = key.String()
	}
	return event.SelfDescribing{Schema: uri, Data: printed}, key, vi, nil, nil
}

// canonicalData returns the valid JSON s as jvm.AppendCanonical prints it: s itself when
// it is printed so already (what trackers send), else a new copy. The bytes of s are
// never written (strings are immutable, and nothing writes into an entity's Data), and
// the slice has no spare capacity, so an append to it copies.
func canonicalData(s string) []byte {
	if s != "" && jvm.IsCanonical(s) {
		return unsafe.Slice(unsafe.StringData(s), len(s))
	}
	return jvm.AppendCanonical(nil, s)
}

// Trackers send plain envelopes: a contexts or unstruct_event envelope whose instance
// plainEnvelope accepts. For those, extractContextsPlain and extractUnstructPlain reach
// the outcome of extractContexts and extractUnstruct without decoding the text: they check
// it (jvm.CheckJSON, the same errors), read the envelope and entities from the text, and
// decode an entity's data only when the verdicts do not know it. Anything else answers
// ok false, and the general path decides.

// plainEnvelopeText reads the valid JSON text raw (valid UTF-8) as an envelope matching
// crit that plainEnvelopeName knows, returning its key and data text.
func (p *pipeline) plainEnvelopeText(raw string, crit iglu.Criterion) (iglu.SchemaKey, string, bool) {
	top, n, jerr := jvm.CheckValidJSONTop(raw, p.maxDepth)
	if jerr != nil || n > len(top) { // more members: the general path decides
		return iglu.SchemaKey{}, "", false
	}
	key, dataRaw, code := rawSDJ(top[:n])
	if code != "" || !crit.Matches(key) || plainEnvelopeName(key) == "" {
		return iglu.SchemaKey{}, "", false
	}
	return key, dataRaw, true
}

// plainEntity reads el, part of a text jvm.CheckJSON accepted, when plainSDJObject would
// accept its value: an object of exactly "schema" (a plain Iglu URI) and "data". It
// returns the entity's key and data text.
func plainEntity(el string) (iglu.SchemaKey, string, bool) {
	var pm plainMembers
	jvm.RawObjectAt(el, jvm.SkipWS(el, 0), pm.add) // not an object: no member
	return pm.entity()
}

// plainMembers collects the members of an entity object for plainEntity.
type plainMembers struct {
	schema, data         string
	haveSchema, haveData bool
	n                    int
}

// add is the callback of jvm.RawObjectAt: it stops after a third member.
func (pm *plainMembers) add(k, v string) bool {
	pm.n++
	switch k {
	case "schema":
		pm.schema, pm.haveSchema = v, true
	case "data":
		pm.data, pm.haveData = v, true
	}
	return pm.n <= 2
}

func (pm *plainMembers) entity() (iglu.SchemaKey, string, bool) {
	if pm.n != 2 || !pm.haveSchema || !pm.haveData || pm.schema[0] != '"' || strings.IndexByte(pm.schema, '\\') >= 0 {
		return iglu.SchemaKey{}, "", false
	}
	uri := pm.schema[1 : len(pm.schema)-1]
	if !plainSchemaURI(uri) {
		return iglu.SchemaKey{}, "", false
	}
	key, err := iglu.ParseSchemaKey(uri)
	if err != nil {
		return iglu.SchemaKey{}, "", false
	}
	return key, pm.data, true
}

// plainEntities reads the array text s (part of a text jvm.CheckJSON accepted) as
// jvm.RawElements and plainEntity on each element would, walking each element once. It
// returns false when s is not an array or an element is not a plain entity.
func plainEntities(s string, ents []plainEntityText) ([]plainEntityText, bool) {
	i := jvm.SkipWS(s, 0)
	if i >= len(s) || s[i] != '[' {
		return ents, false
	}
	i = jvm.SkipWS(s, i+1)
	if i < len(s) && s[i] == ']' {
		return ents, true
	}
	for i < len(s) {
		var pm plainMembers
		end, ok := jvm.RawObjectAt(s, i, pm.add)
		if !ok {
			return ents, false
		}
		k, d, ok := pm.entity()
		if !ok {
			return ents, false
		}
		ents = append(ents, plainEntityText{key: k, data: d})
		i = jvm.SkipWS(s, end)
		if i >= len(s) || s[i] == ']' {
			return ents, true
		}
		i = jvm.SkipWS(s, i+1)
	}
	return ents, true
}

// plainEntityText is an entity of a plain envelope.
type plainEntityText struct {
	key  iglu.SchemaKey
	data string
	uri  string // the schema URI as written, when canonicalEnvelope read it
}

// extractedWith is an extracted with room for the entities and keys of up to three
// contexts (what the browser tracker attaches by default), made in one allocation no
// larger than the three it replaces.
type extractedWith struct {
	x        extracted
	entities [3]event.SelfDescribing
	keys     [3]iglu.SchemaKey
}

// newExtracted returns an extracted with room for n entities and keys.
func newExtracted(n int) *extracted {
	if n <= len(extractedWith{}.entities) {
		w := &extractedWith{}
		w.x.entities, w.x.keys = w.entities[:0:n], w.keys[:0:n]
		return &w.x
	}
	return &extracted{entities: make([]event.SelfDescribing, 0, n), keys: make([]iglu.SchemaKey, 0, n)}
}

// plainContexts reads the entities of the contexts envelope raw, a valid JSON text, for
// extractContextsPlain.
func (p *pipeline) plainContexts(raw string, ents []plainEntityText) ([]plainEntityText, bool) {
	key, dataRaw, ok := p.plainEnvelopeText(raw, p.contextsCriterion)
	if !ok || plainEnvelopeName(key) != "contexts" {
		return ents, false
	}
	ents, ok = plainEntities(dataRaw, ents)
	if !ok || (key.Version.Addition == 0 && len(ents) == 0) {
		return ents, false
	}
	return ents, true
}

// plainUnstruct reads the event of the unstruct_event envelope raw, a valid JSON text, for
// extractUnstructPlain.
func (p *pipeline) plainUnstruct(raw string) (plainEntityText, bool) {
	key, dataRaw, ok := p.plainEnvelopeText(raw, p.unstructCriterion)
	if !ok || plainEnvelopeName(key) != "unstruct_event" {
		return plainEntityText{}, false
	}
	k, d, ok := plainEntity(dataRaw)
	return plainEntityText{key: k, data: d}, ok
}

// canonicalEnvelope is plainContexts (array) or plainUnstruct (!array) for the text
// trackers send: written as jvm.AppendCanonical prints it, the envelope and every entity
// exactly {"schema":"<URI>","data":…} with plain URIs, and at least one context. For such
// a text it reads the envelope, the entities and their data, and checks the whole as
// jvm.CheckJSON does, in one walk; the data texts it returns are canonical. It answers
// false for anything else, and plainContexts or plainUnstruct decides.
func (p *pipeline) canonicalEnvelope(memo *inputMemo, raw string, array bool, ents []plainEntityText) ([]plainEntityText, bool) {
	const entityDepth = 2 // the envelope's object, then its data array for contexts
	if p.maxDepth < entityDepth+1 {
		return ents, false
	}
	key, i, ok := canonicalSDJHead(memo, raw, 0)
	if !ok {
		return ents, false
	}
	if array {
		if !p.contextsCriterion.Matches(key) || plainEnvelopeName(key) != "contexts" || i >= len(raw) || raw[i] != '[' {
			return ents, false
		}
		i++
		for {
			var e plainEntityText
			if e, i, ok = p.canonicalEntity(memo, raw, i, entityDepth); !ok || i >= len(raw) {
				return ents, false
			}
			ents = append(ents, e)
			if raw[i] == ']' {
				i++
				break
			}
			if raw[i] != ',' {
				return ents, false
			}
			i++
		}
	} else {
		if !p.unstructCriterion.Matches(key) || plainEnvelopeName(key) != "unstruct_event" {
			return ents, false
		}
		var e plainEntityText
		if e, i, ok = p.canonicalEntity(memo, raw, i, entityDepth-1); !ok {
			return ents, false
		}
		ents = append(ents, e)
	}
	return ents, i == len(raw)-1 && raw[i] == '}'
}

// canonicalEntity reads the entity object at raw[i], nested in depth containers, for
// canonicalEnvelope, and returns the index after it.
func (p *pipeline) canonicalEntity(memo *inputMemo, raw string, i, depth int) (plainEntityText, int, bool) {
	start := i
	key, i, ok := canonicalSDJHead(memo, raw, i)
	if !ok {
		return plainEntityText{}, i, false
	}
	end, ok := jvm.CanonicalAt(raw, i, depth+1, p.maxDepth)
	if !ok || end >= len(raw) || raw[end] != '}' {
		return plainEntityText{}, i, false
	}
	uri := raw[start+len(`{"schema":"`) : i-len(`","data":`)]
	return plainEntityText{key: key, data: raw[i:end], uri: uri}, end + 1, true
}

// canonicalSDJHead reads {"schema":"<URI>","data": at raw[i], the URI one that
// plainSchemaURI accepts, and returns its key and the index of the data value.
func canonicalSDJHead(memo *inputMemo, raw string, i int) (iglu.SchemaKey, int, bool) {
	const head, data = `{"schema":"`, `","data":`
	if !strings.HasPrefix(raw[i:], head) {
		return iglu.SchemaKey{}, i, false
	}
	i += len(head)
	n := strings.IndexByte(raw[i:], '"')
	if n < 0 || !strings.HasPrefix(raw[i+n:], data) {
		return iglu.SchemaKey{}, i, false
	}
	// plainSchemaURI allows only letters, digits and "_.:/-": the string literal is
	// valid and canonical.
	key, ok := memo.schemaKey(raw[i : i+n])
	return key, i + n + len(data), ok
}

func (p *pipeline) extractContextsPlain(ctx context.Context, memo *inputMemo, raw string) (*extracted, bool, error) {
	var small [8]plainEntityText
	ents, canonical := p.canonicalEnvelope(memo, raw, true, small[:0])
	if !canonical {
		var ok bool
		if ents, ok = p.plainContexts(raw, small[:0]); !ok {
			return nil, false, nil
		}
	}
	x := newExtracted(len(ents))
	for _, e := range ents {
		ent, k, vi, m, err := p.validateEntity(ctx, e.key, e.data, nil, false, canonical)
		if err != nil {
			return nil, true, err
		}
		if m != nil {
			x.msgs = append(x.msgs, m)
			continue
		}
		x.entities = append(x.entities, ent)
		x.keys = append(x.keys, k)
		if vi != nil {
			x.infos = append(x.infos, *vi)
		}
	}
	if canonical && sameEntities(x, ents) {
		x.column = canonicalContextsColumn(raw)
	} else {
		x.column = event.MarshalContexts(x.entities)
	}
	return x, true, nil
}

// sameEntities reports whether x holds every entity of ents, read by canonicalEnvelope,
// as written: all valid, none with a superseding schema, and each named by its URI as
// written. Their data is as written then (a canonical text prints as itself).
func sameEntities(x *extracted, ents []plainEntityText) bool {
	if len(x.entities) != len(ents) || len(x.infos) != 0 {
		return false
	}
	for i := range ents {
		if x.entities[i].Schema != ents[i].uri {
			return false
		}
	}
	return true
}

// canonicalContextsColumn is event.MarshalContexts of the entities of raw, a contexts
// envelope canonicalEnvelope read whose entities are as written (sameEntities): the
// column's envelope around raw's data array, copied at once.
func canonicalContextsColumn(raw string) string {
	const head, data = `{"schema":"`, `","data":`
	at := len(head) + strings.IndexByte(raw[len(head):], '"') + len(data)
	return `{"schema":"` + event.ContextsSchema + `","data":` + raw[at:]
}

func (p *pipeline) extractUnstructPlain(ctx context.Context, memo *inputMemo, raw string) (*extracted, bool, error) {
	var one [1]plainEntityText
	ents, canonical := p.canonicalEnvelope(memo, raw, false, one[:0])
	if !canonical {
		e, ok := p.plainUnstruct(raw)
		if !ok {
			return nil, false, nil
		}
		ents = append(one[:0], e)
	}
	k, d := ents[0].key, ents[0].data
	x := &extracted{}
	ent, k, vi, m, err := p.validateEntity(ctx, k, d, nil, false, canonical)
	if err != nil {
		return nil, true, err
	}
	if m != nil {
		x.msgs = append(x.msgs, m)
		return x, true, nil
	}
	x.entities, x.keys = []event.SelfDescribing{ent}, []iglu.SchemaKey{k}
	x.column = event.MarshalUnstruct(ent)
	if vi != nil {
		x.infos = append(x.infos, *vi)
	}
	return x, true, nil
}
