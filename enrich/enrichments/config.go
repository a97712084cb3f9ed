package enrichments

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"
	"github.com/ua-parser/uap-go/uaparser"

	"github.com/snowplow-mini/snowplow-mini/iglu"
)

// Run order of the enrichments (Snowplow's EnrichmentManager order). IP lookups run right
// before weather instead of after YAUAA, so that weather sees geo_latitude/geo_longitude;
// nothing between the two positions reads or writes the geo fields.
const (
	orderIAB = iota
	orderUAParser
	orderCurrency
	orderReferer
	orderCampaign
	orderFingerprint
	orderCookie
	orderHeader
	orderIPLookups
	orderWeather
	orderYAUAA
	orderJavaScript
	orderSQL
	orderAPI
	orderAnonIP
	orderPII
)

// kind is one entry of the registry: an enrichment that can be configured.
type kind struct {
	vendor string
	name   string
	model  int // the config schema's MODEL this enrichment accepts (criterion MODEL-*-*)
	order  int
	build  func(b *builder) (enrichment, error)
}

// registry is every enrichment snowplow-mini implements, keyed by config schema name.
// It is a function, not a package variable, so nothing is shared between Sets.
func registry() map[string]kind {
	const sp, spe = "com.snowplowanalytics.snowplow", "com.snowplowanalytics.snowplow.enrichments"
	ks := []kind{
		{sp, "campaign_attribution", 1, orderCampaign, buildCampaign},
		{sp, "event_fingerprint_config", 1, orderFingerprint, buildFingerprint},
		{sp, "referer_parser", 2, orderReferer, buildReferer},
		{sp, "ua_parser_config", 1, orderUAParser, buildUAParser},
		{sp, "anon_ip", 1, orderAnonIP, buildAnonIP},
		{sp, "cookie_extractor_config", 1, orderCookie, buildCookie},
		{spe, "http_header_extractor_config", 1, orderHeader, buildHeader},
		{sp, "ip_lookups", 2, orderIPLookups, buildIPLookups},
		{spe, "iab_spiders_and_robots_enrichment", 1, orderIAB, buildIAB},
		{spe, "pii_enrichment_config", 2, orderPII, buildPII},
		{sp, "javascript_script_config", 1, orderJavaScript, buildJavaScript},
		{spe, "api_request_enrichment_config", 1, orderAPI, buildAPIRequest},
		{spe, "sql_query_enrichment_config", 1, orderSQL, buildSQLQuery},
		{sp, "currency_conversion_config", 1, orderCurrency, buildCurrency},
		{spe, "weather_enrichment_config", 1, orderWeather, buildWeather},
		{spe, "yauaa_enrichment_config", 1, orderYAUAA, buildYAUAA},
	}
	m := make(map[string]kind, len(ks))
	for _, k := range ks {
		m[k.name] = k
	}
	return m
}

// notSupported are Snowplow enrichments that snowplow-mini recognises but does not run.
var notSupported = map[string]string{
	"user_agent_utils_config":         "deprecated by Snowplow; use ua_parser_config or yauaa_enrichment_config",
	"asn_lookups":                     "not implemented in snowplow-mini",
	"bot_detection_enrichment_config": "not implemented in snowplow-mini",
	"cross_navigation_config":         "not implemented in snowplow-mini (refr_domain_userid and refr_dvce_tstamp are set regardless)",
	"event_spec_enrichment_config":    "not implemented in snowplow-mini",
}

// envelope is the data of an enrichment configuration.
type envelope struct {
	Vendor        string          `json:"vendor"`
	Name          string          `json:"name"`
	Enabled       bool            `json:"enabled"`
	EmitEvent     *bool           `json:"emitEvent"`
	AnonymousOnly *bool           `json:"anonymousOnly"`
	Parameters    json.RawMessage `json:"parameters"`
}

// builder carries what an enrichment constructor needs.
type builder struct {
	ctx    context.Context
	deps   *Deps
	info   Info
	env    envelope
	dir    string // directory of the configuration file, for relative asset paths
	assets *assetStore
	shared *shared
}

// shared holds what several enrichments of one Set can use together.
type shared struct {
	ua func() (*uaparser.Parser, error) // the bundled rules' parser, being built
}

// defaultUAParser returns the parser with the bundled ua-parser rules, built once per Set.
// Building it costs about 100 ms of CPU and 45 MB of allocation, most of serve's start-up,
// so it is built in the background: the function blocks until it is ready (usually long
// before the first event, which is the only thing that needs it).
func (b *builder) defaultUAParser() func() (*uaparser.Parser, error) {
	if b.shared.ua == nil {
		type built struct {
			p   *uaparser.Parser
			err error
		}
		ch := make(chan built, 1)
		go func() {
			p, err := newUAParser(nil)
			if err != nil {
				err = fmt.Errorf("bundled ua-parser rules: %w", err)
			}
			ch <- built{p, err}
		}()
		b.shared.ua = sync.OnceValues(func() (*uaparser.Parser, error) {
			r := <-ch
			return r.p, r.err
		})
	}
	return b.shared.ua
}

// params decodes the parameters strictly into v, reporting every problem.
func (b *builder) params(v any) error {
	if len(b.env.Parameters) == 0 || string(b.env.Parameters) == "null" {
		b.env.Parameters = json.RawMessage("{}")
	}
	return decodeStrict(b.env.Parameters, v, "parameters")
}

// Load reads every *.json file of dir (sorted by name) as Snowplow enrichment configurations:
// each a self-describing JSON of an enrichment config schema, or the
// iglu:com.snowplowanalytics.snowplow/enrichments/jsonschema/1-0-0 list of them. Disabled
// enrichments are left out. Assets given by URI are fetched now. Every problem of every
// file is reported, each naming its file. ctx bounds the asset downloads: cancelling it
// stops them and Load returns its error.
func Load(ctx context.Context, dir string, deps Deps) (*Set, error) {
	paths, err := filepath.Glob(filepath.Join(dir, "*.json"))
	if err != nil {
		return nil, fmt.Errorf("listing enrichment configurations in %s: %w", dir, err)
	}
	sort.Strings(paths)
	var files []configFile
	var errs []error
	for _, p := range paths {
		data, err := os.ReadFile(p)
		if err != nil {
			errs = append(errs, fmt.Errorf("reading enrichment configuration: %w", err))
			continue
		}
		files = append(files, configFile{name: p, dir: dir, data: data})
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return build(ctx, files, deps)
}

// defaultConfigs are the configurations of the enrichments Snowplow Mini turns on when no
// configuration directory is given.
var defaultConfigs = []struct{ name, json string }{
	{"campaign_attribution", `{"schema":"iglu:com.snowplowanalytics.snowplow/campaign_attribution/jsonschema/1-0-1","data":{"vendor":"com.snowplowanalytics.snowplow","name":"campaign_attribution","enabled":true,"parameters":{"mapping":"static","fields":{"mktMedium":["utm_medium"],"mktSource":["utm_source"],"mktTerm":["utm_term"],"mktContent":["utm_content"],"mktCampaign":["utm_campaign"]}}}}`},
	{"event_fingerprint_config", `{"schema":"iglu:com.snowplowanalytics.snowplow/event_fingerprint_config/jsonschema/1-0-1","data":{"vendor":"com.snowplowanalytics.snowplow","name":"event_fingerprint_config","enabled":true,"parameters":{"excludeParameters":["cv","eid","nuid","stm"],"hashAlgorithm":"MD5"}}}`},
	{"referer_parser", `{"schema":"iglu:com.snowplowanalytics.snowplow/referer_parser/jsonschema/2-0-1","data":{"vendor":"com.snowplowanalytics.snowplow","name":"referer_parser","enabled":true,"parameters":{"internalDomains":[],"database":"` + builtinRefererDatabase + `","uri":"builtin:"}}}`},
	{"ua_parser_config", `{"schema":"iglu:com.snowplowanalytics.snowplow/ua_parser_config/jsonschema/1-0-1","data":{"vendor":"com.snowplowanalytics.snowplow","name":"ua_parser_config","enabled":true,"parameters":{}}}`},
}

// DefaultConfigs returns the configuration files of Snowplow Mini's default enrichments
// (campaign_attribution, event_fingerprint_config, referer_parser, ua_parser_config), keyed
// by file name, e.g. "referer_parser.json". Writing them into a directory and editing them
// is how a user starts customising enrichments. The referer parser file names the built-in
// referer list (uri "builtin:").
func DefaultConfigs() map[string][]byte {
	m := make(map[string][]byte, len(defaultConfigs))
	for _, c := range defaultConfigs {
		var buf bytes.Buffer
		_ = json.Indent(&buf, []byte(c.json), "", "  ")
		buf.WriteByte('\n')
		m[c.name+".json"] = buf.Bytes()
	}
	return m
}

// Defaults returns Snowplow Mini's default enrichments: campaign_attribution (utm_*
// parameters, gclid/msclkid/dclid), event_fingerprint_config (MD5 without cv, eid, nuid,
// stm), referer_parser (the built-in referer list, no internal domains) and ua_parser_config
// (the bundled ua-parser rules). Names listed in off (config schema names, e.g.
// "ua_parser_config") are left out; an unknown name is an error. The defaults download
// nothing; ctx is there for the same reasons as Load's.
func Defaults(ctx context.Context, deps Deps, off ...string) (*Set, error) {
	known := make(map[string]bool, len(defaultConfigs))
	for _, c := range defaultConfigs {
		known[c.name] = true
	}
	var errs []error
	for _, o := range off {
		if !known[o] {
			errs = append(errs, fmt.Errorf("enrichments: %q is not a default enrichment (want one of campaign_attribution, event_fingerprint_config, referer_parser, ua_parser_config)", o))
		}
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	var files []configFile
	for _, c := range defaultConfigs {
		if slices.Contains(off, c.name) {
			continue
		}
		files = append(files, configFile{name: "default " + c.name, data: []byte(c.json)})
	}
	return build(ctx, files, deps)
}

type configFile struct {
	name string // for messages
	dir  string // relative asset paths are resolved against it
	data []byte
}

type loaded struct {
	k kind
	e enrichment
}

func build(ctx context.Context, files []configFile, deps Deps) (*Set, error) {
	if deps.Logger == nil {
		deps.Logger = slog.New(slog.DiscardHandler)
	}
	if deps.HTTPClient == nil {
		deps.HTTPClient = &http.Client{Timeout: 30 * time.Second}
	}
	if deps.Now == nil {
		deps.Now = time.Now
	}
	if deps.NewEventID == nil {
		deps.NewEventID = func() string { return uuid.NewString() }
	}
	set := &Set{}
	assets := &assetStore{deps: &deps, dir: deps.AssetsDir}
	set.cleanup = append(set.cleanup, assets.cleanup)

	sh := &shared{}
	reg := registry()
	var errs []error
	var all []loaded
	seen := map[string]string{}
	for _, f := range files {
		confs, err := splitConfigs(f.data)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", f.name, err))
			continue
		}
		for _, c := range confs {
			k, env, err := identify(reg, c)
			if err != nil {
				errs = append(errs, fmt.Errorf("%s: %w", f.name, err))
				continue
			}
			if !env.Enabled {
				continue
			}
			if prev, dup := seen[k.name]; dup {
				errs = append(errs, fmt.Errorf("%s: %s: enrichment %s is already configured in %s", f.name, c.Schema, k.name, prev))
				continue
			}
			seen[k.name] = f.name
			b := &builder{
				ctx:    ctx,
				deps:   &deps,
				info:   Info{Name: k.name, SchemaKey: c.Schema},
				env:    env,
				dir:    f.dir,
				assets: assets,
				shared: sh,
			}
			e, err := k.build(b)
			if err != nil {
				errs = append(errs, fmt.Errorf("%s: %s: %w", f.name, c.Schema, err))
				continue
			}
			all = append(all, loaded{k, e})
		}
	}
	if len(errs) > 0 {
		for _, l := range all {
			if c, ok := l.e.(closer); ok {
				_ = c.close()
			}
		}
		_ = assets.cleanup()
		return nil, errors.Join(errs...)
	}
	sort.SliceStable(all, func(i, j int) bool { return all[i].k.order < all[j].k.order })
	for _, l := range all {
		set.steps = append(set.steps, l.e)
	}
	return set, nil
}

// sdj is a self-describing JSON as found in configuration files.
type sdj struct {
	Schema string          `json:"schema"`
	Data   json.RawMessage `json:"data"`
}

const listSchemaPrefix = "iglu:com.snowplowanalytics.snowplow/enrichments/jsonschema/1-"

// splitConfigs returns the configurations of a file: itself, or the items of an
// enrichments list.
func splitConfigs(data []byte) ([]sdj, error) {
	var top sdj
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&top); err != nil {
		return nil, fmt.Errorf("not a self-describing JSON: %w", err)
	}
	if dec.More() {
		return nil, errors.New("not a self-describing JSON: data after the JSON value")
	}
	if top.Schema == "" || len(top.Data) == 0 {
		return nil, errors.New("not a self-describing JSON: want an object with schema and data")
	}
	if !strings.HasPrefix(top.Schema, listSchemaPrefix) {
		return []sdj{top}, nil
	}
	var items []sdj
	if err := json.Unmarshal(top.Data, &items); err != nil {
		return nil, fmt.Errorf("%s: data must be an array of self-describing JSONs: %w", top.Schema, err)
	}
	for i, it := range items {
		if it.Schema == "" || len(it.Data) == 0 {
			return nil, fmt.Errorf("%s: data[%d]: want an object with schema and data", top.Schema, i)
		}
	}
	return items, nil
}

// identify finds the registry entry of a configuration and decodes its envelope.
func identify(reg map[string]kind, c sdj) (kind, envelope, error) {
	vendor, name, model, err := parseConfigSchema(c.Schema)
	if err != nil {
		return kind{}, envelope{}, err
	}
	k, ok := reg[name]
	if !ok || k.vendor != vendor {
		if why, known := notSupported[name]; known {
			return kind{}, envelope{}, fmt.Errorf("%s: enrichment %s is %s", c.Schema, name, why)
		}
		return kind{}, envelope{}, fmt.Errorf("%s: unknown enrichment configuration schema", c.Schema)
	}
	if model != k.model {
		return kind{}, envelope{}, fmt.Errorf("%s: unsupported version of %s: want %d-x-x", c.Schema, name, k.model)
	}
	var env envelope
	if errs := decodeStrictList(c.Data, &env, "data"); len(errs) > 0 {
		return kind{}, envelope{}, fmt.Errorf("%s: %w", c.Schema, errors.Join(errs...))
	}
	if env.Name != "" && env.Name != name {
		return kind{}, envelope{}, fmt.Errorf("%s: data.name: %q does not match the schema name %q", c.Schema, env.Name, name)
	}
	return k, env, nil
}

// parseConfigSchema reads the schema of an enrichment configuration,
// iglu:vendor/name/jsonschema/M-R-A, with Iglu's grammar (iglu.ParseSchemaKey).
func parseConfigSchema(s string) (vendor, name string, model int, err error) {
	k, kerr := iglu.ParseSchemaKey(s)
	if kerr != nil || k.Format != "jsonschema" {
		return "", "", 0, fmt.Errorf("schema %q: not an Iglu URI iglu:vendor/name/jsonschema/M-R-A", s)
	}
	return k.Vendor, k.Name, k.Version.Model, nil
}

// asset is a file given as uri + database in a configuration.
type asset struct {
	URI      string `json:"uri" required:"true"`
	Database string `json:"database" required:"true"`
}

// assetStore fetches assets into a directory.
type assetStore struct {
	deps    *Deps
	dir     string
	tempDir string
}

func (a *assetStore) cleanup() error {
	if a.tempDir == "" {
		return nil
	}
	return os.RemoveAll(a.tempDir)
}

// path returns a local path holding the asset: the file itself for file: URIs and plain
// paths (relative ones against baseDir), a downloaded copy for http(s) URIs.
func (a *assetStore) path(ctx context.Context, baseDir string, as asset) (string, error) {
	uri := strings.TrimSuffix(as.URI, "/")
	scheme, rest, hasScheme := strings.Cut(uri, ":")
	if hasScheme && (len(scheme) == 1 || strings.ContainsAny(scheme, `/\.`)) {
		hasScheme = false // a Windows drive letter or a path with a colon
	}
	if !hasScheme {
		p := filepath.Join(uri, as.Database)
		if !filepath.IsAbs(p) && baseDir != "" {
			p = filepath.Join(baseDir, p)
		}
		return p, checkReadable(p)
	}
	switch strings.ToLower(scheme) {
	case "file":
		p := strings.TrimPrefix(rest, "//")
		p = filepath.Join(filepath.FromSlash(p), as.Database)
		return p, checkReadable(p)
	case "http", "https":
		return a.download(ctx, uri+"/"+as.Database, as.Database)
	default:
		return "", fmt.Errorf("uri %q: scheme %q is not supported (use http, https, file or a local path)", as.URI, scheme)
	}
}

func checkReadable(p string) error {
	f, err := os.Open(p)
	if err != nil {
		return err
	}
	return f.Close()
}

func (a *assetStore) download(ctx context.Context, url, name string) (string, error) {
	if a.dir == "" {
		d, err := os.MkdirTemp("", "snowplow-mini-assets-")
		if err != nil {
			return "", fmt.Errorf("creating assets directory: %w", err)
		}
		a.dir, a.tempDir = d, d
	}
	if err := os.MkdirAll(a.dir, 0o755); err != nil {
		return "", fmt.Errorf("creating assets directory: %w", err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return "", fmt.Errorf("downloading %s: %w", url, err)
	}
	start := time.Now()
	resp, err := a.deps.HTTPClient.Do(req)
	if err != nil {
		return "", fmt.Errorf("downloading %s: %w", url, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("downloading %s: HTTP status %s", url, resp.Status)
	}
	f, err := os.CreateTemp(a.dir, ".download-*")
	if err != nil {
		return "", fmt.Errorf("downloading %s: %w", url, err)
	}
	n, err := io.Copy(f, resp.Body)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(f.Name())
		return "", fmt.Errorf("downloading %s: %w", url, err)
	}
	dst := filepath.Join(a.dir, filepath.Base(filepath.Clean("/"+name)))
	if err := os.Rename(f.Name(), dst); err != nil {
		os.Remove(f.Name())
		return "", fmt.Errorf("downloading %s: %w", url, err)
	}
	a.deps.Logger.Info("downloaded enrichment asset", "url", url, "path", dst, "bytes", n, "duration", time.Since(start))
	return dst, nil
}

func joinErrs(errs []error) error {
	if len(errs) == 0 {
		return nil
	}
	return errors.Join(errs...)
}
