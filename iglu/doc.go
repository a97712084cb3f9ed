// Package iglu is the schema layer of the pipeline: Iglu schema keys and criteria,
// self-describing JSON, a resolver that finds JSON Schemas in repositories (the
// embedded core set, local folders, static HTTP repositories and Iglu Servers) and
// validates instances against them, the Iglu client error encoding that bad rows carry,
// and an Iglu-Server-compatible HTTP API (Server) that publishes schemas into a
// SchemaStore, which the resolver reads as a repository, with Iglu Server's lint (Lint).
//
// Enrich uses Resolver.Validate on the hot path for every tracker envelope, context and
// self-describing event, and Resolver.Lookup to check that a cached verdict still holds
// for the same schema. The web package serves /micro/iglu with Resolver.Lookup (and
// ClientError.MicroJSON for misses); main mounts Server.Register under /api. Loaders
// write wide rows and need no schema, so nothing in the pipeline calls Resolver.List
// yet: it is Iglu's listSchemas, kept for loaders that migrate typed tables.
//
// iglu is a foundation: every stage may import it, and it imports no stage and no
// model package (its subpackage iglu/badrow, the bad-row model, builds on it;
// iglu/igluclient, the client that pushes schema folders, sits above it and is
// imported only by commands).
package iglu
