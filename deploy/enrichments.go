package deploy

import (
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"

	"github.com/snowplow-mini/snowplow-mini/iglu"
)

// enrichVariables maps an enrichment's configuration schema name to the variable of
// snowplow-devops/enrich-kinesis-ec2/aws 0.6.1 that takes it. The names differ in one
// place (iab_spiders_and_robots_enrichment); enrichments absent from the map
// (cross_navigation_config, user_agent_utils_config, asn_lookups, …) have no variable in
// that module version and cannot be deployed with it.
var enrichVariables = map[string]string{
	"anon_ip":                           "enrichment_anon_ip",
	"api_request_enrichment_config":     "enrichment_api_request_enrichment_config",
	"campaign_attribution":              "enrichment_campaign_attribution",
	"cookie_extractor_config":           "enrichment_cookie_extractor_config",
	"currency_conversion_config":        "enrichment_currency_conversion_config",
	"event_fingerprint_config":          "enrichment_event_fingerprint_config",
	"http_header_extractor_config":      "enrichment_http_header_extractor_config",
	"iab_spiders_and_robots_enrichment": "enrichment_iab_spiders_and_bots_enrichment",
	"ip_lookups":                        "enrichment_ip_lookups",
	"javascript_script_config":          "enrichment_javascript_script_config",
	"pii_enrichment_config":             "enrichment_pii_enrichment_config",
	"referer_parser":                    "enrichment_referer_parser",
	"sql_query_enrichment_config":       "enrichment_sql_query_enrichment_config",
	"ua_parser_config":                  "enrichment_ua_parser_config",
	"weather_enrichment_config":         "enrichment_weather_enrichment_config",
	"yauaa_enrichment_config":           "enrichment_yauaa_enrichment_config",
}

// moduleDefaultOff are configurations that switch off the enrichments the enrich module
// runs when their variable is empty: leaving a variable out does not turn its enrichment
// off, a configuration with "enabled": false does. Each validates against its Iglu
// Central schema (enrich validates configurations, enabled or not).
var moduleDefaultOff = map[string]string{
	"campaign_attribution":     `{"schema":"iglu:com.snowplowanalytics.snowplow/campaign_attribution/jsonschema/1-0-1","data":{"vendor":"com.snowplowanalytics.snowplow","name":"campaign_attribution","enabled":false,"parameters":{"mapping":"static","fields":{"mktMedium":["utm_medium"],"mktSource":["utm_source"],"mktTerm":["utm_term"],"mktContent":["utm_content"],"mktCampaign":["utm_campaign"]}}}}`,
	"event_fingerprint_config": `{"schema":"iglu:com.snowplowanalytics.snowplow/event_fingerprint_config/jsonschema/1-0-1","data":{"vendor":"com.snowplowanalytics.snowplow","name":"event_fingerprint_config","enabled":false,"parameters":{"excludeParameters":["cv","eid","nuid","stm"],"hashAlgorithm":"MD5"}}}`,
	"referer_parser":           `{"schema":"iglu:com.snowplowanalytics.snowplow/referer_parser/jsonschema/2-0-0","data":{"vendor":"com.snowplowanalytics.snowplow","name":"referer_parser","enabled":false,"parameters":{"internalDomains":[],"database":"referers-latest.json","uri":"https://s3-eu-west-1.amazonaws.com/snowplow-hosted-assets/third-party/referer-parser/"}}}`,
	"ua_parser_config":         `{"schema":"iglu:com.snowplowanalytics.snowplow/ua_parser_config/jsonschema/1-0-1","data":{"vendor":"com.snowplowanalytics.snowplow","name":"ua_parser_config","enabled":false,"parameters":{}}}`,
	"yauaa_enrichment_config":  `{"schema":"iglu:com.snowplowanalytics.snowplow.enrichments/yauaa_enrichment_config/jsonschema/1-0-0","data":{"vendor":"com.snowplowanalytics.snowplow.enrichments","name":"yauaa_enrichment_config","enabled":false}}`,
}

// serveDefaults are the enrichments `snowplow-mini serve` runs without --enrichments;
// the enrich module runs the same four (with Snowplow's hosted referer list) plus YAUAA.
var serveDefaults = []string{"campaign_attribution", "event_fingerprint_config", "referer_parser", "ua_parser_config"}

// Enrichment is one enrichment configuration carried into the pipeline stack.
type Enrichment struct {
	Name     string // configuration schema name, e.g. "anon_ip"
	Variable string // enrich module variable, e.g. "enrichment_anon_ip"
	Source   string // the local file it came from; empty when generated
	JSON     []byte // the file's content, verbatim
}

// FileName is the enrichment's file under pipeline/enrichments/.
func (e Enrichment) FileName() string { return e.Name + ".json" }

// Local is what `snowplow-mini serve` would run with: the same flags, environment and
// config file keys give the same folders.
type Local struct {
	EnrichmentsDir     string   // --enrichments
	DisableDefaults    bool     // --no-default-enrichments
	DisableEnrichments []string // enrichments.disable in the config file
	ResolverFile       string   // --resolver
	SchemasDir         string   // --schemas
}

// localEnrichments returns the enrichment files to deploy, in name order: the user's
// files, plus configurations that switch off the enrich module's defaults the local
// setup does not run. Every problem is reported, each naming its file.
func localEnrichments(l Local) ([]Enrichment, error) {
	byName := map[string]Enrichment{}
	var errs []error
	switch {
	case l.EnrichmentsDir != "":
		paths, err := filepath.Glob(filepath.Join(l.EnrichmentsDir, "*.json"))
		if err != nil {
			return nil, err
		}
		if st, err := os.Stat(l.EnrichmentsDir); err != nil || !st.IsDir() {
			return nil, fmt.Errorf("enrichments: %q is not a directory", l.EnrichmentsDir)
		}
		sort.Strings(paths)
		for _, p := range paths {
			e, err := readEnrichment(p)
			if errors.Is(err, errDisabled) {
				continue
			}
			if err != nil {
				errs = append(errs, err)
				continue
			}
			if prev, dup := byName[e.Name]; dup {
				errs = append(errs, fmt.Errorf("%s: configures %s, as %s does already; keep one of them", p, e.Name, prev.Source))
				continue
			}
			byName[e.Name] = e
		}
	case l.DisableDefaults:
	default:
		for _, name := range serveDefaults {
			if !slices.Contains(l.DisableEnrichments, name) {
				// The module's bundled configuration of this enrichment is equivalent.
				byName[name] = Enrichment{Name: name}
			}
		}
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	for name, off := range moduleDefaultOff {
		if _, ok := byName[name]; !ok {
			var buf strings.Builder
			_ = indentJSON(&buf, []byte(off))
			byName[name] = Enrichment{Name: name, Variable: enrichVariables[name], JSON: []byte(buf.String())}
		}
	}
	out := make([]Enrichment, 0, len(byName))
	for _, name := range sortedKeys(byName) {
		if e := byName[name]; e.JSON != nil {
			out = append(out, e)
		}
	}
	return out, nil
}

func indentJSON(w *strings.Builder, data []byte) error {
	var v any
	if err := json.Unmarshal(data, &v); err != nil {
		return err
	}
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	w.Write(b)
	w.WriteByte('\n')
	return nil
}

// readEnrichment reads one local enrichment configuration and checks that the enrich
// module can take it and that the real enrich can reach its assets.
func readEnrichment(path string) (Enrichment, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return Enrichment{}, err
	}
	sd, err := iglu.ParseSelfDescribing(data)
	if err != nil {
		return Enrichment{}, fmt.Errorf("%s: not a self-describing enrichment configuration: %w", path, err)
	}
	name := sd.Schema.Name
	variable, ok := enrichVariables[name]
	if !ok && isDisabled(data) {
		return Enrichment{}, errDisabled
	}
	if !ok {
		return Enrichment{}, fmt.Errorf("%s: enrichment %s has no variable in %s %s, so the AWS pipeline cannot run it; remove the file from the enrichments folder (or run it locally only)",
			path, sd.Schema, enrichModule.Source, enrichModule.Version)
	}
	var doc struct {
		Data struct {
			Parameters any `json:"parameters"`
		} `json:"data"`
	}
	if err := json.Unmarshal(data, &doc); err != nil {
		return Enrichment{}, fmt.Errorf("%s: %w", path, err)
	}
	var errs []error
	walkURIs(doc.Data.Parameters, "data.parameters", func(at, uri string) {
		u, err := url.Parse(uri)
		switch {
		case err != nil:
			errs = append(errs, fmt.Errorf("%s: %s %q is not a URI", path, at, uri))
		case u.Scheme == "builtin":
			errs = append(errs, fmt.Errorf("%s: %s %q is snowplow-mini's bundled copy, which Snowplow's enrich does not have; use Snowplow's hosted folder (for the referer list https://s3-eu-west-1.amazonaws.com/snowplow-hosted-assets/third-party/referer-parser/) or your own S3/HTTP copy", path, at, uri))
		case u.Scheme != "http" && u.Scheme != "https" && u.Scheme != "s3" && u.Scheme != "gs":
			errs = append(errs, fmt.Errorf("%s: %s %q is a local file, which the enrich servers cannot read; upload the file to S3 and put its s3:// folder here", path, at, uri))
		}
	})
	if err := errors.Join(errs...); err != nil {
		return Enrichment{}, err
	}
	return Enrichment{Name: name, Variable: variable, Source: path, JSON: data}, nil
}

// errDisabled marks a switched-off enrichment the enrich module has no variable for:
// there is nothing to deploy, so it is left out rather than refused.
var errDisabled = errors.New("disabled enrichment without a module variable")

func isDisabled(data []byte) bool {
	var doc struct {
		Data struct {
			Enabled *bool `json:"enabled"`
		} `json:"data"`
	}
	return json.Unmarshal(data, &doc) == nil && doc.Data.Enabled != nil && !*doc.Data.Enabled
}

// walkURIs calls f for every "uri" string of the asset objects in v (referer list, ua
// rules, IP databases, IAB lists: objects with "uri" next to "database").
func walkURIs(v any, at string, f func(at, uri string)) {
	switch v := v.(type) {
	case map[string]any:
		if uri, ok := v["uri"].(string); ok {
			if _, isAsset := v["database"]; isAsset {
				f(at+".uri", uri)
			}
		}
		for _, k := range sortedKeys(v) {
			walkURIs(v[k], at+"."+k, f)
		}
	case []any:
		for i, x := range v {
			walkURIs(x, fmt.Sprintf("%s[%d]", at, i), f)
		}
	}
}

func sortedKeys[V any](m map[string]V) []string { return slices.Sorted(maps.Keys(m)) }

// sideSettings derives the enrich module's other arguments that the enrichments need:
// the bucket of s3:// assets (IP lookups, IAB lists), which the servers must be allowed
// to read, and the TCP ports of SQL databases, which the security group must open. It
// also lists the files that hold credentials.
func sideSettings(es []Enrichment) (assetsBucket string, ports []string, withCredentials []string, err error) {
	buckets := map[string]string{} // bucket -> first file
	portSet := map[string]bool{}
	for _, e := range es {
		var doc struct {
			Data struct {
				Parameters any `json:"parameters"`
			} `json:"data"`
		}
		if json.Unmarshal(e.JSON, &doc) != nil {
			continue
		}
		walkURIs(doc.Data.Parameters, "data.parameters", func(_, uri string) {
			if u, err := url.Parse(uri); err == nil && u.Scheme == "s3" {
				if _, ok := buckets[u.Host]; !ok {
					buckets[u.Host] = e.Source
				}
			}
		})
		if e.Name == "sql_query_enrichment_config" {
			if m, ok := doc.Data.Parameters.(map[string]any); ok {
				if db, ok := m["database"].(map[string]any); ok {
					for _, conn := range db {
						if c, ok := conn.(map[string]any); ok {
							if p, ok := c["port"].(float64); ok {
								portSet[fmt.Sprint(int(p))] = true
							}
						}
					}
				}
			}
		}
		if hasCredential(doc.Data.Parameters) {
			withCredentials = append(withCredentials, e.FileName())
		}
	}
	if len(buckets) > 1 {
		var list []string
		for _, b := range sortedKeys(buckets) {
			list = append(list, fmt.Sprintf("s3://%s (%s)", b, buckets[b]))
		}
		return "", nil, nil, fmt.Errorf("enrichment assets come from %d S3 buckets (%s), but %s %s can grant read access to one only (custom_s3_hosted_assets_bucket_name): put the assets in one bucket",
			len(buckets), strings.Join(list, ", "), enrichModule.Source, enrichModule.Version)
	}
	for b := range buckets {
		assetsBucket = b
	}
	return assetsBucket, sortedKeys(portSet), withCredentials, nil
}

// hasCredential reports whether v holds a non-empty value under a key that names a
// secret (apiKey, password, salt, …).
func hasCredential(v any) bool {
	switch v := v.(type) {
	case map[string]any:
		for k, x := range v {
			lk := strings.ToLower(k)
			if s, ok := x.(string); ok && s != "" && (strings.Contains(lk, "apikey") || strings.Contains(lk, "password") || strings.Contains(lk, "secret") || lk == "salt" || strings.Contains(lk, "token")) {
				return true
			}
			if hasCredential(x) {
				return true
			}
		}
	case []any:
		for _, x := range v {
			if hasCredential(x) {
				return true
			}
		}
	}
	return false
}
