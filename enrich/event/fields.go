// Code in this file lists the 131 enriched-event fields in TSV order. It mirrors the
// table in the enriched-event format (atomic schema 1-0-0 plus the three JSON columns).

package event

// Field indexes in TSV order.
const (
	AppID                  Field = 0   // app_id
	Platform               Field = 1   // platform
	EtlTstamp              Field = 2   // etl_tstamp
	CollectorTstamp        Field = 3   // collector_tstamp
	DvceCreatedTstamp      Field = 4   // dvce_created_tstamp
	Event                  Field = 5   // event
	EventID                Field = 6   // event_id
	TxnID                  Field = 7   // txn_id
	NameTracker            Field = 8   // name_tracker
	VTracker               Field = 9   // v_tracker
	VCollector             Field = 10  // v_collector
	VEtl                   Field = 11  // v_etl
	UserID                 Field = 12  // user_id
	UserIPAddress          Field = 13  // user_ipaddress
	UserFingerprint        Field = 14  // user_fingerprint
	DomainUserID           Field = 15  // domain_userid
	DomainSessionIdx       Field = 16  // domain_sessionidx
	NetworkUserID          Field = 17  // network_userid
	GeoCountry             Field = 18  // geo_country
	GeoRegion              Field = 19  // geo_region
	GeoCity                Field = 20  // geo_city
	GeoZipcode             Field = 21  // geo_zipcode
	GeoLatitude            Field = 22  // geo_latitude
	GeoLongitude           Field = 23  // geo_longitude
	GeoRegionName          Field = 24  // geo_region_name
	IPIsp                  Field = 25  // ip_isp
	IPOrganization         Field = 26  // ip_organization
	IPDomain               Field = 27  // ip_domain
	IPNetspeed             Field = 28  // ip_netspeed
	PageURL                Field = 29  // page_url
	PageTitle              Field = 30  // page_title
	PageReferrer           Field = 31  // page_referrer
	PageURLScheme          Field = 32  // page_urlscheme
	PageURLHost            Field = 33  // page_urlhost
	PageURLPort            Field = 34  // page_urlport
	PageURLPath            Field = 35  // page_urlpath
	PageURLQuery           Field = 36  // page_urlquery
	PageURLFragment        Field = 37  // page_urlfragment
	RefrURLScheme          Field = 38  // refr_urlscheme
	RefrURLHost            Field = 39  // refr_urlhost
	RefrURLPort            Field = 40  // refr_urlport
	RefrURLPath            Field = 41  // refr_urlpath
	RefrURLQuery           Field = 42  // refr_urlquery
	RefrURLFragment        Field = 43  // refr_urlfragment
	RefrMedium             Field = 44  // refr_medium
	RefrSource             Field = 45  // refr_source
	RefrTerm               Field = 46  // refr_term
	MktMedium              Field = 47  // mkt_medium
	MktSource              Field = 48  // mkt_source
	MktTerm                Field = 49  // mkt_term
	MktContent             Field = 50  // mkt_content
	MktCampaign            Field = 51  // mkt_campaign
	Contexts               Field = 52  // contexts
	SeCategory             Field = 53  // se_category
	SeAction               Field = 54  // se_action
	SeLabel                Field = 55  // se_label
	SeProperty             Field = 56  // se_property
	SeValue                Field = 57  // se_value
	UnstructEvent          Field = 58  // unstruct_event
	TrOrderID              Field = 59  // tr_orderid
	TrAffiliation          Field = 60  // tr_affiliation
	TrTotal                Field = 61  // tr_total
	TrTax                  Field = 62  // tr_tax
	TrShipping             Field = 63  // tr_shipping
	TrCity                 Field = 64  // tr_city
	TrState                Field = 65  // tr_state
	TrCountry              Field = 66  // tr_country
	TiOrderID              Field = 67  // ti_orderid
	TiSku                  Field = 68  // ti_sku
	TiName                 Field = 69  // ti_name
	TiCategory             Field = 70  // ti_category
	TiPrice                Field = 71  // ti_price
	TiQuantity             Field = 72  // ti_quantity
	PpXOffsetMin           Field = 73  // pp_xoffset_min
	PpXOffsetMax           Field = 74  // pp_xoffset_max
	PpYOffsetMin           Field = 75  // pp_yoffset_min
	PpYOffsetMax           Field = 76  // pp_yoffset_max
	UserAgent              Field = 77  // useragent
	BrName                 Field = 78  // br_name
	BrFamily               Field = 79  // br_family
	BrVersion              Field = 80  // br_version
	BrType                 Field = 81  // br_type
	BrRenderEngine         Field = 82  // br_renderengine
	BrLang                 Field = 83  // br_lang
	BrFeaturesPDF          Field = 84  // br_features_pdf
	BrFeaturesFlash        Field = 85  // br_features_flash
	BrFeaturesJava         Field = 86  // br_features_java
	BrFeaturesDirector     Field = 87  // br_features_director
	BrFeaturesQuickTime    Field = 88  // br_features_quicktime
	BrFeaturesRealPlayer   Field = 89  // br_features_realplayer
	BrFeaturesWindowsMedia Field = 90  // br_features_windowsmedia
	BrFeaturesGears        Field = 91  // br_features_gears
	BrFeaturesSilverlight  Field = 92  // br_features_silverlight
	BrCookies              Field = 93  // br_cookies
	BrColorDepth           Field = 94  // br_colordepth
	BrViewWidth            Field = 95  // br_viewwidth
	BrViewHeight           Field = 96  // br_viewheight
	OSName                 Field = 97  // os_name
	OSFamily               Field = 98  // os_family
	OSManufacturer         Field = 99  // os_manufacturer
	OSTimezone             Field = 100 // os_timezone
	DvceType               Field = 101 // dvce_type
	DvceIsMobile           Field = 102 // dvce_ismobile
	DvceScreenWidth        Field = 103 // dvce_screenwidth
	DvceScreenHeight       Field = 104 // dvce_screenheight
	DocCharset             Field = 105 // doc_charset
	DocWidth               Field = 106 // doc_width
	DocHeight              Field = 107 // doc_height
	TrCurrency             Field = 108 // tr_currency
	TrTotalBase            Field = 109 // tr_total_base
	TrTaxBase              Field = 110 // tr_tax_base
	TrShippingBase         Field = 111 // tr_shipping_base
	TiCurrency             Field = 112 // ti_currency
	TiPriceBase            Field = 113 // ti_price_base
	BaseCurrency           Field = 114 // base_currency
	GeoTimezone            Field = 115 // geo_timezone
	MktClickID             Field = 116 // mkt_clickid
	MktNetwork             Field = 117 // mkt_network
	EtlTags                Field = 118 // etl_tags
	DvceSentTstamp         Field = 119 // dvce_sent_tstamp
	RefrDomainUserID       Field = 120 // refr_domain_userid
	RefrDvceTstamp         Field = 121 // refr_dvce_tstamp
	DerivedContexts        Field = 122 // derived_contexts
	DomainSessionID        Field = 123 // domain_sessionid
	DerivedTstamp          Field = 124 // derived_tstamp
	EventVendor            Field = 125 // event_vendor
	EventName              Field = 126 // event_name
	EventFormat            Field = 127 // event_format
	EventVersion           Field = 128 // event_version
	EventFingerprint       Field = 129 // event_fingerprint
	TrueTstamp             Field = 130 // true_tstamp
)

// fieldInfos describes every field: its enriched name, its kind and its maximum length.
var fieldInfos = [NumFields]fieldInfo{
	AppID:                  {"app_id", KindString, 255},
	Platform:               {"platform", KindString, 255},
	EtlTstamp:              {"etl_tstamp", KindTimestamp, 0},
	CollectorTstamp:        {"collector_tstamp", KindTimestamp, 0},
	DvceCreatedTstamp:      {"dvce_created_tstamp", KindTimestamp, 0},
	Event:                  {"event", KindString, 128},
	EventID:                {"event_id", KindString, 36},
	TxnID:                  {"txn_id", KindInt, 0},
	NameTracker:            {"name_tracker", KindString, 128},
	VTracker:               {"v_tracker", KindString, 100},
	VCollector:             {"v_collector", KindString, 100},
	VEtl:                   {"v_etl", KindString, 100},
	UserID:                 {"user_id", KindString, 255},
	UserIPAddress:          {"user_ipaddress", KindString, 128},
	UserFingerprint:        {"user_fingerprint", KindString, 128},
	DomainUserID:           {"domain_userid", KindString, 128},
	DomainSessionIdx:       {"domain_sessionidx", KindInt, 0},
	NetworkUserID:          {"network_userid", KindString, 128},
	GeoCountry:             {"geo_country", KindString, 2},
	GeoRegion:              {"geo_region", KindString, 3},
	GeoCity:                {"geo_city", KindString, 75},
	GeoZipcode:             {"geo_zipcode", KindString, 15},
	GeoLatitude:            {"geo_latitude", KindFloat, 0},
	GeoLongitude:           {"geo_longitude", KindFloat, 0},
	GeoRegionName:          {"geo_region_name", KindString, 100},
	IPIsp:                  {"ip_isp", KindString, 100},
	IPOrganization:         {"ip_organization", KindString, 128},
	IPDomain:               {"ip_domain", KindString, 128},
	IPNetspeed:             {"ip_netspeed", KindString, 100},
	PageURL:                {"page_url", KindString, 10000},
	PageTitle:              {"page_title", KindString, 2000},
	PageReferrer:           {"page_referrer", KindString, 10000},
	PageURLScheme:          {"page_urlscheme", KindString, 16},
	PageURLHost:            {"page_urlhost", KindString, 255},
	PageURLPort:            {"page_urlport", KindInt, 0},
	PageURLPath:            {"page_urlpath", KindString, 3000},
	PageURLQuery:           {"page_urlquery", KindString, 6000},
	PageURLFragment:        {"page_urlfragment", KindString, 3000},
	RefrURLScheme:          {"refr_urlscheme", KindString, 16},
	RefrURLHost:            {"refr_urlhost", KindString, 255},
	RefrURLPort:            {"refr_urlport", KindInt, 0},
	RefrURLPath:            {"refr_urlpath", KindString, 6000},
	RefrURLQuery:           {"refr_urlquery", KindString, 6000},
	RefrURLFragment:        {"refr_urlfragment", KindString, 3000},
	RefrMedium:             {"refr_medium", KindString, 25},
	RefrSource:             {"refr_source", KindString, 50},
	RefrTerm:               {"refr_term", KindString, 255},
	MktMedium:              {"mkt_medium", KindString, 255},
	MktSource:              {"mkt_source", KindString, 255},
	MktTerm:                {"mkt_term", KindString, 255},
	MktContent:             {"mkt_content", KindString, 500},
	MktCampaign:            {"mkt_campaign", KindString, 255},
	Contexts:               {"contexts", KindJSON, 0},
	SeCategory:             {"se_category", KindString, 1000},
	SeAction:               {"se_action", KindString, 1000},
	SeLabel:                {"se_label", KindString, 4096},
	SeProperty:             {"se_property", KindString, 1000},
	SeValue:                {"se_value", KindDecimal, 0},
	UnstructEvent:          {"unstruct_event", KindJSON, 0},
	TrOrderID:              {"tr_orderid", KindString, 255},
	TrAffiliation:          {"tr_affiliation", KindString, 255},
	TrTotal:                {"tr_total", KindDecimal, 0},
	TrTax:                  {"tr_tax", KindDecimal, 0},
	TrShipping:             {"tr_shipping", KindDecimal, 0},
	TrCity:                 {"tr_city", KindString, 255},
	TrState:                {"tr_state", KindString, 255},
	TrCountry:              {"tr_country", KindString, 255},
	TiOrderID:              {"ti_orderid", KindString, 255},
	TiSku:                  {"ti_sku", KindString, 255},
	TiName:                 {"ti_name", KindString, 255},
	TiCategory:             {"ti_category", KindString, 255},
	TiPrice:                {"ti_price", KindDecimal, 0},
	TiQuantity:             {"ti_quantity", KindInt, 0},
	PpXOffsetMin:           {"pp_xoffset_min", KindInt, 0},
	PpXOffsetMax:           {"pp_xoffset_max", KindInt, 0},
	PpYOffsetMin:           {"pp_yoffset_min", KindInt, 0},
	PpYOffsetMax:           {"pp_yoffset_max", KindInt, 0},
	UserAgent:              {"useragent", KindString, 1000},
	BrName:                 {"br_name", KindString, 50},
	BrFamily:               {"br_family", KindString, 50},
	BrVersion:              {"br_version", KindString, 50},
	BrType:                 {"br_type", KindString, 50},
	BrRenderEngine:         {"br_renderengine", KindString, 50},
	BrLang:                 {"br_lang", KindString, 255},
	BrFeaturesPDF:          {"br_features_pdf", KindBool, 0},
	BrFeaturesFlash:        {"br_features_flash", KindBool, 0},
	BrFeaturesJava:         {"br_features_java", KindBool, 0},
	BrFeaturesDirector:     {"br_features_director", KindBool, 0},
	BrFeaturesQuickTime:    {"br_features_quicktime", KindBool, 0},
	BrFeaturesRealPlayer:   {"br_features_realplayer", KindBool, 0},
	BrFeaturesWindowsMedia: {"br_features_windowsmedia", KindBool, 0},
	BrFeaturesGears:        {"br_features_gears", KindBool, 0},
	BrFeaturesSilverlight:  {"br_features_silverlight", KindBool, 0},
	BrCookies:              {"br_cookies", KindBool, 0},
	BrColorDepth:           {"br_colordepth", KindString, 12},
	BrViewWidth:            {"br_viewwidth", KindInt, 0},
	BrViewHeight:           {"br_viewheight", KindInt, 0},
	OSName:                 {"os_name", KindString, 50},
	OSFamily:               {"os_family", KindString, 50},
	OSManufacturer:         {"os_manufacturer", KindString, 50},
	OSTimezone:             {"os_timezone", KindString, 255},
	DvceType:               {"dvce_type", KindString, 50},
	DvceIsMobile:           {"dvce_ismobile", KindBool, 0},
	DvceScreenWidth:        {"dvce_screenwidth", KindInt, 0},
	DvceScreenHeight:       {"dvce_screenheight", KindInt, 0},
	DocCharset:             {"doc_charset", KindString, 128},
	DocWidth:               {"doc_width", KindInt, 0},
	DocHeight:              {"doc_height", KindInt, 0},
	TrCurrency:             {"tr_currency", KindString, 3},
	TrTotalBase:            {"tr_total_base", KindDecimal, 0},
	TrTaxBase:              {"tr_tax_base", KindDecimal, 0},
	TrShippingBase:         {"tr_shipping_base", KindDecimal, 0},
	TiCurrency:             {"ti_currency", KindString, 3},
	TiPriceBase:            {"ti_price_base", KindDecimal, 0},
	BaseCurrency:           {"base_currency", KindString, 3},
	GeoTimezone:            {"geo_timezone", KindString, 64},
	MktClickID:             {"mkt_clickid", KindString, 1000},
	MktNetwork:             {"mkt_network", KindString, 64},
	EtlTags:                {"etl_tags", KindString, 500},
	DvceSentTstamp:         {"dvce_sent_tstamp", KindTimestamp, 0},
	RefrDomainUserID:       {"refr_domain_userid", KindString, 128},
	RefrDvceTstamp:         {"refr_dvce_tstamp", KindTimestamp, 0},
	DerivedContexts:        {"derived_contexts", KindJSON, 0},
	DomainSessionID:        {"domain_sessionid", KindString, 128},
	DerivedTstamp:          {"derived_tstamp", KindTimestamp, 0},
	EventVendor:            {"event_vendor", KindString, 1000},
	EventName:              {"event_name", KindString, 1000},
	EventFormat:            {"event_format", KindString, 128},
	EventVersion:           {"event_version", KindString, 128},
	EventFingerprint:       {"event_fingerprint", KindString, 128},
	TrueTstamp:             {"true_tstamp", KindTimestamp, 0},
}

// fieldsByName lists the fields sorted by name, for FieldByName.
var fieldsByName = [NumFields]Field{
	AppID,                  // app_id
	BaseCurrency,           // base_currency
	BrColorDepth,           // br_colordepth
	BrCookies,              // br_cookies
	BrFamily,               // br_family
	BrFeaturesDirector,     // br_features_director
	BrFeaturesFlash,        // br_features_flash
	BrFeaturesGears,        // br_features_gears
	BrFeaturesJava,         // br_features_java
	BrFeaturesPDF,          // br_features_pdf
	BrFeaturesQuickTime,    // br_features_quicktime
	BrFeaturesRealPlayer,   // br_features_realplayer
	BrFeaturesSilverlight,  // br_features_silverlight
	BrFeaturesWindowsMedia, // br_features_windowsmedia
	BrLang,                 // br_lang
	BrName,                 // br_name
	BrRenderEngine,         // br_renderengine
	BrType,                 // br_type
	BrVersion,              // br_version
	BrViewHeight,           // br_viewheight
	BrViewWidth,            // br_viewwidth
	CollectorTstamp,        // collector_tstamp
	Contexts,               // contexts
	DerivedContexts,        // derived_contexts
	DerivedTstamp,          // derived_tstamp
	DocCharset,             // doc_charset
	DocHeight,              // doc_height
	DocWidth,               // doc_width
	DomainSessionID,        // domain_sessionid
	DomainSessionIdx,       // domain_sessionidx
	DomainUserID,           // domain_userid
	DvceCreatedTstamp,      // dvce_created_tstamp
	DvceIsMobile,           // dvce_ismobile
	DvceScreenHeight,       // dvce_screenheight
	DvceScreenWidth,        // dvce_screenwidth
	DvceSentTstamp,         // dvce_sent_tstamp
	DvceType,               // dvce_type
	EtlTags,                // etl_tags
	EtlTstamp,              // etl_tstamp
	Event,                  // event
	EventFingerprint,       // event_fingerprint
	EventFormat,            // event_format
	EventID,                // event_id
	EventName,              // event_name
	EventVendor,            // event_vendor
	EventVersion,           // event_version
	GeoCity,                // geo_city
	GeoCountry,             // geo_country
	GeoLatitude,            // geo_latitude
	GeoLongitude,           // geo_longitude
	GeoRegion,              // geo_region
	GeoRegionName,          // geo_region_name
	GeoTimezone,            // geo_timezone
	GeoZipcode,             // geo_zipcode
	IPDomain,               // ip_domain
	IPIsp,                  // ip_isp
	IPNetspeed,             // ip_netspeed
	IPOrganization,         // ip_organization
	MktCampaign,            // mkt_campaign
	MktClickID,             // mkt_clickid
	MktContent,             // mkt_content
	MktMedium,              // mkt_medium
	MktNetwork,             // mkt_network
	MktSource,              // mkt_source
	MktTerm,                // mkt_term
	NameTracker,            // name_tracker
	NetworkUserID,          // network_userid
	OSFamily,               // os_family
	OSManufacturer,         // os_manufacturer
	OSName,                 // os_name
	OSTimezone,             // os_timezone
	PageReferrer,           // page_referrer
	PageTitle,              // page_title
	PageURL,                // page_url
	PageURLFragment,        // page_urlfragment
	PageURLHost,            // page_urlhost
	PageURLPath,            // page_urlpath
	PageURLPort,            // page_urlport
	PageURLQuery,           // page_urlquery
	PageURLScheme,          // page_urlscheme
	Platform,               // platform
	PpXOffsetMax,           // pp_xoffset_max
	PpXOffsetMin,           // pp_xoffset_min
	PpYOffsetMax,           // pp_yoffset_max
	PpYOffsetMin,           // pp_yoffset_min
	RefrDomainUserID,       // refr_domain_userid
	RefrDvceTstamp,         // refr_dvce_tstamp
	RefrMedium,             // refr_medium
	RefrSource,             // refr_source
	RefrTerm,               // refr_term
	RefrURLFragment,        // refr_urlfragment
	RefrURLHost,            // refr_urlhost
	RefrURLPath,            // refr_urlpath
	RefrURLPort,            // refr_urlport
	RefrURLQuery,           // refr_urlquery
	RefrURLScheme,          // refr_urlscheme
	SeAction,               // se_action
	SeCategory,             // se_category
	SeLabel,                // se_label
	SeProperty,             // se_property
	SeValue,                // se_value
	TiCategory,             // ti_category
	TiCurrency,             // ti_currency
	TiName,                 // ti_name
	TiOrderID,              // ti_orderid
	TiPrice,                // ti_price
	TiPriceBase,            // ti_price_base
	TiQuantity,             // ti_quantity
	TiSku,                  // ti_sku
	TrAffiliation,          // tr_affiliation
	TrCity,                 // tr_city
	TrCountry,              // tr_country
	TrCurrency,             // tr_currency
	TrOrderID,              // tr_orderid
	TrShipping,             // tr_shipping
	TrShippingBase,         // tr_shipping_base
	TrState,                // tr_state
	TrTax,                  // tr_tax
	TrTaxBase,              // tr_tax_base
	TrTotal,                // tr_total
	TrTotalBase,            // tr_total_base
	TrueTstamp,             // true_tstamp
	TxnID,                  // txn_id
	UnstructEvent,          // unstruct_event
	UserFingerprint,        // user_fingerprint
	UserID,                 // user_id
	UserIPAddress,          // user_ipaddress
	UserAgent,              // useragent
	VCollector,             // v_collector
	VEtl,                   // v_etl
	VTracker,               // v_tracker
}
