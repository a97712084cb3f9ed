package enrichments

import (
	"strconv"
	"strings"
)

// uaProduct is a "name/version" token of a user agent, outside its comments. Tokens without
// a slash have an empty version, except a bare name followed by a bare version number
// ("Instagram 305.0.0.23.110"), which is read as one product.
type uaProduct struct {
	name, version string
	comment       int // index in uaTokens.comments of the comment right after it; -1 when none
}

// uaTokens is a user agent split into its product tokens and its parenthesised comments.
// Bracketed sections ("[FBAN/FBIOS;FBAV/440.0]") are read as products.
type uaTokens struct {
	products []uaProduct
	comments [][]string // each comment split on ';', entries trimmed, empty ones left out
}

func tokenizeUA(ua string) uaTokens {
	var t uaTokens
	t.products = make([]uaProduct, 0, 8)
	lastWasProduct := false
	for i := 0; i < len(ua); {
		switch ua[i] {
		case ' ', '\t', ';', ')', ']':
			i++
		case '(':
			depth, j := 1, i+1
			for j < len(ua) && depth > 0 {
				switch ua[j] {
				case '(':
					depth++
				case ')':
					depth--
				}
				j++
			}
			end := j
			if depth == 0 {
				end = j - 1
			}
			if lastWasProduct && t.products[len(t.products)-1].comment < 0 {
				t.products[len(t.products)-1].comment = len(t.comments)
			}
			t.comments = append(t.comments, splitUAComment(ua[i+1:end]))
			lastWasProduct = false
			i = j
		case '[':
			end, next := len(ua), len(ua)
			if j := strings.IndexByte(ua[i:], ']'); j >= 0 {
				end, next = i+j, i+j+1
			}
			for part := range strings.SplitSeq(ua[i+1:end], ";") {
				if part = strings.TrimSpace(part); part != "" {
					t.addProduct(part, false)
				}
			}
			lastWasProduct = false
			i = next
		default:
			j := i
			for j < len(ua) && !strings.ContainsRune(" \t();[]", rune(ua[j])) {
				j++
			}
			t.addProduct(ua[i:j], true)
			lastWasProduct = true
			i = j
		}
	}
	return t
}

func (t *uaTokens) addProduct(tok string, mayMerge bool) {
	name, version, hasSlash := strings.Cut(tok, "/")
	if !hasSlash && mayMerge && isVersionNumber(tok) && len(t.products) > 0 {
		if prev := &t.products[len(t.products)-1]; prev.version == "" && !isVersionNumber(prev.name) {
			prev.version = tok
			return
		}
	}
	t.products = append(t.products, uaProduct{name: name, version: version, comment: -1})
}

// splitUAComment splits the inside of a comment on semicolons.
func splitUAComment(s string) []string {
	out := make([]string, 0, 4)
	for part := range strings.SplitSeq(s, ";") {
		if part = strings.TrimSpace(part); part != "" {
			out = append(out, part)
		}
	}
	return out
}

// version returns the version of the first product named name (case-sensitive).
func (t *uaTokens) version(name string) (string, bool) {
	for _, p := range t.products {
		if p.name == name {
			return p.version, true
		}
	}
	return "", false
}

func (t *uaTokens) has(name string) bool {
	_, ok := t.version(name)
	return ok
}

// isVersionNumber reports whether s looks like "1", "9.80" or "305.0.0.23.110".
func isVersionNumber(s string) bool {
	if s == "" || s[0] < '0' || s[0] > '9' {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; (c < '0' || c > '9') && c != '.' && c != '_' {
			return false
		}
	}
	return true
}

// versionMajor returns the first element of a version ("120.0.6099.130" -> "120").
func versionMajor(v string) string {
	if i := strings.IndexAny(v, "._"); i > 0 {
		return v[:i]
	}
	return v
}

// versionPrefix returns the first n dot-separated elements of v.
func versionPrefix(v string, n int) string {
	idx := 0
	for k := 0; k < n; k++ {
		j := strings.IndexByte(v[idx:], '.')
		if j < 0 {
			return v
		}
		idx += j + 1
	}
	return v[:idx-1]
}

// majorInt parses the first element of a version; -1 when it is not a number.
func majorInt(v string) int {
	n, err := strconv.Atoi(versionMajor(v))
	if err != nil {
		return -1
	}
	return n
}

// Client hints the analyser reads, by index into clientHints.
const (
	chUA = iota
	chFullVersionList
	chFullVersion
	chMobile
	chPlatform
	chPlatformVersion
	chModel
	chArch
	chBitness
	chCount
)

// clientHintNames are the request headers of the hints, lower case, in index order.
var clientHintNames = [chCount]string{
	"sec-ch-ua", "sec-ch-ua-full-version-list", "sec-ch-ua-full-version", "sec-ch-ua-mobile",
	"sec-ch-ua-platform", "sec-ch-ua-platform-version", "sec-ch-ua-model", "sec-ch-ua-arch",
	"sec-ch-ua-bitness",
}

// clientHintByLength returns the index of the hint whose header name has n bytes (they
// all differ in length), -1 when none.
func clientHintByLength(n int) int {
	switch n {
	case len("sec-ch-ua"):
		return chUA
	case len("sec-ch-ua-full-version-list"):
		return chFullVersionList
	case len("sec-ch-ua-full-version"):
		return chFullVersion
	case len("sec-ch-ua-mobile"):
		return chMobile
	case len("sec-ch-ua-platform"):
		return chPlatform
	case len("sec-ch-ua-platform-version"):
		return chPlatformVersion
	case len("sec-ch-ua-model"):
		return chModel
	case len("sec-ch-ua-arch"):
		return chArch
	case len("sec-ch-ua-bitness"):
		return chBitness
	}
	return -1
}

// clientHints are the raw values of the User-Agent Client Hints headers of a request.
type clientHints struct {
	v   [chCount]string
	any bool
}

// collect picks the client-hint headers out of "Name: value" headers. It reports whether
// there was any.
func (h *clientHints) collect(headers []string) bool {
	for _, hdr := range headers {
		if len(hdr) < 10 || (hdr[0] != 's' && hdr[0] != 'S') {
			continue
		}
		colon := strings.IndexByte(hdr, ':')
		if colon < 9 || !asciiEqualFold("sec-ch-ua", hdr[:9]) {
			continue
		}
		end := colon
		for end > 9 && (hdr[end-1] == ' ' || hdr[end-1] == '\t') {
			end--
		}
		i := clientHintByLength(end)
		if i >= 0 && asciiEqualFold(clientHintNames[i][9:], hdr[9:end]) {
			h.v[i] = strings.TrimSpace(hdr[colon+1:])
			h.any = true
		}
	}
	return h.any
}

// asciiEqualFold reports whether s equals lower, a lower-case ASCII string, ignoring
// ASCII case. It is cheaper than strings.EqualFold, which folds Unicode.
func asciiEqualFold(lower, s string) bool {
	if len(lower) != len(s) {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 'A' && c <= 'Z' {
			c += 'a' - 'A'
		}
		if c != lower[i] {
			return false
		}
	}
	return true
}

// cacheKey is the user agent with the hint values, which together decide the analysis.
func (h *clientHints) cacheKey(ua string) string {
	n := len(ua)
	for _, v := range h.v {
		n += 1 + len(v)
	}
	var b strings.Builder
	b.Grow(n)
	b.WriteString(ua)
	for _, v := range h.v {
		b.WriteByte(0)
		b.WriteString(v)
	}
	return b.String()
}

// str returns hint i as a plain string (a structured-field string is unquoted).
func (h *clientHints) str(i int) string {
	return sfString(h.v[i])
}

// sfString unquotes a structured-field string ("\"Windows\"" -> "Windows"); anything
// else is returned trimmed.
func sfString(s string) string {
	s = strings.TrimSpace(s)
	if len(s) < 2 || s[0] != '"' {
		return s
	}
	v, _ := readSFString(s)
	return v
}

// readSFString reads a quoted structured-field string at the start of s and returns it
// and the rest of s.
func readSFString(s string) (string, string) {
	var b []byte
	for i := 1; i < len(s); i++ {
		switch c := s[i]; c {
		case '\\':
			if i+1 < len(s) {
				i++
				b = append(b, s[i])
			}
		case '"':
			return string(b), s[i+1:]
		default:
			b = append(b, c)
		}
	}
	return string(b), ""
}

// chBrand is one entry of Sec-CH-UA or Sec-CH-UA-Full-Version-List.
type chBrand struct{ brand, version string }

// parseBrandList reads a brand list: `"Chromium";v="120", "Google Chrome";v="120"`.
// Malformed entries are skipped.
func parseBrandList(s string) []chBrand {
	var out []chBrand
	for s != "" {
		s = strings.TrimLeft(s, " \t,")
		if s == "" {
			break
		}
		var br chBrand
		if s[0] == '"' {
			br.brand, s = readSFString(s)
		} else {
			end := strings.IndexAny(s, ";,")
			if end < 0 {
				end = len(s)
			}
			br.brand, s = strings.TrimSpace(s[:end]), s[end:]
		}
		// Parameters: ;v="120.0.6099.130"
		for strings.HasPrefix(strings.TrimLeft(s, " "), ";") {
			s = strings.TrimLeft(strings.TrimLeft(s, " ")[1:], " ")
			key := s
			if end := strings.IndexAny(s, "=;,"); end >= 0 {
				key = s[:end]
			}
			s = s[len(key):]
			var val string
			if strings.HasPrefix(s, "=") {
				s = s[1:]
				if strings.HasPrefix(s, `"`) {
					val, s = readSFString(s)
				} else {
					end := strings.IndexAny(s, ";,")
					if end < 0 {
						end = len(s)
					}
					val, s = s[:end], s[end:]
				}
			}
			if strings.TrimSpace(key) == "v" {
				br.version = strings.TrimSpace(val)
			}
		}
		// Skip anything up to the next entry.
		if i := strings.IndexByte(s, ','); i >= 0 {
			s = s[i+1:]
		} else {
			s = ""
		}
		if br.brand != "" {
			out = append(out, br)
		}
	}
	return out
}

// isGreaseBrand reports whether a brand is one of the made-up entries browsers add to
// Sec-CH-UA so that servers do not depend on its exact contents ("Not_A Brand").
func isGreaseBrand(b string) bool {
	return strings.Contains(b, "Not") && strings.Contains(b, "Brand")
}
