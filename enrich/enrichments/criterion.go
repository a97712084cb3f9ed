package enrichments

import (
	"fmt"

	"github.com/snowplow-mini/snowplow-mini/iglu"
)

// parseCriterion reads a schemaCriterion of an enrichment configuration with Iglu's own
// grammar (iglu.ParseCriterion, as Snowplow's SchemaCriterion.parse).
func parseCriterion(s string) (iglu.Criterion, error) {
	c, err := iglu.ParseCriterion(s)
	if err != nil {
		return iglu.Criterion{}, fmt.Errorf("schema criterion %q: want iglu:vendor/name/format/M-R-A, each of M, R, A a number or *", s)
	}
	return c, nil
}

// criterionMatches reports whether the entity schema uri satisfies c. Entities reaching
// enrichments have been validated, so their schemas parse; one that does not matches
// nothing.
func criterionMatches(c iglu.Criterion, uri string) bool {
	k, err := iglu.ParseSchemaKey(uri)
	return err == nil && c.Matches(k)
}
