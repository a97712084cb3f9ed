package enrich

import (
	"testing"

	"github.com/snowplow-mini/snowplow-mini/enrich/internal/jvm"
)

func TestConvInt(t *testing.T) {
	tests := []struct{ in, want, msg string }{
		{"42", "42", ""},
		{"+7", "7", ""},
		{"-007", "-7", ""},
		{"2147483647", "2147483647", ""},
		{"2147483648", "", msgNotInteger},
		{"-2147483648", "-2147483648", ""},
		{"null", "", ""},
		{"NULL", "", ""},
		{"", "", msgNotInteger},
		{"1.0", "", msgNotInteger},
		{" 1", "", msgNotInteger},
		{"-", "", msgNotInteger},
		{"١٢", "12", ""}, // Arabic-Indic digits, as Character.digit accepts them
	}
	for _, tt := range tests {
		got, msg := convInt(tt.in)
		if got != tt.want || msg != tt.msg {
			t.Errorf("convInt(%q) = %q, %q, want %q, %q", tt.in, got, msg, tt.want, tt.msg)
		}
	}
}

func TestConvDecimal(t *testing.T) {
	tests := []struct{ in, want, msg string }{
		{"3", "3", ""},
		{"12.50", "12.50", ""},
		{"-0.00", "0.00", ""},
		{"1E+3", "1000", ""},
		{"1.5E+3", "1500", ""},
		{"1e3", "1000", ""},
		{"0.0000001", "1E-7", ""},
		{"0.00000010", "1.0E-7", ""},
		{"0.000001", "0.000001", ""},
		{"0.0000000", "0E-7", ""},
		{"123.456e-10", "1.23456E-8", ""},
		{"+5", "5", ""},
		{".5", "0.5", ""},
		{"5.", "5", ""},
		{"00012.50", "12.50", ""},
		{"null", "", ""},
		{"", "", msgNotDecimal + "null"},
		{"abc", "", msgNotDecimal + `Character a is neither a decimal digit number, decimal point, nor "e" notation exponential mark.`},
		{"1.2.3", "", msgNotDecimal + "Character array contains more than one decimal point."},
		{"-", "", msgNotDecimal + "No digits found."},
		{"1e", "", msgNotDecimal + "null"},
		{"1e+", "", msgNotDecimal + "No exponent digits."},
		{"1234567890123456789x", "", msgNotDecimal + `Character array is missing "exponent" mark 'e' or 'E'.`},
		{"12345678901234567890123", "12345678901234567890123", ""},
	}
	for _, tt := range tests {
		got, msg := convDecimal(tt.in)
		if got != tt.want || msg != tt.msg {
			t.Errorf("convDecimal(%q) = %q, %q, want %q, %q", tt.in, got, msg, tt.want, tt.msg)
		}
	}
}

func TestConvTstamp(t *testing.T) {
	tests := []struct{ in, want, msg string }{
		{"1", "1970-01-01 00:00:00.001", ""},
		{"1795313286453", "2026-11-22 02:08:06.453", ""},
		{"0", "1970-01-01 00:00:00.000", ""},
		{"-1", "1969-12-31 23:59:59.999", ""},
		{"v", "", msgNotTstamp},
		{"1.5", "", msgNotTstamp},
		{"1111111111111111", "", "Formatting as 37179-09-17 07:18:31.111 is not Redshift-compatible"},
		{"-62198755200000", "", "Formatting as -0001-01-01 00:00:00.000 is not Redshift-compatible"},
		{"-62167219200000", "0000-01-01 00:00:00.000", ""},
	}
	for _, tt := range tests {
		got, msg := convTstamp(tt.in)
		if got != tt.want || msg != tt.msg {
			t.Errorf("convTstamp(%q) = %q, %q, want %q, %q", tt.in, got, msg, tt.want, tt.msg)
		}
	}
}

func TestConvUUIDAndDims(t *testing.T) {
	if got, msg := convUUID("A729D278-110A-4AC6-845B-D1F12CE45AC7"); got != "a729d278-110a-4ac6-845b-d1f12ce45ac7" || msg != "" {
		t.Errorf("convUUID(upper) = %q, %q", got, msg)
	}
	if got, msg := convUUID("a729d278-110a-4Ac6-845b-d1f12ce45ac7"); got != "a729d278-110a-4ac6-845b-d1f12ce45ac7" || msg != "" {
		t.Errorf("convUUID(mixed) = %q, %q", got, msg)
	}
	if got, msg := convUUID("a729d278-110a-4ac6-845b-d1f12ce45ac7"); got != "a729d278-110a-4ac6-845b-d1f12ce45ac7" || msg != "" {
		t.Errorf("convUUID(lower) = %q, %q", got, msg)
	}
	for _, in := range []string{"", "1-1-1-1-1", "a729d278110a4ac6845bd1f12ce45ac7", "{a729d278-110a-4ac6-845b-d1f12ce45ac7}",
		"a729d278-110a-4ac6-845b-d1f12ce45a-7", "g729d278-110a-4ac6-845b-d1f12ce45ac7", "a729d278-110a-4ac6-845b-d1f12ce45acG",
		"a729d278-110a-4ac6-845b_d1f12ce45ac7"} {
		if _, msg := convUUID(in); msg != msgNotUUID {
			t.Errorf("convUUID(%q) msg = %q, want %q", in, msg, msgNotUUID)
		}
	}
	dims := []struct{ in, w, h, msg string }{
		{"1920x1080", "1920", "1080", ""},
		{"0x0", "0", "0", ""},
		{"01920x00", "1920", "0", ""},
		{"7x0001080", "7", "1080", ""},
		{"2147483647x2147483648", "", "", msgDimsInt},
		{"1920X1080", "", "", msgDimsRegex},
		{"x1", "", "", msgDimsRegex},
		{"1x", "", "", msgDimsRegex},
		{"1x2x3", "", "", msgDimsRegex},
		{"99999999999x1", "", "", msgDimsInt},
		{"", "", "", msgDimsRegex},
	}
	for _, tt := range dims {
		w, h, msg := convDims(tt.in)
		if w != tt.w || h != tt.h || msg != tt.msg {
			t.Errorf("convDims(%q) = %q, %q, %q, want %q, %q, %q", tt.in, w, h, msg, tt.w, tt.h, tt.msg)
		}
	}
}

func TestTsvSafeAndFirstIP(t *testing.T) {
	if got, want := tsvSafe("a\tb\r\nc\x7f\x00d"), "a    bcd"; got != want {
		t.Errorf("tsvSafe = %q, want %q", got, want)
	}
	ips := []struct{ in, want string }{
		{"1.2.3.4", "1.2.3.4"},
		{"1.2.3.4, 5.6.7.8", "1.2.3.4"},
		{"1.2.3.4|x", "1.2.3.4"},
		{" 1.2.3.4", ""},
		{"", ""},
	}
	for _, tt := range ips {
		if got := firstIP(tt.in); got != tt.want {
			t.Errorf("firstIP(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestDerivedTstamp(t *testing.T) {
	tests := []struct{ name, created, sent, collector, truth, want string }{
		{"no sent", "2014-04-29 12:00:54.555", "", "2014-04-29 09:00:54.000", "", "2014-04-29 09:00:54.000"},
		{"no created", "", "", "2014-04-29 09:00:54.000", "", "2014-04-29 09:00:54.000"},
		{"no collector", "", "", "", "", ""},
		{"sent before created", "2014-04-29 09:00:54.001", "2014-04-29 09:00:54.000", "2014-04-29 09:00:54.000", "", "2014-04-29 09:00:54.000"},
		{"sent after created", "2014-04-29 09:00:54.000", "2014-04-29 09:00:54.001", "2014-04-29 09:00:54.000", "", "2014-04-29 09:00:53.999"},
		{"true tstamp", "2014-04-29 09:00:54.001", "2014-04-29 09:00:54.000", "2014-04-29 09:00:54.000", "2000-01-01 00:00:00.000", "2000-01-01 00:00:00.000"},
		// One month and one day (Jan 31 -> Mar 1, 2024) taken off Mar 31 month-wise.
		{"month period", "2024-01-31 10:00:00.000", "2024-03-01 10:00:00.000", "2024-03-31 10:00:00.000", "", "2024-02-28 10:00:00.000"},
		{"year period", "2020-02-29 00:00:00.000", "2021-03-01 00:00:00.000", "2024-03-01 00:00:00.000", "", "2023-02-28 00:00:00.000"},
	}
	for _, tt := range tests {
		if got := derivedTstamp(tt.sent, tt.created, tt.collector, tt.truth, jvm.ParseMillis); got != tt.want {
			t.Errorf("%s: derivedTstamp = %q, want %q", tt.name, got, tt.want)
		}
	}
}

func TestExtractIP(t *testing.T) {
	re := newIPHeaderRegexps()
	tests := []struct {
		name    string
		headers []string
		want    string
	}{
		{"none", []string{"Host: a"}, "9.9.9.9"},
		{"xff", []string{"X-Forwarded-For: 1.2.3.4, 5.6.7.8", "Host: a"}, "1.2.3.4"},
		{"xff ipv6", []string{"X-Forwarded-For: 2001:DB8::1"}, "2001:db8::1"},
		{"forwarded last", []string{"Host: a", "Forwarded: for=1.2.3.4"}, "1.2.3.4"},
		{"forwarded forgotten", []string{"Forwarded: for=1.2.3.4", "Host: a"}, "9.9.9.9"},
		{"xff beats forwarded", []string{"Forwarded: for=1.2.3.4", "X-Forwarded-For: 5.6.7.8"}, "5.6.7.8"},
		{"xff unknown", []string{"X-Forwarded-For: unknown"}, "9.9.9.9"},
		{"forwarded quoted", []string{`Forwarded: for="[2001:db8::1]"`}, "2001:db8::1"},
	}
	for _, tt := range tests {
		if got := re.extractIP(tt.headers, "9.9.9.9"); got != tt.want {
			t.Errorf("%s: extractIP(%q) = %q, want %q", tt.name, tt.headers, got, tt.want)
		}
	}
}

// TestConvMemo holds a record's memory of conversions to the conversions themselves, on
// texts that repeat, differ, fail and come back, more of them than it keeps.
func TestConvMemo(t *testing.T) {
	var m convMemo
	for _, s := range []string{"1796530292736", "1796530292736", "x", "1796530292737", "1796530292736", "", "253402300800000", "1796530292737"} {
		got, gmsg := m.sentTstamp(s)
		want, wmsg := convTstamp(s)
		if got != want || gmsg != wmsg {
			t.Errorf("sentTstamp(%q) = %q, %q; convTstamp gives %q, %q", s, got, gmsg, want, wmsg)
		}
	}
	for _, s := range []string{"1903x969", "1903x969", "1512x862", "0x0", "1903x969", "01x2", "x1", "390x664", "412x781", "2560x1440", "1512x862", "99999999999x1"} {
		gw, gh, gmsg := m.dims(s)
		ww, wh, wmsg := convDims(s)
		if gw != ww || gh != wh || gmsg != wmsg {
			t.Errorf("dims(%q) = %q, %q, %q; convDims gives %q, %q, %q", s, gw, gh, gmsg, ww, wh, wmsg)
		}
	}
	for _, s := range []string{"2026-12-06 04:11:32.736", "2026-12-06 04:11:32.736", "x", "2026-12-06 04:11:33.000", "2026-12-06 04:11:34.000", "2026-12-06 04:11:32.736", "2026-12-06 04:11:33.000"} {
		gms, gok := m.parseMillis(s)
		wms, wok := jvm.ParseMillis(s)
		if gms != wms || gok != wok {
			t.Errorf("parseMillis(%q) = %d, %v; jvm.ParseMillis gives %d, %v", s, gms, gok, wms, wok)
		}
	}
}
