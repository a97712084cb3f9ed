package enrichments

import "testing"

func TestCriterion(t *testing.T) {
	tests := []struct {
		crit, uri string
		bad, want bool
	}{
		{crit: "iglu:com.acme/x/jsonschema/1-*-*", uri: "iglu:com.acme/x/jsonschema/1-2-3", want: true},
		{crit: "iglu:com.acme/x/jsonschema/1-*-*", uri: "iglu:com.acme/x/jsonschema/2-0-0"},
		{crit: "iglu:com.acme/x/jsonschema/*-*-*", uri: "iglu:com.acme/y/jsonschema/1-0-0"},
		{crit: "iglu:com.acme/x/jsonschema/1-0-*", uri: "iglu:com.acme/x/jsonschema/1-0-01"}, // not a schema key
		{crit: "iglu:com.acme/x/jsonschema/01-*-*", bad: true},                               // Iglu's grammar: no leading zeros
		{crit: "iglu:com.acme/x/jsonschema/1-*", bad: true},
		{crit: "com.acme/x/jsonschema/1-*-*", bad: true},
	}
	for _, tt := range tests {
		c, err := parseCriterion(tt.crit)
		if (err != nil) != tt.bad {
			t.Errorf("parseCriterion(%q) error = %v, want error %v", tt.crit, err, tt.bad)
			continue
		}
		if tt.bad {
			continue
		}
		if got := criterionMatches(c, tt.uri); got != tt.want {
			t.Errorf("criterionMatches(%q, %q) = %v, want %v", tt.crit, tt.uri, got, tt.want)
		}
	}
}
