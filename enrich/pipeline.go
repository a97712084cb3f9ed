package enrich

import (
	"bytes"
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/snowplow-mini/snowplow-mini/enrich/event"
	"github.com/snowplow-mini/snowplow-mini/enrich/internal/jvm"
	"github.com/snowplow-mini/snowplow-mini/iglu"
	"github.com/snowplow-mini/snowplow-mini/iglu/badrow"
	"github.com/snowplow-mini/snowplow-mini/streams"
)

// Bad-row types, as the metric label and in Result.
const (
	badCPFormat      = "collector_payload_format_violation"
	badAdapter       = "adapter_failures"
	badTrackerProto  = "tracker_protocol_violations"
	badSchema        = "schema_violations"
	badEnrichment    = "enrichment_failures"
	badSizeViolation = "size_violation"
)

const atomicSchema = "iglu:com.snowplowanalytics.snowplow/atomic/jsonschema/1-0-0"

// pipeline turns raw records into enriched events and bad rows. It is safe for
// concurrent use.
type pipeline struct {
	resolver      Resolver
	enrichments   Enrichments
	now           func() time.Time
	newEventID    func() string
	processor     badrow.Processor
	vEtl          string
	maxDepth      int
	acceptInvalid bool
	limits        [event.NumFields]int
	partition     event.Field
	maxRecord     int
	ipRe          ipHeaderRegexps

	collectorCriterion   iglu.Criterion
	payloadDataCriterion iglu.Criterion
	contextsCriterion    iglu.Criterion
	unstructCriterion    iglu.Criterion
	payloadDataKeys      []*paramBits

	verdicts      *verdicts     // nil: validate every entity
	textValidator textValidator // nil: decode every entity to validate it
}

// criterion1_0 is the criterion iglu:vendor/name/format/1-0-*.
func criterion1_0(vendor, name, format string) iglu.Criterion {
	return iglu.Criterion{Vendor: vendor, Name: name, Format: format, Model: 1, Revision: 0, Addition: iglu.Wildcard}
}

// Good is an event that passed enrichment.
type Good struct {
	Event *event.EnrichedEvent
	// Raw is the event as the adapter extracted it.
	Raw *event.RawEvent
	// TSV is the enriched record (Event's TSV line, no newline).
	TSV []byte
	// Entities are the entities of Event's JSON fields (none known for the extra
	// events of enrichments). Like Event, they live in the buffers of the record.
	Entities event.Entities
	// PartitionKey is the key the record is written with.
	PartitionKey string
}

// Bad is a bad row.
type Bad struct {
	// Type is the bad-row type, e.g. "schema_violations".
	Type string
	// JSON is the self-describing bad row.
	JSON []byte
}

// Result is what one raw record became.
type Result struct {
	Good []Good
	Bad  []Bad
	// Dropped counts events the JavaScript enrichment dropped.
	Dropped int

	tsvBuf     []byte                 // backing store of the TSV lines of Good, never reused
	derivedBuf []event.SelfDescribing // backing store of the Entities.Derived of Good
}

// recordBufs hold the events, raw events, event parameters and list of good events of
// one record, for the enricher to reuse once a batch is written (observers keep none of
// them, see Observer). The TSV lines are not
// reused: they go on the enriched stream as they are (streams.Entry.Immutable), and
// the observer may keep them; tsvSize is the size of the last record's.
type recordBufs struct {
	events  []event.EnrichedEvent
	raws    []event.RawEvent
	tsvSize int
	derived []event.SelfDescribing
	good    []Good // the Result's

	// nvps and vals hold the parameters of a tp2 body's events (plainEvents).
	nvps []event.NVP
	vals []string
}

// process enriches one raw record. The events, their parameters and the Good list of the
// result are in b's buffers when b is not nil: they are valid until b is used again.
func (p *pipeline) process(ctx context.Context, record []byte, b *recordBufs) (Result, error) {
	var res Result
	now := p.now().UTC()
	l, msgs := p.load(record)
	if msgs != nil {
		for _, m := range msgs {
			p.addBad(&res, badCPFormat, &badrow.CollectorPayloadFormatViolation{
				Processor: p.processor, Timestamp: now, Loader: badrow.LoaderThrift, Message: m, Payload: record,
			})
		}
		return res, nil
	}
	if b == nil {
		b = &recordBufs{}
	}
	l.bufs = b
	evs, fmsgs, err := p.adapt(ctx, l)
	if err != nil {
		return Result{}, err
	}
	if fmsgs != nil {
		cp := p.badPayload(l)
		if isTrackerProtocol(l.vendor, l.version) {
			p.addBad(&res, badTrackerProto, &badrow.TrackerProtocolViolations{
				Processor: p.processor, Timestamp: now, Vendor: l.vendor, Version: l.version, Messages: fmsgs, Payload: cp,
			})
		} else {
			p.addBad(&res, badAdapter, &badrow.AdapterFailures{
				Processor: p.processor, Timestamp: now, Vendor: l.vendor, Version: l.version, Messages: fmsgs, Payload: cp,
			})
		}
		return res, nil
	}
	var memo inputMemo
	// One allocation each (or none, with b) for the events and the raw events, and one
	// for their TSV lines.
	if cap(b.events) < len(evs) {
		b.events = make([]event.EnrichedEvent, len(evs))
		b.raws = make([]event.RawEvent, len(evs))
	} else {
		clear(b.events[:len(evs)]) // fillRawEvent sets every field of the raw events
	}
	events, raws := b.events[:len(evs)], b.raws[:len(evs)]
	res.tsvBuf = make([]byte, 0, max(b.tsvSize, len(record)+len(evs)*512))
	clear(b.derived[:cap(b.derived)]) // the previous record's, whose batch is written
	res.derivedBuf = b.derived[:0]
	clear(b.good[:cap(b.good)])
	res.Good = slices.Grow(b.good[:0], len(evs))
	for i, ps := range evs {
		raw := &raws[i]
		p.fillRawEvent(raw, l, ps)
		if err := p.enrichEvent(ctx, &res, &memo, &events[i], raw, ps, l, now); err != nil {
			return Result{}, err
		}
	}
	b.tsvSize = len(res.tsvBuf)
	if cap(res.derivedBuf) > cap(b.derived) {
		b.derived = res.derivedBuf[:0]
	}
	if cap(res.Good) > cap(b.good) {
		b.good = res.Good[:0]
	}
	return res, nil
}

func (p *pipeline) badPayload(l *loaded) badrow.CollectorPayload {
	cp := l.cp
	return badrow.CollectorPayload{
		Vendor: l.vendor, Version: l.version, Querystring: l.qs,
		ContentType: cp.ContentType, Body: cp.Body, Collector: cp.Collector, Encoding: cp.Encoding,
		Hostname: cp.Hostname, Timestamp: time.UnixMilli(cp.Timestamp).UTC(), IPAddress: l.ip,
		UserAgent: cp.UserAgent, RefererURI: cp.RefererURI, Headers: cp.Headers, NetworkUserID: l.nuid,
	}
}

func (p *pipeline) fillRawEvent(r *event.RawEvent, l *loaded, ps params) {
	cp := l.cp
	*r = event.RawEvent{
		Vendor: l.vendor, Version: l.version, Parameters: ps,
		ContentType: cp.ContentType, LoaderName: cp.Collector, Encoding: cp.Encoding, Hostname: cp.Hostname,
		Timestamp: time.UnixMilli(cp.Timestamp).UTC(), IPAddress: l.ip, UserAgent: cp.UserAgent,
		RefererURI: cp.RefererURI, Headers: cp.Headers, UserID: l.nuid,
	}
}

// addBad marshals a bad row, replacing it by a size_violation when it is too big for the
// bad stream.
func (p *pipeline) addBad(res *Result, typ string, row badrow.Row) {
	b, err := row.Marshal()
	if err != nil {
		// The rows are built from values this package produced; a failure is a bug, but
		// the event must still be accounted for.
		b, typ = p.genericBad(err), "generic_error"
	}
	if len(b) > p.maxRecord-36 { // the bad row's partition key is a UUID
		sv := &badrow.SizeViolation{
			Processor: p.processor, Timestamp: p.now().UTC(),
			MaximumAllowedSizeBytes: p.maxRecord, ActualSizeBytes: len(b),
			Expectation: "event failed enrichment, but resulting bad row exceeds allowed size " + strconv.Itoa(p.maxRecord),
			Payload:     takeUTF16(string(b), p.maxRecord/10),
		}
		if b2, err := sv.Marshal(); err == nil {
			b, typ = b2, badSizeViolation
		}
	}
	res.Bad = append(res.Bad, Bad{Type: typ, JSON: b})
}

func (p *pipeline) genericBad(err error) []byte {
	g := &badrow.GenericError{Processor: p.processor, Timestamp: p.now().UTC(), Errors: []string{err.Error()}}
	b, _ := g.Marshal()
	return b
}

// takeUTF16 returns the first n UTF-16 units of s (Java's String.take), never splitting a
// character.
func takeUTF16(s string, n int) string {
	units := 0
	for i, r := range s {
		w := 1
		if r >= 0x10000 {
			w = 2
		}
		if units+w > n {
			return s[:i]
		}
		units += w
	}
	return s
}

// cleanUserAgent is EnrichmentManager.setUseragent: CR and LF removed, tabs as four spaces.
func cleanUserAgent(ua string) string {
	if !strings.ContainsAny(ua, "\r\n\t") {
		return ua
	}
	ua = strings.NewReplacer("\r", "", "\n", "").Replace(ua)
	return strings.ReplaceAll(ua, "\t", "    ")
}

// atomicViolation is the schema violation against the atomic schema listing errors with
// keyword (AtomicFields.errorsToSchemaViolation).
func atomicViolation(errs []parseError, keyword string) badrow.Message {
	reports := make([]iglu.DataReport, len(errs))
	for i, e := range errs {
		reports[i] = iglu.DataReport{Message: e.msg, Path: badrow.Str(e.field), Keyword: badrow.Str(keyword), Targets: []string{}}
	}
	return badrow.IgluError{SchemaKey: atomicSchema, Error: &iglu.ClientError{Kind: iglu.ValidationError, DataReports: reports}}
}

// schemaFields are the event_vendor/name/format/version labels of the non-self-describing
// event types.
func schemaFields(eventType string) (vendor, name string, ok bool) {
	switch eventType {
	case "page_view", "page_ping", "transaction", "transaction_item":
		return "com.snowplowanalytics.snowplow", eventType, true
	case "struct":
		return "com.google.analytics", "event", true
	}
	return "", "", false
}

// enrichEvent enriches one raw event as Snowplow's EnrichmentManager.enrichEvent and adds
// the outcome to res.
func (p *pipeline) enrichEvent(ctx context.Context, res *Result, memo *inputMemo, ev *event.EnrichedEvent, raw *event.RawEvent, ps params, l *loaded, now time.Time) error {
	f := &ev.Fields

	// Set-up and tracker parameters; failures here are input schema violations.
	f[event.VCollector] = raw.LoaderName
	f[event.VEtl] = p.vEtl
	if memo.etlTstamp == "" {
		memo.etlTstamp = jvm.FormatMillis(now.UnixMilli())
	}
	f[event.EtlTstamp] = memo.etlTstamp
	f[event.NetworkUserID] = raw.UserID
	f[event.UserIPAddress] = firstIP(raw.IPAddress)
	if raw.UserAgent != "" {
		f[event.UserAgent] = memo.cleanUserAgent(raw.UserAgent)
	}
	var perrs []parseError
	ct := l.cp.Timestamp
	if y := jvm.CivilYear(ct); y < 0 || y > 9999 {
		perrs = append(perrs, parseError{"collector_tstamp", "Formatted as " + jvm.FormatMillis(ct) + " is not Redshift-compatible"})
	} else {
		if memo.collectorTstamp == "" {
			memo.collectorTstamp = jvm.FormatMillis(ct)
		}
		f[event.CollectorTstamp] = memo.collectorTstamp
	}
	t := transform(ps, ev, &memo.conv)
	if f[event.EventID] == "" {
		// Snowplow generates the id first and lets eid replace it; generating it only
		// when needed gives the same events.
		f[event.EventID] = p.newEventID()
	}
	perrs = append(perrs, t.errs...)
	var inputViolations []badrow.Message
	if len(perrs) > 0 {
		inputViolations = append(inputViolations, atomicViolation(perrs, "atomic_field_parse_error"))
	}
	in, vmsgs, err := p.extractInputs(ctx, memo, t.contexts, t.unstruct)
	if err != nil {
		return err
	}
	inputViolations = append(inputViolations, vmsgs...)
	f[event.Contexts] = in.contextsColumn
	f[event.UnstructEvent] = in.unstructColumn

	// Enrichments; failures here are enrichment failures.
	var fails []badrow.EnrichmentFailure
	fail := func(m badrow.Message) { fails = append(fails, badrow.EnrichmentFailure{Message: m}) }
	if f[event.VCollector] == "" {
		fail(badrow.InputData{Field: "v_collector", Expectation: "should be set"})
	}
	var pageURI jvm.URI
	havePage := false
	if src := f[event.PageURL]; src != "" || raw.RefererURI != "" {
		if src == "" {
			src = raw.RefererURI
		}
		u := memo.uri(src)
		if u.msg != "" {
			fail(badrow.EnrichmentError{Error: u.msg})
		} else {
			pageURI, havePage = u.u, true
			u.parts.setPage(ev)
		}
	}
	f[event.DerivedTstamp] = derivedTstamp(f[event.DvceSentTstamp], f[event.DvceCreatedTstamp], f[event.CollectorTstamp], f[event.TrueTstamp], memo.conv.parseMillis)
	if r := f[event.PageReferrer]; r != "" {
		u := memo.uri(r)
		if u.msg != "" {
			fail(badrow.EnrichmentError{Error: u.msg})
		} else {
			u.parts.setReferrer(ev)
		}
	}
	if havePage && pageURI.HasQuery {
		duid, ts, fv, fm := crossNavigation(pageURI.Query, l.cs)
		if fm != "" {
			fail(badrow.InputData{Field: "sp_dtm", Value: badrow.Str(fv), Expectation: fm})
		} else {
			f[event.RefrDomainUserID], f[event.RefrDvceTstamp] = duid, ts
		}
	}
	switch et := f[event.Event]; et {
	case "unstruct":
		if in.unstruct != nil {
			k := in.unstructK
			f[event.EventVendor], f[event.EventName], f[event.EventFormat], f[event.EventVersion] = k.Vendor, k.Name, k.Format, k.Version.String()
		}
	default:
		if vendor, name, ok := schemaFields(et); ok {
			f[event.EventVendor], f[event.EventName], f[event.EventFormat], f[event.EventVersion] = vendor, name, "jsonschema", "1-0-0"
			break
		}
		var value *string
		shown := "null"
		if et != "" {
			value, shown = badrow.Str(et), et
		}
		fail(badrow.InputData{Field: "event", Value: value, Expectation: "trying to extract the schema of the enriched event but event type [" + shown + "] doesn't match\n          any of page_view, page_ping, struct, transaction, transaction_item and unstruct\n          "})
	}
	var derived []event.SelfDescribing
	var extra []*event.EnrichedEvent
	if p.enrichments != nil {
		r, err := p.enrichments.Apply(ctx, ev, raw, in.contexts, in.unstruct)
		if err != nil {
			return fmt.Errorf("running enrichments: %w", err)
		}
		if r.Drop {
			res.Dropped++
			return nil
		}
		for _, ef := range r.Failures {
			fails = append(fails, ef.BadRow())
		}
		derived, extra = r.Derived, r.Extra
	}
	// Snowplow accumulates enrichment failures by prepending them.
	for i, j := 0, len(fails)-1; i < j; i, j = i+1, j-1 {
		fails[i], fails[j] = fails[j], fails[i]
	}

	// Post-enrichment validation: derived contexts and atomic field lengths.
	var postViolations []badrow.Message
	var validBuf [4]event.SelfDescribing // not derived[:0]: its array may be the enrichment's
	valid := validBuf[:0]
	for _, d := range derived {
		m, err := p.validateDerivedOnce(ctx, memo, d)
		if err != nil {
			return err
		}
		if m != nil {
			postViolations = append(postViolations, m)
			continue
		}
		valid = append(valid, d)
	}
	for _, vi := range in.infos {
		valid = append(valid, vi.entity())
	}
	f[event.DerivedContexts] = event.MarshalContexts(valid)
	if lerrs := p.lengthErrors(ev); len(lerrs) > 0 && !p.acceptInvalid {
		postViolations = append(postViolations, atomicViolation(lerrs, "atomic_field_length_exceeded"))
	}

	switch {
	case len(inputViolations) > 0:
		p.addBad(res, badSchema, &badrow.SchemaViolations{Processor: p.processor, Timestamp: now, Messages: inputViolations, Payload: badrow.NewEnrichmentPayload(ev, raw)})
		return nil
	case len(fails) > 0:
		p.addBad(res, badEnrichment, &badrow.EnrichmentFailures{Processor: p.processor, Timestamp: now, Messages: fails, Payload: badrow.NewEnrichmentPayload(ev, raw)})
		return nil
	case len(postViolations) > 0:
		p.addBad(res, badSchema, &badrow.SchemaViolations{Processor: p.processor, Timestamp: now, Messages: postViolations, Payload: badrow.NewEnrichmentPayload(ev, raw)})
		return nil
	}
	start := len(res.derivedBuf)
	res.derivedBuf = append(res.derivedBuf, valid...)
	p.addGood(res, ev, raw, now, event.Entities{Contexts: in.contexts, Unstruct: in.unstruct,
		Derived: res.derivedBuf[start:len(res.derivedBuf):len(res.derivedBuf)],
		Decoded: [2]event.DecodedParam{t.contexts.decodedParam(), t.unstruct.decodedParam()}})
	for _, x := range extra {
		p.addGood(res, x, raw, now, event.Entities{})
	}
	return nil
}

// validateDerivedOnce is validateDerived, remembering within a record the contexts found
// valid: the enrichments derive the same ua_parser_context (the same user agent) for
// every event of a record.
func (p *pipeline) validateDerivedOnce(ctx context.Context, memo *inputMemo, d event.SelfDescribing) (badrow.Message, error) {
	for _, v := range memo.derived[:memo.nderived] {
		if v.Schema == d.Schema && bytes.Equal(v.Data, d.Data) {
			return nil, nil
		}
	}
	m, err := p.validateDerived(ctx, d)
	if m == nil && err == nil && memo.nderived < len(memo.derived) {
		memo.derived[memo.nderived] = d
		memo.nderived++
	}
	return m, err
}

// validateDerived validates a context added by the enrichments.
func (p *pipeline) validateDerived(ctx context.Context, d event.SelfDescribing) (badrow.Message, error) {
	key, err := iglu.ParseSchemaKey(d.Schema)
	if err != nil {
		return badrow.NotIglu{JSON: d.AppendJSON(nil), Error: iglu.CodeInvalidIgluURI}, nil
	}
	var buf [512]byte
	var k []byte
	if p.verdicts != nil {
		k = verdictKey(buf[:0], key, d.Data)
		if p.verdicts.valid(ctx, key, k) != nil {
			return nil, nil
		}
	}
	data, jerr := jvm.ParseJSON(string(d.Data), p.maxDepth)
	if jerr != nil {
		return badrow.NotJSON{Field: "derived_contexts", Value: badrow.Str(string(d.Data)), Error: jerr.Error()}, nil
	}
	val, ce, verr := p.validate(ctx, key, data)
	if verr != nil {
		return nil, verr
	}
	if ce == nil {
		p.verdicts.remember(k, val, nil)
	}
	if ce != nil {
		return badrow.IgluError{SchemaKey: key.String(), Error: ce}, nil
	}
	return nil, nil
}

// lengthErrors checks the string atomic fields against their length limits (Java string
// lengths), as AtomicFieldsLengthValidator.
func (p *pipeline) lengthErrors(ev *event.EnrichedEvent) []parseError {
	var errs []parseError
	for i, v := range ev.Fields {
		limit := p.limits[i]
		if limit == 0 || len(v) <= limit {
			continue // UTF-16 length <= byte length
		}
		if jvm.UTF16Len(v) > limit {
			errs = append(errs, parseError{event.Field(i).Name(), "Field is longer than maximum allowed size " + strconv.Itoa(limit)})
		}
	}
	return errs
}

// addGood serializes a good event, or makes it a size_violation when it does not fit in a
// record.
func (p *pipeline) addGood(res *Result, ev *event.EnrichedEvent, raw *event.RawEvent, now time.Time, ents event.Entities) {
	key := ev.Fields[p.partition]
	if key == "" {
		key = p.newEventID()
	} else if len(key) > streams.MaxPartitionKey {
		key = truncateRunes(key, streams.MaxPartitionKey)
	}
	start := len(res.tsvBuf)
	res.tsvBuf = ev.AppendTSV(res.tsvBuf)
	tsv := res.tsvBuf[start:len(res.tsvBuf):len(res.tsvBuf)]
	if len(tsv)+len(key) > p.maxRecord {
		sv := &badrow.SizeViolation{
			Processor: p.processor, Timestamp: now,
			MaximumAllowedSizeBytes: p.maxRecord, ActualSizeBytes: len(tsv),
			Expectation: "event passed enrichment but then exceeded the maximum allowed size " + strconv.Itoa(p.maxRecord) + " bytes",
			Payload:     takeUTF16(string(tsv), p.maxRecord*8/10),
		}
		res.tsvBuf = res.tsvBuf[:start]
		p.addBad(res, badSizeViolation, sv)
		return
	}
	res.Good = append(res.Good, Good{Event: ev, Raw: raw, TSV: tsv, Entities: ents, PartitionKey: key})
}

func truncateRunes(s string, n int) string {
	i := 0
	for j := range s {
		if i == n {
			return s[:j]
		}
		i++
	}
	return s
}
