package jvm

import (
	"strconv"
	"strings"
	"unicode/utf8"
)

// This file parses URIs as java.net.URI (RFC 2396 with Java's deviations) does, because
// Snowplow derives page_url*/refr_url* and validates query strings with it: which strings
// parse, the raw components it returns (getHost, getPort, getRawPath, getRawQuery,
// getRawFragment) and its error messages.

// URI holds the components of a parsed URI. Absent components have has* false; an empty
// but present component (e.g. the query of "http://a/?") has has* true and an empty value.
type URI struct {
	Input       string
	Scheme      string
	HasScheme   bool
	Host        string // server-based authorities only
	HasHost     bool
	Port        int // -1 when absent
	Path        string
	HasPath     bool // false for opaque URIs
	Query       string
	HasQuery    bool
	Fragment    string
	HasFragment bool
}

// uriSyntaxError is java.net.URISyntaxException.
type uriSyntaxError struct {
	Input  string
	reason string
	index  int // UTF-16 index into input, -1 when unknown
}

func (e *uriSyntaxError) Error() string {
	if e.index < 0 {
		return e.reason + ": " + e.Input
	}
	return e.reason + " at index " + strconv.Itoa(e.index) + ": " + e.Input
}

// uriMask is a pair of Java's lowMask/highMask: bit c set when ASCII c is allowed. Bit 0 of
// lo (never a real character) means "escapes and visible non-ASCII characters allowed".
type uriMask struct{ lo, hi uint64 }

func maskOf(chars string) uriMask {
	var m uriMask
	for i := 0; i < len(chars); i++ {
		c := chars[i]
		if c < 64 {
			m.lo |= 1 << c
		} else if c < 128 {
			m.hi |= 1 << (c - 64)
		}
	}
	return m
}

func maskRange(first, last byte) uriMask {
	var m uriMask
	for c := int(first); c <= int(last); c++ {
		if c < 64 {
			m.lo |= 1 << c
		} else {
			m.hi |= 1 << (c - 64)
		}
	}
	return m
}

func (m uriMask) or(o uriMask) uriMask { return uriMask{m.lo | o.lo, m.hi | o.hi} }

func (m uriMask) escaped() bool { return m.lo&1 != 0 }

func (m uriMask) match(c rune) bool {
	switch {
	case c == 0:
		return false
	case c < 64:
		return m.lo&(1<<uint(c)) != 0
	case c < 128:
		return m.hi&(1<<uint(c-64)) != 0
	}
	return false
}

// The character classes of java.net.URI.
var (
	uDigit    = maskRange('0', '9')
	uAlpha    = maskRange('A', 'Z').or(maskRange('a', 'z'))
	uAlphanum = uDigit.or(uAlpha)
	uHex      = uDigit.or(maskRange('A', 'F')).or(maskRange('a', 'f'))
	uMark     = maskOf("-_.!~*'()")
	uUnres    = uAlphanum.or(uMark)
	uReserved = maskOf(";/?:@&=+$,[]")
	uEscaped  = uriMask{lo: 1}
	uURIC     = uReserved.or(uUnres).or(uEscaped)
	uPChar    = uUnres.or(uEscaped).or(maskOf(":@&=+$,"))
	uPath     = uPChar.or(maskOf(";/"))
	uDash     = maskOf("-")
	uDot      = maskOf(".")
	uUserInfo = uUnres.or(uEscaped).or(maskOf(";:&=+$,"))
	uRegName  = uUnres.or(uEscaped).or(maskOf("$,;:@&=+"))
	uServer   = uUserInfo.or(uAlphanum).or(uDash).or(maskOf(".:@[]"))
	uServerPc = uServer.or(maskOf("%"))
	uScheme   = uAlpha.or(uDigit).or(maskOf("+-."))
)

// javaSpaceChar reports Character.isSpaceChar (Unicode Zs, Zl, Zp).
func javaSpaceChar(r rune) bool {
	switch {
	case r == ' ', r == 0xA0, r == 0x1680, r >= 0x2000 && r <= 0x200A,
		r == 0x2028, r == 0x2029, r == 0x202F, r == 0x205F, r == 0x3000:
		return true
	}
	return false
}

// javaISOControl reports Character.isISOControl.
func javaISOControl(r rune) bool { return r <= 0x1F || (r >= 0x7F && r <= 0x9F) }

type uriParser struct {
	in  string
	uri URI
}

// ParseURI parses s as new java.net.URI(s).
func ParseURI(s string) (URI, error) {
	p := uriParser{in: s}
	p.uri = URI{Input: s, Port: -1}
	if err := p.parse(); err != nil {
		return URI{}, err
	}
	return p.uri, nil
}

func (p *uriParser) fail(reason string, pos int) error {
	return &uriSyntaxError{Input: p.in, reason: reason, index: utf16Index(p.in, pos)}
}

func (p *uriParser) failExpecting(what string, pos int) error {
	return p.fail("Expected "+what, pos)
}

// utf16Index converts a byte offset of s into a Java String index.
func utf16Index(s string, pos int) int {
	if pos < 0 {
		return pos
	}
	if pos > len(s) {
		pos = len(s)
	}
	n := 0
	for _, r := range s[:pos] {
		if r >= 0x10000 {
			n += 2
		} else {
			n++
		}
	}
	return n
}

func (p *uriParser) at(pos, end int, c byte) bool { return pos < end && p.in[pos] == c }

func (p *uriParser) atStr(pos, end int, s string) bool {
	return end-pos >= len(s) && p.in[pos:pos+len(s)] == s
}

// scanChar: if the char at start is c, return start+1, else start.
func (p *uriParser) scanChar(start, end int, c byte) int {
	if start < end && p.in[start] == c {
		return start + 1
	}
	return start
}

// scanStop returns -1 at the first char of errs, the index of the first char of stop, or
// end. The sets are ASCII.
func (p *uriParser) scanStop(start, end int, errs, stop string) int {
	for i := start; i < end; i++ {
		c := p.in[i]
		for j := 0; j < len(errs); j++ {
			if errs[j] == c {
				return -1
			}
		}
		for j := 0; j < len(stop); j++ {
			if stop[j] == c {
				return i
			}
		}
	}
	return end
}

// scanEscape scans an escape pair or a visible non-ASCII character at start.
func (p *uriParser) scanEscape(start, n int) (int, error) {
	c := p.in[start]
	if c == '%' {
		if start+3 <= n && uHex.match(rune(p.in[start+1])) && uHex.match(rune(p.in[start+2])) {
			return start + 3, nil
		}
		return 0, p.fail("Malformed escape pair", start)
	}
	if c >= utf8.RuneSelf {
		r, size := utf8.DecodeRuneInString(p.in[start:n])
		// Java checks c > 128 per UTF-16 unit; surrogate halves of supplementary
		// characters are neither space nor control, so they pass.
		if r > 128 && !javaSpaceChar(r) && !javaISOControl(r) {
			return start + size, nil
		}
	}
	return start, nil
}

// scanMask scans chars allowed by m (and escapes / non-ASCII when m allows them).
func (p *uriParser) scanMask(start, n int, m uriMask) (int, error) {
	i := start
	for i < n {
		c := p.in[i]
		if c < utf8.RuneSelf && m.match(rune(c)) {
			i++
			continue
		}
		if m.escaped() {
			q, err := p.scanEscape(i, n)
			if err != nil {
				return 0, err
			}
			if q > i {
				i = q
				continue
			}
		}
		break
	}
	return i, nil
}

func (p *uriParser) checkChars(start, end int, m uriMask, what string) error {
	q, err := p.scanMask(start, end, m)
	if err != nil {
		return err
	}
	if q < end {
		return p.fail("Illegal character in "+what, q)
	}
	return nil
}

func (p *uriParser) parse() error {
	n := len(p.in)
	var ssp int
	pos := p.scanStop(0, n, "/?#", ":")
	if pos >= 0 && p.at(pos, n, ':') {
		if pos == 0 {
			return p.failExpecting("scheme name", 0)
		}
		if err := p.checkChars(0, 1, uAlpha, "scheme name"); err != nil {
			return err
		}
		if err := p.checkChars(1, pos, uScheme, "scheme name"); err != nil {
			return err
		}
		p.uri.Scheme, p.uri.HasScheme = p.in[:pos], true
		pos++
		ssp = pos
		if p.at(pos, n, '/') {
			var err error
			if pos, err = p.parseHierarchical(pos, n); err != nil {
				return err
			}
		} else {
			q := p.scanStop(pos, n, "", "#")
			if q <= pos {
				return p.failExpecting("scheme-specific part", pos)
			}
			if err := p.checkChars(pos, q, uURIC, "opaque part"); err != nil {
				return err
			}
			pos = q
		}
	} else {
		var err error
		if pos, err = p.parseHierarchical(0, n); err != nil {
			return err
		}
	}
	_ = ssp
	if p.at(pos, n, '#') {
		if err := p.checkChars(pos+1, n, uURIC, "fragment"); err != nil {
			return err
		}
		p.uri.Fragment, p.uri.HasFragment = p.in[pos+1:], true
		pos = n
	}
	if pos < n {
		return p.fail("end of URI", pos)
	}
	return nil
}

func (p *uriParser) parseHierarchical(start, n int) (int, error) {
	pos := start
	if p.at(pos, n, '/') && p.at(pos+1, n, '/') {
		pos += 2
		q := p.scanStop(pos, n, "", "/?#")
		if q > pos {
			var err error
			if pos, err = p.parseAuthority(pos, q); err != nil {
				return 0, err
			}
		} else if q >= n {
			return 0, p.failExpecting("authority", pos)
		}
	}
	q := p.scanStop(pos, n, "", "?#")
	if err := p.checkChars(pos, q, uPath, "path"); err != nil {
		return 0, err
	}
	p.uri.Path, p.uri.HasPath = p.in[pos:q], true
	pos = q
	if p.at(pos, n, '?') {
		pos++
		q = p.scanStop(pos, n, "", "#")
		if err := p.checkChars(pos, q, uURIC, "query"); err != nil {
			return 0, err
		}
		p.uri.Query, p.uri.HasQuery = p.in[pos:q], true
		pos = q
	}
	return pos, nil
}

func (p *uriParser) parseAuthority(start, n int) (int, error) {
	serverMask := uServer
	if p.scanStop(start, n, "", "]") > start {
		serverMask = uServerPc // an IPv6 literal: '%' may introduce a scope id
	}
	q, err := p.scanMask(start, n, serverMask)
	if err != nil {
		return 0, err
	}
	serverChars := q == n
	if q, err = p.scanMask(start, n, uRegName); err != nil {
		return 0, err
	}
	regChars := q == n

	if regChars && !serverChars {
		return n, nil // registry-based authority: no host, no port
	}
	var ex error
	q = start
	if serverChars {
		qq, err := p.parseServer(start, n)
		if err == nil && qq < n {
			err = p.failExpecting("end of authority", qq)
		}
		if err != nil {
			p.uri.Host, p.uri.HasHost, p.uri.Port = "", false, -1
			ex = err
		} else {
			q = qq
		}
	}
	if q < n {
		switch {
		case regChars:
			// registry-based authority
		case ex != nil:
			return 0, ex
		default:
			return 0, p.fail("Illegal character in authority", q)
		}
	}
	return n, nil
}

func (p *uriParser) parseServer(start, n int) (int, error) {
	pos := start
	q := p.scanStop(pos, n, "/?#", "@")
	if q >= pos && p.at(q, n, '@') {
		if err := p.checkChars(pos, q, uUserInfo, "user info"); err != nil {
			return 0, err
		}
		pos = q + 1
	}
	if p.at(pos, n, '[') {
		pos++
		q = p.scanStop(pos, n, "/?#", "]")
		if q > pos && p.at(q, n, ']') {
			r := p.scanStop(pos, q, "", "%")
			if r > pos && r < q {
				if err := p.parseIPv6(pos, r); err != nil {
					return 0, err
				}
				if r+1 == q {
					return 0, &uriSyntaxError{Input: p.in, reason: "scope id expected", index: -1}
				}
				if err := p.checkChars(r+1, q, uAlphanum, "scope id"); err != nil {
					return 0, err
				}
			} else if err := p.parseIPv6(pos, q); err != nil {
				return 0, err
			}
			p.uri.Host, p.uri.HasHost = p.in[pos-1:q+1], true
			pos = q + 1
		} else {
			return 0, p.failExpecting("closing bracket for IPv6 address", q)
		}
	} else {
		q = p.parseIPv4(pos, n)
		if q <= pos {
			var err error
			if q, err = p.parseHostname(pos, n); err != nil {
				return 0, err
			}
		}
		pos = q
	}
	if p.at(pos, n, ':') {
		pos++
		q = p.scanStop(pos, n, "", "/")
		if q > pos {
			if err := p.checkChars(pos, q, uDigit, "port number"); err != nil {
				return 0, err
			}
			v, err := strconv.ParseInt(p.in[pos:q], 10, 32)
			if err != nil {
				return 0, p.fail("Malformed port number", pos)
			}
			p.uri.Port = int(v)
			pos = q
		}
	}
	if pos < n {
		return 0, p.failExpecting("port number", pos)
	}
	return pos, nil
}

// scanByte scans decimal digits whose value fits in a byte.
func (p *uriParser) scanByte(start, n int) int {
	q, _ := p.scanMask(start, n, uDigit)
	if q <= start {
		return q
	}
	if v, err := strconv.Atoi(p.in[start:q]); err != nil || v > 255 {
		return start
	}
	return q
}

func (p *uriParser) scanIPv4(start, n int, strict bool) (int, error) {
	m, _ := p.scanMask(start, n, uDigit.or(uDot))
	if m <= start || (strict && m != n) {
		return -1, nil
	}
	pos := start
	var q int
	for {
		if q = p.scanByte(pos, m); q <= pos {
			break
		}
		pos = q
		if q = p.scanChar(pos, m, '.'); q <= pos {
			break
		}
		pos = q
		if q = p.scanByte(pos, m); q <= pos {
			break
		}
		pos = q
		if q = p.scanChar(pos, m, '.'); q <= pos {
			break
		}
		pos = q
		if q = p.scanByte(pos, m); q <= pos {
			break
		}
		pos = q
		if q = p.scanChar(pos, m, '.'); q <= pos {
			break
		}
		pos = q
		if q = p.scanByte(pos, m); q <= pos {
			break
		}
		pos = q
		if q < m {
			break
		}
		return q, nil
	}
	return -1, p.fail("Malformed IPv4 address", q)
}

func (p *uriParser) takeIPv4(start, n int, expected string) (int, error) {
	q, err := p.scanIPv4(start, n, true)
	if err != nil {
		return 0, err
	}
	if q <= start {
		return 0, p.failExpecting(expected, start)
	}
	return q, nil
}

func (p *uriParser) parseIPv4(start, n int) int {
	q, err := p.scanIPv4(start, n, false)
	if err != nil {
		return -1
	}
	if q > start && q < n && p.in[q] != ':' {
		q = -1
	}
	if q > start {
		p.uri.Host, p.uri.HasHost = p.in[start:q], true
	}
	return q
}

func (p *uriParser) parseHostname(start, n int) (int, error) {
	pos := start
	last := -1
	for {
		q, _ := p.scanMask(pos, n, uAlphanum)
		if q <= pos {
			break
		}
		last = pos
		pos = q
		q, _ = p.scanMask(pos, n, uAlphanum.or(uDash))
		if q > pos {
			if p.in[q-1] == '-' {
				return 0, p.fail("Illegal character in hostname", q-1)
			}
			pos = q
		}
		q = p.scanChar(pos, n, '.')
		if q <= pos {
			break
		}
		pos = q
		if pos >= n {
			break
		}
	}
	if pos < n && !p.at(pos, n, ':') {
		return 0, p.fail("Illegal character in hostname", pos)
	}
	if last < 0 {
		return 0, p.failExpecting("hostname", start)
	}
	if last > start && !uAlpha.match(rune(p.in[last])) {
		return 0, p.fail("Illegal character in hostname", last)
	}
	p.uri.Host, p.uri.HasHost = p.in[start:pos], true
	return pos, nil
}

func (p *uriParser) parseIPv6(start, n int) error {
	bytes := 0
	compressed := false
	pos := start
	q, err := p.scanHexSeq(pos, n, &bytes)
	if err != nil {
		return err
	}
	if q > pos {
		pos = q
		if p.atStr(pos, n, "::") {
			compressed = true
			if pos, err = p.scanHexPost(pos+2, n, &bytes); err != nil {
				return err
			}
		} else if p.at(pos, n, ':') {
			if pos, err = p.takeIPv4(pos+1, n, "IPv4 address"); err != nil {
				return err
			}
			bytes += 4
		}
	} else if p.atStr(pos, n, "::") {
		compressed = true
		if pos, err = p.scanHexPost(pos+2, n, &bytes); err != nil {
			return err
		}
	}
	switch {
	case pos < n:
		return p.fail("Malformed IPv6 address", start)
	case bytes > 16:
		return p.fail("IPv6 address too long", start)
	case !compressed && bytes < 16:
		return p.fail("IPv6 address too short", start)
	case compressed && bytes == 16:
		return p.fail("Malformed IPv6 address", start)
	}
	return nil
}

func (p *uriParser) scanHexPost(start, n int, bytes *int) (int, error) {
	if start == n {
		return start, nil
	}
	q, err := p.scanHexSeq(start, n, bytes)
	if err != nil {
		return 0, err
	}
	if q > start {
		pos := q
		if p.at(pos, n, ':') {
			if pos, err = p.takeIPv4(pos+1, n, "hex digits or IPv4 address"); err != nil {
				return 0, err
			}
			*bytes += 4
		}
		return pos, nil
	}
	pos, err := p.takeIPv4(start, n, "hex digits or IPv4 address")
	if err != nil {
		return 0, err
	}
	*bytes += 4
	return pos, nil
}

func (p *uriParser) scanHexSeq(start, n int, bytes *int) (int, error) {
	q, _ := p.scanMask(start, n, uHex)
	if q <= start || p.at(q, n, '.') {
		return -1, nil
	}
	if q > start+4 {
		return 0, p.fail("IPv6 hexadecimal digit sequence too long", start)
	}
	*bytes += 2
	pos := q
	for pos < n {
		if !p.at(pos, n, ':') || p.at(pos+1, n, ':') {
			break
		}
		pos++
		q, _ = p.scanMask(pos, n, uHex)
		if q <= pos {
			return 0, p.failExpecting("digits for an IPv6 address", pos)
		}
		if p.at(q, n, '.') {
			pos--
			break
		}
		if q > pos+4 {
			return 0, p.fail("IPv6 hexadecimal digit sequence too long", pos)
		}
		*bytes += 2
		pos = q
	}
	return pos, nil
}

// LenientEncode percent-encodes, component by component, the characters java.net.URI
// refuses: in the path anything but path characters, in the query and fragment anything
// but URI characters, '%' not starting an escape pair, and non-ASCII text (as UTF-8
// bytes). The scheme and authority are kept as they are.
func LenientEncode(s string) string {
	var b strings.Builder
	rest := s
	if i := strings.Index(s, "://"); i > 0 && !strings.ContainsAny(s[:i], "/?#") {
		j := i + 3
		k := j
		for k < len(s) && s[k] != '/' && s[k] != '?' && s[k] != '#' {
			k++
		}
		b.WriteString(s[:k])
		rest = s[k:]
	}
	frag := ""
	hasFrag := false
	if i := strings.IndexByte(rest, '#'); i >= 0 {
		frag, hasFrag = rest[i+1:], true
		rest = rest[:i]
	}
	query := ""
	hasQuery := false
	if i := strings.IndexByte(rest, '?'); i >= 0 {
		query, hasQuery = rest[i+1:], true
		rest = rest[:i]
	}
	encodeInto(&b, rest, uPath)
	if hasQuery {
		b.WriteByte('?')
		encodeInto(&b, query, uURIC)
	}
	if hasFrag {
		b.WriteByte('#')
		encodeInto(&b, frag, uURIC)
	}
	return b.String()
}

func encodeInto(b *strings.Builder, s string, m uriMask) {
	const hex = "0123456789ABCDEF"
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '%' && i+2 < len(s) && Unhex(s[i+1]) >= 0 && Unhex(s[i+2]) >= 0:
			b.WriteByte(c)
		case c < utf8.RuneSelf && m.match(rune(c)):
			b.WriteByte(c)
		default:
			b.WriteByte('%')
			b.WriteByte(hex[c>>4])
			b.WriteByte(hex[c&15])
		}
	}
}
