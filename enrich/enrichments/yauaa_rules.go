package enrichments

import "strings"

// The word lists of the YAUAA analyser. They are read-only.

// hackerSigns are fragments of attacks found in user agents (lower case), with the
// attack vector they reveal.
var hackerSigns = []struct{ text, vector string }{
	{"union select", "SQL Injection"},
	{"union all select", "SQL Injection"},
	{"' or '1'='1", "SQL Injection"},
	{"' or 1=1", "SQL Injection"},
	{"\" or 1=1", "SQL Injection"},
	{"or 1=1--", "SQL Injection"},
	{"waitfor delay", "SQL Injection"},
	{"sleep(", "SQL Injection"},
	{"benchmark(", "SQL Injection"},
	{"information_schema", "SQL Injection"},
	{"select * from", "SQL Injection"},
	{"<script", "Script Injection"},
	{"javascript:", "Script Injection"},
	{"onerror=", "Script Injection"},
	{"alert(", "Script Injection"},
	{"${jndi:", "JNDI Injection"},
	{"() {", "Shell Injection"},
	{"/bin/sh", "Shell Injection"},
	{"/bin/bash", "Shell Injection"},
	{"../../", "Path Traversal"},
	{"/etc/passwd", "Path Traversal"},
}

// hackerToolkits are security scanners and attack tools that name themselves.
var hackerToolkits = []struct{ text, name string }{
	{"sqlmap", "sqlmap"},
	{"nikto", "Nikto"},
	{"nmap scripting engine", "Nmap"},
	{"masscan", "masscan"},
	{"zgrab", "ZGrab"},
	{"nessus", "Nessus"},
	{"openvas", "OpenVAS"},
	{"wpscan", "WPScan"},
	{"acunetix", "Acunetix"},
	{"nuclei", "Nuclei"},
	{"dirbuster", "DirBuster"},
	{"gobuster", "Gobuster"},
	{"zmeu", "ZmEu"},
	{"morfeus", "Morfeus"},
	{"w3af", "w3af"},
}

// robotWords mark crawlers, link previewers, monitors and headless browsers (lower case).
// A user agent with a "+http" information URL is a robot too.
var robotWords = []string{
	"bot", "crawl", "spider", "slurp", "archiver", "externalhit", "mediapartners-google",
	"feedfetcher", "google-inspectiontool", "googleother", "google-read-aloud", "headlesschrome",
	"lighthouse", "pingdom", "scrapy", "bingpreview", "chatgpt-user", "perplexity",
	"phantomjs", "yahoo! slurp", "ia_archiver", "validator", "preview", "monitor", "scanner",
}

// notRobotWords contain a robot word but name devices or browsers.
var notRobotWords = []struct{ word, robot string }{
	{"cubot", "bot"},
	{"abbott", "bot"},
	{"bottom", "bot"},
}

// isHTTPTool reports command-line tools and HTTP client libraries by the lower-case name
// of their first product token.
func isHTTPTool(name string) bool {
	switch name {
	case "curl", "wget", "python-requests", "python-urllib", "python-httpx", "aiohttp", "httpx",
		"go-http-client", "apache-httpclient", "java", "node-fetch", "axios", "undici",
		"postmanruntime", "insomnia", "libwww-perl", "httpie", "guzzlehttp", "ruby", "faraday",
		"restsharp", "http.rb", "reqwest", "got", "node", "powershell", "winhttp",
		"lwp-trivial", "php", "cpp-httplib", "libcurl", "hackney", "mechanize", "jakarta commons-httpclient":
		return true
	}
	return strings.HasPrefix(name, "python-") || strings.HasPrefix(name, "java-http-client")
}

// isAppHTTPClient reports the HTTP clients that mobile apps send requests with, by the
// lower-case name of the first product token: agent class Special, but not robots.
func isAppHTTPClient(name string) bool {
	switch name {
	case "okhttp", "dart", "cfnetwork", "alamofire", "cronet", "volley":
		return true
	}
	return false
}

// brandWords are first words of device models that name the brand (lower case). keep
// means the word is part of the model name ("Pixel 8" is "Google Pixel 8"); otherwise it
// is dropped ("SAMSUNG SM-S911B" is "Samsung SM-S911B").
var brandWords = []struct {
	word, brand string
	keep        bool
}{
	{"samsung", "Samsung", false}, {"galaxy", "Samsung", true},
	{"pixel", "Google", true}, {"nexus", "Google", true}, {"google", "Google", false},
	{"huawei", "Huawei", false}, {"honor", "Honor", false},
	{"xiaomi", "Xiaomi", false}, {"redmi", "Xiaomi", true}, {"poco", "Xiaomi", true},
	{"mi", "Xiaomi", true}, {"oneplus", "OnePlus", false}, {"oppo", "Oppo", false},
	{"vivo", "Vivo", false}, {"realme", "Realme", false}, {"motorola", "Motorola", false},
	{"moto", "Motorola", true}, {"nokia", "Nokia", false}, {"lg", "LG", false},
	{"htc", "HTC", false}, {"sony", "Sony", false}, {"xperia", "Sony", true},
	{"lenovo", "Lenovo", false}, {"asus", "Asus", false}, {"zenfone", "Asus", true},
	{"infinix", "Infinix", false}, {"tecno", "Tecno", false}, {"itel", "itel", false},
	{"zte", "ZTE", false}, {"alcatel", "Alcatel", false}, {"tcl", "TCL", false},
	{"meizu", "Meizu", false}, {"fairphone", "Fairphone", false}, {"nothing", "Nothing", false},
	{"blackview", "Blackview", false}, {"doogee", "Doogee", false}, {"ulefone", "Ulefone", false},
	{"umidigi", "Umidigi", false}, {"oukitel", "Oukitel", false}, {"cubot", "Cubot", false},
	{"wiko", "Wiko", false}, {"hisense", "Hisense", false}, {"sharp", "Sharp", false},
	{"kyocera", "Kyocera", false}, {"micromax", "Micromax", false}, {"lava", "Lava", false},
	{"amazon", "Amazon", false}, {"microsoft", "Microsoft", false}, {"lumia", "Microsoft", true},
	{"shield", "Nvidia", true}, {"bravia", "Sony", true}, {"quest", "Oculus", true},
}

// modelPrefixes are model codes of a brand (case-sensitive).
var modelPrefixes = []struct{ prefix, brand string }{
	{"SM-", "Samsung"}, {"GT-", "Samsung"}, {"SCH-", "Samsung"}, {"SGH-", "Samsung"},
	{"SHV-", "Samsung"}, {"SPH-", "Samsung"}, {"SC-", "Samsung"},
	{"LM-", "LG"}, {"LG-", "LG"}, {"XQ-", "Sony"}, {"SO-", "Sony"},
	{"RMX", "Realme"}, {"CPH", "Oppo"}, {"XT", "Motorola"}, {"TA-", "Nokia"},
	{"ASUS_", "Asus"}, {"KF", "Amazon"}, {"AFT", "Amazon"}, {"M2", "Xiaomi"},
	{"ELE-", "Huawei"}, {"VOG-", "Huawei"}, {"ANE-", "Huawei"}, {"MAR-", "Huawei"},
	{"LYA-", "Huawei"}, {"CLT-", "Huawei"}, {"POT-", "Huawei"}, {"JNY-", "Huawei"},
	{"NOH-", "Huawei"}, {"ANA-", "Huawei"}, {"MRD-", "Huawei"}, {"STK-", "Huawei"},
	{"KB2", "OnePlus"}, {"LE2", "OnePlus"}, {"IN20", "OnePlus"}, {"GM19", "OnePlus"},
	{"HD19", "OnePlus"}, {"NE2", "OnePlus"}, {"V2", "Vivo"}, {"Infinix", "Infinix"},
}

// tabletModelPrefixes are models that are tablets.
var tabletModelPrefixes = []string{
	"SM-T", "SM-X", "SM-P", "GT-P", "Lenovo TB", "TB-", "KF", "Pixel Tablet", "Pixel C",
	"Mi Pad", "MiPad", "Redmi Pad", "Galaxy Tab",
}

// canonicalBrands spell brands as YAUAA does, keyed by lower case.
var canonicalBrands = map[string]string{
	"samsung": "Samsung", "google": "Google", "huawei": "Huawei", "honor": "Honor",
	"xiaomi": "Xiaomi", "oneplus": "OnePlus", "oppo": "Oppo", "vivo": "Vivo", "realme": "Realme",
	"motorola": "Motorola", "nokia": "Nokia", "lg": "LG", "htc": "HTC", "sony": "Sony",
	"lenovo": "Lenovo", "asus": "Asus", "zte": "ZTE", "alcatel": "Alcatel", "tcl": "TCL",
	"philips": "Philips", "panasonic": "Panasonic", "hisense": "Hisense", "sharp": "Sharp",
	"toshiba": "Toshiba", "grundig": "Grundig", "vestel": "Vestel", "loewe": "Loewe",
	"amazon": "Amazon", "tecno": "Tecno", "infinix": "Infinix", "meizu": "Meizu",
}
