package iglu

import (
	"strconv"
	"strings"
)

// FormatJSONSchema is the format of every event and entity schema.
const FormatJSONSchema = "jsonschema"

// SchemaVer is a SchemaVer version MODEL-REVISION-ADDITION. The zero value is not a valid
// version (MODEL starts at 1) and stands for "no version" where a field is optional.
type SchemaVer struct {
	Model, Revision, Addition int
}

// ParseSchemaVer parses "M-R-A" with MODEL ≥ 1 and no leading zeros. Any other input is
// a *ParseError with code INVALID_SCHEMAVER.
func ParseSchemaVer(s string) (SchemaVer, error) {
	v, ok := parseVersion(s)
	if !ok {
		return SchemaVer{}, &ParseError{Code: CodeInvalidSchemaVer, Input: s}
	}
	return v, nil
}

// IsZero reports whether v is the zero value (no version).
func (v SchemaVer) IsZero() bool { return v == SchemaVer{} }

// String returns "M-R-A".
func (v SchemaVer) String() string {
	return string(v.AppendText(make([]byte, 0, 8)))
}

// AppendText appends "M-R-A" to b.
func (v SchemaVer) AppendText(b []byte) []byte {
	b = strconv.AppendInt(b, int64(v.Model), 10)
	b = append(b, '-')
	b = strconv.AppendInt(b, int64(v.Revision), 10)
	b = append(b, '-')
	return strconv.AppendInt(b, int64(v.Addition), 10)
}

// MarshalText implements encoding.TextMarshaler ("M-R-A").
func (v SchemaVer) MarshalText() ([]byte, error) { return v.AppendText(nil), nil }

// UnmarshalText implements encoding.TextUnmarshaler.
func (v *SchemaVer) UnmarshalText(b []byte) error {
	p, err := ParseSchemaVer(string(b))
	if err != nil {
		return err
	}
	*v = p
	return nil
}

// Compare orders versions by model, then revision, then addition; it returns -1, 0 or +1.
func (v SchemaVer) Compare(w SchemaVer) int {
	switch {
	case v.Model != w.Model:
		return cmpInt(v.Model, w.Model)
	case v.Revision != w.Revision:
		return cmpInt(v.Revision, w.Revision)
	default:
		return cmpInt(v.Addition, w.Addition)
	}
}

func cmpInt(a, b int) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// SchemaKey identifies one schema: iglu:vendor/name/format/M-R-A.
type SchemaKey struct {
	Vendor  string
	Name    string
	Format  string
	Version SchemaVer
}

// ParseSchemaKey parses an Iglu URI with the rules of Snowplow's SchemaKey: vendor
// [a-zA-Z0-9-_.]+, name and format [a-zA-Z0-9-_]+, and a version M-R-A with M ≥ 1 and no
// leading zeros. A URI of the right shape whose version is wrong (0-1-0, 1-01-0, 1--0) is
// INVALID_SCHEMAVER; anything else is INVALID_IGLUURI. Errors are *ParseError.
func ParseSchemaKey(s string) (SchemaKey, error) {
	vendor, name, format, version, ok := splitIgluURI(s)
	if !ok || !isLooseVersion(version) {
		return SchemaKey{}, &ParseError{Code: CodeInvalidIgluURI, Input: s}
	}
	v, ok := parseVersion(version)
	if !ok {
		return SchemaKey{}, &ParseError{Code: CodeInvalidSchemaVer, Input: s}
	}
	return SchemaKey{Vendor: vendor, Name: name, Format: format, Version: v}, nil
}

// Validate reports whether k is a key ParseSchemaKey could return, and not a vendor
// made only of dots (which the grammar allows but which, as a path segment of a
// repository, names a relative directory). Errors are *ParseError with code
// INVALID_IGLUURI.
func (k SchemaKey) Validate() error {
	v := k.Version
	okVer := v.Model >= 1 && v.Model <= maxVersionPart && v.Revision >= 0 && v.Revision <= maxVersionPart && v.Addition >= 0 && v.Addition <= maxVersionPart
	if !validIdent(k.Vendor, true) || strings.Trim(k.Vendor, ".") == "" || !validIdent(k.Name, false) || !validIdent(k.Format, false) || !okVer {
		return &ParseError{Code: CodeInvalidIgluURI, Input: k.String()}
	}
	return nil
}

// String returns the Iglu URI "iglu:vendor/name/format/M-R-A".
func (k SchemaKey) String() string {
	return string(k.AppendText(make([]byte, 0, 5+len(k.Vendor)+len(k.Name)+len(k.Format)+9)))
}

// AppendText appends the Iglu URI to b.
func (k SchemaKey) AppendText(b []byte) []byte {
	b = append(b, "iglu:"...)
	return k.appendPath(b)
}

// Path returns "vendor/name/format/M-R-A", the key's path in a static repository under
// schemas/.
func (k SchemaKey) Path() string { return string(k.appendPath(nil)) }

func (k SchemaKey) appendPath(b []byte) []byte {
	b = append(b, k.Vendor...)
	b = append(b, '/')
	b = append(b, k.Name...)
	b = append(b, '/')
	b = append(b, k.Format...)
	b = append(b, '/')
	return k.Version.AppendText(b)
}

// MarshalText implements encoding.TextMarshaler (the Iglu URI).
func (k SchemaKey) MarshalText() ([]byte, error) { return k.AppendText(nil), nil }

// UnmarshalText implements encoding.TextUnmarshaler.
func (k *SchemaKey) UnmarshalText(b []byte) error {
	p, err := ParseSchemaKey(string(b))
	if err != nil {
		return err
	}
	*k = p
	return nil
}

// Compare orders keys by vendor, name, format (byte-wise) and then version.
func (k SchemaKey) Compare(o SchemaKey) int {
	if c := strings.Compare(k.Vendor, o.Vendor); c != 0 {
		return c
	}
	if c := strings.Compare(k.Name, o.Name); c != 0 {
		return c
	}
	if c := strings.Compare(k.Format, o.Format); c != 0 {
		return c
	}
	return k.Version.Compare(o.Version)
}

// Wildcard is the value of a Criterion version part written "*".
const Wildcard = -1

// Criterion selects schema keys, e.g. iglu:com.acme/x/jsonschema/1-*-*. A version part
// equal to Wildcard matches any value.
type Criterion struct {
	Vendor   string
	Name     string
	Format   string
	Model    int
	Revision int
	Addition int
}

// ParseCriterion parses iglu:vendor/name/format/M-R-A where each of M, R, A is a number
// (M ≥ 1, no leading zeros) or "*". Errors are *ParseError with code INVALID_IGLUURI.
func ParseCriterion(s string) (Criterion, error) {
	vendor, name, format, version, ok := splitIgluURI(s)
	if !ok {
		return Criterion{}, &ParseError{Code: CodeInvalidIgluURI, Input: s}
	}
	var parts [3]int
	for i := range parts {
		var p string
		if i < 2 {
			j := strings.IndexByte(version, '-')
			if j < 0 {
				return Criterion{}, &ParseError{Code: CodeInvalidIgluURI, Input: s}
			}
			p, version = version[:j], version[j+1:]
		} else {
			p = version
		}
		if p == "*" {
			parts[i] = Wildcard
			continue
		}
		n, ok := parseVersionPart(p, i == 0)
		if !ok {
			return Criterion{}, &ParseError{Code: CodeInvalidIgluURI, Input: s}
		}
		parts[i] = n
	}
	return Criterion{Vendor: vendor, Name: name, Format: format, Model: parts[0], Revision: parts[1], Addition: parts[2]}, nil
}

// Matches reports whether k has the criterion's vendor, name and format and every
// version part that is not a wildcard.
func (c Criterion) Matches(k SchemaKey) bool {
	return k.Vendor == c.Vendor && k.Name == c.Name && k.Format == c.Format &&
		(c.Model == Wildcard || c.Model == k.Version.Model) &&
		(c.Revision == Wildcard || c.Revision == k.Version.Revision) &&
		(c.Addition == Wildcard || c.Addition == k.Version.Addition)
}

// String returns the criterion as written, e.g. "iglu:com.acme/x/jsonschema/1-*-*".
func (c Criterion) String() string {
	b := make([]byte, 0, 5+len(c.Vendor)+len(c.Name)+len(c.Format)+9)
	b = append(b, "iglu:"...)
	b = append(b, c.Vendor...)
	b = append(b, '/')
	b = append(b, c.Name...)
	b = append(b, '/')
	b = append(b, c.Format...)
	b = append(b, '/')
	for i, p := range [3]int{c.Model, c.Revision, c.Addition} {
		if i > 0 {
			b = append(b, '-')
		}
		if p == Wildcard {
			b = append(b, '*')
		} else {
			b = strconv.AppendInt(b, int64(p), 10)
		}
	}
	return string(b)
}

// MarshalText implements encoding.TextMarshaler.
func (c Criterion) MarshalText() ([]byte, error) { return []byte(c.String()), nil }

// UnmarshalText implements encoding.TextUnmarshaler.
func (c *Criterion) UnmarshalText(b []byte) error {
	p, err := ParseCriterion(string(b))
	if err != nil {
		return err
	}
	*c = p
	return nil
}

// splitIgluURI splits "iglu:vendor/name/format/version" and checks the character sets of
// vendor, name and format. version is returned unchecked.
func splitIgluURI(s string) (vendor, name, format, version string, ok bool) {
	rest, found := strings.CutPrefix(s, "iglu:")
	if !found {
		return "", "", "", "", false
	}
	if vendor, rest, found = strings.Cut(rest, "/"); !found || !validIdent(vendor, true) {
		return "", "", "", "", false
	}
	if name, rest, found = strings.Cut(rest, "/"); !found || !validIdent(name, false) {
		return "", "", "", "", false
	}
	if format, version, found = strings.Cut(rest, "/"); !found || !validIdent(format, false) {
		return "", "", "", "", false
	}
	return vendor, name, format, version, true
}

// validIdent reports whether s is non-empty and made of [a-zA-Z0-9-_] (plus '.' when dot).
func validIdent(s string, dot bool) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9', c == '-', c == '_':
		case c == '.' && dot:
		default:
			return false
		}
	}
	return true
}

// isLooseVersion reports whether s matches [0-9]*-[0-9]*-[0-9]*.
func isLooseVersion(s string) bool {
	dashes := 0
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '-':
			dashes++
		case '0' <= c && c <= '9':
		default:
			return false
		}
	}
	return dashes == 2
}

// parseVersion parses a strict M-R-A.
func parseVersion(s string) (SchemaVer, bool) {
	m, rest, ok := strings.Cut(s, "-")
	if !ok {
		return SchemaVer{}, false
	}
	r, a, ok := strings.Cut(rest, "-")
	if !ok {
		return SchemaVer{}, false
	}
	var v SchemaVer
	if v.Model, ok = parseVersionPart(m, true); !ok {
		return SchemaVer{}, false
	}
	if v.Revision, ok = parseVersionPart(r, false); !ok {
		return SchemaVer{}, false
	}
	if v.Addition, ok = parseVersionPart(a, false); !ok {
		return SchemaVer{}, false
	}
	return v, true
}

// maxVersionPart keeps version numbers within a signed 32-bit integer, as in Snowplow's
// implementation (larger numbers are not versions anyone can publish).
const maxVersionPart = 1<<31 - 1

// parseVersionPart parses 0|[1-9][0-9]* (or [1-9][0-9]* when positive).
func parseVersionPart(s string, positive bool) (int, bool) {
	if s == "" || (len(s) > 1 && s[0] == '0') || len(s) > 10 {
		return 0, false
	}
	n := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int(c-'0')
	}
	if n > maxVersionPart || (positive && n == 0) {
		return 0, false
	}
	return n, true
}
