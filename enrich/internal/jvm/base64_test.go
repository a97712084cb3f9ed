package jvm

import "testing"

func TestDecodeBase64(t *testing.T) {
	tests := []struct{ in, want string }{
		{"eyJhIjoxfQ", `{"a":1}`},
		{"eyJhIjoxfQ==", `{"a":1}`},
		{"eyJh\nIjox fQ", `{"a":1}`}, // non-alphabet characters skipped
		{"-_-_", "\xfb\xff\xbf"},     // URL-safe alphabet
		{"+/+/", "\xfb\xff\xbf"},     // standard alphabet
		{"QQ", "A"},                  // 12 bits: one byte
		{"QUI", "AB"},                // 18 bits: two bytes
		{"QR", "A"},                  // the dropped bits need not be zero
		{"QUJ\r\nD", "ABC"},          // line breaks skipped
		{"QUJDR", "ABC"},             // one leftover character ignored
		{"QU=JD", "A"},               // the first '=' ends the input
		{"", ""},
		{"!!!", ""},
		// Eight-character blocks, then what follows them.
		{"eyJhYmMiOjEyMzQ1Njc4fQ", `{"abc":12345678}`},
		{"eyJhYmMi\nOjEyMzQ1Njc4fQ", `{"abc":12345678}`},
		{"eyJhYmMiOjEy=MzQ1Njc4fQ", `{"abc":12`},
		{"eyJhYmMiOjEyMzQ1Njc4fQ==", `{"abc":12345678}`},
		{"+/+/-_-_+/+/", "\xfb\xff\xbf\xfb\xff\xbf\xfb\xff\xbf"},
	}
	for _, tt := range tests {
		if got := string(DecodeBase64(nil, tt.in)); got != tt.want {
			t.Errorf("DecodeBase64(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

// TestDecodeBase64Blocks puts a character outside the URL-safe alphabet at every place
// of a text several blocks long: the blocks before it, the one holding it and those
// after it must decode as commons-codec reads the whole.
func TestDecodeBase64Blocks(t *testing.T) {
	enc := EncodeBase64URL([]byte(`{"schema":"iglu:com.acme/x/jsonschema/1-0-0","data":{"a":"\u00e9"}}`))
	for i := range len(enc) {
		for _, c := range []string{"=", "\n", "+", "/", "!", ""} {
			in := enc[:i] + c + enc[i+1:]
			if got, want := string(DecodeBase64([]byte("x"), in)), "x"+string(decodeBase64Lenient(nil, in)); got != want {
				t.Errorf("DecodeBase64(\"x\", %q) = %q, want %q", in, got, want)
			}
		}
	}
}

func TestEncodeBase64URL(t *testing.T) {
	for _, in := range []string{"", "A", "AB", "ABC", "ABCD", "\xfb\xff\xbf\xfe"} {
		enc := EncodeBase64URL([]byte(in))
		if got := string(DecodeBase64(nil, enc)); got != in {
			t.Errorf("DecodeBase64(EncodeBase64URL(%q)=%q) = %q, want %q", in, enc, got, in)
		}
	}
	if got, want := EncodeBase64URL([]byte("\xfb\xff\xbf")), "-_-_"; got != want {
		t.Errorf("EncodeBase64URL = %q, want %q", got, want)
	}
}
