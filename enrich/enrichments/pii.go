package enrichments

import (
	"context"
	"crypto/md5"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"slices"
	"strings"

	"github.com/snowplow-mini/snowplow-mini/enrich/event"
	"github.com/snowplow-mini/snowplow-mini/iglu"
)

const (
	piiEventSchema    = "iglu:com.snowplowanalytics.snowplow/pii_transformation/jsonschema/1-0-0"
	parentEventSchema = "iglu:com.snowplowanalytics.snowplow/parent_event/jsonschema/1-0-0"
)

// piiScalarFields are the atomic fields the PII enrichment may pseudonymise.
var piiScalarFields = []string{"user_id", "user_ipaddress", "user_fingerprint", "domain_userid", "network_userid",
	"ip_organization", "ip_domain", "tr_orderid", "ti_orderid", "mkt_term", "mkt_content", "se_category",
	"se_action", "se_label", "se_property", "mkt_clickid", "refr_domain_userid", "domain_sessionid"}

type piiConfig struct {
	PII []struct {
		Pojo *struct {
			Field string `json:"field" required:"true"`
		} `json:"pojo"`
		JSON *struct {
			Field           string `json:"field" required:"true" enum:"contexts|derived_contexts|unstruct_event"`
			SchemaCriterion string `json:"schemaCriterion" required:"true"`
			JSONPath        string `json:"jsonPath" required:"true"`
		} `json:"json"`
	} `json:"pii" required:"true"`
	Strategy struct {
		Pseudonymize struct {
			HashFunction string `json:"hashFunction" required:"true" enum:"MD2|MD5|SHA-1|SHA-256|SHA-384|SHA-512"`
			Salt         string `json:"salt" required:"true"`
		} `json:"pseudonymize" required:"true"`
	} `json:"strategy" required:"true"`
}

// pii replaces configured fields and JSON values by salted hashes and can emit a
// pii_transformation event recording what it changed.
type pii struct {
	in            Info
	scalars       []event.Field
	jsons         []piiJSON
	newHash       func() hash.Hash
	hashName      string
	salt          string
	emitEvent     bool
	anonymousOnly bool
	deps          *Deps
}

type piiJSON struct {
	field     string // contexts, derived_contexts or unstruct_event
	criterion iglu.Criterion
	critText  string
	path      *jsonPath
}

func buildPII(b *builder) (enrichment, error) {
	var c piiConfig
	if err := b.params(&c); err != nil {
		return nil, err
	}
	if b.env.EmitEvent == nil {
		return nil, errors.New(`data: missing required key "emitEvent"`)
	}
	e := &pii{in: b.info, hashName: c.Strategy.Pseudonymize.HashFunction, salt: c.Strategy.Pseudonymize.Salt,
		emitEvent: *b.env.EmitEvent, anonymousOnly: b.env.AnonymousOnly != nil && *b.env.AnonymousOnly, deps: b.deps}
	switch e.hashName {
	case "MD2":
		e.newHash = newMD2
	case "MD5":
		e.newHash = md5.New
	case "SHA-1":
		e.newHash = sha1.New
	case "SHA-256":
		e.newHash = sha256.New
	case "SHA-384":
		e.newHash = sha512.New384
	case "SHA-512":
		e.newHash = sha512.New
	}
	var errs []error
	for i, p := range c.PII {
		at := fmt.Sprintf("parameters.pii[%d]", i)
		switch {
		case (p.Pojo == nil) == (p.JSON == nil):
			errs = append(errs, fmt.Errorf("%s: want exactly one of pojo and json", at))
		case p.Pojo != nil:
			f, ok := event.FieldByName(p.Pojo.Field)
			if !ok || !slices.Contains(piiScalarFields, p.Pojo.Field) {
				errs = append(errs, fmt.Errorf("%s.pojo.field: %q is not one of %s", at, p.Pojo.Field, strings.Join(piiScalarFields, ", ")))
				continue
			}
			e.scalars = append(e.scalars, f)
		default:
			crit, err := parseCriterion(p.JSON.SchemaCriterion)
			if err != nil {
				errs = append(errs, fmt.Errorf("%s.json.schemaCriterion: %w", at, err))
			}
			path, err := compileJSONPath(p.JSON.JSONPath)
			if err != nil {
				errs = append(errs, fmt.Errorf("%s.json.jsonPath: %w", at, err))
			}
			e.jsons = append(e.jsons, piiJSON{field: p.JSON.Field, criterion: crit, critText: p.JSON.SchemaCriterion, path: path})
		}
	}
	return e, joinErrs(errs)
}

func (e *pii) info() Info { return e.in }

func (e *pii) hash(v string) string {
	h := e.newHash()
	h.Write([]byte(v))
	h.Write([]byte(e.salt))
	return hex.EncodeToString(h.Sum(nil))
}

type piiChange struct {
	field, original, modified string
	jsonPath, schema          string // JSON changes only
}

func (e *pii) enrich(_ context.Context, st *state) {
	if e.anonymousOnly && !hasHeader(st.raw.headers, "SP-Anonymous") {
		return
	}
	var changes []piiChange
	for _, f := range e.scalars {
		if v := st.ev.Fields[f]; v != "" {
			h := e.hash(v)
			st.ev.Fields[f] = h
			changes = append(changes, piiChange{field: f.Name(), original: v, modified: h})
		}
	}
	for _, j := range e.jsons {
		switch j.field {
		case "contexts":
			ents, err := event.ParseContexts(st.ev.Fields[event.Contexts])
			if err != nil || len(ents) == 0 {
				continue
			}
			if e.rewrite(j, ents, &changes) {
				st.ev.Fields[event.Contexts] = event.MarshalContexts(ents)
			}
		case "derived_contexts":
			e.rewrite(j, st.derived, &changes)
		case "unstruct_event":
			ue, ok, err := event.ParseUnstruct(st.ev.Fields[event.UnstructEvent])
			if err != nil || !ok {
				continue
			}
			ents := []event.SelfDescribing{ue}
			if e.rewrite(j, ents, &changes) {
				st.ev.Fields[event.UnstructEvent] = event.MarshalUnstruct(ents[0])
			}
		}
	}
	if e.emitEvent && len(changes) > 0 {
		st.extra = append(st.extra, e.sideEvent(st.ev, changes))
	}
}

// rewrite hashes the string values selected by j in the entities matching its criterion,
// in place; it reports whether anything changed.
func (e *pii) rewrite(j piiJSON, ents []event.SelfDescribing, changes *[]piiChange) bool {
	changed := false
	for i := range ents {
		if !criterionMatches(j.criterion, ents[i].Schema) {
			continue
		}
		data := ents[i].Data
		ms, err := j.path.find(data)
		if err != nil || len(ms) == 0 {
			continue
		}
		var out []byte
		last := 0
		for _, m := range ms {
			v, isString := jsonString(data[m.start:m.end])
			if !isString {
				continue
			}
			h := e.hash(v)
			out = append(out, data[last:m.start]...)
			out = event.AppendJSONString(out, h)
			last = m.end
			*changes = append(*changes, piiChange{field: j.field, original: v, modified: h, jsonPath: j.path.text, schema: ents[i].Schema})
		}
		if out != nil {
			out = append(out, data[last:]...)
			ents[i].Data = out
			changed = true
		}
	}
	return changed
}

func jsonString(v []byte) (string, bool) {
	if len(v) == 0 || v[0] != '"' {
		return "", false
	}
	return scalarText(v)
}

// sideEvent builds the pii_transformation event for the parent ev.
func (e *pii) sideEvent(ev *event.EnrichedEvent, changes []piiChange) *event.EnrichedEvent {
	var pojo, js []byte
	for _, c := range changes {
		if c.jsonPath == "" {
			if pojo != nil {
				pojo = append(pojo, ',')
			}
			pojo = append(pojo, `{"fieldName":`...)
			pojo = event.AppendJSONString(pojo, c.field)
			pojo = append(pojo, `,"originalValue":`...)
			pojo = event.AppendJSONString(pojo, c.original)
			pojo = append(pojo, `,"modifiedValue":`...)
			pojo = event.AppendJSONString(pojo, c.modified)
			pojo = append(pojo, '}')
			continue
		}
		if js != nil {
			js = append(js, ',')
		}
		js = append(js, `{"fieldName":`...)
		js = event.AppendJSONString(js, c.field)
		js = append(js, `,"originalValue":`...)
		js = event.AppendJSONString(js, c.original)
		js = append(js, `,"modifiedValue":`...)
		js = event.AppendJSONString(js, c.modified)
		js = append(js, `,"jsonPath":`...)
		js = event.AppendJSONString(js, c.jsonPath)
		js = append(js, `,"schema":`...)
		js = event.AppendJSONString(js, c.schema)
		js = append(js, '}')
	}
	data := []byte(`{"pii":{`)
	if pojo != nil {
		data = append(append(append(data, `"pojo":[`...), pojo...), ']')
	}
	if js != nil {
		if pojo != nil {
			data = append(data, ',')
		}
		data = append(append(append(data, `"json":[`...), js...), ']')
	}
	data = append(data, `},"strategy":{"pseudonymize":{"hashFunction":`...)
	data = event.AppendJSONString(data, e.hashName)
	data = append(data, "}}}"...)

	now := event.FormatTimestamp(e.deps.Now())
	side := &event.EnrichedEvent{}
	f := &side.Fields
	f[event.AppID] = ev.Fields[event.AppID]
	f[event.Platform] = "srv"
	f[event.EtlTstamp] = ev.Fields[event.EtlTstamp]
	f[event.CollectorTstamp] = ev.Fields[event.CollectorTstamp]
	f[event.Event] = "pii_transformation"
	f[event.EventID] = e.deps.NewEventID()
	f[event.VCollector] = ev.Fields[event.VCollector]
	f[event.VEtl] = ev.Fields[event.VEtl]
	f[event.DerivedTstamp], f[event.TrueTstamp] = now, now
	f[event.EventVendor] = "com.snowplowanalytics.snowplow"
	f[event.EventName] = "pii_transformation"
	f[event.EventFormat] = "jsonschema"
	f[event.EventVersion] = "1-0-0"
	f[event.UnstructEvent] = event.MarshalUnstruct(event.SelfDescribing{Schema: piiEventSchema, Data: data})
	parent := event.AppendJSONString([]byte(`{"parentEventId":`), ev.Fields[event.EventID])
	parent = append(parent, '}')
	f[event.Contexts] = event.MarshalContexts([]event.SelfDescribing{{Schema: parentEventSchema, Data: parent}})
	return side
}

// hasHeader reports whether a header called name (case-insensitive) was recorded.
func hasHeader(headers []string, name string) bool {
	for _, h := range headers {
		if n, _, ok := strings.Cut(h, ":"); ok && strings.EqualFold(strings.TrimSpace(n), name) {
			return true
		}
	}
	return false
}
