// Package enrichments runs Snowplow's standard enrichments on an enriched event: campaign
// attribution, event fingerprint, referer parser, UA parser, IP lookups, anonymise IP, cookie
// and HTTP-header extractors, IAB spiders and robots, YAUAA, PII pseudonymisation,
// JavaScript, API request, SQL query, currency conversion and weather.
//
// It sits inside the enrich stage: enrich builds an EnrichedEvent from a raw tracker event,
// sets every core field (page and referrer URL parts, derived_tstamp, the event_* fields,
// validated contexts and unstruct_event) and then calls Set.Apply, which runs the configured
// enrichments in Snowplow's fixed order. Apply mutates the event's atomic fields in place and
// returns the derived contexts, the enrichment failures (which enrich turns into an
// enrichment_failures bad row), whether a script dropped the event, and any side event (the
// PII transformation event).
//
// Enrichments are configured with Snowplow's own files (enrichments/*.json, self-describing
// JSONs) and looked up in an explicit registry keyed by their config schema. Only the enrich
// stage imports this package; it imports the enrich/event model and nothing of other stages.
package enrichments

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/snowplow-mini/snowplow-mini/enrich/event"
)

// Deps are what the enrichments need from the process around them.
type Deps struct {
	// Logger receives start-up messages (asset downloads) and Debug-level per-event notes.
	// nil discards.
	Logger *slog.Logger
	// HTTPClient downloads assets given by http(s) URI at start-up and calls the remote APIs
	// of the API request, currency conversion and weather enrichments. nil means a client
	// with a 30 s timeout.
	HTTPClient *http.Client
	// AssetsDir is where downloaded assets (MaxMind databases, referer databases, IAB lists,
	// regexes.yaml) are stored. "" means a fresh temporary directory that Close removes.
	AssetsDir string
	// Now is the clock (PII side events, caches). nil means time.Now.
	Now func() time.Time
	// CurrencyAPI is the base URL of the Open Exchange Rates API for the currency
	// conversion enrichment; "" means DefaultCurrencyAPI. (Snowplow's configuration has no
	// such setting; tests and proxies need one.)
	CurrencyAPI string
	// WeatherScheme is the scheme used with the weather enrichment's apiHost; "" means
	// "http", as Snowplow's weather client uses.
	WeatherScheme string
	// NewEventID returns a fresh event_id (the PII side event). nil means a random UUIDv4.
	NewEventID func() string
}

// Result is what Apply produced for one event.
type Result struct {
	// Derived are the contexts added by the enrichments, in the order they ran. enrich
	// validates them and writes them into derived_contexts.
	Derived []event.SelfDescribing
	// Failures are the enrichment failures; any entry makes the event an
	// enrichment_failures bad row.
	Failures []Failure
	// Drop is true when the JavaScript enrichment called event.drop(): the event is
	// discarded silently (neither good nor bad).
	Drop bool
	// Extra are side events to emit along with the event when it is good: the
	// pii_transformation event of the PII enrichment.
	Extra []*event.EnrichedEvent
	// Revalidate is true when the JavaScript enrichment set the contexts or unstruct_event
	// column: enrich must validate them again, as Snowplow does.
	Revalidate bool
}

// Failure is one enrichment failure of an event, as Snowplow's FailureDetails.EnrichmentFailure.
type Failure struct {
	// SchemaKey is the config schema of the enrichment that failed (the Iglu URI of its
	// configuration); "" when the failure does not come from a configured enrichment.
	SchemaKey string
	// Identifier is Snowplow's name for the enrichment in failures, e.g. "currency-conversion".
	Identifier string
	// Message is InputData or Simple.
	Message Message
}

// MarshalJSON returns {"enrichment":{"schemaKey":…,"identifier":…}|null,"message":…}, the
// shape of an enrichment_failures message.
func (f Failure) MarshalJSON() ([]byte, error) {
	b := []byte(`{"enrichment":`)
	if f.SchemaKey == "" {
		b = append(b, "null"...)
	} else {
		b = append(b, `{"schemaKey":`...)
		b = event.AppendJSONString(b, f.SchemaKey)
		b = append(b, `,"identifier":`...)
		b = event.AppendJSONString(b, f.Identifier)
		b = append(b, '}')
	}
	b = append(b, `,"message":`...)
	m, err := json.Marshal(f.Message)
	if err != nil {
		return nil, err
	}
	b = append(b, m...)
	return append(b, '}'), nil
}

// Message is the message of a Failure: InputData or Simple.
type Message interface {
	isMessage()
	json.Marshaler
}

// InputData says that an input of the enrichment was not what it expected:
// {"field":…,"value":…|null,"expectation":…}.
type InputData struct {
	Field       string
	Value       *string // nil encodes as null
	Expectation string
}

func (InputData) isMessage() {}

// MarshalJSON returns the InputData JSON object.
func (m InputData) MarshalJSON() ([]byte, error) {
	b := []byte(`{"field":`)
	b = event.AppendJSONString(b, m.Field)
	b = append(b, `,"value":`...)
	if m.Value == nil {
		b = append(b, "null"...)
	} else {
		b = event.AppendJSONString(b, *m.Value)
	}
	b = append(b, `,"expectation":`...)
	b = event.AppendJSONString(b, m.Expectation)
	return append(b, '}'), nil
}

// Simple is a free-text failure: {"error":…}.
type Simple struct {
	Error string
}

func (Simple) isMessage() {}

// MarshalJSON returns the Simple JSON object.
func (m Simple) MarshalJSON() ([]byte, error) {
	b := []byte(`{"error":`)
	b = event.AppendJSONString(b, m.Error)
	return append(b, '}'), nil
}

// Info names a configured enrichment.
type Info struct {
	// Name is the config schema name, e.g. "referer_parser".
	Name string
	// SchemaKey is the Iglu URI of the configuration it was loaded from.
	SchemaKey string
}

// enrichment is one configured enrichment. enrich is called once per event, concurrently
// from several goroutines; it must not keep st after returning.
type enrichment interface {
	info() Info
	enrich(ctx context.Context, st *state)
}

// closer is implemented by enrichments that hold resources (database pools).
type closer interface {
	close() error
}

// rawInput is the part of the raw event the enrichments read.
type rawInput struct {
	params   []event.NVP // tracker-protocol parameters of this event, in order (read only)
	headers  []string    // "Name: value" as recorded by the collector
	encoding string      // payload character encoding, e.g. "UTF-8"
	tstamp   time.Time   // collector timestamp; zero when absent

	contexts []event.SelfDescribing // validated input entities
	unstruct *event.SelfDescribing  // validated self-describing event, nil when none
}

// state is the working state of one Apply call.
type state struct {
	ev       *event.EnrichedEvent
	raw      *rawInput
	derived  []event.SelfDescribing
	failures []Failure
	drop     bool
	extra    []*event.EnrichedEvent

	revalidate bool // contexts or unstruct_event were changed by a script
}

func (st *state) fail(in Info, identifier string, m Message) {
	st.failures = append(st.failures, Failure{SchemaKey: in.SchemaKey, Identifier: identifier, Message: m})
}

// stateWith is a state with room for two derived contexts (the ua_parser_context and
// one more) in the same allocation.
type stateWith struct {
	state
	derivedBuf [2]event.SelfDescribing
}

// Set is a loaded set of enrichments, run in Snowplow's order. It is safe for concurrent
// use by several goroutines.
type Set struct {
	steps   []enrichment
	cleanup []func() error
}

func (s *Set) apply(ctx context.Context, ev *event.EnrichedEvent, in *rawInput) (Result, error) {
	// st escapes (enrichments get a pointer through an interface): its first derived
	// contexts go in its own array rather than in a second allocation.
	st := &stateWith{}
	st.ev, st.raw = ev, in
	st.derived = st.derivedBuf[:0:len(st.derivedBuf)]
	for _, e := range s.steps {
		e.enrich(ctx, &st.state)
		if st.drop {
			return Result{Drop: true}, nil
		}
		if err := ctx.Err(); err != nil {
			return Result{}, err
		}
	}
	derived := st.derived
	if len(derived) == 0 {
		derived = nil // as when nothing was appended
	}
	return Result{Derived: derived, Failures: st.failures, Extra: st.extra, Revalidate: st.revalidate}, nil
}

// Enabled returns the enrichments of s in the order they run.
func (s *Set) Enabled() []Info {
	out := make([]Info, len(s.steps))
	for i, e := range s.steps {
		out[i] = e.info()
	}
	return out
}

// Close releases what the enrichments hold (database pools, a temporary assets directory).
func (s *Set) Close() error {
	var errs []error
	for _, e := range s.steps {
		if c, ok := e.(closer); ok {
			if err := c.close(); err != nil {
				errs = append(errs, err)
			}
		}
	}
	for _, f := range s.cleanup {
		if err := f(); err != nil {
			errs = append(errs, err)
		}
	}
	return joinErrs(errs)
}

func errorf(format string, args ...any) error { return fmt.Errorf(format, args...) }
