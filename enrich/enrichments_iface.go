package enrich

import (
	"context"

	"github.com/snowplow-mini/snowplow-mini/enrich/enrichments"
	"github.com/snowplow-mini/snowplow-mini/enrich/event"
)

// Enrichments runs the configurable enrichments (*enrichments.Set satisfies it).
//
// enrich calls Apply once per event, concurrently from its workers, after it has set every
// core field of ev: the tracker parameters, page and referrer URL parts, derived_tstamp,
// refr_domain_userid/refr_dvce_tstamp, event_vendor/name/format/version, and the validated
// contexts and unstruct_event columns. raw is the event as the adapter extracted it (its
// parameters, headers, encoding and collector timestamp); contexts are the validated input
// entities and unstruct the validated self-describing event (nil when there is none), for
// the enrichments that read them (SQL query, API request). Apply must not keep raw,
// contexts or unstruct after it returns.
//
// Apply mutates ev in place and returns the derived contexts (enrich validates them against
// Iglu and writes them before validation_info into derived_contexts), the enrichment
// failures (which make the event an enrichment_failures bad row unless an input schema
// violation already made it a schema_violations one), Drop (the event disappears) and side
// events (emitted only when the event is good). A non-nil error is operational (ctx done):
// the batch is not checkpointed and is read again.
type Enrichments interface {
	Apply(ctx context.Context, ev *event.EnrichedEvent, raw *event.RawEvent, contexts []event.SelfDescribing, unstruct *event.SelfDescribing) (enrichments.Result, error)
}
