package enrichments

import (
	"context"
	"database/sql"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/snowplow-mini/snowplow-mini/enrich/event"
)

func sqlConf(database, query, expected, describes, names string) string {
	return conf(spe, "sql_query_enrichment_config", "1-0-1", `{
		"inputs":[{"placeholder":1,"pojo":{"field":"user_id"}},
		          {"placeholder":2,"json":{"field":"unstruct_event","schemaCriterion":"iglu:com.acme/buy/jsonschema/1-*-*","jsonPath":"$.qty"}}],
		"database":`+database+`,
		"query":{"sql":"`+query+`"},
		"output":{"expectedRows":"`+expected+`","json":{"schema":"iglu:com.acme/customer/jsonschema/1-0-0","describes":"`+describes+`","propertyNames":"`+names+`"}},
		"cache":{"size":100,"ttl":60}}`)
}

func sqlEvent(t *testing.T, s *Set, user string) Result {
	t.Helper()
	ue := &event.SelfDescribing{Schema: "iglu:com.acme/buy/jsonschema/1-0-0", Data: []byte(`{"qty":2}`)}
	r, err := s.Apply(context.Background(), fields(t, "user_id", user), &event.RawEvent{}, nil, ue)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func testSQLQuery(t *testing.T, database string) {
	q := `SELECT customer_id, 'x?' AS literal, full_name, tier_level FROM customers WHERE user_key = ? AND ? > 1 ORDER BY customer_id`
	tests := []struct {
		name, expected, describes, names, user string
		want                                   []string
		failure                                string
	}{
		{"every row camel", "AT_LEAST_ZERO", "EVERY_ROW", "CAMEL_CASE", "alice", []string{
			`{"schema":"iglu:com.acme/customer/jsonschema/1-0-0","data":{"customerId":1,"literal":"x?","fullName":"Alice A","tierLevel":null}}`,
		}, ""},
		{"all rows snake", "AT_LEAST_ONE", "ALL_ROWS", "AS_IS", "bob", []string{
			`{"schema":"iglu:com.acme/customer/jsonschema/1-0-0","data":[{"customer_id":2,"literal":"x?","full_name":"Bob B","tier_level":3},{"customer_id":3,"literal":"x?","full_name":"Bob C","tier_level":1}]}`,
		}, ""},
		{"pascal", "EXACTLY_ONE", "EVERY_ROW", "PASCAL_CASE", "alice", []string{
			`{"schema":"iglu:com.acme/customer/jsonschema/1-0-0","data":{"CustomerId":1,"Literal":"x?","FullName":"Alice A","TierLevel":null}}`,
		}, ""},
		{"no rows allowed", "AT_MOST_ONE", "EVERY_ROW", "AS_IS", "nobody", nil, ""},
		{"too many rows", "EXACTLY_ONE", "EVERY_ROW", "AS_IS", "bob", nil, "2 rows, expected EXACTLY_ONE"},
		{"no rows", "AT_LEAST_ONE", "EVERY_ROW", "AS_IS", "nobody", nil, "0 rows, expected AT_LEAST_ONE"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newSet(t, sqlConf(database, q, tt.expected, tt.describes, tt.names))
			r := sqlEvent(t, s, tt.user)
			if diff := cmp.Diff(tt.want, derivedJSON(t, r)); diff != "" {
				t.Errorf("sql_query mismatch (-want +got):\n%s", diff)
			}
			if tt.failure == "" {
				if len(r.Failures) > 0 {
					t.Errorf("failures = %v, want none", failuresJSON(t, r))
				}
				return
			}
			if len(r.Failures) != 1 || r.Failures[0].Identifier != "sql-query" || !strings.Contains(r.Failures[0].Message.(Simple).Error, tt.failure) {
				t.Errorf("failures = %v, want one containing %q", failuresJSON(t, r), tt.failure)
			}
		})
	}
}

const sqlFixture = `
CREATE TABLE customers (customer_id INTEGER, user_key TEXT, full_name TEXT, tier_level INTEGER);
INSERT INTO customers VALUES (1, 'alice', 'Alice A', NULL), (2, 'bob', 'Bob B', 3), (3, 'bob', 'Bob C', 1);`

func TestSQLQuerySQLite(t *testing.T) {
	path := filepath.Join(t.TempDir(), "crm.db")
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(sqlFixture); err != nil {
		t.Fatal(err)
	}
	db.Close()
	testSQLQuery(t, `{"sqlite":{"database":"`+path+`"}}`)
}

func TestSQLQueryPostgres(t *testing.T) {
	dsn := os.Getenv("SNOWPLOW_MINI_TEST_POSTGRES")
	if dsn == "" {
		dsn = "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"
	}
	db, err := sql.Open("pgx", dsn)
	if err == nil {
		err = db.Ping()
	}
	if err != nil {
		msg := "PostgreSQL not reachable at " + dsn + " (start it or set SNOWPLOW_MINI_TEST_POSTGRES): " + err.Error()
		if os.Getenv("SNOWPLOW_MINI_INTEGRATION") == "1" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	defer db.Close()
	schema := "enrich_sql_test"
	for _, stmt := range []string{
		"DROP SCHEMA IF EXISTS " + schema + " CASCADE", "CREATE SCHEMA " + schema, "SET search_path TO " + schema,
	} {
		if _, err := db.Exec(stmt); err != nil {
			t.Fatal(err)
		}
	}
	t.Cleanup(func() { db.Exec("DROP SCHEMA IF EXISTS " + schema + " CASCADE") })
	if _, err := db.Exec(strings.ReplaceAll(sqlFixture, "customers", schema+".customers")); err != nil {
		t.Fatal(err)
	}
	u, err := url.Parse(dsn)
	if err != nil {
		t.Fatal(err)
	}
	pw, _ := u.User.Password()
	port := u.Port()
	if port == "" {
		port = "5432"
	}
	database := `{"postgresql":{"host":"` + u.Hostname() + `","port":` + port + `,"sslMode":false,"username":"` + u.User.Username() +
		`","password":"` + pw + `","database":"` + strings.TrimPrefix(u.Path, "/") + `"}}`
	t.Run("queries", func(t *testing.T) {
		// The tests' query names the table unqualified; qualify it through a view in public.
		if _, err := db.Exec("CREATE OR REPLACE VIEW public.customers AS SELECT * FROM " + schema + ".customers"); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Exec("DROP VIEW IF EXISTS public.customers") })
		testSQLQuery(t, database)
	})
}

func TestSQLQueryConfigErrors(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, dir, "a.json", sqlConf(`{"mysql":{"host":"h","port":3306,"sslMode":false,"username":"u","password":"","database":"d"}}`,
		"SELECT 1 WHERE ? = 1", "EXACTLY_ONE", "ALL_ROWS", "AS_IS"))
	_, err := Load(t.Context(), dir, Deps{})
	wantErrs(t, err, "MySQL is not supported", "parameters.inputs[1].placeholder: 2, but the query has 1 placeholders")
	writeFile(t, dir, "a.json", sqlConf(`{"sqlite":{"database":"x.db"}}`, "SELECT 1", "EVERY_ROW", "ALL", "AS_IS"))
	_, err = Load(t.Context(), dir, Deps{})
	wantErrs(t, err, `parameters.output.expectedRows: "EVERY_ROW" is not one of`, `parameters.output.json.describes: "ALL" is not one of`)
}

func TestPlaceholders(t *testing.T) {
	q := `SELECT '?' , "a?" FROM t WHERE a = ? AND b = ?`
	if n := countPlaceholders(q); n != 2 {
		t.Errorf("countPlaceholders(%q) = %d, want 2", q, n)
	}
	if got, want := numberPlaceholders(q), `SELECT '?' , "a?" FROM t WHERE a = $1 AND b = $2`; got != want {
		t.Errorf("numberPlaceholders(%q) = %q, want %q", q, got, want)
	}
}
