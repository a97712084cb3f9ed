// Package enrich is the enrich stage of the pipeline: it reads Thrift CollectorPayload
// records from the raw stream, turns each into raw events with Snowplow's tracker-protocol
// adapters (TP1, TP2, redirect, Iglu webhook), maps the tracker parameters onto the
// 131-field enriched event, validates self-describing events and contexts against Iglu,
// runs the configured enrichments, and writes enriched TSV lines to the enriched stream and
// bad rows (self-describing JSON) to bad-1, behaving as Snowplow's enrich does for the
// same input. How the JVM libraries Snowplow uses parse and print (java.net.URI, circe
// JSON, BigDecimal, Joda time, URLEncodedUtils, commons-codec base64) is reproduced in
// enrich/internal/jvm, so this package reads as the stage.
//
// Only main.go imports this package. It imports the leaf models (collector/payload,
// enrich/event, iglu/badrow) and the foundations (streams, iglu), never another stage.
package enrich
