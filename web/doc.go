// Package web is the human and test-suite face of the pipeline: a Snowplow-Micro-compatible
// test API under /micro/* and the event browser at /micro/ui.
//
// It reads the event store (a Store: the loaders' SQLite or PostgreSQL sink, which main
// wires) and nothing else: no copy of the events is kept here, so a restart on the same
// data shows every stored event, the store's retention is the only window, and reset
// empties the store. Readers are woken by the store's commits (Store.Changed), so an
// event is visible within milliseconds of the collector's 2xx. web is a stage: it
// imports only the leaf models (enrich/event, iglu/badrow) and the foundations (iglu);
// only main imports it.
//
// # Micro's API
//
// These answer exactly as Snowplow Micro 4.5.2 does, so existing test helpers and
// Micro's own UI work unchanged:
//
//	GET|POST /micro/all     {"total":N,"good":N,"bad":N}
//	GET      /micro/good    [GoodEvent…] newest first
//	POST     /micro/good    {"event_type","schema","contexts":[…],"limit"} filters, ANDed
//	GET      /micro/bad     [BadEvent…] newest first
//	POST     /micro/bad     {"vendor","version","limit"}
//	POST     /micro/reset   empties the store; answers the summary, as Micro 3 did (GET is
//	                        405: a link or an <img> on any page must not wipe the events)
//	POST     /micro/events  {"filters","validEvents","timeRange","sorting","page","pageSize"}
//	                        -> {"events","totalPages","totalItems"}: valid and failed events
//	GET      /micro/columns every column seen, context and self-describing-event fields too
//	POST     /micro/columnStats {"columns":[…]} -> sortable, filterable, up to 20 values
//	POST     /micro/timeline {"buckets":[{start,end}…]} -> valid and failed counts
//	GET      /micro/auth-config  no login here
//	GET      /micro/iglu/{vendor}/{name}/jsonschema/{version}  the schema, or 404 with the
//	                        resolver's lookup report
//
// Every answer is gzip-compressed when the client accepts it. A body that is not JSON is
// answered 400, JSON of the wrong shape 422, as Micro does. A GoodEvent's "event" is the
// Scala analytics SDK's JSON: exactly the 131 fields, contexts and unstruct_event in the
// SDK's envelopes ({} when empty), see enrich/event's AppendMicroJSON; /micro/events
// serves the lossy form with flattened contexts_…/unstruct_event_… keys. A failed event
// in /micro/events is a bad row shown as the event it describes (its partly enriched
// event, or its request's parameters) with Micro's failure entity under
// contexts_com_snowplowanalytics_snowplow_failure_1. Good events are filtered, sorted and
// paged by the store; failed events are read from the newest Config.MaxFailedEvents bad
// rows and merged in. pageSize is at most Config.MaxPageSize (default 1000).
//
// # Additions for test suites and the UI
//
//   - Filters as query parameters: GET /micro/good?event_type=page_view&limit=5 and
//     repeated contexts=…; GET /micro/bad?vendor=…&version=…&limit=….
//   - app_id: all, good, bad, reset and wait take an app_id, as a query parameter or a
//     JSON key, and then only see events of that app. Parallel tests that each use their
//     own app_id neither see nor reset each other's events.
//   - GET|POST /micro/wait blocks until the store holds count (default 1) matching events
//     or the timeout passes (default 5s, at most 60s); type "good" (default) takes the
//     /micro/good filters, type "bad" the /micro/bad ones. The answer is always 200:
//     {"complete":true|false,"found":N,"events":[…newest first, at most limit…]}.
//   - GET /micro/stream: server-sent events with the store's summary after each commit,
//     which the UI follows instead of polling.
//   - CORS on every /micro path for the origins the user allows (web.allowedOrigins,
//     loopback origins by default, "*" for all): the Origin is echoed with credentials
//     allowed and preflights are answered, so browser-side test code can call the API.
//     Other origins get no CORS headers, and 403 for anything but GET and HEAD.
//
// # The UI
//
// ui/ holds a static page with hand-written JavaScript and CSS, embedded with go:embed (no
// build step). It is a client of the routes above. Event data is only ever put in the
// page as text, and the page's Content-Security-Policy allows no inline script.
package web
