package event

import (
	"flag"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/snowplow-mini/snowplow-mini/internal/sharedtest"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// sharedDir returns ../shared next to the repository root, skipping the test when absent.
func sharedDir(t testing.TB) string {
	t.Helper()
	return sharedtest.Path(t, "", "it holds the Iglu Central schemas this test checks against")
}

// golden compares got with testdata/name, rewriting the file with -update.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("reading golden file (run with -update to create it): %v", err)
	}
	if string(got) != string(want) {
		t.Errorf("%s differs from the golden file:\n got: %s\nwant: %s", name, got, want)
	}
}

// sampleEvent returns an unstruct event with contexts, derived contexts and every kind of
// field set, as enrich would write it.
func sampleEvent() *EnrichedEvent {
	var e EnrichedEvent
	set := func(f Field, v string) { e.Set(f, v) }
	set(AppID, "shop")
	set(Platform, "web")
	set(EtlTstamp, "2024-03-01 12:00:01.000")
	set(CollectorTstamp, "2024-03-01 12:00:00.123")
	set(DvceCreatedTstamp, "2024-03-01 11:59:59.900")
	set(Event, "unstruct")
	set(EventID, "c6ef3124-b53a-4b13-a233-0088f79dcbcb")
	set(TxnID, "42")
	set(NameTracker, "sp1")
	set(VTracker, "js-3.23.0")
	set(VCollector, "snowplow-mini-collector-0.1.0")
	set(VEtl, "snowplow-mini-enrich-0.1.0")
	set(UserID, `jane "the tester" <j@acme.com>`)
	set(UserIPAddress, "1.2.3.4")
	set(DomainUserID, "36746fd2-8441-4ea2-8ad0-237d6f4c77cf")
	set(DomainSessionIdx, "3")
	set(NetworkUserID, "7f0c2a4e-8a54-4c52-9d41-0e5b3a0c4e11")
	set(GeoCountry, "US")
	set(GeoLatitude, "37.751")
	set(GeoLongitude, "-97.822")
	set(PageURL, "https://shop.acme.com/basket?x=1#top")
	set(PageTitle, "Basket – ACME")
	set(PageURLScheme, "https")
	set(PageURLHost, "shop.acme.com")
	set(PageURLPort, "443")
	set(PageURLPath, "/basket")
	set(PageURLQuery, "x=1")
	set(PageURLFragment, "top")
	set(Contexts, `{"schema":"iglu:com.snowplowanalytics.snowplow/contexts/jsonschema/1-0-1","data":[`+
		`{"schema":"iglu:com.snowplowanalytics.snowplow/web_page/jsonschema/1-0-0","data":{"id":"5cea9899-10df-4ccf-bf66-8c36f4a4bba2"}},`+
		`{"schema":"iglu:org.w3/PerformanceTiming/jsonschema/1-0-0","data":{"navigationStart":1,"z":2}},`+
		`{"schema":"iglu:com.acme/product/jsonschema/1-0-0","data":{"sku":"a"}},`+
		`{"schema":"iglu:com.acme/product/jsonschema/1-0-0","data":{"sku":"b"}},`+
		`{"schema":"iglu:com.acme/user-agent/jsonschema/2-1-0","data":{"from":"contexts"}}]}`)
	set(SeValue, "12.50")
	set(UnstructEvent, `{"schema":"iglu:com.snowplowanalytics.snowplow/unstruct_event/jsonschema/1-0-0","data":`+
		`{"schema":"iglu:com.snowplowanalytics.snowplow/link_click/jsonschema/1-0-1","data":{"targetUrl":"https://a.com","elementClasses":["x"]}}}`)
	set(TrTotal, "1E+3")
	set(TiQuantity, "2")
	set(UserAgent, "Mozilla/5.0 (X11; Linux x86_64)")
	set(BrFeaturesPDF, "1")
	set(BrCookies, "0")
	set(BrViewWidth, "1000")
	set(BrViewHeight, "660")
	set(DvceIsMobile, "0")
	set(DocCharset, "UTF-8")
	set(DvceSentTstamp, "2024-03-01 11:59:59.950")
	set(RefrDvceTstamp, "2024-03-01 11:58:00.000")
	set(DerivedContexts, `{"schema":"iglu:com.snowplowanalytics.snowplow/contexts/jsonschema/1-0-1","data":[`+
		`{"schema":"iglu:com.snowplowanalytics.snowplow/ua_parser_context/jsonschema/1-0-0","data":{"useragentFamily":"Firefox"}},`+
		`{"schema":"iglu:com.acme/user-agent/jsonschema/2-0-0","data":{"from":"derived"}}]}`)
	set(DomainSessionID, "6d15a4fb-9623-4ba1-b876-5240e72e6970")
	set(DerivedTstamp, "2024-03-01 12:00:00.073")
	set(EventVendor, "com.snowplowanalytics.snowplow")
	set(EventName, "link_click")
	set(EventFormat, "jsonschema")
	set(EventVersion, "1-0-1")
	set(TrueTstamp, "")
	return &e
}

func sampleRaw() *RawEvent {
	return &RawEvent{
		Vendor:  "com.snowplowanalytics.snowplow",
		Version: "tp2",
		Parameters: []NVP{
			NewNVP("e", "ue"), NewNVP("aid", "shop"), {Name: "flag"},
			NewNVP("ue_pr", `{"schema":"iglu:com.snowplowanalytics.snowplow/unstruct_event/jsonschema/1-0-0","data":{}}`),
			NewNVP("aid", "shop2"),
		},
		ContentType: "application/json",
		LoaderName:  "snowplow-mini-collector-0.1.0",
		Encoding:    "UTF-8",
		Hostname:    "c.acme.com",
		Timestamp:   time.Date(2024, 3, 1, 12, 0, 0, 0, time.UTC),
		IPAddress:   "1.2.3.4",
		UserAgent:   "Mozilla/5.0",
		Headers:     []string{"Host: c.acme.com", "Content-Type: application/json"},
		UserID:      "7f0c2a4e-8a54-4c52-9d41-0e5b3a0c4e11",
	}
}
