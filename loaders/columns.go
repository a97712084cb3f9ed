package loaders

import (
	"strconv"
	"strings"

	"github.com/snowplow-mini/snowplow-mini/enrich/event"
)

// The events table starts with the 128 atomic columns of the Postgres loader's
// atomic.events, in TSV order without the three JSON fields, with its exact types in
// PostgreSQL; SQLite gets TEXT, INTEGER and REAL with the same names. Then come the
// columns snowplow-mini adds (see eventsTableDoc), then the wide-row columns.

// pgAtomicTypes lists the atomic columns with their PostgreSQL types, in table order.
var pgAtomicTypes = [...]struct{ name, typ string }{
	{"app_id", "VARCHAR(255)"},
	{"platform", "VARCHAR(255)"},
	{"etl_tstamp", "TIMESTAMP"},
	{"collector_tstamp", "TIMESTAMP NOT NULL"},
	{"dvce_created_tstamp", "TIMESTAMP"},
	{"event", "VARCHAR(128)"},
	{"event_id", "UUID NOT NULL"},
	{"txn_id", "INTEGER"},
	{"name_tracker", "VARCHAR(128)"},
	{"v_tracker", "VARCHAR(100)"},
	{"v_collector", "VARCHAR(100) NOT NULL"},
	{"v_etl", "VARCHAR(100) NOT NULL"},
	{"user_id", "VARCHAR(255)"},
	{"user_ipaddress", "VARCHAR(128)"},
	{"user_fingerprint", "VARCHAR(50)"},
	{"domain_userid", "VARCHAR(128)"},
	{"domain_sessionidx", "INTEGER"},
	{"network_userid", "VARCHAR(128)"},
	{"geo_country", "CHAR(2)"},
	{"geo_region", "CHAR(3)"},
	{"geo_city", "VARCHAR(75)"},
	{"geo_zipcode", "VARCHAR(15)"},
	{"geo_latitude", "DOUBLE PRECISION"},
	{"geo_longitude", "DOUBLE PRECISION"},
	{"geo_region_name", "VARCHAR(100)"},
	{"ip_isp", "VARCHAR(100)"},
	{"ip_organization", "VARCHAR(100)"},
	{"ip_domain", "VARCHAR(100)"},
	{"ip_netspeed", "VARCHAR(100)"},
	{"page_url", "VARCHAR(4096)"},
	{"page_title", "VARCHAR(2000)"},
	{"page_referrer", "VARCHAR(4096)"},
	{"page_urlscheme", "VARCHAR(16)"},
	{"page_urlhost", "VARCHAR(255)"},
	{"page_urlport", "INTEGER"},
	{"page_urlpath", "VARCHAR(3000)"},
	{"page_urlquery", "VARCHAR(6000)"},
	{"page_urlfragment", "VARCHAR(3000)"},
	{"refr_urlscheme", "VARCHAR(16)"},
	{"refr_urlhost", "VARCHAR(255)"},
	{"refr_urlport", "INTEGER"},
	{"refr_urlpath", "VARCHAR(6000)"},
	{"refr_urlquery", "VARCHAR(6000)"},
	{"refr_urlfragment", "VARCHAR(3000)"},
	{"refr_medium", "VARCHAR(25)"},
	{"refr_source", "VARCHAR(50)"},
	{"refr_term", "VARCHAR(255)"},
	{"mkt_medium", "VARCHAR(255)"},
	{"mkt_source", "VARCHAR(255)"},
	{"mkt_term", "VARCHAR(255)"},
	{"mkt_content", "VARCHAR(500)"},
	{"mkt_campaign", "VARCHAR(255)"},
	{"se_category", "VARCHAR(1000)"},
	{"se_action", "VARCHAR(1000)"},
	{"se_label", "VARCHAR(1000)"},
	{"se_property", "VARCHAR(1000)"},
	{"se_value", "DOUBLE PRECISION"},
	{"tr_orderid", "VARCHAR(255)"},
	{"tr_affiliation", "VARCHAR(255)"},
	{"tr_total", "DOUBLE PRECISION"},
	{"tr_tax", "DOUBLE PRECISION"},
	{"tr_shipping", "DOUBLE PRECISION"},
	{"tr_city", "VARCHAR(255)"},
	{"tr_state", "VARCHAR(255)"},
	{"tr_country", "VARCHAR(255)"},
	{"ti_orderid", "VARCHAR(255)"},
	{"ti_sku", "VARCHAR(255)"},
	{"ti_name", "VARCHAR(255)"},
	{"ti_category", "VARCHAR(255)"},
	{"ti_price", "DOUBLE PRECISION"},
	{"ti_quantity", "INTEGER"},
	{"pp_xoffset_min", "INTEGER"},
	{"pp_xoffset_max", "INTEGER"},
	{"pp_yoffset_min", "INTEGER"},
	{"pp_yoffset_max", "INTEGER"},
	{"useragent", "VARCHAR(1000)"},
	{"br_name", "VARCHAR(50)"},
	{"br_family", "VARCHAR(50)"},
	{"br_version", "VARCHAR(50)"},
	{"br_type", "VARCHAR(50)"},
	{"br_renderengine", "VARCHAR(50)"},
	{"br_lang", "VARCHAR(255)"},
	{"br_features_pdf", "BOOLEAN"},
	{"br_features_flash", "BOOLEAN"},
	{"br_features_java", "BOOLEAN"},
	{"br_features_director", "BOOLEAN"},
	{"br_features_quicktime", "BOOLEAN"},
	{"br_features_realplayer", "BOOLEAN"},
	{"br_features_windowsmedia", "BOOLEAN"},
	{"br_features_gears", "BOOLEAN"},
	{"br_features_silverlight", "BOOLEAN"},
	{"br_cookies", "BOOLEAN"},
	{"br_colordepth", "VARCHAR(12)"},
	{"br_viewwidth", "INTEGER"},
	{"br_viewheight", "INTEGER"},
	{"os_name", "VARCHAR(50)"},
	{"os_family", "VARCHAR(50)"},
	{"os_manufacturer", "VARCHAR(50)"},
	{"os_timezone", "VARCHAR(50)"},
	{"dvce_type", "VARCHAR(50)"},
	{"dvce_ismobile", "BOOLEAN"},
	{"dvce_screenwidth", "INTEGER"},
	{"dvce_screenheight", "INTEGER"},
	{"doc_charset", "VARCHAR(128)"},
	{"doc_width", "INTEGER"},
	{"doc_height", "INTEGER"},
	{"tr_currency", "CHAR(3)"},
	{"tr_total_base", "DOUBLE PRECISION"},
	{"tr_tax_base", "DOUBLE PRECISION"},
	{"tr_shipping_base", "DOUBLE PRECISION"},
	{"ti_currency", "CHAR(3)"},
	{"ti_price_base", "DOUBLE PRECISION"},
	{"base_currency", "CHAR(3)"},
	{"geo_timezone", "VARCHAR(64)"},
	{"mkt_clickid", "VARCHAR(128)"},
	{"mkt_network", "VARCHAR(64)"},
	{"etl_tags", "VARCHAR(500)"},
	{"dvce_sent_tstamp", "TIMESTAMP"},
	{"refr_domain_userid", "VARCHAR(128)"},
	{"refr_dvce_tstamp", "TIMESTAMP"},
	{"domain_sessionid", "VARCHAR(128)"},
	{"derived_tstamp", "TIMESTAMP"},
	{"event_vendor", "VARCHAR(1000)"},
	{"event_name", "VARCHAR(1000)"},
	{"event_format", "VARCHAR(128)"},
	{"event_version", "VARCHAR(128)"},
	{"event_fingerprint", "VARCHAR(128)"},
	{"true_tstamp", "TIMESTAMP"},
}

// column is one atomic column of the events table.
type column struct {
	field   event.Field
	kind    event.Kind // field.Kind()
	name    string
	pgType  string // e.g. VARCHAR(255), TIMESTAMP NOT NULL
	maxLen  int    // VARCHAR(n) / CHAR(n) length in characters, 0 for other types
	notNull bool
}

// atomicColumns returns the 128 atomic columns in table order.
func atomicColumns() []column {
	cols := make([]column, 0, len(pgAtomicTypes))
	for _, c := range pgAtomicTypes {
		f, ok := event.FieldByName(c.name)
		if !ok {
			// The table above and enrich/event's field list are both fixed by the
			// enriched-event format; a mismatch is a build defect caught by the tests.
			continue
		}
		col := column{field: f, kind: f.Kind(), name: c.name, pgType: c.typ}
		typ, notNull := strings.CutSuffix(c.typ, " NOT NULL")
		col.notNull = notNull
		if open := strings.IndexByte(typ, '('); open > 0 && strings.HasSuffix(typ, ")") {
			if n, err := strconv.Atoi(typ[open+1 : len(typ)-1]); err == nil {
				col.maxLen = n
			}
		}
		cols = append(cols, col)
	}
	return cols
}

// sqliteType returns the SQLite column type of an atomic column.
func (c column) sqliteType() string {
	t := "TEXT"
	switch c.field.Kind() {
	case event.KindInt, event.KindBool:
		t = "INTEGER"
	case event.KindDecimal, event.KindFloat:
		t = "REAL"
	}
	if c.notNull {
		t += " NOT NULL"
	}
	return t
}
