package jvm

import (
	"strings"
	"testing"
)

func TestRawObjectAt(t *testing.T) {
	tests := []struct {
		s     string
		stop  int // members after which fn stops; 0: never
		want  string
		end   string // what follows the object
		whole bool
	}{
		{`{}, 1`, 0, ``, `, 1`, true},
		{`{ "a" : [1,{"b":"}"}] , "c\u0064":"x\"y" }]`, 0, `a=[1,{"b":"}"}];cd="x\"y";`, `]`, true},
		{`{"a":1,"b":2,"c":3}`, 2, `a=1;b=2;`, `,"c":3}`, false},
		{`[1]`, 0, ``, `[1]`, false},
	}
	for _, tt := range tests {
		var b strings.Builder
		n := 0
		end, whole := RawObjectAt(tt.s, 0, func(k, v string) bool {
			b.WriteString(k + "=" + v + ";")
			n++
			return tt.stop == 0 || n < tt.stop
		})
		if b.String() != tt.want || tt.s[end:] != tt.end || whole != tt.whole {
			t.Errorf("RawObjectAt(%q) gave %q, then %q, %v; want %q, then %q, %v", tt.s, b.String(), tt.s[end:], whole, tt.want, tt.end, tt.whole)
		}
	}
}
