package enrichments

import (
	"strconv"
	"strings"

	"github.com/ua-parser/uap-go/uaparser"
)

// Values of the YAUAA fields, as the Java analyser prints them.
const (
	uaUnknown        = "Unknown"
	uaUnknownVersion = "??"

	classDesktop        = "Desktop"
	classPhone          = "Phone"
	classTablet         = "Tablet"
	classMobile         = "Mobile"
	classWatch          = "Watch"
	classTV             = "TV"
	classSetTopBox      = "Set-top box"
	classGameConsole    = "Game Console"
	classHandheldGame   = "Handheld Game Console"
	classVR             = "Virtual Reality"
	classEReader        = "eReader"
	classRobot          = "Robot"
	classRobotMobile    = "Robot Mobile"
	classHacker         = "Hacker"
	classCloud          = "Cloud"
	classEmbedded       = "Embedded"
	classBrowser        = "Browser"
	classBrowserWebview = "Browser Webview"
	classMobileApp      = "Mobile App"
	classSpecial        = "Special"
)

// uaResult is what the analyser derived from a user agent and its client hints. Empty
// strings are unknown: the standard fields print as "Unknown" (names, classes) or "??"
// (versions), the others are left out.
type uaResult struct {
	deviceClass, deviceName, deviceBrand, deviceCPU, deviceCPUBits, deviceFirmwareVersion string

	osClass, osName, osVersion string
	osVersionMajor             string // "" derives it from osVersion

	engineClass, engineName, engineVersion string

	agentClass, agentName, agentVersion string
	agentInformationEmail               string
	agentInformationURL                 string
	agentSecurity                       string

	webviewAppName, webviewAppVersion string

	fbCarrier, fbDeviceClass, fbDeviceName, fbDeviceVersion string
	fbOP, fbSS, fbOSName, fbOSVersion                       string

	ieCompatVersion string

	hackerAttackVector, hackerToolkit string
}

// uaAnalyzer derives the YAUAA fields. It is safe for concurrent use.
type uaAnalyzer struct {
	// uap names the brand of Android device models that the built-in prefixes do not
	// know; nil leaves them unknown.
	uap *uaparser.Parser
	// uapBrands remembers uap's answer per model ("" for none): one model comes with many
	// browser versions, and asking uap costs about a millisecond. nil: no memory.
	uapBrands *lruCache[string]
}

// analyze derives the fields of ua (not empty) and the client hints h.
func (an *uaAnalyzer) analyze(ua string, h *clientHints) uaResult {
	low := strings.ToLower(ua)
	if r, ok := hackerResult(low); ok {
		return r
	}
	t := tokenizeUA(ua)
	if r, ok := robotResult(&t, low); ok {
		return r
	}
	if r, ok := toolResult(&t); ok {
		return r
	}
	a := uaAnalysis{t: &t, hints: h}
	a.scanComments()
	a.scanProducts()
	a.layoutEngine()
	a.userAgent()
	a.applyClientHints()
	an.device(&a)
	return a.r
}

// OS families recognised in a user agent.
const (
	osNone = iota
	osWindows
	osWindowsPhone
	osMac
	osIOS
	osAndroid
	osLinux
	osChromeOS
	osTizen
	osWebOS
	osKaiOS
	osPlayStation
	osNintendo
	osTVOS
	osRoku
)

// uaAnalysis is the working state of one browser-like user agent.
type uaAnalysis struct {
	t     *uaTokens
	hints *clientHints
	r     uaResult

	os          int
	appleDevice string // iPhone, iPad, iPod
	model       string // device model as written (Android, KaiOS, Windows Phone)
	form        string // device class the user agent states: Firefox's "Mobile;", a TV platform, ...
	webview     bool   // Android WebView ("wv")
	gecko       string // rv: version
	msie        string
	trident     string
	osFromHints bool // the OS version came from Sec-CH-UA-Platform-Version
	blink       bool
	console     bool
	formBrand   string // brand that comes with form: a TV's, an e-reader's, a headset's
}

// scanComments reads the OS, the device and a few browser facts from the comments.
func (a *uaAnalysis) scanComments() {
	for _, g := range a.t.comments {
		for i, e := range g {
			a.commentEntry(g, i, e)
		}
	}
}

func (a *uaAnalysis) setOS(family int, name, version string) {
	if a.os != osNone {
		return
	}
	a.os, a.r.osName, a.r.osVersion = family, name, version
}

func (a *uaAnalysis) setCPU(cpu, bits string) {
	if a.r.deviceCPU == "" {
		a.r.deviceCPU, a.r.deviceCPUBits = cpu, bits
	}
}

func (a *uaAnalysis) commentEntry(g []string, i int, e string) {
	switch {
	case strings.HasPrefix(e, "Windows NT"):
		a.setOS(osWindows, "Windows NT", windowsVersion(strings.TrimSpace(e[len("Windows NT"):])))
	case strings.HasPrefix(e, "Windows Phone"):
		v := strings.TrimSpace(strings.TrimPrefix(e[len("Windows Phone"):], " OS"))
		a.os = osNone // overrules an "Android" that some Windows Phone browsers add
		a.setOS(osWindowsPhone, "Windows Phone", v)
		a.model = windowsPhoneModel(g[i+1:])
	case strings.HasPrefix(e, "Android"):
		if a.os == osLinux || a.os == osNone {
			a.os = osNone
			a.setOS(osAndroid, "Android", strings.TrimSpace(e[len("Android"):]))
		}
		if a.model == "" && a.os == osAndroid {
			a.model = androidModel(g[i+1:])
		}
	case strings.Contains(e, "like Mac OS X") && (strings.Contains(e, "iPhone OS") || strings.Contains(e, "CPU OS")):
		v := e[strings.Index(e, "OS ")+3:]
		v, _, _ = strings.Cut(v, " ")
		a.os = osNone
		a.setOS(osIOS, "iOS", strings.ReplaceAll(v, "_", "."))
	case strings.HasPrefix(e, "iOS "):
		a.setOS(osIOS, "iOS", strings.ReplaceAll(strings.TrimSpace(e[4:]), "_", "."))
	case e == "iPhone" || e == "iPad" || e == "iPod" || e == "iPod touch" ||
		strings.HasPrefix(e, "iPhone") && len(e) > 6 && e[6] >= '0' && e[6] <= '9' ||
		strings.HasPrefix(e, "iPad") && len(e) > 4 && e[4] >= '0' && e[4] <= '9':
		if a.appleDevice == "" {
			switch {
			case strings.HasPrefix(e, "iPhone"):
				a.appleDevice = "iPhone"
			case strings.HasPrefix(e, "iPad"):
				a.appleDevice = "iPad"
			default:
				a.appleDevice = "iPod"
			}
		}
	case strings.Contains(e, "Mac OS X") && !strings.Contains(e, "like Mac OS X"):
		if a.os == osNone || a.os == osMac {
			v := strings.TrimSpace(e[strings.Index(e, "Mac OS X")+len("Mac OS X"):])
			a.os, a.r.osName, a.r.osVersion = osMac, "Mac OS", strings.ReplaceAll(v, "_", ".")
		}
		switch {
		case strings.Contains(e, "Intel"):
			a.setCPU("Intel", "32")
		case strings.Contains(e, "PPC"):
			a.setCPU("PowerPC", "32")
		}
	case e == "Macintosh":
		if a.os == osNone {
			a.os, a.r.osName = osMac, "Mac OS"
		}
	case strings.HasPrefix(e, "CrOS "):
		f := strings.Fields(e)
		if len(f) >= 3 {
			a.setOS(osChromeOS, "Chrome OS", f[2])
		} else {
			a.setOS(osChromeOS, "Chrome OS", "")
		}
		if len(f) >= 2 {
			a.setCPU(cpuOf(f[1]))
		}
	case strings.HasPrefix(e, "Linux"):
		if cpu, bits := cpuOf(strings.TrimSpace(e[len("Linux"):])); cpu != "" {
			a.setCPU(cpu, bits)
		}
		if a.os == osNone {
			a.os, a.r.osName = osLinux, "Linux"
		}
	case e == "Ubuntu" || e == "Fedora" || e == "Debian" || e == "Mint" || strings.HasPrefix(e, "Ubuntu/"):
		if a.os == osLinux || a.os == osNone {
			a.os, a.r.osName = osLinux, strings.SplitN(e, "/", 2)[0]
		}
	case strings.HasPrefix(e, "Tizen"):
		a.os = osNone
		a.setOS(osTizen, "Tizen", strings.TrimSpace(strings.TrimLeft(e[len("Tizen"):], "/ ")))
	case strings.HasPrefix(e, "Web0S") || strings.HasPrefix(e, "WebOS") || strings.HasPrefix(e, "webOS"):
		a.os = osNone
		a.setOS(osWebOS, "webOS", "")
		a.form, a.formBrand = classTV, "LG"
	case e == "SMART-TV" || e == "SmartTV" || e == "Smart TV" || e == "SMART TV" || strings.HasSuffix(e, "/SmartTV"):
		a.form = classTV
	case strings.HasPrefix(e, "PlayStation") || strings.HasPrefix(e, "PLAYSTATION"):
		a.playStation(e)
	case strings.HasPrefix(e, "Xbox"):
		a.console = true
		a.r.deviceClass, a.r.deviceBrand = classGameConsole, "Microsoft"
		if e == "Xbox" {
			if a.r.deviceName == "" {
				a.r.deviceName = "Microsoft Xbox"
			}
		} else {
			a.r.deviceName = "Microsoft " + e
		}
	case strings.HasPrefix(e, "Nintendo "):
		a.console = true
		a.os = osNone
		a.setOS(osNintendo, "Nintendo", "")
		a.r.deviceBrand, a.r.deviceName = "Nintendo", e
		a.r.deviceClass = classGameConsole
		if strings.Contains(e, "3DS") || strings.Contains(e, "DSi") {
			a.r.deviceClass = classHandheldGame
		}
	case e == "Mobile" && a.form == "":
		a.form = classPhone
	case e == "Tablet" && a.form == "":
		a.form = classTablet
	case e == "TV" && a.form == "":
		a.form = classTV
	case e == "Win64" || e == "x64" || e == "WOW64":
		a.setCPU("Intel x86_64", "64")
	case e == "ARM" && a.os == osWindows:
		a.setCPU("ARM", "32")
	case e == "wv":
		a.webview = true
	case strings.HasPrefix(e, "rv:"):
		a.gecko = strings.TrimSpace(e[3:])
	case strings.HasPrefix(e, "MSIE "):
		a.msie = strings.TrimSpace(e[5:])
	case strings.HasPrefix(e, "Trident/"):
		a.trident = e[len("Trident/"):]
	case e == "U":
		a.r.agentSecurity = "Strong security"
	case e == "I":
		a.r.agentSecurity = "Weak security"
	case e == "N":
		a.r.agentSecurity = "No security"
	case e == "Kindle" || strings.HasPrefix(e, "Kindle/"):
		a.form, a.formBrand = classEReader, "Amazon"
	}
}

func (a *uaAnalysis) playStation(e string) {
	a.console = true
	a.r.deviceBrand = "Sony"
	rest := strings.TrimSpace(e[len("PlayStation"):])
	model, fw, _ := strings.Cut(rest, "/") // "5/2.26"
	if fw == "" {
		model, fw, _ = strings.Cut(rest, " ") // "4 8.52", "Vita 3.74"
	}
	if model == "" {
		return // "PlayStation" alone: the next entry says which one
	}
	a.r.deviceName = "Sony PlayStation " + model
	a.r.deviceClass = classGameConsole
	if model == "Vita" || model == "Portable" {
		a.r.deviceClass = classHandheldGame
	}
	a.os = osNone
	a.setOS(osPlayStation, "PlayStation", fw)
	a.r.deviceFirmwareVersion = fw
}

// scanProducts reads platform facts carried by product tokens.
func (a *uaAnalysis) scanProducts() {
	for _, p := range a.t.products {
		switch p.name {
		case "KAIOS", "KaiOS":
			a.os = osNone
			a.setOS(osKaiOS, "KaiOS", p.version)
		case "CrKey":
			a.r.deviceClass, a.r.deviceBrand, a.r.deviceName = classSetTopBox, "Google", "Google Chromecast"
		case "Roku":
			a.os = osNone
			a.setOS(osRoku, "Roku OS", "")
			a.r.deviceClass, a.r.deviceBrand, a.r.deviceName = classSetTopBox, "Roku", "Roku"
		case "HbbTV":
			a.form = classTV
			if p.comment >= 0 {
				// "HbbTV/1.5.1 (+DRM; Samsung; SmartTV2020; T-KSU2EDEUC-1506.0; ; KANTS2EDEUC-1506.0)"
				for _, e := range a.t.comments[p.comment] {
					if e != "" && e[0] != '+' && !strings.HasPrefix(e, "PVR") {
						a.formBrand = brandWord(e)
						break
					}
				}
			}
		case "OculusBrowser":
			a.form, a.formBrand = classVR, "Oculus"
		case "Kindle":
			a.form, a.formBrand = classEReader, "Amazon"
		}
		if strings.HasPrefix(p.name, "AppleTV") {
			a.os = osNone
			a.setOS(osTVOS, "tvOS", p.version)
			a.r.deviceClass, a.r.deviceBrand, a.r.deviceName = classSetTopBox, "Apple", "Apple TV"
		}
	}
}

// layoutEngine finds the rendering engine.
func (a *uaAnalysis) layoutEngine() {
	t := a.t
	webkit, hasWebKit := t.version("AppleWebKit")
	chrome, hasChrome := t.version("Chrome")
	if !hasChrome {
		chrome, hasChrome = t.version("Chromium")
	}
	edgeHTML, hasEdgeHTML := t.version("Edge")
	presto, hasPresto := t.version("Presto")
	switch {
	case (a.os == osIOS || a.appleDevice != "") && hasWebKit:
		a.setEngine("AppleWebKit", webkit) // every iOS browser renders with WebKit
	case hasEdgeHTML && isVersionNumber(edgeHTML):
		a.setEngine("EdgeHTML", edgeHTML)
	case hasChrome && majorInt(chrome) >= 28:
		a.blink = true
		a.setEngine("Blink", versionPrefix(chrome, 2))
	case a.trident != "" || a.msie != "":
		a.setEngine("Trident", a.trident)
	case hasPresto:
		a.setEngine("Presto", presto)
	case t.has("Gecko") && a.gecko != "":
		a.setEngine("Gecko", a.gecko)
	case t.has("Gecko") && t.has("Firefox"):
		v, _ := t.version("Firefox")
		a.setEngine("Gecko", v)
	case hasWebKit:
		a.setEngine("AppleWebKit", webkit)
	}
}

func (a *uaAnalysis) setEngine(name, version string) {
	a.r.engineClass, a.r.engineName, a.r.engineVersion = classBrowser, name, version
}

// browserTokens map product tokens to browser names, most specific first: Chromium-based
// browsers also carry "Chrome/", and nearly everything carries "Safari/".
var browserTokens = []struct{ token, name string }{
	{"OculusBrowser", "Oculus Browser"},
	{"Edg", "Edge"}, {"EdgA", "Edge"}, {"EdgiOS", "Edge"},
	{"OPR", "Opera"}, {"OPT", "Opera Touch"}, {"OPiOS", "Opera"}, {"OPX", "Opera GX"},
	{"YaBrowser", "Yandex Browser"}, {"SamsungBrowser", "SamsungBrowser"},
	{"UCBrowser", "UC Browser"}, {"Vivaldi", "Vivaldi"}, {"Whale", "Whale"},
	{"HuaweiBrowser", "HuaweiBrowser"}, {"MiuiBrowser", "MiuiBrowser"}, {"Silk", "Amazon Silk"},
	{"DuckDuckGo", "DuckDuckGo"}, {"Ddg", "DuckDuckGo"},
	{"Brave", "Brave"}, {"NintendoBrowser", "NintendoBrowser"},
	{"CriOS", "Chrome"}, {"FxiOS", "Firefox"}, {"Focus", "Firefox Focus"},
	{"SeaMonkey", "SeaMonkey"}, {"PaleMoon", "PaleMoon"}, {"Waterfox", "Waterfox"},
	{"Firefox", "Firefox"}, {"Chromium", "Chromium"}, {"Chrome", "Chrome"},
}

// webviewApps are apps that show web pages in an embedded browser and say so, with the
// product token that carries their version.
var webviewApps = []struct{ token, name string }{
	{"FBAV", "Facebook App"}, {"Instagram", "Instagram"}, {"LinkedInApp", "LinkedIn"},
	{"Snapchat", "Snapchat"}, {"Pinterest", "Pinterest"}, {"GSA", "Google App"},
	{"Line", "LINE"}, {"musical_ly", "TikTok"}, {"TwitterAndroid", "Twitter"},
	{"MicroMessenger", "WeChat"},
}

// userAgent finds the browser (or app) and whether it is a webview.
func (a *uaAnalysis) userAgent() {
	t, r := a.t, &a.r
	if r.engineName == "EdgeHTML" {
		a.legacyAgent() // legacy Edge also says Chrome/
	}
	for _, b := range browserTokens {
		if r.agentName != "" {
			break
		}
		if v, ok := t.version(b.token); ok && (v != "" || b.token == "Brave") {
			r.agentClass, r.agentName, r.agentVersion = classBrowser, b.name, v
			break
		}
	}
	if r.agentName == "" {
		a.legacyAgent()
	}
	if r.agentName == "" && len(t.products) > 0 && t.products[0].name != "Mozilla" {
		// An app's own HTTP client: "Dalvik/2.1.0 (Linux; U; Android 13; Pixel 7)".
		p := t.products[0]
		r.agentName, r.agentVersion = p.name, p.version
		switch {
		case p.name == "Dalvik" || isAppHTTPClient(strings.ToLower(p.name)):
			r.agentClass = classSpecial
		case a.os == osIOS || a.os == osAndroid:
			r.agentClass = classMobileApp
		}
	}

	// Webviews: Android's ("wv", or the pre-Lollipop "Version/4.0 ... Chrome/"), iOS's
	// (no "Safari/" token) and the apps that announce themselves.
	iosWebview := (a.os == osIOS || a.appleDevice != "") && !t.has("Safari") && t.has("Mobile") &&
		(r.agentName == "" || r.agentName == "Safari")
	if a.os == osAndroid && (a.webview || t.has("Version") && r.agentName == "Chrome") {
		r.agentClass, r.agentName = classBrowserWebview, "Chrome Webview"
		r.agentVersion, _ = t.version("Chrome")
	} else if iosWebview {
		r.agentClass, r.agentName, r.agentVersion = classBrowserWebview, "Apple WebView", a.r.osVersion
	}
	for _, app := range webviewApps {
		if v, ok := t.version(app.token); ok && v != "" {
			r.webviewAppName, r.webviewAppVersion = app.name, v
			if r.agentClass == classBrowser || r.agentClass == "" {
				r.agentClass = classBrowserWebview
			}
			break
		}
	}
	if r.webviewAppName == "Facebook App" || t.has("FBAN") || t.has("FB_IAB") {
		a.facebook()
	}
	if t.has("FB_IAB") && r.webviewAppName == "" {
		r.webviewAppName = "Facebook App"
		r.agentClass = classBrowserWebview
	}
}

// legacyAgent recognises Safari, Internet Explorer, legacy Edge, Presto Opera and the
// stock Android browser.
func (a *uaAnalysis) legacyAgent() {
	t, r := a.t, &a.r
	version, hasVersion := t.version("Version")
	switch {
	case r.engineName == "EdgeHTML":
		r.agentClass, r.agentName = classBrowser, "Edge"
		r.agentVersion = edgeAppVersion(r.engineVersion)
	case r.engineName == "Trident":
		r.agentClass, r.agentName = classBrowser, "Internet Explorer"
		actual := a.msie
		if a.trident != "" {
			if n := majorInt(a.trident); n >= 4 {
				actual = strconv.Itoa(n+4) + ".0"
			}
		}
		if a.msie == "" && a.gecko != "" {
			actual = a.gecko // IE 11: "Trident/7.0; rv:11.0"
		}
		r.agentVersion = actual
		if a.msie != "" && actual != "" && a.msie != actual {
			r.ieCompatVersion = a.msie
		}
	case t.has("Opera"):
		v, _ := t.version("Opera")
		if hasVersion {
			v = version
		}
		r.agentClass, r.agentName, r.agentVersion = classBrowser, "Opera", v
	case a.os == osAndroid && hasVersion && t.has("Safari"):
		r.agentClass, r.agentName, r.agentVersion = classBrowser, "Stock Android Browser", version
	case hasVersion && t.has("Safari") && r.engineName == "AppleWebKit":
		r.agentClass, r.agentName, r.agentVersion = classBrowser, "Safari", version
	}
}

// facebook fills the facebook* fields from the bracketed section of the Facebook apps.
func (a *uaAnalysis) facebook() {
	for _, p := range a.t.products {
		switch p.name {
		case "FBCR":
			a.r.fbCarrier = p.version
		case "FBDV":
			a.r.fbDeviceName = p.version
		case "FBID":
			a.r.fbDeviceClass = p.version
		case "FBMD":
			a.r.fbDeviceVersion = p.version
		case "FBOP":
			a.r.fbOP = p.version
		case "FBSS":
			a.r.fbSS = p.version
		case "FBSN":
			a.r.fbOSName = p.version
		case "FBSV":
			a.r.fbOSVersion = p.version
		}
	}
}

// applyClientHints refines a Chromium-based browser with its User-Agent Client Hints:
// the real browser brand and full version, the OS version that the reduced user agent
// freezes, the device model, CPU and whether it is a phone.
func (a *uaAnalysis) applyClientHints() {
	h, r := a.hints, &a.r
	if h == nil || !h.any || !a.blink {
		return
	}
	full := parseBrandList(h.v[chFullVersionList])
	brands := parseBrandList(h.v[chUA])
	if b, ok := pickBrand(full); ok {
		a.hintAgent(b, true)
	} else if b, ok := pickBrand(brands); ok {
		a.hintAgent(b, false)
	}
	for _, b := range full {
		if b.brand == "Chromium" && b.version != "" {
			r.engineVersion = b.version
		}
	}
	if v := sfString(h.v[chFullVersion]); v != "" && len(full) == 0 && versionMajor(v) == versionMajor(r.agentVersion) {
		r.agentVersion = v
	}

	platform, pv := h.str(chPlatform), h.str(chPlatformVersion)
	switch platform {
	case "Windows":
		if a.os == osWindows || a.os == osNone {
			a.os, r.osName = osWindows, "Windows NT"
			if v := windowsVersionFromHint(pv); v != "" {
				r.osVersion = v
			}
		}
	case "macOS":
		if a.os == osMac || a.os == osNone {
			a.os, r.osName = osMac, "Mac OS"
			if pv != "" {
				r.osVersion, a.osFromHints = pv, true
			}
		}
	case "Android":
		if a.os == osAndroid || a.os == osLinux || a.os == osNone {
			a.os, r.osName = osAndroid, "Android"
			if pv != "" {
				r.osVersion = trimZeroes(pv)
			}
		}
	case "Chrome OS", "Chromium OS":
		if a.os == osChromeOS || a.os == osLinux || a.os == osNone {
			a.os, r.osName = osChromeOS, "Chrome OS"
			if pv != "" {
				r.osVersion = pv
			}
		}
	case "Linux":
		if a.os == osNone {
			a.os, r.osName = osLinux, "Linux"
		}
	}
	if m := h.str(chModel); m != "" && a.os == osAndroid {
		a.model = m
	}
	switch h.v[chMobile] {
	case "?1":
		if a.os == osAndroid {
			a.form = classPhone
		}
	case "?0":
		if a.os == osAndroid && a.form == "" {
			a.form = classTablet
		}
	}
	arch, bits := strings.ToLower(h.str(chArch)), h.str(chBitness)
	switch arch {
	case "x86":
		if bits == "64" {
			r.deviceCPU, r.deviceCPUBits = "Intel x86_64", "64"
		} else {
			r.deviceCPU, r.deviceCPUBits = "Intel x86", orDefault(bits, "32")
		}
	case "arm":
		r.deviceCPU, r.deviceCPUBits = "ARM", orDefault(bits, r.deviceCPUBits)
	}
}

// pickBrand returns the most specific real brand: not GREASE, and Chromium only when it
// is alone.
func pickBrand(list []chBrand) (chBrand, bool) {
	var chromium chBrand
	found := false
	for _, b := range list {
		switch {
		case isGreaseBrand(b.brand):
		case b.brand == "Chromium":
			chromium, found = b, true
		default:
			return b, true
		}
	}
	return chromium, found
}

// hintBrandNames maps Sec-CH-UA brands to agent names.
var hintBrandNames = map[string]string{
	"Google Chrome": "Chrome", "Microsoft Edge": "Edge", "Opera": "Opera", "Opera GX": "Opera GX",
	"Brave": "Brave", "Yandex": "Yandex Browser", "YaBrowser": "Yandex Browser",
	"Samsung Internet": "SamsungBrowser", "Vivaldi": "Vivaldi", "Android WebView": "Chrome Webview",
	"DuckDuckGo": "DuckDuckGo", "HeadlessChrome": "HeadlessChrome", "Chromium": "Chromium",
	"Whale": "Whale", "Microsoft Edge WebView2": "Edge Webview",
}

func (a *uaAnalysis) hintAgent(b chBrand, fullVersion bool) {
	r := &a.r
	name, ok := hintBrandNames[b.brand]
	if !ok {
		name = b.brand
	}
	// The hints may name a browser that hides in a plain Chrome user agent (Brave); they
	// do not overrule a browser the user agent names itself.
	if name != r.agentName && r.agentName != "Chrome" && r.agentName != "Chromium" {
		return
	}
	if name == "Chromium" && r.agentName == "Chrome" {
		return
	}
	r.agentName = name
	if name == "Chrome Webview" {
		r.agentClass = classBrowserWebview
	}
	if fullVersion && b.version != "" {
		r.agentVersion = b.version
	}
}

// device fills the device fields and the OS class from what the scans found.
func (an *uaAnalyzer) device(a *uaAnalysis) {
	r := &a.r
	switch a.os {
	case osWindows:
		r.osClass = classDesktop
		if a.console {
			r.osClass = classGameConsole
			break
		}
		setDevice(r, classDesktop, "", "Desktop")
	case osWindowsPhone:
		r.osClass = classMobile
		brand, model := an.brandModel(a.model)
		setDevice(r, classPhone, brand, deviceName(brand, model))
	case osMac:
		r.osClass = classDesktop
		if !a.osFromHints && (r.osVersion == "10.15.7" || r.osVersion == "10.15" && r.agentName == "Firefox" && majorInt(r.agentVersion) >= 87) {
			// Browsers have frozen this value since 2021: the Mac runs this or later.
			r.osVersion = ">=" + r.osVersion
		}
		if strings.HasPrefix(r.osVersion, "10.") || strings.HasPrefix(r.osVersion, ">=10.") {
			r.osVersionMajor = versionPrefix(r.osVersion, 2) // Mac OS X releases are 10.x
		}
		setDevice(r, classDesktop, "Apple", "Apple Macintosh")
	case osIOS:
		r.osClass = classMobile
		switch a.appleDevice {
		case "iPhone":
			setDevice(r, classPhone, "Apple", "Apple iPhone")
		case "iPad":
			setDevice(r, classTablet, "Apple", "Apple iPad")
		case "iPod":
			setDevice(r, classMobile, "Apple", "Apple iPod")
		default:
			setDevice(r, classMobile, "Apple", "Apple")
		}
	case osAndroid:
		r.osClass = classMobile
		if a.model == "K" && r.osVersion == "10" {
			// Chrome's reduced user agent: Android 10 or later on a device it does not name.
			r.osVersion, a.model = ">=10", ""
		}
		brand, model := an.brandModel(a.model)
		class := classPhone
		switch {
		case a.form == classPhone && !isTabletModel(model):
		case a.form != "":
			class = a.form
		case isTabletModel(model):
			class = classTablet
		case !a.t.has("Mobile") && a.t.has("Safari"):
			class = classTablet // Chrome: "Mobile Safari" on phones, "Safari" on tablets
		}
		if c := specialAndroidClass(brand, model); c != "" {
			class = c
		}
		if a.form == classVR {
			brand = orDefault(brand, a.formBrand)
		}
		setDevice(r, class, brand, deviceName(brand, model))
	case osLinux:
		r.osClass = classDesktop
		if a.form == classTV {
			r.osClass = classEmbedded
			setDevice(r, classTV, a.formBrand, deviceName(a.formBrand, "Smart TV"))
			break
		}
		if a.form == classVR {
			setDevice(r, classVR, a.formBrand, a.formBrand)
			break
		}
		if a.form == classEReader {
			r.osClass = classEmbedded
			setDevice(r, classEReader, a.formBrand, deviceName(a.formBrand, "Kindle"))
			break
		}
		setDevice(r, classDesktop, "", "Linux Desktop")
	case osChromeOS:
		r.osClass = classDesktop
		setDevice(r, classDesktop, "", "Chromebook")
	case osTizen:
		r.osClass = classEmbedded
		if a.form == classTV || strings.Contains(strings.ToLower(a.model), "tv") {
			setDevice(r, classTV, "Samsung", "Samsung Smart TV")
		} else {
			setDevice(r, classMobile, "Samsung", "Samsung")
		}
	case osWebOS:
		r.osClass = classEmbedded
		setDevice(r, classTV, "LG", "LG Smart TV")
	case osKaiOS:
		r.osClass = classMobile
		brand, model := an.brandModel(a.model)
		setDevice(r, classPhone, brand, deviceName(brand, model))
	case osPlayStation, osNintendo:
		r.osClass = classGameConsole
	case osTVOS, osRoku:
		r.osClass = classEmbedded
	}
	if a.form == classTV && r.deviceClass == "" {
		setDevice(r, classTV, a.formBrand, deviceName(a.formBrand, "Smart TV"))
	}
	switch {
	case r.osClass != "":
	case r.deviceClass == classGameConsole:
		r.osClass = classGameConsole
	case r.deviceClass == classTV || r.deviceClass == classSetTopBox:
		r.osClass = classEmbedded
	}
}

// setDevice sets the device fields that are still unknown.
func setDevice(r *uaResult, class, brand, name string) {
	if r.deviceClass == "" {
		r.deviceClass = class
	}
	if r.deviceBrand == "" {
		r.deviceBrand = brand
	}
	if r.deviceName == "" {
		r.deviceName = name
	}
}

// deviceName is "Brand Model", or the one that is known.
func deviceName(brand, model string) string {
	switch {
	case model == "":
		return brand
	case brand == "":
		return model
	}
	return brand + " " + model
}

// hackerResult recognises user agents that carry an attack or name a security scanner.
func hackerResult(low string) (uaResult, bool) {
	var vector, toolkit string
	for _, s := range hackerSigns {
		if strings.Contains(low, s.text) {
			vector = s.vector
			break
		}
	}
	for _, s := range hackerToolkits {
		if strings.Contains(low, s.text) {
			toolkit = s.name
			break
		}
	}
	if vector == "" && toolkit == "" {
		return uaResult{}, false
	}
	const h = classHacker
	return uaResult{
		deviceClass: h, deviceName: h, deviceBrand: h,
		osClass: h, osName: h, osVersion: h,
		engineClass: h, engineName: h, engineVersion: h,
		agentClass: h, agentName: h, agentVersion: h,
		hackerAttackVector: orDefault(vector, uaUnknown), hackerToolkit: orDefault(toolkit, uaUnknown),
	}, true
}

// robotResult recognises crawlers, monitors and other automated agents.
func robotResult(t *uaTokens, low string) (uaResult, bool) {
	if !isRobot(low) {
		return uaResult{}, false
	}
	r := uaResult{
		deviceClass: classRobot, osClass: classCloud, osName: classCloud,
		engineClass: classRobot, engineName: classRobot,
		agentClass: classRobot,
	}
	if strings.Contains(low, "mobile") || strings.Contains(low, "android") || strings.Contains(low, "iphone") {
		r.deviceClass, r.agentClass = classRobotMobile, classRobotMobile
	}
	// The robot's name: the first token or comment entry with a robot word in it.
	for _, p := range t.products {
		if p.name != "Mozilla" && isRobot(strings.ToLower(p.name)) {
			r.agentName, r.agentVersion = p.name, p.version
			break
		}
	}
	for _, g := range t.comments {
		for _, e := range g {
			le := strings.ToLower(e)
			switch {
			case strings.Contains(le, "http://") || strings.Contains(le, "https://") || strings.HasPrefix(le, "www."):
				if r.agentInformationURL == "" {
					if i := strings.Index(le, "http"); i >= 0 {
						r.agentInformationURL = e[i:]
					} else {
						r.agentInformationURL = e
					}
				}
			case strings.Contains(e, "@") && strings.Contains(e, "."):
				if r.agentInformationEmail == "" {
					r.agentInformationEmail = e
				}
			case r.agentName == "" && isRobot(le):
				r.agentName, r.agentVersion, _ = strings.Cut(e, "/")
			}
		}
	}
	if r.agentName == "" {
		for _, p := range t.products {
			if p.name != "Mozilla" && !strings.HasPrefix(p.name, "+http") {
				r.agentName, r.agentVersion = p.name, p.version
				break
			}
		}
	}
	r.deviceBrand = brandFromURL(r.agentInformationURL)
	if _, domain, ok := strings.Cut(r.agentInformationEmail, "@"); ok {
		r.deviceBrand = orDefault(brandFromURL(domain), r.deviceBrand) // the operator, not its website
	}
	r.deviceName = r.deviceBrand
	return r, true
}

// isRobot reports whether a lower-case user agent (or part of one) names a robot.
func isRobot(low string) bool {
	if strings.Contains(low, "+http") {
		return true
	}
	for _, k := range robotWords {
		for i := strings.Index(low, k); i >= 0; {
			if !robotFalsePositive(low, i) {
				return true
			}
			next := strings.Index(low[i+1:], k)
			if next < 0 {
				break
			}
			i += 1 + next
		}
	}
	return false
}

// robotFalsePositive reports whether the robot word at i is part of a device name.
func robotFalsePositive(low string, i int) bool {
	for _, w := range notRobotWords {
		if j := strings.Index(w.word, w.robot); j >= 0 && i >= j && strings.HasPrefix(low[i-j:], w.word) {
			return true
		}
	}
	return false
}

// brandFromURL names the organisation of a robot's information URL after its domain
// ("http://www.google.com/bot.html" -> "Google").
func brandFromURL(u string) string {
	if u == "" {
		return ""
	}
	if _, rest, ok := strings.Cut(u, "://"); ok {
		u = rest
	}
	host := u
	if i := strings.IndexAny(host, "/?#:;) "); i >= 0 {
		host = host[:i]
	}
	labels := strings.Split(host, ".")
	if len(labels) < 2 {
		return ""
	}
	i := len(labels) - 2
	if len(labels) >= 3 && len(labels[len(labels)-1]) == 2 {
		switch labels[i] {
		case "co", "com", "org", "net", "ac", "gov", "ne", "or", "edu":
			i--
		}
	}
	l := labels[i]
	if l == "" || !isLetter(l[0]) {
		return ""
	}
	return strings.ToUpper(l[:1]) + l[1:]
}

// toolResult recognises command-line tools and HTTP libraries.
func toolResult(t *uaTokens) (uaResult, bool) {
	if len(t.products) == 0 {
		return uaResult{}, false
	}
	p := t.products[0]
	if !isHTTPTool(strings.ToLower(p.name)) {
		return uaResult{}, false
	}
	return uaResult{deviceClass: classRobot, agentClass: classSpecial, agentName: p.name, agentVersion: p.version}, true
}

// brandModel returns the brand of an Android (or other phone) model and the model
// without a leading brand word ("SAMSUNG SM-S911B" -> "Samsung", "SM-S911B").
func (an *uaAnalyzer) brandModel(model string) (string, string) {
	if model == "" {
		return "", ""
	}
	word, rest, _ := strings.Cut(model, " ")
	lw := strings.ToLower(word)
	for _, b := range brandWords {
		if lw == b.word {
			switch {
			case b.keep:
				return b.brand, model
			case rest == "":
				return b.brand, "" // the brand alone: "Microsoft"
			}
			return b.brand, rest
		}
	}
	for _, b := range modelPrefixes {
		if strings.HasPrefix(model, b.prefix) {
			return b.brand, model
		}
	}
	if isXiaomiCode(model) {
		return "Xiaomi", model
	}
	return an.uapBrand(model), model
}

// uapBrand asks the ua-parser rules for the brand of an Android model.
func (an *uaAnalyzer) uapBrand(model string) string {
	if an.uap == nil {
		return ""
	}
	if an.uapBrands != nil {
		if b, ok := an.uapBrands.get(model); ok {
			return b
		}
	}
	clean := strings.Map(func(r rune) rune {
		if r == ';' || r == ')' || r == '(' {
			return -1
		}
		return r
	}, model)
	d := an.uap.ParseDevice("Mozilla/5.0 (Linux; Android 10; " + clean + " Build/QP1A) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Mobile Safari/537.36")
	brand := ""
	if d.Brand != "" && !strings.HasPrefix(d.Brand, "Generic") && d.Brand != "Spider" {
		brand = d.Brand
		if canon, ok := canonicalBrands[strings.ToLower(d.Brand)]; ok {
			brand = canon
		}
	}
	if an.uapBrands != nil {
		an.uapBrands.put(model, brand)
	}
	return brand
}

// androidModel picks the device model from the comment entries after "Android x".
func androidModel(rest []string) string {
	for _, e := range rest {
		switch {
		case e == "U" || e == "I" || e == "N" || e == "wv" || e == "Mobile" || e == "Tablet" || e == "TV":
			continue
		case isLocale(e):
			continue
		case strings.HasPrefix(e, "rv:") || strings.HasPrefix(e, "Build/"):
			return ""
		}
		m, _, _ := strings.Cut(e, " Build/")
		m, _, _ = strings.Cut(m, "/") // "LYF/F300B/..." on KaiOS keeps the first part
		return strings.TrimSpace(m)
	}
	return ""
}

// windowsPhoneModel picks "Maker Model" from the comment entries after "Windows Phone x":
// "Android 8.0; Microsoft; Lumia 950" or "ARM; Touch; NOKIA; Lumia 920".
func windowsPhoneModel(rest []string) string {
	var parts []string
	for _, e := range rest {
		switch {
		case strings.HasPrefix(e, "Android") || strings.HasPrefix(e, "IEMobile") || strings.HasPrefix(e, "Trident") ||
			strings.HasPrefix(e, "rv:") || e == "ARM" || e == "Touch" || e == "WPDesktop" || isLocale(e):
			continue
		}
		if parts = append(parts, e); len(parts) == 2 {
			break
		}
	}
	return strings.Join(parts, " ")
}

// isLocale reports whether e looks like "en", "en-US", "ko-kr" or "en_GB".
func isLocale(e string) bool {
	if len(e) != 2 && len(e) != 5 {
		return false
	}
	if !isLower(e[0]) || !isLower(e[1]) {
		return false
	}
	return len(e) == 2 || (e[2] == '-' || e[2] == '_') && isLetter(e[3]) && isLetter(e[4])
}

func isLower(c byte) bool  { return c >= 'a' && c <= 'z' }
func isLetter(c byte) bool { return isLower(c) || c >= 'A' && c <= 'Z' }

// isTabletModel reports models that are tablets whatever the browser says.
func isTabletModel(model string) bool {
	for _, p := range tabletModelPrefixes {
		if strings.HasPrefix(model, p) {
			return true
		}
	}
	lm := strings.ToLower(model)
	return strings.Contains(lm, "tablet") || strings.Contains(lm, " tab ") || strings.HasSuffix(lm, " tab") ||
		strings.HasPrefix(lm, "nexus 7") || strings.HasPrefix(lm, "nexus 9") || strings.HasPrefix(lm, "nexus 10")
}

// specialAndroidClass recognises Android devices that are not phones or tablets: TVs,
// set-top boxes, watches and VR headsets.
func specialAndroidClass(brand, model string) string {
	lm := strings.ToLower(model)
	switch {
	case strings.HasPrefix(model, "AFT") || strings.Contains(lm, "shield android tv") || strings.Contains(lm, "chromecast"):
		return classSetTopBox
	case strings.Contains(lm, "bravia") || strings.Contains(lm, "android tv") || strings.Contains(lm, "smart tv") || strings.HasSuffix(lm, " tv"):
		return classTV
	case strings.Contains(lm, "watch") || brand == "Samsung" && strings.HasPrefix(model, "SM-R"):
		return classWatch
	case strings.HasPrefix(lm, "quest") || strings.HasPrefix(lm, "pacific"):
		return classVR
	}
	return ""
}

// isXiaomiCode reports Xiaomi's numeric model codes, e.g. "2201117TG", "23049PCD8G".
func isXiaomiCode(m string) bool {
	if len(m) < 8 || len(m) > 12 {
		return false
	}
	for i := 0; i < 4; i++ {
		if m[i] < '0' || m[i] > '9' {
			return false
		}
	}
	for i := 4; i < len(m); i++ {
		if c := m[i]; !(c >= '0' && c <= '9' || c >= 'A' && c <= 'Z') {
			return false
		}
	}
	return true
}

// windowsVersion names the Windows release of an NT version, as YAUAA does.
func windowsVersion(nt string) string {
	switch nt {
	case "5.0":
		return "2000"
	case "5.1", "5.2":
		return "XP"
	case "6.0":
		return "Vista"
	case "6.1":
		return "7"
	case "6.2":
		return "8"
	case "6.3":
		return "8.1"
	}
	return nt
}

// windowsVersionFromHint maps Sec-CH-UA-Platform-Version on Windows to the release:
// 13 and later are Windows 11, 1 to 12 Windows 10, 0.1 / 0.2 / 0.3 Windows 7 / 8 / 8.1.
func windowsVersionFromHint(pv string) string {
	switch n := majorInt(pv); {
	case n >= 13:
		return "11.0"
	case n >= 1:
		return "10.0"
	case n == 0:
		switch versionPrefix(pv, 2) {
		case "0.1":
			return "7"
		case "0.2":
			return "8"
		case "0.3":
			return "8.1"
		}
	}
	return ""
}

// edgeAppVersion is the version of legacy Edge whose EdgeHTML engine has version v.
func edgeAppVersion(v string) string {
	switch versionMajor(v) {
	case "12":
		return "20"
	case "13":
		return "25"
	case "14":
		return "38"
	case "15":
		return "40"
	case "16":
		return "41"
	case "17":
		return "42"
	case "18":
		return "44"
	}
	return ""
}

// cpuOf names the CPU of an architecture token ("x86_64", "i686", "aarch64").
func cpuOf(arch string) (string, string) {
	switch strings.ToLower(arch) {
	case "x86_64", "amd64", "x64":
		return "Intel x86_64", "64"
	case "i686", "i586", "i386", "x86":
		return "Intel " + arch, "32"
	case "aarch64", "arm64", "armv8":
		return "ARM", "64"
	case "armv7l", "armv8l", "armv7", "armv6l", "arm":
		return "ARM", "32"
	}
	return "", ""
}

// trimZeroes drops trailing ".0" elements: "14.0.0" -> "14", "8.1.0" -> "8.1".
func trimZeroes(v string) string {
	for strings.HasSuffix(v, ".0") {
		v = v[:len(v)-2]
	}
	return v
}

// brandWord returns the canonical name of a brand written in a user agent.
func brandWord(w string) string {
	if canon, ok := canonicalBrands[strings.ToLower(w)]; ok {
		return canon
	}
	return w
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}
