// Package browserload generates the requests Snowplow's JavaScript browser tracker (4.x)
// sends, for the enrich benchmarks and the end-to-end load script: a POST to tp2 with
// ten events, every one carrying the web_page, browser_context and client_session
// contexts base64url-encoded in cx (the tracker's encodeBase64 option), a mix of page
// views, page pings, link clicks (ue_px) and structured events, about 20 KB per body.
//
// The field names, their order and the context shapes are those of @snowplow/browser-tracker
// 4.6.8 with bufferSize 10 and the webPage, session and browser contexts, as it sent them
// from headless Chromium. Everything is a function of the request number: the same
// number gives the same bytes on every run (ids and timestamps included), so runs compare,
// and different numbers are different visits with their own ids, as distinct page views of
// different visitors are.
//
// Only tests and the load tools under testdata/load import it.
package browserload

import (
	"encoding/base64"
	"encoding/binary"
	"strconv"
	"time"
)

// EventsPerRequest is how many events a body carries (the tracker's bufferSize).
const EventsPerRequest = 10

// Path is the collector path the tracker POSTs to.
const Path = "/com.snowplowanalytics.snowplow/tp2"

// ContentType is the Content-Type header the tracker sends.
const ContentType = "application/json; charset=UTF-8"

// baseMillis is the device time of the first event of request 0 (2026-12-06T04:11:32.736Z);
// request n starts 10 s after request n-1, its events 1 s apart.
const baseMillis = 1796530292736

// Origin is the site the generated pages are on.
const Origin = "https://shop.example.com"

// Generator builds request bodies. The zero value is ready; AppID "" means "shop". A
// Generator reuses its scratch space and is not safe for concurrent use.
type Generator struct {
	AppID string

	ctx []byte // one event's contexts JSON
	ue  []byte // one event's unstruct_event JSON
}

// device is what a browser reports about its screen and machine.
type device struct {
	ua                                string
	res, vp, ds                       string
	ratio, memory, cores, colourDepth string
}

// devices are the browsers of the visitors, the visitor of request n using devices[n%len].
var devices = [...]device{
	{"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36", "1920x1080", "1903x969", "1903x4120", "1", "8", "8", "24"},
	{"Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Safari/605.1.15", "1512x982", "1512x862", "1512x4304", "2", "null", "null", "30"},
	{"Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Mobile/15E148 Safari/604.1", "390x844", "390x664", "390x7311", "3", "null", "null", "24"},
	{"Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Mobile Safari/537.36", "412x915", "412x781", "412x8012", "2.625", "4", "8", "24"},
	{"Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:133.0) Gecko/20100101 Firefox/133.0", "2560x1440", "2543x1289", "2543x3870", "1", "null", "16", "24"},
	{"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36 Edg/131.0.0.0", "1366x768", "1349x657", "1349x5033", "1", "8", "4", "24"},
	{"Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36", "1280x720", "1280x720", "1280x3016", "1", "16", "2", "24"},
	{"Mozilla/5.0 (iPad; CPU OS 17_7 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.7 Mobile/15E148 Safari/604.1", "820x1180", "820x1106", "820x4880", "2", "null", "null", "24"},
}

// UserAgent is the User-Agent header of request n.
func UserAgent(n uint64) string { return devices[n%uint64(len(devices))].ua }

// Headers returns the request headers of request n, in the order Chromium sends them on
// a credentialed cross-origin POST (Host and Content-Length are the client's).
func Headers(n uint64) [][2]string {
	return [][2]string{
		{"Content-Type", ContentType},
		{"User-Agent", UserAgent(n)},
		{"Accept", "*/*"},
		{"Origin", Origin},
		{"Sec-Fetch-Site", "cross-site"},
		{"Sec-Fetch-Mode", "cors"},
		{"Sec-Fetch-Dest", "empty"},
		{"Referer", Origin + "/"},
		{"Accept-Encoding", "gzip, deflate, br, zstd"},
		{"Accept-Language", "en-GB,en;q=0.9"},
		{"Cookie", "sp=" + uuid(n, 'n', 0)},
	}
}

// NetworkUserID is the collector's sp cookie in the Cookie header of request n.
func NetworkUserID(n uint64) string { return uuid(n, 'n', 0) }

// Body returns the body of request n.
func (g *Generator) Body(n uint64) []byte { return g.AppendBody(nil, n) }

// event kinds of the ten events of a body, in order: a product page and its pings, an
// add-to-basket, a click on the basket link, then the basket page, a checkout step and a
// click on the checkout link.
var kinds = [EventsPerRequest]byte{'v', 'p', 'p', 's', 'l', 'v', 'p', 's', 'p', 'l'}

// AppendBody appends the body of request n to dst.
func (g *Generator) AppendBody(dst []byte, n uint64) []byte {
	d := &devices[n%uint64(len(devices))]
	aid := g.AppID
	if aid == "" {
		aid = "shop"
	}
	product := strconv.FormatUint(n%500, 10)
	pages := [2]struct{ url, title, refr string }{
		{Origin + "/products/" + product + "?utm_source=newsletter&utm_medium=email&utm_campaign=winter-" + strconv.FormatUint(n%7, 10),
			"Product " + product + " – Winter sale – Shop", "https://www.google.com/"},
		{Origin + "/basket", "Your basket – Shop", ""},
	}
	pages[1].refr = pages[0].url
	duid, sid, tab := uuid(n, 'd', 0), uuid(n, 's', 0), uuid(n, 't', 0)
	first := uuid(n, 'e', 0)
	start := baseMillis + int64(n)*10_000
	firstTime := time.UnixMilli(start).UTC().Format("2006-01-02T15:04:05.000Z")
	stm := strconv.FormatInt(start+9_500, 10)

	dst = append(dst, `{"schema":"iglu:com.snowplowanalytics.snowplow/payload_data/jsonschema/1-0-4","data":[`...)
	page, pingY := 0, 0
	for j, kind := range kinds {
		if j > 0 {
			dst = append(dst, ',')
		}
		if kind == 'v' && j > 0 {
			page++
			pingY = 0
		}
		pg := &pages[page]
		dtm := strconv.FormatInt(start+int64(j)*1_000, 10)
		eid := uuid(n, 'e', j)
		dst = append(dst, '{')
		switch kind {
		case 'v':
			dst = field(dst, "e", "pv", true)
			dst = pageFields(dst, pg.url, pg.title, pg.refr)
		case 'p':
			dst = field(dst, "e", "pp", true)
			dst = pageFields(dst, pg.url, pg.title, pg.refr)
			dst = field(dst, "pp_miy", strconv.Itoa(pingY), false)
			pingY += 350
			dst = field(dst, "pp_may", strconv.Itoa(pingY), false)
		case 's':
			dst = field(dst, "e", "se", true)
			if page == 0 {
				dst = field(dst, "se_ca", "shop", false)
				dst = field(dst, "se_ac", "add-to-basket", false)
				dst = field(dst, "se_la", "sku-"+product, false)
				dst = field(dst, "se_pr", "pcs", false)
				dst = field(dst, "se_va", "1", false)
			} else {
				dst = field(dst, "se_ca", "checkout", false)
				dst = field(dst, "se_ac", "step", false)
				dst = field(dst, "se_la", "delivery", false)
			}
		case 'l':
			dst = field(dst, "e", "ue", true)
		}
		dst = field(dst, "eid", eid, false)
		dst = field(dst, "tv", "js-4.6.8", false)
		dst = field(dst, "tna", "sp", false)
		dst = field(dst, "aid", aid, false)
		dst = field(dst, "p", "web", false)
		dst = field(dst, "cookie", "1", false)
		dst = field(dst, "cs", "UTF-8", false)
		dst = field(dst, "lang", "en-GB", false)
		dst = field(dst, "res", d.res, false)
		dst = field(dst, "cd", d.colourDepth, false)
		dst = field(dst, "tz", "Europe/London", false)
		dst = field(dst, "dtm", dtm, false)
		dst = field(dst, "vp", d.vp, false)
		dst = field(dst, "ds", d.ds, false)
		dst = field(dst, "vid", "1", false)
		dst = field(dst, "sid", sid, false)
		dst = field(dst, "duid", duid, false)
		if kind == 's' || kind == 'l' {
			dst = field(dst, "url", pg.url, false)
		}
		if kind == 'l' {
			target := Origin + "/basket"
			id := "basket-link"
			if page == 1 {
				target, id = Origin+"/checkout?step=delivery", "checkout-button"
			}
			g.ue = append(g.ue[:0], `{"schema":"iglu:com.snowplowanalytics.snowplow/unstruct_event/jsonschema/1-0-0","data":{"schema":"iglu:com.snowplowanalytics.snowplow/link_click/jsonschema/1-0-1","data":{"targetUrl":"`...)
			g.ue = append(g.ue, target...)
			g.ue = append(g.ue, `","elementId":"`...)
			g.ue = append(g.ue, id...)
			g.ue = append(g.ue, `","elementClasses":["btn","btn-primary"],"elementTarget":""}}}`...)
			dst = base64Field(dst, "ue_px", g.ue)
		}
		g.ctx = g.appendContexts(g.ctx[:0], d, uuid(n, 'w', page), tab, duid, sid, j+1, first, firstTime)
		dst = base64Field(dst, "cx", g.ctx)
		dst = field(dst, "stm", stm, false)
		dst = append(dst, '}')
	}
	return append(dst, "]}"...)
}

func pageFields(dst []byte, url, title, refr string) []byte {
	dst = field(dst, "url", url, false)
	dst = field(dst, "page", title, false)
	if refr != "" {
		dst = field(dst, "refr", refr, false)
	}
	return dst
}

// appendContexts appends the contexts of one event, as the tracker builds them.
func (g *Generator) appendContexts(dst []byte, d *device, page, tab, duid, sid string, index int, first, firstTime string) []byte {
	dst = append(dst, `{"schema":"iglu:com.snowplowanalytics.snowplow/contexts/jsonschema/1-0-0","data":[{"schema":"iglu:com.snowplowanalytics.snowplow/web_page/jsonschema/1-0-0","data":{"id":"`...)
	dst = append(dst, page...)
	dst = append(dst, `"}},{"schema":"iglu:com.snowplowanalytics.snowplow/browser_context/jsonschema/2-0-0","data":{"viewport":"`...)
	dst = append(dst, d.vp...)
	dst = append(dst, `","documentSize":"`...)
	dst = append(dst, d.ds...)
	dst = append(dst, `","resolution":"`...)
	dst = append(dst, d.res...)
	dst = append(dst, `","colorDepth":`...)
	dst = append(dst, d.colourDepth...)
	dst = append(dst, `,"devicePixelRatio":`...)
	dst = append(dst, d.ratio...)
	dst = append(dst, `,"cookiesEnabled":true,"online":true,"browserLanguage":"en-GB","documentLanguage":"en","webdriver":false,"deviceMemory":`...)
	dst = append(dst, d.memory...)
	dst = append(dst, `,"hardwareConcurrency":`...)
	dst = append(dst, d.cores...)
	dst = append(dst, `,"tabId":"`...)
	dst = append(dst, tab...)
	dst = append(dst, `"}},{"schema":"iglu:com.snowplowanalytics.snowplow/client_session/jsonschema/1-0-2","data":{"userId":"`...)
	dst = append(dst, duid...)
	dst = append(dst, `","sessionId":"`...)
	dst = append(dst, sid...)
	dst = append(dst, `","eventIndex":`...)
	dst = strconv.AppendInt(dst, int64(index), 10)
	dst = append(dst, `,"sessionIndex":1,"previousSessionId":null,"storageMechanism":"COOKIE_1","firstEventId":"`...)
	dst = append(dst, first...)
	dst = append(dst, `","firstEventTimestamp":"`...)
	dst = append(dst, firstTime...)
	return append(dst, `"}}]}`...)
}

// base64Field appends ,"name":"data in base64url without padding", as the tracker encodes.
func base64Field(dst []byte, name string, data []byte) []byte {
	dst = append(dst, ',', '"')
	dst = append(dst, name...)
	dst = append(dst, `":"`...)
	dst = base64.RawURLEncoding.AppendEncode(dst, data)
	return append(dst, '"')
}

// field appends "name":"value" (value holds no character JSON must escape), with a comma
// before it unless it is the first.
func field(dst []byte, name, value string, first bool) []byte {
	if !first {
		dst = append(dst, ',')
	}
	dst = append(dst, '"')
	dst = append(dst, name...)
	dst = append(dst, `":"`...)
	dst = append(dst, value...)
	return append(dst, '"')
}

// uuid is a version-4 UUID that is a function of the request, a kind letter and an index.
func uuid(n uint64, kind byte, i int) string {
	var b [16]byte
	x := n*0x9e3779b97f4a7c15 ^ uint64(kind)<<56 ^ uint64(i)<<48
	binary.BigEndian.PutUint64(b[:8], mix(x))
	binary.BigEndian.PutUint64(b[8:], mix(x+0x632be59bd9b4e019))
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	const hex = "0123456789abcdef"
	var s [36]byte
	j := 0
	for k, c := range b {
		if k == 4 || k == 6 || k == 8 || k == 10 {
			s[j] = '-'
			j++
		}
		s[j], s[j+1] = hex[c>>4], hex[c&0xf]
		j += 2
	}
	return string(s[:])
}

// mix is splitmix64's finaliser: distinct inputs give well-spread, distinct outputs.
func mix(x uint64) uint64 {
	x ^= x >> 30
	x *= 0xbf58476d1ce4e5b9
	x ^= x >> 27
	x *= 0x94d049bb133111eb
	return x ^ x>>31
}
