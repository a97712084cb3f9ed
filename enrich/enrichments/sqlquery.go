package enrichments

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode"

	_ "github.com/jackc/pgx/v5/stdlib" // the "pgx" database/sql driver
	_ "modernc.org/sqlite"             // the "sqlite" database/sql driver

	"github.com/snowplow-mini/snowplow-mini/enrich/event"
)

type dbConn struct {
	Host     string `json:"host" required:"true"`
	Port     int    `json:"port" required:"true"`
	SSLMode  bool   `json:"sslMode" required:"true"`
	Username string `json:"username" required:"true"`
	Password string `json:"password" required:"true"`
	Database string `json:"database" required:"true"`
}

type sqlQueryConfig struct {
	Inputs   []inputConfig `json:"inputs" required:"true"`
	Database struct {
		PostgreSQL *dbConn `json:"postgresql"`
		MySQL      *dbConn `json:"mysql"`
		// SQLite is a snowplow-mini extension: {"database": "path/to/file.db"}.
		SQLite *struct {
			Database string `json:"database" required:"true"`
		} `json:"sqlite"`
	} `json:"database" required:"true"`
	Query struct {
		SQL string `json:"sql" required:"true"`
	} `json:"query" required:"true"`
	Output struct {
		ExpectedRows string `json:"expectedRows" required:"true" enum:"AT_LEAST_ONE|AT_LEAST_ZERO|AT_MOST_ONE|EXACTLY_ONE"`
		JSON         struct {
			Schema        string `json:"schema" required:"true"`
			PropertyNames string `json:"propertyNames" required:"true" enum:"AS_IS|CAMEL_CASE|PASCAL_CASE|SNAKE_CASE|LOWER_CASE|UPPER_CASE"`
			Describes     string `json:"describes" required:"true" enum:"ALL_ROWS|EVERY_ROW"`
		} `json:"json" required:"true"`
	} `json:"output" required:"true"`
	Cache struct {
		Size int `json:"size" required:"true"`
		TTL  int `json:"ttl" required:"true"`
	} `json:"cache" required:"true"`
	IgnoreOnError *bool `json:"ignoreOnError"`
}

// sqlQuery runs a parameterised query with values from the event and adds the rows as
// contexts. PostgreSQL (pgx) and SQLite (a snowplow-mini extension) are supported; MySQL is
// not.
type sqlQuery struct {
	in            Info
	db            *sql.DB
	query         string
	inputs        []input
	placeholders  []int // placeholder number of each input
	count         int   // number of ? in the query
	expected      string
	schema        string
	propertyNames string
	everyRow      bool
	cache         *lruCache[[]event.SelfDescribing]
	ignoreOnError bool
}

func buildSQLQuery(b *builder) (enrichment, error) {
	var c sqlQueryConfig
	if err := b.params(&c); err != nil {
		return nil, err
	}
	e := &sqlQuery{in: b.info, expected: c.Output.ExpectedRows, schema: c.Output.JSON.Schema,
		propertyNames: c.Output.JSON.PropertyNames, everyRow: c.Output.JSON.Describes == "EVERY_ROW",
		ignoreOnError: c.IgnoreOnError != nil && *c.IgnoreOnError}
	var errs []error
	var inErrs []error
	e.inputs, inErrs = compileInputs(c.Inputs, func(i int) string { return fmt.Sprintf("parameters.inputs[%d]", i) })
	errs = append(errs, inErrs...)
	for i, in := range c.Inputs {
		if in.Placeholder == nil || *in.Placeholder < 1 {
			errs = append(errs, fmt.Errorf("parameters.inputs[%d].placeholder: want a number from 1", i))
			continue
		}
		e.placeholders = append(e.placeholders, *in.Placeholder)
	}
	if _, _, _, err := parseConfigSchema(e.schema); err != nil {
		errs = append(errs, fmt.Errorf("parameters.output.json.schema: %w", err))
	}
	driver, dsn := "", ""
	d := c.Database
	switch {
	case d.MySQL != nil:
		errs = append(errs, errors.New("parameters.database.mysql: MySQL is not supported by snowplow-mini (use postgresql or sqlite)"))
	case d.PostgreSQL != nil && d.SQLite == nil:
		p := d.PostgreSQL
		ssl := "disable"
		if p.SSLMode {
			ssl = "require"
		}
		u := url.URL{Scheme: "postgres", User: url.UserPassword(p.Username, p.Password),
			Host: p.Host + ":" + strconv.Itoa(p.Port), Path: "/" + p.Database, RawQuery: "sslmode=" + ssl}
		driver, dsn = "pgx", u.String()
	case d.SQLite != nil && d.PostgreSQL == nil:
		path := d.SQLite.Database
		if !strings.HasPrefix(path, "/") && b.dir != "" {
			path = b.dir + "/" + path
		}
		driver, dsn = "sqlite", "file:"+path+"?mode=ro"
	default:
		errs = append(errs, errors.New("parameters.database: want exactly one of postgresql and sqlite"))
	}
	e.query, e.count = c.Query.SQL, countPlaceholders(c.Query.SQL)
	if driver == "pgx" {
		e.query = numberPlaceholders(c.Query.SQL)
	}
	for i, p := range e.placeholders {
		if p > e.count {
			errs = append(errs, fmt.Errorf("parameters.inputs[%d].placeholder: %d, but the query has %d placeholders", i, p, e.count))
		}
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	db, err := sql.Open(driver, dsn)
	if err != nil {
		return nil, fmt.Errorf("parameters.database: %w", err)
	}
	db.SetMaxOpenConns(4)
	e.db = db
	if c.Cache.Size > 0 {
		e.cache = newLRU[[]event.SelfDescribing](c.Cache.Size, time.Duration(c.Cache.TTL)*time.Second, b.deps.Now)
	}
	return e, nil
}

// countPlaceholders counts the ? outside quotes.
func countPlaceholders(q string) int {
	n := 0
	forEachPlaceholder(q, func(int) { n++ })
	return n
}

// numberPlaceholders rewrites ? into PostgreSQL's $1, $2, ….
func numberPlaceholders(q string) string {
	var b strings.Builder
	last, n := 0, 0
	forEachPlaceholder(q, func(i int) {
		n++
		b.WriteString(q[last:i])
		b.WriteString("$" + strconv.Itoa(n))
		last = i + 1
	})
	b.WriteString(q[last:])
	return b.String()
}

func forEachPlaceholder(q string, fn func(i int)) {
	var quote byte
	for i := 0; i < len(q); i++ {
		c := q[i]
		switch {
		case quote != 0:
			if c == quote {
				quote = 0
			}
		case c == '\'' || c == '"':
			quote = c
		case c == '?':
			fn(i)
		}
	}
}

func (e *sqlQuery) close() error { return e.db.Close() }

func (e *sqlQuery) info() Info { return e.in }

func (e *sqlQuery) enrich(ctx context.Context, st *state) {
	args := make([]any, e.count)
	set := make([]bool, e.count)
	for i, in := range e.inputs {
		v, ok := in.value(st)
		if !ok {
			return // Snowplow runs no query when an input is missing
		}
		p := e.placeholders[i] - 1
		args[p], set[p] = sqlArg(in, v), true
	}
	for _, ok := range set {
		if !ok {
			return
		}
	}
	key := fmt.Sprint(args...)
	if e.cache != nil {
		if ctxs, ok := e.cache.get(key); ok {
			st.derived = append(st.derived, ctxs...)
			return
		}
	}
	ctxs, err := e.run(ctx, args)
	if err != nil {
		if ctx.Err() != nil || e.ignoreOnError {
			return
		}
		st.fail(e.in, "sql-query", Simple{Error: err.Error()})
		return
	}
	if e.cache != nil {
		e.cache.put(key, ctxs)
	}
	st.derived = append(st.derived, ctxs...)
}

// sqlArg types an input value: numbers of numeric atomic fields and JSON numbers as numbers,
// booleans as booleans, everything else as text.
func sqlArg(in input, v string) any {
	numeric := !in.pojo
	if in.pojo {
		switch in.field.Kind() {
		case event.KindInt, event.KindFloat, event.KindDecimal, event.KindBool:
			numeric = true
		}
	}
	if numeric {
		if n, err := strconv.ParseInt(v, 10, 64); err == nil {
			return n
		}
		if f, err := strconv.ParseFloat(v, 64); err == nil && !in.pojo {
			return f
		}
		if !in.pojo && (v == "true" || v == "false") {
			return v == "true"
		}
	}
	return v
}

func (e *sqlQuery) run(ctx context.Context, args []any) ([]event.SelfDescribing, error) {
	rows, err := e.db.QueryContext(ctx, e.query, args...)
	if err != nil {
		return nil, fmt.Errorf("SQL query: %w", err)
	}
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		return nil, fmt.Errorf("SQL query: %w", err)
	}
	names := make([]string, len(cols))
	for i, c := range cols {
		names[i] = convertName(c, e.propertyNames)
	}
	var objs [][]byte
	vals := make([]any, len(cols))
	ptrs := make([]any, len(cols))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	for rows.Next() {
		if err := rows.Scan(ptrs...); err != nil {
			return nil, fmt.Errorf("SQL query: %w", err)
		}
		o := []byte{'{'}
		for i, v := range vals {
			if i > 0 {
				o = append(o, ',')
			}
			o = event.AppendJSONString(o, names[i])
			o = append(o, ':')
			o = appendSQLValue(o, v)
		}
		objs = append(objs, append(o, '}'))
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("SQL query: %w", err)
	}
	n := len(objs)
	switch {
	case e.expected == "EXACTLY_ONE" && n != 1,
		e.expected == "AT_MOST_ONE" && n > 1,
		e.expected == "AT_LEAST_ONE" && n < 1:
		return nil, fmt.Errorf("SQL query: %d rows, expected %s", n, e.expected)
	}
	if n == 0 {
		return nil, nil
	}
	if e.everyRow {
		out := make([]event.SelfDescribing, n)
		for i, o := range objs {
			out[i] = event.SelfDescribing{Schema: e.schema, Data: o}
		}
		return out, nil
	}
	all := []byte{'['}
	for i, o := range objs {
		if i > 0 {
			all = append(all, ',')
		}
		all = append(all, o...)
	}
	return []event.SelfDescribing{{Schema: e.schema, Data: append(all, ']')}}, nil
}

func appendSQLValue(b []byte, v any) []byte {
	switch x := v.(type) {
	case nil:
		return append(b, "null"...)
	case int64:
		return strconv.AppendInt(b, x, 10)
	case int32:
		return strconv.AppendInt(b, int64(x), 10)
	case float64:
		return strconv.AppendFloat(b, x, 'g', -1, 64)
	case float32:
		return strconv.AppendFloat(b, float64(x), 'g', -1, 32)
	case bool:
		return strconv.AppendBool(b, x)
	case []byte:
		return event.AppendJSONString(b, string(x))
	case string:
		return event.AppendJSONString(b, x)
	case time.Time:
		return event.AppendJSONString(b, event.FormatISO(x))
	}
	j, err := json.Marshal(v)
	if err != nil {
		return event.AppendJSONString(b, fmt.Sprint(v))
	}
	return append(b, j...)
}

// convertName renames a column as propertyNames says.
func convertName(col, style string) string {
	words := splitWords(col)
	switch style {
	case "LOWER_CASE":
		return strings.ToLower(col)
	case "UPPER_CASE":
		return strings.ToUpper(col)
	case "SNAKE_CASE":
		for i := range words {
			words[i] = strings.ToLower(words[i])
		}
		return strings.Join(words, "_")
	case "CAMEL_CASE", "PASCAL_CASE":
		var b strings.Builder
		for i, w := range words {
			w = strings.ToLower(w)
			if w == "" {
				continue
			}
			if i > 0 || style == "PASCAL_CASE" {
				w = strings.ToUpper(w[:1]) + w[1:]
			}
			b.WriteString(w)
		}
		return b.String()
	}
	return col
}

// splitWords splits a column name on underscores, dashes, spaces and lower-to-upper case
// changes.
func splitWords(s string) []string {
	var words []string
	var cur []rune
	prevLower := false
	for _, r := range s {
		switch {
		case r == '_' || r == '-' || r == ' ':
			if len(cur) > 0 {
				words = append(words, string(cur))
			}
			cur, prevLower = nil, false
			continue
		case unicode.IsUpper(r) && prevLower:
			words = append(words, string(cur))
			cur = nil
		}
		cur = append(cur, r)
		prevLower = unicode.IsLower(r) || unicode.IsDigit(r)
	}
	if len(cur) > 0 {
		words = append(words, string(cur))
	}
	return words
}
