// Package loaders is the last stage of the pipeline: it reads the enriched, bad-1 and
// bad-2 streams (and raw, for files) and writes what they carry where people look at it.
//
//   - Sink (NewSink) loads enriched events and bad rows into an event store: SQLite by
//     default (events.db in the data directory), or PostgreSQL. The events table has the
//     Postgres loader's 128 atomic columns plus one JSON column per self-describing type
//     in the warehouse wide-row form (contexts_<vendor>_<name>_<model>,
//     unstruct_event_<vendor>_<name>_<model>); bad rows go to a bad_rows table. Each
//     batch is committed with the stream checkpoints in one transaction, so a restart
//     neither loses nor duplicates rows. Events the sink cannot load become
//     loader_parsing_error / loader_runtime_error bad rows on bad-2. It is also the store
//     the test API and the UI read (read.go: Events, CountEvents, BadRows, EventColumns,
//     ColumnValues, Timeline, Count, Reset; Changed wakes readers at every commit), and it
//     keeps each good event's raw request (ObserveGood, wired as enrich's observer) in a
//     raw_event column for Micro's rawEvent.
//   - S3Loader (NewS3Loader) writes each stream as Snowplow's S3 loader does: gzip files of
//     newline-separated records under <stream>/YYYY/MM/DD/HH/, in a local folder or any
//     S3-compatible bucket.
//   - StdoutLoader (NewStdoutLoader) prints every good event as a TSV or JSON line.
//
// Every loader consumes as its own consumer group, with streams.Consume. The loaders
// import only the foundations (streams) and the leaf models (enrich/event, iglu/badrow);
// only main wires them to the streams and to the web package.
package loaders
