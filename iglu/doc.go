// Package iglu is the schema layer of the pipeline: Iglu schema keys and criteria,
// self-describing JSON, a resolver that finds JSON Schemas in repositories (the
// embedded core set, local folders, static HTTP repositories and Iglu Servers) and
// validates instances against them, the Iglu client error encoding that bad rows carry,
// and an Iglu-Server-compatible HTTP API (Server) that publishes schemas into a
// SchemaStore, which the resolver reads as a repository, with Iglu Server's lint (Lint).
//
// Enrich uses Resolver.Validate on the hot path for every tracker envelope, context and
// self-describing event; loaders use Resolver.Lookup and Resolver.List for table
// layouts; the web package mounts MicroIgluHandler and Server.Register. iglu is a
// foundation: every stage may import it, and it imports no stage (iglu/badrow, the
// bad-row model, lives below it; iglu/igluclient, the client that pushes schema folders,
// lives above it and is imported only by commands).
package iglu
