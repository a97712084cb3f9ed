package iglu

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
)

// MicroIglu answers Snowplow Micro's GET /micro/iglu/{vendor}/{name}/{format}/{version}
// (format is always "jsonschema" in Micro's route): 200 with the schema document as a
// repository served it, or 404 with the resolver's errors per repository in Micro's
// shape, {"value":{"<repository>":{"errors":[{"error":"NotFound"}],"attempts":1,
// "lastAttempt":"…"}}}. A malformed key is a 400 with {"message":…}. The body is JSON.
func (r *Resolver) MicroIglu(ctx context.Context, vendor, name, format, version string) (status int, body []byte) {
	key, err := ParseSchemaKey("iglu:" + vendor + "/" + name + "/" + format + "/" + version)
	if err == nil {
		err = key.Validate()
	}
	if err != nil {
		return http.StatusBadRequest, message(err.Error())
	}
	s, err := r.Lookup(ctx, key)
	if err == nil {
		return http.StatusOK, s.Raw
	}
	var ce *ClientError
	if errors.As(err, &ce) {
		if ce.HasFailures() {
			r.log.Warn("looking up schema", "schema", key.String(), "err", err)
		}
		return http.StatusNotFound, ce.Redacted().MicroJSON()
	}
	r.log.Warn("looking up schema", "schema", key.String(), "err", err)
	return http.StatusServiceUnavailable, message(fmt.Sprintf("looking up %s failed; the server log has the details", key))
}

// MicroIgluHandler serves MicroIglu over HTTP. It reads the schema key from the last
// four segments of the request path, so it works wherever it is mounted, e.g. on
// "/micro/iglu/*" or "/micro/iglu/{vendor}/{name}/jsonschema/{version}".
func (r *Resolver) MicroIgluHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		parts := strings.Split(strings.Trim(req.URL.Path, "/"), "/")
		if len(parts) < 4 {
			writeJSON(w, http.StatusNotFound, message("Expected /micro/iglu/{vendor}/{name}/jsonschema/{version}"))
			return
		}
		p := parts[len(parts)-4:]
		status, body := r.MicroIglu(req.Context(), p[0], p[1], p[2], p[3])
		writeJSON(w, status, body)
	})
}
