package iglu

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/url"
	"time"
)

// EmbeddedRepositoryName is the name of the built-in repository of core schemas, tried
// before the configured ones (as Snowplow's client always prepends its own embedded
// registry). It is the name that appears in lookupHistory.
const EmbeddedRepositoryName = "Iglu Client Embedded"

// IgluCentralURI is Iglu Central, Snowplow's public schema registry.
const IgluCentralURI = "http://iglucentral.com"

// ResolverConfig configures a Resolver. CacheSize, CacheTTL and Repositories are the
// data of Snowplow's resolver.json (see ParseResolverConfig); the other fields are
// snowplow-mini additions.
type ResolverConfig struct {
	// CacheSize is the number of schemas (with their compiled validators) and lookup
	// failures kept in the LRU cache. Default 500.
	CacheSize int `json:"cacheSize" yaml:"cacheSize"`
	// CacheTTL is how many seconds a cached schema or lookup failure stays valid; nil
	// means forever. Default 600.
	CacheTTL *int `json:"cacheTtl" yaml:"cacheTtl"`
	// Repositories are tried in Snowplow's order (see Resolver). Default: Iglu Central.
	Repositories []RepositoryConfig `json:"repositories" yaml:"repositories"`

	// SchemaDirs are local folders in static-repository layout
	// ({vendor}/{name}/{format}/{version}, with or without ".json", either directly in the
	// folder or under its schemas/ subfolder). They are tried before every other
	// repository, are named "Local schemas (<dir>)", and are re-read at most every
	// LocalRecheck so edits show up without a restart. Default none.
	SchemaDirs []string `json:"schemaDirs" yaml:"schemaDirs"`
	// LocalRecheck is how long a schema read from a local folder (or its absence) is
	// trusted before the folder is looked at again. Default 2s.
	LocalRecheck time.Duration `json:"localRecheck" yaml:"localRecheck"`
	// StrictOrder asks the built-in embedded core set in the place Snowplow's client
	// gives it (after the repositories whose vendor prefix matches, e.g. after Iglu
	// Central for com.snowplowanalytics schemas) instead of first. The answers are the
	// same, as the embedded set holds published versions only; asking it first keeps
	// lookups of core schemas off the network. Default false.
	StrictOrder bool `json:"strictOrder" yaml:"strictOrder"`
	// HTTPTimeout bounds each request to an HTTP repository. Default 2s.
	HTTPTimeout time.Duration `json:"httpTimeout" yaml:"httpTimeout"`
	// BackoffMin is how long an HTTP repository is skipped after its first transport
	// failure (it is then reported as RepoFailure without being contacted). It doubles
	// with each further failure up to BackoffMax and resets on success. Defaults 10s and
	// 5m.
	BackoffMin time.Duration `json:"backoffMin" yaml:"backoffMin"`
	BackoffMax time.Duration `json:"backoffMax" yaml:"backoffMax"`
}

// RepositoryConfig is one entry of resolver.json's repositories.
type RepositoryConfig struct {
	// Name appears in lookupHistory; it must be unique.
	Name string `json:"name" yaml:"name"`
	// Priority orders repositories of the same class (lower first).
	Priority int `json:"priority" yaml:"priority"`
	// VendorPrefixes: repositories with a prefix of the looked-up vendor are tried first.
	VendorPrefixes []string `json:"vendorPrefixes" yaml:"vendorPrefixes"`
	// Connection is exactly one of HTTP or Embedded.
	Connection ConnectionConfig `json:"connection" yaml:"connection"`
}

// ConnectionConfig says where a repository is. Exactly one field is set.
type ConnectionConfig struct {
	HTTP     *HTTPConnection     `json:"http,omitempty" yaml:"http,omitempty"`
	Embedded *EmbeddedConnection `json:"embedded,omitempty" yaml:"embedded,omitempty"`
}

// HTTPConnection is a static HTTP repository (GET {uri}/schemas/…) or an Iglu Server
// (uri = http(s)://host/api).
type HTTPConnection struct {
	URI string `json:"uri" yaml:"uri"`
	// APIKey, when set, is sent in the apikey header.
	APIKey *string `json:"apikey" yaml:"apikey"`
}

// EmbeddedConnection is, in Snowplow, a class-path folder bundled with the application.
// snowplow-mini has no class path: every embedded connection, whatever its path
// (usually "/iglu-client-embedded" or "/iglu-embedded"), serves snowplow-mini's own
// embedded core schemas. Put your own schemas in a local folder (SchemaDirs) instead.
type EmbeddedConnection struct {
	Path string `json:"path" yaml:"path"`
}

// DefaultConfig returns the configuration used when none is given: Iglu Central behind
// the embedded core schemas, a 500-entry cache with a 10-minute TTL, 2s HTTP timeouts.
func DefaultConfig() ResolverConfig {
	ttl := 600
	return ResolverConfig{
		CacheSize: 500,
		CacheTTL:  &ttl,
		Repositories: []RepositoryConfig{{
			Name:           "Iglu Central",
			Priority:       0,
			VendorPrefixes: []string{"com.snowplowanalytics"},
			Connection:     ConnectionConfig{HTTP: &HTTPConnection{URI: IgluCentralURI}},
		}},
		LocalRecheck: 2 * time.Second,
		HTTPTimeout:  2 * time.Second,
		BackoffMin:   10 * time.Second,
		BackoffMax:   5 * time.Minute,
	}
}

// Validate reports every problem at once, each with its key path.
func (c ResolverConfig) Validate() error {
	var errs []error
	add := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	if c.CacheSize < 1 {
		add("iglu.cacheSize: must be at least 1, got %d", c.CacheSize)
	}
	if c.CacheTTL != nil && *c.CacheTTL < 0 {
		add("iglu.cacheTtl: must be 0 or more seconds (or null for no expiry), got %d", *c.CacheTTL)
	}
	names := map[string]bool{}
	for i, r := range c.Repositories {
		p := fmt.Sprintf("iglu.repositories[%d]", i)
		switch {
		case r.Name == "":
			add("%s.name: must not be empty", p)
		case names[r.Name]:
			add("%s.name: %q is used by another repository", p, r.Name)
		}
		names[r.Name] = true
		switch {
		case r.Connection.HTTP != nil && r.Connection.Embedded != nil:
			add("%s.connection: must have exactly one of http and embedded, got both", p)
		case r.Connection.HTTP == nil && r.Connection.Embedded == nil:
			add("%s.connection: must have exactly one of http and embedded, got neither", p)
		case r.Connection.HTTP != nil:
			u, err := url.Parse(r.Connection.HTTP.URI)
			if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
				add("%s.connection.http.uri: must be an absolute http(s) URL, got %q", p, r.Connection.HTTP.URI)
			}
		}
	}
	for i, d := range c.SchemaDirs {
		if d == "" {
			add("iglu.schemaDirs[%d]: must not be empty", i)
		}
	}
	if c.LocalRecheck <= 0 {
		add("iglu.localRecheck: must be positive, got %s", c.LocalRecheck)
	}
	if c.HTTPTimeout <= 0 {
		add("iglu.httpTimeout: must be positive, got %s", c.HTTPTimeout)
	}
	if c.BackoffMin <= 0 {
		add("iglu.backoffMin: must be positive, got %s", c.BackoffMin)
	}
	if c.BackoffMax < c.BackoffMin {
		add("iglu.backoffMax: must be at least backoffMin (%s), got %s", c.BackoffMin, c.BackoffMax)
	}
	return errors.Join(errs...)
}

// resolverConfigCriterion selects the resolver.json versions snowplow-mini reads.
func resolverConfigCriterion() Criterion {
	return Criterion{Vendor: "com.snowplowanalytics.iglu", Name: "resolver-config", Format: FormatJSONSchema, Model: 1, Revision: 0, Addition: Wildcard}
}

// ParseResolverConfig reads Snowplow's resolver.json as it is: a self-describing JSON
// with schema iglu:com.snowplowanalytics.iglu/resolver-config/jsonschema/1-0-0 … 1-0-3,
// validated against that schema (so, as in Snowplow, cacheTtl needs 1-0-2 or later and
// unknown keys are errors). Fields that resolver.json does not have keep their
// DefaultConfig values. The result is validated.
func ParseResolverConfig(data []byte) (ResolverConfig, error) {
	sd, err := ParseSelfDescribing(data)
	if err != nil {
		return ResolverConfig{}, fmt.Errorf("reading resolver config: %w", err)
	}
	if !resolverConfigCriterion().Matches(sd.Schema) {
		return ResolverConfig{}, fmt.Errorf("reading resolver config: schema %s does not match %s", sd.Schema, resolverConfigCriterion())
	}
	raw, err := embeddedSchema(sd.Schema)
	if err != nil {
		return ResolverConfig{}, fmt.Errorf("reading resolver config: unsupported version %s", sd.Schema.Version)
	}
	meta, err := embeddedSchema(metaSchemaKey())
	if err != nil {
		return ResolverConfig{}, err
	}
	meta, err = metaSchemaForCompiler(meta)
	if err != nil {
		return ResolverConfig{}, err
	}
	v, cerr := compileSchema(raw, compileOptions{metaSchema: meta})
	if cerr != nil {
		return ResolverConfig{}, fmt.Errorf("reading resolver config: embedded schema %s: %w", sd.Schema, cerr)
	}
	instance, err := DecodeJSON(sd.Data, DefaultMaxJSONDepth)
	if err != nil {
		return ResolverConfig{}, fmt.Errorf("reading resolver config: %w", err)
	}
	reports, err := v.validate(instance)
	if err != nil {
		return ResolverConfig{}, fmt.Errorf("reading resolver config: %w", err)
	}
	if len(reports) > 0 {
		return ResolverConfig{}, fmt.Errorf("reading resolver config: not valid against %s: %w", sd.Schema,
			&ClientError{Kind: ValidationError, DataReports: reports})
	}

	var file struct {
		CacheSize    json.Number `json:"cacheSize"`
		CacheTTL     *int        `json:"cacheTtl"`
		Repositories []struct {
			Name           string           `json:"name"`
			Priority       json.Number      `json:"priority"`
			VendorPrefixes []string         `json:"vendorPrefixes"`
			Connection     ConnectionConfig `json:"connection"`
		} `json:"repositories"`
	}
	dec := json.NewDecoder(bytes.NewReader(sd.Data))
	dec.UseNumber()
	if err := dec.Decode(&file); err != nil {
		return ResolverConfig{}, fmt.Errorf("reading resolver config: %w", err)
	}
	cfg := DefaultConfig()
	cfg.CacheTTL = file.CacheTTL
	if cfg.CacheSize, err = wholeNumber(file.CacheSize); err != nil {
		return ResolverConfig{}, fmt.Errorf("reading resolver config: cacheSize: %w", err)
	}
	cfg.Repositories = nil
	for i, r := range file.Repositories {
		prio, err := wholeNumber(r.Priority)
		if err != nil {
			return ResolverConfig{}, fmt.Errorf("reading resolver config: repositories[%d].priority: %w", i, err)
		}
		cfg.Repositories = append(cfg.Repositories, RepositoryConfig{
			Name: r.Name, Priority: prio, VendorPrefixes: r.VendorPrefixes, Connection: r.Connection,
		})
	}
	if err := cfg.Validate(); err != nil {
		return ResolverConfig{}, fmt.Errorf("reading resolver config: %w", err)
	}
	return cfg, nil
}

// wholeNumber reads a JSON number that the schema types as "number" but that is a count
// or a rank: 500 and 500.0 are accepted, 1.5 is not.
func wholeNumber(n json.Number) (int, error) {
	f, err := n.Float64()
	if err != nil {
		return 0, err
	}
	if f != math.Trunc(f) || math.Abs(f) > math.MaxInt32 {
		return 0, fmt.Errorf("must be a whole number, got %s", n)
	}
	return int(f), nil
}
