package jvm

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestParseURI(t *testing.T) {
	type parts struct {
		Scheme, Host, Path, Query, Fragment            string
		HasScheme, HasHost, HasPath, HasQuery, HasFrag bool
		Port                                           int
	}
	tests := []struct {
		in   string
		want parts
		err  string
	}{
		{in: "http://shop.example.test/products/0?utm_source=peer&utm_medium=test",
			want: parts{Scheme: "http", Host: "shop.example.test", Path: "/products/0", Query: "utm_source=peer&utm_medium=test", HasScheme: true, HasHost: true, HasPath: true, HasQuery: true, Port: -1}},
		{in: "https://a.com", want: parts{Scheme: "https", Host: "a.com", HasScheme: true, HasHost: true, HasPath: true, Port: -1}},
		{in: "http://a.com:8080/x#frag", want: parts{Scheme: "http", Host: "a.com", Path: "/x", Fragment: "frag", HasScheme: true, HasHost: true, HasPath: true, HasFrag: true, Port: 8080}},
		{in: "http://my_host.com/x", want: parts{Scheme: "http", Path: "/x", HasScheme: true, HasPath: true, Port: -1}},
		{in: "http://[::1]:80/", want: parts{Scheme: "http", Host: "[::1]", Path: "/", HasScheme: true, HasHost: true, HasPath: true, Port: 80}},
		{in: "mailto:a@b.com", want: parts{Scheme: "mailto", HasScheme: true, Port: -1}},
		{in: "/rel?x=1", want: parts{Path: "/rel", Query: "x=1", HasPath: true, HasQuery: true, Port: -1}},
		{in: "http://a.com/ü", want: parts{Scheme: "http", Host: "a.com", Path: "/ü", HasScheme: true, HasHost: true, HasPath: true, Port: -1}},
		{in: "http://a.com/a|b", err: "Illegal character in path at index 14: http://a.com/a|b"},
		{in: "http://a.com/%zz", err: "Malformed escape pair at index 13: http://a.com/%zz"},
		{in: ":foo", err: "Expected scheme name at index 0: :foo"},
		{in: "1http://x", err: "Illegal character in scheme name at index 0: 1http://x"},
		{in: "http://", err: "Expected authority at index 7: http://"},
		{in: "http:", err: "Expected scheme-specific part at index 5: http:"},
		{in: "http://a.com/x y", err: "Illegal character in path at index 14: http://a.com/x y"},
		{in: "http://localhost/?a=b|c", err: "Illegal character in query at index 21: http://localhost/?a=b|c"},
		{in: "http://a.com/ü|", err: "Illegal character in path at index 14: http://a.com/ü|"},
	}
	for _, tt := range tests {
		u, err := ParseURI(tt.in)
		if tt.err != "" {
			if err == nil || err.Error() != tt.err {
				t.Errorf("ParseURI(%q) error = %v, want %q", tt.in, err, tt.err)
			}
			continue
		}
		if err != nil {
			t.Errorf("ParseURI(%q) error = %v", tt.in, err)
			continue
		}
		got := parts{u.Scheme, u.Host, u.Path, u.Query, u.Fragment, u.HasScheme, u.HasHost, u.HasPath, u.HasQuery, u.HasFragment, u.Port}
		if diff := cmp.Diff(tt.want, got); diff != "" {
			t.Errorf("ParseURI(%q) (-want +got):\n%s", tt.in, diff)
		}
	}
}
