// # YAUAA
//
// The yauaa_enrichment_config enrichment adds an iglu:nl.basjes/yauaa_context/jsonschema/1-0-5
// context to every event, as Snowplow's YAUAA enrichment does, but its analyser is
// snowplow-mini's own: Snowplow runs the Java library YAUAA (Yet Another UserAgent
// Analyzer), whose few thousand matching rules have no Go port. The analyser here splits
// the user agent (the event's useragent field) into its product tokens and comments,
// applies a few hundred lines of hand-written rules, and refines Chromium browsers with the
// User-Agent Client Hints request headers (Sec-CH-UA, Sec-CH-UA-Full-Version-List,
// Sec-CH-UA-Full-Version, Sec-CH-UA-Mobile, Sec-CH-UA-Platform,
// Sec-CH-UA-Platform-Version, Sec-CH-UA-Model, Sec-CH-UA-Arch, Sec-CH-UA-Bitness). Results
// are kept in an LRU cache keyed by the user agent and those headers (parameters.cacheSize
// entries, 10,000 by default, 0 for none). An empty user agent gives
// {"deviceClass":"Unknown"}.
//
// The values follow YAUAA's vocabulary: the classes (deviceClass Desktop, Phone, Tablet,
// Mobile, Watch, TV, Set-top box, Game Console, Handheld Game Console, Virtual Reality,
// eReader, Robot, Robot Mobile, Hacker; operatingSystemClass Desktop, Mobile, Cloud,
// Embedded, Game Console, Hacker; layoutEngineClass Browser, Robot, Hacker; agentClass
// Browser, Browser Webview, Mobile App, Robot, Robot Mobile, Special, Hacker), the names
// (Windows NT with versions 7, 8.1, 10.0 or 11.0; Mac OS; Blink, Gecko, AppleWebKit,
// Trident, EdgeHTML, Presto) and "Unknown" / "??" for what is not known. The standard
// fields (device class, name and brand; the OS, layout engine and agent class, name,
// version, major version, "name version" and "name major") are always present; the others
// only when known. Every value is cut to 128 characters, the schema's smallest limit.
//
// What differs from the Java analyser:
//
//   - Fewer fields: deviceVersion, operatingSystemVersionBuild, layoutEngineBuild,
//     agentBuild, agentLanguage, agentLanguageCode, agentUuid, koboAffiliate,
//     koboPlatformId, carrier, gSAInstallationID, networkType and anonymized are never
//     set. Facebook's in-app browser fields come only from its bracketed section.
//   - Device brand and name: brands come from model prefixes (SM- is Samsung, Pixel is
//     Google, ...) and, for Android models those do not cover, from the ua-parser rules
//     (github.com/ua-parser/uap-go, about a millisecond per new model, whose answer is
//     remembered for 4,096 models); names are "Brand Model" with the model code as
//     written ("Samsung SM-S911B"), not YAUAA's marketing names, and Apple devices are
//     "Apple iPhone" / "Apple iPad" without the model generation.
//   - Phone or tablet is decided by Chrome's convention ("Mobile" in the user agent on
//     phones), Firefox's ("Mobile;" / "Tablet;"), Sec-CH-UA-Mobile and a short list of
//     tablet models; YAUAA knows more devices. iPads in desktop mode (which send a Mac
//     user agent) are reported as Apple Macintosh, as YAUAA does.
//   - Frozen values: a Mac version of 10.15.7 (or Firefox's 10.15) is ">=10.15.7"; Chrome's
//     reduced Android user agent ("Android 10; K") gives operatingSystemVersion ">=10"
//     and an unknown device unless Sec-CH-UA-Platform-Version and Sec-CH-UA-Model say
//     more. Windows is 11.0 when Sec-CH-UA-Platform-Version's major is 13 or more.
//   - Robots: a user agent with a robot word (bot, crawl, spider, slurp, headlesschrome,
//     ...) or a "+http" information URL is a Robot (Robot Mobile when it imitates a
//     phone); its OS is Cloud, its layout engine Robot, its brand is named after the
//     domain of its contact e-mail or else of its information URL. YAUAA also recognises many robots by name only and
//     reports the browser a robot imitates.
//   - Command-line tools and HTTP libraries (curl, Wget, python-requests, okhttp,
//     Go-http-client, ...) are device class Robot with agent class Special and the tool's
//     token as the agent name; other apps' HTTP clients with a platform comment ("Dalvik",
//     "MyApp/1.0 (iPhone; iOS 17.0)") keep their device and OS.
//   - Hacker detection is limited to fragments of SQL, script, JNDI and shell injection
//     and path traversal in the user agent, and to security scanners that name themselves
//     (sqlmap, Nikto, Nmap, ...). No anonymisation detection (deviceClass Anonymized), no
//     "Robot Imitator", "Spy", "Voice" or "Car" classes.
//   - Webviews: Android's (the "wv" marker) is agent "Chrome Webview" and iOS's (no
//     "Safari/" token) "Apple WebView"; apps that name themselves (Facebook, Instagram,
//     LinkedIn, Snapchat, Pinterest, Google App, LINE, TikTok, WeChat, Twitter) fill
//     webviewAppName and webviewAppVersion.
//   - Blink's version is the Chromium version cut to major.minor, or Chromium's full
//     version from Sec-CH-UA-Full-Version-List; legacy Edge's agent version is only the
//     major release mapped from EdgeHTML (18 -> 44).
package enrichments

import (
	"context"
	"encoding/json"

	"github.com/snowplow-mini/snowplow-mini/enrich/event"
)

// yauaaContextSchema is the schema of the context the YAUAA enrichment adds.
const yauaaContextSchema = "iglu:nl.basjes/yauaa_context/jsonschema/1-0-5"

// yauaaDefaultCacheSize is the number of analyses kept when parameters.cacheSize is
// absent (YAUAA's own default).
const yauaaDefaultCacheSize = 10_000

// yauaaModelCacheSize is the number of Android models whose ua-parser brand is kept.
const yauaaModelCacheSize = 4096

// yauaaMaxValue is the length (in characters) every value is cut to: the smallest
// maxLength of the context schema.
const yauaaMaxValue = 128

type yauaaConfig struct {
	CacheSize *int `json:"cacheSize"`
}

// yauaa adds a yauaa_context built from the user agent and the client hints.
type yauaa struct {
	in      Info
	an      *uaAnalyzer
	cache   *lruCache[json.RawMessage] // nil: no cache
	unknown json.RawMessage            // the context of an empty user agent
}

func buildYAUAA(b *builder) (enrichment, error) {
	var c yauaaConfig
	if err := b.params(&c); err != nil {
		return nil, err
	}
	size := yauaaDefaultCacheSize
	if c.CacheSize != nil {
		if *c.CacheSize < 0 {
			return nil, errorf("parameters.cacheSize: %d is negative, want 0 (no cache) or more", *c.CacheSize)
		}
		size = *c.CacheSize
	}
	uap, err := b.defaultUAParser()() // yauaa is not a default enrichment: wait for the parser at start
	if err != nil {
		return nil, err
	}
	e := &yauaa{
		in:      b.info,
		an:      &uaAnalyzer{uap: uap, uapBrands: newLRU[string](yauaaModelCacheSize, 0, b.deps.Now)},
		unknown: json.RawMessage(`{"deviceClass":"Unknown"}`),
	}
	if size > 0 {
		e.cache = newLRU[json.RawMessage](size, 0, b.deps.Now)
	}
	return e, nil
}

func (e *yauaa) info() Info { return e.in }

func (e *yauaa) enrich(_ context.Context, st *state) {
	st.derived = append(st.derived, event.SelfDescribing{
		Schema: yauaaContextSchema,
		Data:   e.context(st.ev.Fields[event.UserAgent], st.raw.headers),
	})
}

// context returns the yauaa_context data of a user agent and the request headers.
func (e *yauaa) context(ua string, headers []string) json.RawMessage {
	if ua == "" {
		return e.unknown
	}
	var h clientHints
	key := ua
	if h.collect(headers) {
		key = h.cacheKey(ua)
	}
	if e.cache != nil {
		if data, ok := e.cache.get(key); ok {
			return data
		}
	}
	hints := h // only a miss pays for moving the hints to the heap
	r := e.an.analyze(ua, &hints)
	data := json.RawMessage(r.appendJSON(make([]byte, 0, 1024)))
	if e.cache != nil {
		e.cache.put(key, data)
	}
	return data
}

// appendJSON appends the context data: YAUAA's field names with the first letter in
// lower case.
func (r *uaResult) appendJSON(b []byte) []byte {
	b = append(b, `{"deviceClass":`...)
	b = appendClipped(b, orDefault(r.deviceClass, uaUnknown))
	b = appendField(b, "deviceName", orDefault(r.deviceName, uaUnknown))
	b = appendField(b, "deviceBrand", orDefault(r.deviceBrand, uaUnknown))
	b = appendField(b, "deviceCpu", r.deviceCPU)
	b = appendField(b, "deviceCpuBits", r.deviceCPUBits)
	b = appendField(b, "deviceFirmwareVersion", r.deviceFirmwareVersion)

	b = appendField(b, "operatingSystemClass", orDefault(r.osClass, uaUnknown))
	b = appendVersioned(b, "operatingSystem", r.osName, r.osVersion, r.osVersionMajor, true)
	b = appendField(b, "layoutEngineClass", orDefault(r.engineClass, uaUnknown))
	b = appendVersioned(b, "layoutEngine", r.engineName, r.engineVersion, "", true)
	b = appendField(b, "agentClass", orDefault(r.agentClass, uaUnknown))
	b = appendVersioned(b, "agent", r.agentName, r.agentVersion, "", true)
	b = appendField(b, "agentInformationEmail", r.agentInformationEmail)
	b = appendField(b, "agentInformationUrl", r.agentInformationURL)
	b = appendField(b, "agentSecurity", r.agentSecurity)

	if r.webviewAppName != "" {
		b = appendVersioned(b, "webviewApp", r.webviewAppName, r.webviewAppVersion, "", true)
	}
	b = appendField(b, "facebookCarrier", r.fbCarrier)
	b = appendField(b, "facebookDeviceClass", r.fbDeviceClass)
	b = appendField(b, "facebookDeviceName", r.fbDeviceName)
	b = appendField(b, "facebookDeviceVersion", r.fbDeviceVersion)
	b = appendField(b, "facebookFBOP", r.fbOP)
	b = appendField(b, "facebookFBSS", r.fbSS)
	b = appendField(b, "facebookOperatingSystemName", r.fbOSName)
	b = appendField(b, "facebookOperatingSystemVersion", r.fbOSVersion)
	if r.ieCompatVersion != "" {
		b = appendVersioned(b, "iECompatibility", "Internet Explorer", r.ieCompatVersion, "", false)
	}
	b = appendField(b, "hackerAttackVector", r.hackerAttackVector)
	b = appendField(b, "hackerToolkit", r.hackerToolkit)
	return append(b, '}')
}

// appendVersioned appends prefixName (when withName), prefixVersion, prefixVersionMajor,
// prefixNameVersion and prefixNameVersionMajor. major "" derives it from version.
func appendVersioned(b []byte, prefix, name, version, major string, withName bool) []byte {
	name = clip(orDefault(name, uaUnknown))
	short := name
	if name == "Windows NT" {
		short = "Windows" // YAUAA writes "Windows 10.0", not "Windows NT 10.0"
	}
	version = clip(orDefault(version, uaUnknownVersion))
	if major == "" {
		major = versionMajor(version)
	}
	major = clip(orDefault(major, uaUnknownVersion))
	if withName {
		b = appendField(b, prefix+"Name", name)
	}
	b = appendField(b, prefix+"Version", version)
	b = appendField(b, prefix+"VersionMajor", major)
	b = appendField(b, prefix+"NameVersion", short+" "+version)
	return appendField(b, prefix+"NameVersionMajor", short+" "+major)
}

// appendField appends ,"name":"value" unless value is empty.
func appendField(b []byte, name, value string) []byte {
	if value == "" {
		return b
	}
	b = append(b, ',', '"')
	b = append(b, name...)
	b = append(b, '"', ':')
	return appendClipped(b, value)
}

func appendClipped(b []byte, s string) []byte {
	return event.AppendJSONString(b, clip(s))
}

// clip cuts s to yauaaMaxValue characters (an invalid byte counts as one: it is written
// as U+FFFD).
func clip(s string) string {
	if len(s) <= yauaaMaxValue {
		return s
	}
	n := 0
	for i := range s {
		if n == yauaaMaxValue {
			return s[:i]
		}
		n++
	}
	return s
}
