package enrichments

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"slices"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/snowplow-mini/snowplow-mini/enrich/event"
	"github.com/snowplow-mini/snowplow-mini/enrich/internal/jvm"
)

// refererDB is Snowplow's referer database structure (referers.json / referers.yml):
// medium -> source name -> domains and search-term parameters.
type refererDB map[string]map[string]refererSource

type refererSource struct {
	Domains    []string `json:"domains" yaml:"domains" required:"true"`
	Parameters []string `json:"parameters" yaml:"parameters"`
}

type refererConfig struct {
	InternalDomains []string  `json:"internalDomains" required:"true"`
	Database        string    `json:"database" required:"true"`
	URI             string    `json:"uri" required:"true"`
	Referrers       refererDB `json:"referrers"`
}

// referer sets refr_medium, refr_source and refr_term from page_referrer.
type referer struct {
	in       Info
	internal map[string]bool
	index    map[string]*refererEntry // "host" or "host/path"
}

type refererEntry struct {
	medium string
	source string
	params []string
}

func buildReferer(b *builder) (enrichment, error) {
	var c refererConfig
	if err := b.params(&c); err != nil {
		return nil, err
	}
	var db refererDB
	if c.URI == "builtin:" || c.URI == "builtin" {
		db = builtinRefererDB()
	} else {
		p, err := b.assets.path(b.ctx, b.dir, asset{URI: c.URI, Database: c.Database})
		if err != nil {
			b.deps.Logger.Warn("referer database unavailable, using the built-in referer list",
				"schema", b.info.SchemaKey, "uri", c.URI, "database", c.Database, "err", err)
			db = builtinRefererDB()
		} else if db, err = readRefererDB(p); err != nil {
			return nil, fmt.Errorf("parameters.database: %w", err)
		}
	}
	e := &referer{in: b.info, internal: map[string]bool{}, index: map[string]*refererEntry{}}
	for _, d := range c.InternalDomains {
		e.internal[strings.ToLower(strings.TrimSpace(d))] = true
	}
	e.add(db)
	e.add(c.Referrers)
	return e, nil
}

// readRefererDB reads a referer database in JSON or YAML (chosen by content).
func readRefererDB(path string) (refererDB, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var db refererDB
	if t := bytes.TrimSpace(data); len(t) > 0 && t[0] == '{' {
		if err := decodeStrict(data, &db, "database"); err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
	} else if err := yaml.Unmarshal(data, &db); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if len(db) == 0 {
		return nil, fmt.Errorf("%s: no referers", path)
	}
	return db, nil
}

// add indexes db; entries override earlier ones for the same domain. Media and sources are
// taken in sorted order so the result does not depend on map iteration.
func (e *referer) add(db refererDB) {
	media := make([]string, 0, len(db))
	for m := range db {
		media = append(media, m)
	}
	slices.Sort(media)
	for _, m := range media {
		names := make([]string, 0, len(db[m]))
		for n := range db[m] {
			names = append(names, n)
		}
		slices.Sort(names)
		for _, n := range names {
			src := db[m][n]
			ent := &refererEntry{medium: tsvSafe(m), source: tsvSafe(n), params: src.Parameters}
			for _, d := range src.Domains {
				e.index[strings.ToLower(strings.TrimSpace(d))] = ent
			}
		}
	}
}

func (e *referer) info() Info { return e.in }

func (e *referer) enrich(_ context.Context, st *state) {
	ev := st.ev
	scheme := ev.Fields[event.RefrURLScheme]
	host := ev.Fields[event.RefrURLHost]
	if host == "" || (scheme != "http" && scheme != "https" && scheme != "android-app") {
		return
	}
	host = strings.ToLower(host)
	if host == strings.ToLower(ev.Fields[event.PageURLHost]) || e.internal[host] {
		ev.Fields[event.RefrMedium] = "internal"
		return
	}
	ent := e.lookup(host, ev.Fields[event.RefrURLPath])
	if ent == nil {
		ev.Fields[event.RefrMedium] = "unknown"
		return
	}
	ev.Fields[event.RefrMedium] = ent.medium
	ev.Fields[event.RefrSource] = ent.source
	if ent.medium == "search" && len(ent.params) > 0 {
		if term, ok := searchTerm(ev.Fields[event.RefrURLQuery], ent.params); ok {
			ev.Fields[event.RefrTerm] = tsvSafe(term)
		}
	}
}

// lookup tries host+path candidates as Snowplow's referer parser does: for each path in
// (full path, first path segment, none), each host from the full one down to its last
// label.
func (e *referer) lookup(host, path string) *refererEntry {
	var paths [3]string
	np := 0
	if path != "" && path != "/" {
		paths[np] = strings.TrimSuffix(path, "/")
		np++
		if seg, _, found := strings.Cut(strings.TrimPrefix(path, "/"), "/"); found && seg != "" {
			paths[np] = "/" + seg
			np++
		}
	}
	paths[np] = ""
	np++
	var key []byte
	for _, p := range paths[:np] {
		h := host
		for {
			key = append(append(key[:0], h...), p...)
			if ent, ok := e.index[string(key)]; ok {
				return ent
			}
			i := strings.IndexByte(h, '.')
			if i < 0 {
				break
			}
			h = h[i+1:]
		}
	}
	return nil
}

// searchTerm returns the value of the first query parameter, in query order, whose name is
// one of names (URLEncodedUtils.parse in UTF-8; a name without "=" has the value "").
func searchTerm(rawQuery string, names []string) (string, bool) {
	for name, value := range jvm.SplitQuery(rawQuery, jvm.UTF8) {
		if slices.Contains(names, name) {
			if value == nil {
				return "", true
			}
			return *value, true
		}
	}
	return "", false
}
