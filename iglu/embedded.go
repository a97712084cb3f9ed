package iglu

import (
	"embed"
	"io/fs"
)

// embedded holds the core schemas under schemas/{vendor}/{name}/{format}/{version}.
// They are written for snowplow-mini: each one accepts and rejects the same documents
// as the Iglu Central schema of the same key (embedded_test.go checks it), so the
// tracker protocol and the entities trackers attach by default resolve offline.
//
//go:embed schemas
var embedded embed.FS

// EmbeddedSchemas returns the embedded core schemas as a file system in
// static-repository layout: {vendor}/{name}/{format}/{version} (no extension).
func EmbeddedSchemas() fs.FS {
	sub, err := fs.Sub(embedded, "schemas")
	if err != nil {
		// fs.Sub fails only for an invalid path name; "schemas" is valid.
		return embedded
	}
	return sub
}

func embeddedSchema(key SchemaKey) ([]byte, error) {
	return fs.ReadFile(embedded, "schemas/"+key.Path())
}
