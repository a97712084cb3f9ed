package enrichments

import (
	"context"
	"fmt"

	"github.com/snowplow-mini/snowplow-mini/enrich/event"
	"github.com/snowplow-mini/snowplow-mini/iglu/badrow"
)

// Apply runs the enrichments of s on ev, in Snowplow's order, mutating ev's atomic fields in
// place. The core fields must already be set. raw is the raw event ev was built from (its
// parameters feed the event fingerprint; its headers the cookie, header, YAUAA, PII and
// JavaScript enrichments; its timestamp the currency conversion). contexts and unstruct are
// the validated input entities and self-describing event (nil when none), read by the SQL
// query, API request and JavaScript enrichments. Apply does not write derived_contexts: the
// contexts it adds are returned in Result.Derived. The error is non-nil only when ctx ended
// while an enrichment waited on a remote service; data problems are Result.Failures.
func (s *Set) Apply(ctx context.Context, ev *event.EnrichedEvent, raw *event.RawEvent, contexts []event.SelfDescribing, unstruct *event.SelfDescribing) (Result, error) {
	in := fromRaw(raw)
	in.contexts, in.unstruct = contexts, unstruct
	return s.apply(ctx, ev, &in)
}

func fromRaw(raw *event.RawEvent) rawInput {
	in := rawInput{params: raw.Parameters, encoding: raw.Encoding, headers: raw.Headers, tstamp: raw.Timestamp}
	if in.encoding == "" {
		in.encoding = "UTF-8"
	}
	return in
}

// BadRow returns f as a message of an enrichment_failures bad row.
func (f Failure) BadRow() badrow.EnrichmentFailure {
	var out badrow.EnrichmentFailure
	if f.SchemaKey != "" {
		out.Enrichment = &badrow.EnrichmentInfo{SchemaKey: f.SchemaKey, Identifier: f.Identifier}
	}
	switch m := f.Message.(type) {
	case InputData:
		out.Message = badrow.InputData{Field: m.Field, Value: m.Value, Expectation: m.Expectation}
	case Simple:
		out.Message = badrow.EnrichmentError{Error: m.Error}
	default:
		out.Message = badrow.EnrichmentError{Error: fmt.Sprint(f.Message)}
	}
	return out
}
