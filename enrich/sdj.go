package enrich

import (
	"context"
	"errors"

	"github.com/snowplow-mini/snowplow-mini/enrich/event"
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
	dr, _ := rawMember(raw, "data")
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
	return badrow.NotIglu{JSON: appendCanonical(nil, raw), Error: code}
}

// validationInfo is a validation_info derived context: an entity of schema original was
// validated with the superseding version with.
type validationInfo struct {
	original string
	with     string
}

func (vi validationInfo) entity() event.SelfDescribing {
	b := []byte(`{"originalSchema":`)
	b = appendCirceString(b, vi.original)
	b = append(b, `,"validatedWith":`...)
	b = appendCirceString(b, vi.with)
	b = append(b, '}')
	return event.SelfDescribing{Schema: "iglu:com.snowplowanalytics.iglu/validation_info/jsonschema/1-0-0", Data: b}
}

// inputs are the validated contexts and self-describing event of an event.
type inputs struct {
	contexts  []event.SelfDescribing
	unstruct  *event.SelfDescribing
	unstructK iglu.SchemaKey
	infos     []validationInfo
}

func (in *inputs) addInfo(vi validationInfo) {
	for _, x := range in.infos {
		if x == vi {
			return
		}
	}
	in.infos = append(in.infos, vi)
}

// extractInputs parses and validates the co/cx and ue_pr/ue_px texts as Snowplow's
// IgluUtils.extractAndValidateInputJsons: contexts first, then the self-describing event.
// Invalid entities are dropped and reported; valid ones are kept (with the superseding
// version when one was used).
func (p *pipeline) extractInputs(ctx context.Context, contextsRaw, unstructRaw *string) (inputs, []badrow.Message, error) {
	var in inputs
	var msgs []badrow.Message
	if contextsRaw != nil {
		data, dataRaw, m, err := p.extractInputData(ctx, *contextsRaw, "contexts", p.contextsCriterion)
		if err != nil {
			return in, nil, err
		}
		if m != nil {
			msgs = append(msgs, m)
		} else {
			arr, _ := data.([]any)
			i := 0
			var ierr error
			rawElements(dataRaw, func(el string) bool {
				if i >= len(arr) {
					return false
				}
				v := arr[i]
				i++
				ent, vi, m, err := p.parseAndValidate(ctx, v, el)
				if err != nil {
					ierr = err
					return false
				}
				if m != nil {
					msgs = append(msgs, m)
					return true
				}
				in.contexts = append(in.contexts, ent)
				if vi != nil {
					in.addInfo(*vi)
				}
				return true
			})
			if ierr != nil {
				return in, nil, ierr
			}
		}
	}
	if unstructRaw != nil {
		data, dataRaw, m, err := p.extractInputData(ctx, *unstructRaw, "unstruct", p.unstructCriterion)
		if err != nil {
			return in, nil, err
		}
		if m != nil {
			msgs = append(msgs, m)
		} else {
			ent, vi, m, err := p.parseAndValidate(ctx, data, dataRaw)
			if err != nil {
				return in, nil, err
			}
			if m != nil {
				msgs = append(msgs, m)
			} else {
				in.unstruct = &ent
				in.unstructK, _ = iglu.ParseSchemaKey(ent.Schema)
				if vi != nil {
					in.addInfo(*vi)
				}
			}
		}
	}
	return in, msgs, nil
}

// extractInputData parses the envelope text, checks it is self-describing with a schema
// matching crit, validates it, and returns its data.
func (p *pipeline) extractInputData(ctx context.Context, raw, field string, crit iglu.Criterion) (any, string, badrow.Message, error) {
	v, jerr := parseJSON(raw, p.maxDepth)
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
	_, ce, err := p.validate(ctx, s.key, s.data)
	if err != nil {
		return nil, "", nil, err
	}
	if ce != nil {
		return nil, "", badrow.IgluError{SchemaKey: s.key.String(), Error: ce}, nil
	}
	return s.data, s.dataRaw, nil, nil
}

// parseAndValidate reads one entity (or the event inside unstruct_event) and validates it.
func (p *pipeline) parseAndValidate(ctx context.Context, v any, raw string) (event.SelfDescribing, *validationInfo, badrow.Message, error) {
	s, code := parseSDJ(v, raw)
	if code != "" {
		return event.SelfDescribing{}, nil, notIglu(raw, code), nil
	}
	val, ce, err := p.validate(ctx, s.key, s.data)
	if err != nil {
		return event.SelfDescribing{}, nil, nil, err
	}
	if ce != nil {
		return event.SelfDescribing{}, nil, badrow.IgluError{SchemaKey: s.key.String(), Error: ce}, nil
	}
	key := s.key
	var vi *validationInfo
	if !val.SupersededBy.IsZero() {
		vi = &validationInfo{original: s.key.String(), with: val.SupersededBy.String()}
		key.Version = val.SupersededBy
	}
	return event.SelfDescribing{Schema: key.String(), Data: appendCanonical(nil, s.dataRaw)}, vi, nil, nil
}
