package event

import (
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"
	"unsafe"
)

// The compact form of a RawEvent is what the event store keeps of each good event's
// tracker request (the raw_event column): Micro's rawEvent JSON is rendered from it when
// the test API reads the event, with AppendMicroJSON, so the answer is the same as if the
// JSON had been stored. It costs a few copies to write where the JSON costs escaping
// every byte, and it is smaller: strings are length-prefixed, base64 parameter values
// (cx, ue_px) are kept decoded, and the headers refer to a fixed table of header names
// and to the user agent, referer and network user id they repeat.
//
// Layout (uvarint: encoding/binary's unsigned varint; str: uvarint length, then the
// bytes; name: uvarint 2n+1 for entry n of compactNames, or 2·length followed by the
// bytes):
//
//	0x01                      CompactRawMarker: no JSON text starts with it
//	flags byte                1: a timestamp in milliseconds follows (varint)
//	                          2: a timestamp in Unix seconds (varint) and nanoseconds
//	                             (uvarint) follows: outside the years 1 to 9999
//	name Vendor, name Version, name ContentType, name LoaderName, name Encoding,
//	str Hostname, [timestamp], str IPAddress, str UserAgent, str RefererURI, str UserID
//	uvarint count, headers: uvarint h = 8·k + mode; k = 0: no header name, k > 0: the
//	  line starts with compactHeaderNames[k-1] + ": ", and the rest is
//	  mode 0: str; 1: the UserAgent; 2: the RefererURI; 3: str followed by the UserID;
//	  4 (k = 0 only): the ContentType
//	uvarint count, parameters: str name, uvarint v: 0 a nil value, otherwise
//	  v-1 = 8·length + mode, followed by length bytes: mode 0 the value itself, modes
//	  1-4 the bytes whose base64 (URL unpadded, URL padded, standard unpadded, standard
//	  padded) is the value
//
// The tables below are part of the format: entries may be added at the end, never
// changed, removed or reordered, or stored events would read back differently.

// CompactRawMarker is the first byte of a compact RawEvent.
const CompactRawMarker = 0x01

const (
	compactHasMillis = 1 << iota
	compactHasSeconds
)

// Header value modes.
const (
	hdrLiteral = iota
	hdrUserAgent
	hdrReferer
	hdrUserIDSuffix
	hdrContentType
	hdrModes = 8
)

// Parameter value modes.
const (
	paramPlain = iota
	paramURLRaw
	paramURLPadded
	paramStdRaw
	paramStdPadded
	paramModes = 8
)

// compactNames are the vendor, version, content type, collector and encoding values
// stored as their index.
var compactNames = [...]string{
	"com.snowplowanalytics.snowplow",
	"tp1",
	"tp2",
	"UTF-8",
	"application/json",
	"application/json; charset=utf-8",
	"application/json; charset=UTF-8",
	"application/x-www-form-urlencoded",
	"application/x-www-form-urlencoded; charset=UTF-8",
	"text/plain",
	"text/plain;charset=UTF-8",
	"com.snowplowanalytics.iglu",
	"v1",
	"iglu",
}

// compactHeaderNames are the header names stored as their index (as net/http
// canonicalizes them).
var compactHeaderNames = [...]string{
	"Host",
	"Accept",
	"Accept-Encoding",
	"Accept-Language",
	"Cache-Control",
	"Connection",
	"Content-Length",
	"Content-Type",
	"Cookie",
	"Dnt",
	"Origin",
	"Pragma",
	"Priority",
	"Referer",
	"Sec-Ch-Ua",
	"Sec-Ch-Ua-Mobile",
	"Sec-Ch-Ua-Platform",
	"Sec-Fetch-Dest",
	"Sec-Fetch-Mode",
	"Sec-Fetch-Site",
	"Sec-Gpc",
	"Te",
	"Upgrade-Insecure-Requests",
	"User-Agent",
	"Via",
	"X-Forwarded-For",
	"X-Forwarded-Proto",
	"X-Real-Ip",
	"Sp-Anonymous",
}

func compactNameIndex(s string) int {
	switch s {
	case "com.snowplowanalytics.snowplow":
		return 0
	case "tp1":
		return 1
	case "tp2":
		return 2
	case "UTF-8":
		return 3
	case "application/json":
		return 4
	case "application/json; charset=utf-8":
		return 5
	case "application/json; charset=UTF-8":
		return 6
	case "application/x-www-form-urlencoded":
		return 7
	case "application/x-www-form-urlencoded; charset=UTF-8":
		return 8
	case "text/plain":
		return 9
	case "text/plain;charset=UTF-8":
		return 10
	case "com.snowplowanalytics.iglu":
		return 11
	case "v1":
		return 12
	case "iglu":
		return 13
	}
	return -1
}

// compactHeaderIndex returns the position of a header name in compactHeaderNames plus
// one, 0 when it is not there.
func compactHeaderIndex(name string) int {
	switch name {
	case "Host":
		return 1
	case "Accept":
		return 2
	case "Accept-Encoding":
		return 3
	case "Accept-Language":
		return 4
	case "Cache-Control":
		return 5
	case "Connection":
		return 6
	case "Content-Length":
		return 7
	case "Content-Type":
		return 8
	case "Cookie":
		return 9
	case "Dnt":
		return 10
	case "Origin":
		return 11
	case "Pragma":
		return 12
	case "Priority":
		return 13
	case "Referer":
		return 14
	case "Sec-Ch-Ua":
		return 15
	case "Sec-Ch-Ua-Mobile":
		return 16
	case "Sec-Ch-Ua-Platform":
		return 17
	case "Sec-Fetch-Dest":
		return 18
	case "Sec-Fetch-Mode":
		return 19
	case "Sec-Fetch-Site":
		return 20
	case "Sec-Gpc":
		return 21
	case "Te":
		return 22
	case "Upgrade-Insecure-Requests":
		return 23
	case "User-Agent":
		return 24
	case "Via":
		return 25
	case "X-Forwarded-For":
		return 26
	case "X-Forwarded-Proto":
		return 27
	case "X-Real-Ip":
		return 28
	case "Sp-Anonymous":
		return 29
	}
	return 0
}

// The collector timestamps that fit in milliseconds and render as four-digit years.
var (
	minCompactMillis = time.Date(1, 1, 1, 0, 0, 0, 0, time.UTC).UnixMilli()
	maxCompactMillis = time.Date(9999, 12, 31, 23, 59, 59, 999e6, time.UTC).UnixMilli()
)

// base64 encodings of parameter modes 1-4. Strict: decoding then encoding gives the
// value back (with the length check in appendCompactParam, which rejects the line
// breaks the decoder skips).
var compactBase64 = [...]*base64.Encoding{
	paramURLRaw:    base64.RawURLEncoding.Strict(),
	paramURLPadded: base64.URLEncoding.Strict(),
	paramStdRaw:    base64.RawStdEncoding.Strict(),
	paramStdPadded: base64.StdEncoding.Strict(),
}

// minBase64Param is the shortest parameter value tried as base64: shorter ones gain
// little and are mostly not base64.
const minBase64Param = 32

// CompactString returns the compact form of r (see AppendCompact) as a string of
// exactly its length: it is kept until the event is stored, and is counted by its
// length.
func (r *RawEvent) CompactString() string {
	bp := compactBufs.Get().(*[]byte)
	b := r.AppendCompact((*bp)[:0])
	s := string(b)
	if cap(b) <= maxPooledCompact {
		*bp = b
		compactBufs.Put(bp)
	}
	return s
}

// compactBufs are the scratch buffers of CompactString; maxPooledCompact is the largest
// one kept.
var compactBufs = sync.Pool{New: func() any { return new([]byte) }}

const maxPooledCompact = 64 << 10

// AppendCompact appends the compact form of r, from which UnmarshalCompact gives back
// a RawEvent that renders the same Micro JSON (AppendMicroJSON), bad-row JSON
// (AppendJSON) and parameter values as r.
func (r *RawEvent) AppendCompact(dst []byte) []byte {
	dst = append(dst, CompactRawMarker, 0)
	flagsAt := len(dst) - 1
	dst = appendCompactName(dst, r.Vendor)
	dst = appendCompactName(dst, r.Version)
	dst = appendCompactName(dst, r.ContentType)
	dst = appendCompactName(dst, r.LoaderName)
	dst = appendCompactName(dst, r.Encoding)
	dst = appendCompactStr(dst, r.Hostname)
	if !r.Timestamp.IsZero() {
		if ms := r.Timestamp.UnixMilli(); ms >= minCompactMillis && ms <= maxCompactMillis {
			dst[flagsAt] |= compactHasMillis
			dst = binary.AppendVarint(dst, ms)
		} else {
			dst[flagsAt] |= compactHasSeconds
			dst = binary.AppendVarint(dst, r.Timestamp.Unix())
			dst = binary.AppendUvarint(dst, uint64(r.Timestamp.Nanosecond()))
		}
	}
	dst = appendCompactStr(dst, r.IPAddress)
	dst = appendCompactStr(dst, r.UserAgent)
	dst = appendCompactStr(dst, r.RefererURI)
	dst = appendCompactStr(dst, r.UserID)
	dst = binary.AppendUvarint(dst, uint64(len(r.Headers)))
	for _, h := range r.Headers {
		dst = r.appendCompactHeader(dst, h)
	}
	dst = binary.AppendUvarint(dst, uint64(len(r.Parameters)))
	for _, p := range r.Parameters {
		dst = appendCompactStr(dst, p.Name)
		dst = appendCompactParam(dst, p.Value)
	}
	return dst
}

func appendCompactStr(dst []byte, s string) []byte {
	dst = binary.AppendUvarint(dst, uint64(len(s)))
	return append(dst, s...)
}

func appendCompactName(dst []byte, s string) []byte {
	if i := compactNameIndex(s); i >= 0 {
		return binary.AppendUvarint(dst, uint64(2*i+1))
	}
	dst = binary.AppendUvarint(dst, uint64(2*len(s)))
	return append(dst, s...)
}

func (r *RawEvent) appendCompactHeader(dst []byte, h string) []byte {
	k, rest := 0, h
	if i := strings.IndexByte(h, ':'); i > 0 && i+1 < len(h) && h[i+1] == ' ' {
		if k = compactHeaderIndex(h[:i]); k > 0 {
			rest = h[i+2:]
		}
	}
	switch {
	case k > 0 && r.UserAgent != "" && rest == r.UserAgent:
		return binary.AppendUvarint(dst, uint64(k*hdrModes+hdrUserAgent))
	case k > 0 && r.RefererURI != "" && rest == r.RefererURI:
		return binary.AppendUvarint(dst, uint64(k*hdrModes+hdrReferer))
	case k > 0 && r.UserID != "" && strings.HasSuffix(rest, r.UserID):
		dst = binary.AppendUvarint(dst, uint64(k*hdrModes+hdrUserIDSuffix))
		return appendCompactStr(dst, rest[:len(rest)-len(r.UserID)])
	case k == 0 && r.ContentType != "" && h == r.ContentType:
		return binary.AppendUvarint(dst, hdrContentType)
	}
	dst = binary.AppendUvarint(dst, uint64(k*hdrModes+hdrLiteral))
	return appendCompactStr(dst, rest)
}

func appendCompactParam(dst []byte, v *string) []byte {
	if v == nil {
		return append(dst, 0)
	}
	s := *v
	if len(s) >= minBase64Param {
		mode := paramURLRaw
		if s[len(s)-1] == '=' {
			mode = paramURLPadded
		}
		if strings.IndexByte(s, '+') >= 0 || strings.IndexByte(s, '/') >= 0 {
			mode += paramStdRaw - paramURLRaw
		}
		enc := compactBase64[mode]
		n := enc.DecodedLen(len(s))
		// The header's length is that of the decoded bytes, at most n: reserve
		// the most bytes n's header can take and move the bytes if it takes fewer.
		hdrMax := uvarintLen(uint64(n*paramModes+mode) + 1)
		at := len(dst)
		dst = growBytes(dst, hdrMax+n)
		m, err := enc.Decode(dst[at+hdrMax:at+hdrMax+n], unsafe.Slice(unsafe.StringData(s), len(s)))
		if err == nil && enc.EncodedLen(m) == len(s) {
			h := binary.AppendUvarint(dst[at:at], uint64(m*paramModes+mode)+1)
			copy(dst[at+len(h):], dst[at+hdrMax:at+hdrMax+m])
			return dst[:at+len(h)+m]
		}
		dst = dst[:at]
	}
	dst = binary.AppendUvarint(dst, uint64(len(s)*paramModes+paramPlain)+1)
	return append(dst, s...)
}

func uvarintLen(x uint64) int {
	n := 1
	for x >= 0x80 {
		x >>= 7
		n++
	}
	return n
}

// growBytes returns b extended by n bytes (their content undefined).
func growBytes(b []byte, n int) []byte {
	if cap(b)-len(b) < n {
		nb := make([]byte, len(b), 2*cap(b)+n)
		copy(nb, b)
		b = nb
	}
	return b[:len(b)+n]
}

// ErrCompactRaw is returned for data that is not a compact RawEvent.
var ErrCompactRaw = errors.New("malformed compact raw event")

// IsCompactRaw reports whether data is in the compact form rather than JSON.
func IsCompactRaw(data []byte) bool { return len(data) > 0 && data[0] == CompactRawMarker }

// UnmarshalCompact sets r to the RawEvent of its compact form data. r's strings refer
// to data (not copied) except the values of base64 parameters; r's slices are reused.
func (r *RawEvent) UnmarshalCompact(data string) error {
	d := compactReader{s: data}
	if d.byte() != CompactRawMarker {
		return fmt.Errorf("%w: no marker", ErrCompactRaw)
	}
	flags := d.byte()
	if flags&^(compactHasMillis|compactHasSeconds) != 0 || flags == compactHasMillis|compactHasSeconds {
		return fmt.Errorf("%w: flags %#x", ErrCompactRaw, flags)
	}
	params, headers := r.Parameters[:0], r.Headers[:0]
	*r = RawEvent{}
	r.Vendor = d.name()
	r.Version = d.name()
	r.ContentType = d.name()
	r.LoaderName = d.name()
	r.Encoding = d.name()
	r.Hostname = d.str()
	switch {
	case flags&compactHasMillis != 0:
		ms := d.varint()
		if ms < minCompactMillis || ms > maxCompactMillis {
			d.fail()
		}
		r.Timestamp = time.UnixMilli(ms).UTC()
	case flags&compactHasSeconds != 0:
		sec, nsec := d.varint(), d.uvarint()
		if nsec >= 1e9 {
			d.fail()
		}
		r.Timestamp = time.Unix(sec, int64(nsec)).UTC()
	}
	r.IPAddress = d.str()
	r.UserAgent = d.str()
	r.RefererURI = d.str()
	r.UserID = d.str()
	nh := d.count()
	for range nh {
		h := d.uvarint()
		k, mode := h/hdrModes, h%hdrModes
		var prefix string
		if k > 0 {
			if k > uint64(len(compactHeaderNames)) {
				d.fail()
				break
			}
			prefix = compactHeaderNames[k-1] + ": "
		}
		var rest string
		switch {
		case mode == hdrLiteral:
			rest = d.str()
		case mode == hdrUserAgent && k > 0:
			rest = r.UserAgent
		case mode == hdrReferer && k > 0:
			rest = r.RefererURI
		case mode == hdrUserIDSuffix && k > 0:
			rest = d.str() + r.UserID
		case mode == hdrContentType && k == 0:
			rest = r.ContentType
		default:
			d.fail()
		}
		if prefix != "" {
			rest = prefix + rest
		}
		headers = append(headers, rest)
	}
	np := d.count()
	for range np {
		name := d.str()
		v := d.uvarint()
		if v == 0 {
			params = append(params, NVP{Name: name})
			continue
		}
		v--
		n, mode := v/paramModes, int(v%paramModes)
		raw := d.bytes(n)
		var value string
		switch {
		case mode == paramPlain:
			value = raw
		case mode <= paramStdPadded:
			value = compactBase64[mode].EncodeToString(unsafe.Slice(unsafe.StringData(raw), len(raw)))
		default:
			d.fail()
		}
		params = append(params, NVP{Name: name, Value: &value})
	}
	if d.err || d.off != len(d.s) {
		return ErrCompactRaw
	}
	r.Headers, r.Parameters = headers, params
	return nil
}

// compactReader reads the parts of a compact RawEvent; past the first error it
// returns zero values and keeps err set.
type compactReader struct {
	s   string
	off int
	err bool
}

func (d *compactReader) fail() { d.err, d.off = true, len(d.s) }

func (d *compactReader) byte() byte {
	if d.off >= len(d.s) {
		d.fail()
		return 0
	}
	d.off++
	return d.s[d.off-1]
}

func (d *compactReader) uvarint() uint64 {
	var x uint64
	for shift := 0; shift < 64; shift += 7 {
		c := d.byte()
		if d.err {
			return 0
		}
		x |= uint64(c&0x7f) << shift
		if c < 0x80 {
			return x
		}
	}
	d.fail()
	return 0
}

func (d *compactReader) varint() int64 {
	u := d.uvarint()
	x := int64(u >> 1)
	if u&1 != 0 {
		x = ^x
	}
	return x
}

// count reads a number of items that each take at least one byte.
func (d *compactReader) count() int {
	n := d.uvarint()
	if n > uint64(len(d.s)-d.off) {
		d.fail()
		return 0
	}
	return int(n)
}

func (d *compactReader) bytes(n uint64) string {
	if n > uint64(len(d.s)-d.off) {
		d.fail()
		return ""
	}
	s := d.s[d.off : d.off+int(n)]
	d.off += int(n)
	return s
}

func (d *compactReader) str() string { return d.bytes(d.uvarint()) }

func (d *compactReader) name() string {
	h := d.uvarint()
	if h&1 == 1 {
		if h/2 >= uint64(len(compactNames)) {
			d.fail()
			return ""
		}
		return compactNames[h/2]
	}
	return d.bytes(h / 2)
}

// AppendMicroJSONOf appends Micro's rawEvent JSON of a stored raw event: the rendering
// of a compact form, or stored itself when it is not one (the JSON that event stores
// kept before the compact form). stored is not retained.
func AppendMicroJSONOf(dst, stored []byte) ([]byte, error) {
	if !IsCompactRaw(stored) {
		return append(dst, stored...), nil
	}
	var r RawEvent
	if err := r.UnmarshalCompact(unsafe.String(unsafe.SliceData(stored), len(stored))); err != nil {
		return dst, err
	}
	return r.AppendMicroJSON(dst), nil
}
