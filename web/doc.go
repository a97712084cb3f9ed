// Package web is the human and test-suite face of the pipeline: a Snowplow-Micro-compatible
// test API under /micro/* and a small event viewer at /micro/ui.
//
// It reads good events from enrich through ObserveGood (main wires a *Server as enrich's
// observer) and bad rows from the bad-1 stream, as its own consumer group ("micro"). Events
// are kept in an in-memory store, newest first, like Micro's, bounded in events
// (web.maxEvents) and in bytes (web.maxBytes), with a per-event cap (web.maxEventBytes)
// past which long values are truncated with a mark. It writes nothing back
// to the pipeline. web is a stage: it imports only the leaf models (enrich/event,
// iglu/badrow) and the foundations (streams, iglu); only main imports it.
//
// # Micro's API
//
// These answer exactly as Snowplow Micro does, so existing test helpers work unchanged:
//
//	GET|POST /micro/all     {"total":N,"good":N,"bad":N}
//	GET      /micro/good    [GoodEvent…] newest first
//	POST     /micro/good    {"event_type","schema","contexts":[…],"limit"} filters, ANDed
//	GET      /micro/bad     [BadEvent…] newest first
//	POST     /micro/bad     {"vendor","version","limit"}
//	POST     /micro/reset   empties the store; answers the summary, as Micro 3 did (GET is
//	                        405: a link or an <img> on any page must not wipe the events)
//	GET      /micro/iglu/{vendor}/{name}/jsonschema/{version}  the schema, or 404 with the
//	                        resolver's lookup report
//
// Any other /micro path answers 404 with the list of endpoints. A GoodEvent's "event" is
// the Analytics-SDK JSON with every field (null when empty) and the contexts,
// derived_contexts and unstruct_event columns also as self-describing JSON
// (event.unstruct_event.data.data works), see enrich/event's AppendMicroJSON. A BadEvent's
// errors are Micro's sentence for the failed stage, then the bad row as compact JSON.
//
// # Additions for test suites
//
//   - Filters as query parameters: GET /micro/good?event_type=page_view&limit=5 and
//     repeated contexts=…; GET /micro/bad?vendor=…&version=…&limit=….
//   - app_id: every endpoint above (all, good, bad, reset, wait) takes an app_id, as a
//     query parameter or a JSON key, and then only sees events of that app: good events by
//     their app_id field, bad events by the aid of their raw event or request. Parallel
//     tests that each use their own app_id neither see nor reset each other's events.
//   - GET|POST /micro/wait blocks until the store holds count (default 1) matching events
//     or the timeout passes (default 5s, at most 60s; "timeout" is a duration such as
//     "1500ms" or a number of seconds). type "good" (default) takes the /micro/good filters,
//     type "bad" the /micro/bad ones; both take app_id and limit. Events stored before the
//     request count. The answer is always 200:
//     {"complete":true|false,"found":N,"events":[…newest first, at most limit…]}, with
//     complete false on timeout (a 408 would be retried by some browsers).
//   - CORS on every /micro path for the origins the user allows (web.allowedOrigins,
//     loopback origins by default, "*" for all): the Origin is echoed with credentials
//     allowed and preflights are answered, so browser-side test code can call the API.
//     Other origins get no CORS headers, and 403 for anything but GET and HEAD.
package web
