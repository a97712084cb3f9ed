package jvm

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"
)

func FuzzParseJSON(f *testing.F) {
	for _, s := range []string{`{"a":1}`, `[1,2.5e3,-0,"\u00e9\/",true,null]`, `{"a":{"b":[{}]}}`, `{test:`, ``, ` "x" `, `{"a":1,"a":2}`, "\"\x7f\u0085\"", `[1,]`, `01`, `{"a":[-0,{"b":"c"}],"d":{}}`, `{"id":"x","n":null,"t":true,"f":-1.5e3,"a":[]}`, "{\"a\":\"\xff\"}", `{"a":1,"b":{"a":2},"a":3}`,
		// Long strings, with what stops the eight-bytes-at-a-time scans at several offsets.
		"{\"abcdefghijkl\":\"0123456789abcdef\\\"ghijklmnop\"}", "[\"abcdefghijklmnopq\x7frstuvwxyz\"]", "[\"abcdefghijklmn\u0085opqrstuvwxyz\"]",
		"[\"abcdefghijklmnopqrstuvw\u00e9xyz\", \"abcdefghijklmnopqrstuvwxyz\\u0041\"]", "[\"abcdefghijklmnopqrstuvwxyz\x01\"]", "[\"abcdefghijklmnopqrstuvwxyz\\\"\x7f\"]"} {
		f.Add(s)
	}
	f.Add(`{"a":1,"b":2,"c":3,"d":4,"e":5}`)
	f.Add(`{"schema":"x","data":[1],"a":{"b":2}}`)
	f.Add(`[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]`)
	f.Add(`{"a":-0.0,"b":-0,"c":1e+5,"d":0.5E-2,"e":01}`)
	f.Add(`{"a":tru,"b":nul}`)
	f.Fuzz(func(t *testing.T, s string) {
		if utf8.ValidString(s) {
			var members []KeyVal
			cerr := CheckValidJSON(s, 50, &members)
			top, n, terr := CheckValidJSONTop(s, 50)
			if (cerr == nil) != (terr == nil) || cerr != nil && cerr.Error() != terr.Error() {
				t.Fatalf("CheckValidJSONTop(%q) error %v, CheckValidJSON %v", s, terr, cerr)
			}
			if cerr == nil && (n != len(members) || !slices.Equal(top[:min(n, len(top))], members[:min(n, len(top))])) {
				t.Fatalf("CheckValidJSONTop(%q) = %q (%d), CheckValidJSON members %q", s, top, n, members)
			}
			// CanonicalAt is the two checks in one walk.
			end, ok := CanonicalAt(s, 0, 0, 50)
			if want := cerr == nil && IsCanonical(s); (ok && end == len(s)) != want {
				t.Fatalf("CanonicalAt(%q) = %d, %v; CheckValidJSON %v, IsCanonical %v", s, end, ok, cerr, cerr == nil && IsCanonical(s))
			}
		}
		v, err := ParseJSON(s, 50)
		if err != nil {
			if !strings.HasPrefix(err.Error(), "invalid json: ") {
				t.Fatalf("error %q lacks the prefix", err)
			}
			if json.Valid([]byte(s)) && utf8.ValidString(s) && jsonDepth(s) <= 50 {
				t.Fatalf("ParseJSON(%q) = %v, but it is valid JSON", s, err)
			}
			return
		}
		if !json.Valid([]byte(s)) {
			t.Fatalf("ParseJSON(%q) accepted invalid JSON", s)
		}
		_ = v
		c := AppendCanonical(nil, s)
		if slow := appendCanonicalSlow(nil, s); !bytes.Equal(c, slow) {
			t.Fatalf("AppendCanonical(%q) = %q, printing gives %q", s, c, slow)
		}
		if IsCanonical(s) && string(appendCanonicalSlow(nil, s)) != s {
			t.Fatalf("IsCanonical(%q), but printing gives %q", s, appendCanonicalSlow(nil, s))
		}
		if !json.Valid(c) {
			t.Fatalf("canonical form %q of %q is not JSON", c, s)
		}
		if c2 := AppendCanonical(nil, string(c)); !bytes.Equal(c, c2) {
			t.Fatalf("canonical form not stable: %q then %q", c, c2)
		}
	})
}

// jsonDepth counts the deepest container nesting of valid JSON.
func jsonDepth(s string) int {
	d, m := 0, 0
	in := false
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case in && c == '\\':
			i++
		case c == '"':
			in = !in
		case !in && (c == '{' || c == '['):
			d++
			m = max(m, d)
		case !in && (c == '}' || c == ']'):
			d--
		}
	}
	return m
}

func FuzzQueryString(f *testing.F) {
	for _, s := range []string{"e=pv&p=web", "a=%C3%A9&b=+x+&c", "a=1;b=2&&=x", "x=a|b", "q=%zz", "é=ü", "a=%E2%82"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		q, err := QueryOf(s)
		if err != nil {
			return
		}
		for name, value := range SplitQuery(q, UTF8) {
			if name == "" {
				t.Fatalf("SplitQuery(QueryOf(%q)) gave an empty name", s)
			}
			if !utf8.ValidString(name) || (value != nil && !utf8.ValidString(*value)) {
				t.Fatalf("SplitQuery(QueryOf(%q)) gave invalid UTF-8", s)
			}
		}
	})
}

func FuzzDecodeBase64(f *testing.F) {
	for _, s := range []string{"eyJhIjoxfQ", "-_+/==", "QUJD\nREVG", "!", "QUJDR", "QUI", "QQ", "QR", "QUJD\r\nRA", "QUJDRA=="} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		out := DecodeBase64(nil, s)
		// The standard library's fast path must give what the byte-by-byte reading gives,
		// also when appending.
		if want := decodeBase64Lenient(nil, s); string(out) != string(want) {
			t.Fatalf("DecodeBase64(%q) = %q, lenient reading %q", s, out, want)
		}
		if got := DecodeBase64([]byte("x"), s); string(got) != "x"+string(out) {
			t.Fatalf("DecodeBase64(\"x\", %q) = %q, want %q", s, got, "x"+string(out))
		}
		if len(out) > len(s)*3/4+1 {
			t.Fatalf("DecodeBase64(%q) gave %d bytes", s, len(out))
		}
		if back := DecodeBase64(nil, EncodeBase64URL([]byte(s))); string(back) != s {
			t.Fatalf("round trip of %q gave %q", s, back)
		}
		// Exact means s is the canonical unpadded URL-safe text of the bytes, which the
		// standard library's strict decoder then reads the same.
		got, exact := DecodeBase64Exact([]byte("x"), s)
		if string(got) != "x"+string(out) {
			t.Fatalf("DecodeBase64Exact(\"x\", %q) = %q, want %q", s, got, "x"+string(out))
		}
		if canonical := EncodeBase64URL(out) == s; exact != canonical {
			t.Fatalf("DecodeBase64Exact(%q): exact %v, but the text is canonical: %v", s, exact, canonical)
		}
		if exact {
			if strict, err := base64.RawURLEncoding.Strict().DecodeString(s); err != nil || string(strict) != string(out) {
				t.Fatalf("DecodeBase64Exact(%q) exact, but the strict decoder reads %q, %v", s, strict, err)
			}
		}
		if _, exact := DecodeBase64Exact(nil, EncodeBase64URL([]byte(s))); !exact {
			t.Fatalf("DecodeBase64Exact of the encoding of %q: not exact", s)
		}
	})
}

func FuzzParseURI(f *testing.F) {
	for _, s := range []string{"http://a.test:80/p?q#f", "mailto:x@y", "http://[::1]/", "http://my_host/", "/rel", "http://a b", "%zz"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		u, err := ParseURI(s)
		if err != nil {
			if !strings.HasSuffix(err.Error(), ": "+s) {
				t.Fatalf("error %q does not end with the input", err)
			}
			return
		}
		if u.HasQuery && !strings.Contains(s, "?"+u.Query) {
			t.Fatalf("query %q not in %q", u.Query, s)
		}
		// What java.net.URI accepts must survive the lenient re-encoding unchanged.
		if enc := LenientEncode(s); u.HasScheme && u.HasHost && enc != s {
			if _, err := ParseURI(enc); err != nil {
				t.Fatalf("ParseURI(LenientEncode(%q)) = %v", s, err)
			}
		}
	})
}

// FuzzSkipPlain holds skipPlain (eight bytes at a time, then vector searches) to the
// byte-by-byte reading, from every starting offset.
func FuzzSkipPlain(f *testing.F) {
	for _, s := range []string{"abc\"", "abcdefghijklmnopqrstuvwxyz0123456789\"x", "abcdefghijklmnopqrstu\\\"vwxyz\"",
		"abcdefghijklmnopqrstuvwxyz\x01abc\"", "abcdefghijklmnopqrst\"uvwxyz\x1f\"", "abcdefghijklmnopqrstuvwxyz"} {
		f.Add(s)
	}
	long := strings.Repeat("eyJzY2hlbWEiOiJpZ2x1OmNvbS5zbm93cGxvd2FuYWx5dGljcy5zbm93cGxvdy9", 4)
	f.Add(long + "\"")
	f.Add(long[:150] + "\x1f" + long[151:] + "\"")
	f.Add(long[:170] + "\u00e9\x7f" + long[175:] + "\"")
	f.Fuzz(func(t *testing.T, s string) {
		for i := 0; i <= len(s); i++ {
			if got, want := skipPlain(s, i), skipPlainBytes(s, i); got != want {
				t.Fatalf("skipPlain(%q, %d) = %d, want %d", s, i, got, want)
			}
		}
	})
}
