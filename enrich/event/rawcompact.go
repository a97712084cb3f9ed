package event

import (
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
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
//	                          4: the form refers to fields of the event's enriched row
//	                             (field f: Field f, its position in the enriched TSV)
//	name Vendor, name Version, name ContentType, name LoaderName, name Encoding,
//	str Hostname, [timestamp], str IPAddress, str UserAgent, str RefererURI, str UserID
//	  (with flag 4, IPAddress, UserAgent and UserID are each a uvarint x instead: x
//	  even, x/2 bytes follow, the string; x odd, the string is field (x-1)/2)
//	uvarint count, headers: uvarint h = 8·k + mode; k = 0: no header name, k > 0: the
//	  line starts with compactHeaderNames[k-1] + ": ", and the rest is
//	  mode 0: str; 1: the UserAgent; 2: the RefererURI; 3: str followed by the UserID;
//	  4 (k = 0 only): the ContentType
//	uvarint count, parameters: str name, uvarint v: 0 a nil value, otherwise
//	  v-1 = 8·length + mode, followed by length bytes: mode 0 the value itself, modes
//	  1-4 the bytes whose base64 (URL unpadded, URL padded, standard unpadded, standard
//	  padded) is the value; with flag 4 also mode 5: length is 2·f + s and the value
//	  is field f (s = 0) or, s = 1, a splice of it: uvarint a, uvarint n and str t
//	  follow, and the value is field[:a] + t + field[a+n:]; mode 6: length is
//	  8·f + 2·e + s and the value is the base64 (e = 0-3: as modes 1-4) of what mode 5
//	  gives for f and s
//	with flag 4, 4 bytes: the CRC-32C (Castagnoli, little-endian) of the fields the form
//	  refers to, each as a str, in the order it refers to them: a row whose fields are
//	  not those the form was made against does not read
//
// The tables below are part of the format: entries may be added at the end, never
// changed, removed or reordered, or stored events would read back differently.

// CompactRawMarker is the first byte of a compact RawEvent.
const CompactRawMarker = 0x01

const (
	compactHasMillis = 1 << iota
	compactHasSeconds
	compactRowRefs
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
	paramField
	paramFieldBase64
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
// value back (with the length check in appendCompactValue, which rejects the line
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
func (r *RawEvent) CompactString() string { return r.CompactRowString(nil) }

// CompactRowString is CompactString for AppendCompactRow.
func (r *RawEvent) CompactRowString(row *EnrichedEvent, decoded ...DecodedParam) string {
	bp := compactBufs.Get().(*[]byte)
	b := r.AppendCompactRow((*bp)[:0], row, decoded...)
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
func (r *RawEvent) AppendCompact(dst []byte) []byte { return r.AppendCompactRow(dst, nil) }

// AppendCompactRow is AppendCompact for a request stored beside row, its enriched
// event, whose fields the store keeps as they are: what the request repeats of them
// (cx is the contexts field but for the version of its envelope, ue_px the
// unstruct_event field, url the page_url…) is a reference to the field, and
// UnmarshalCompactRow needs the same fields to read it (a row with other values in
// them does not read). A nil row refers to nothing. decodedParams are parameter values
// with their decoding, which the caller has at hand (enrich decoded cx and ue_px): the
// same bytes are appended as without them, with less work.
func (r *RawEvent) AppendCompactRow(dst []byte, row *EnrichedEvent, decodedParams ...DecodedParam) []byte {
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
	refs := rowRefs{row: row}
	if row == nil {
		dst = appendCompactStr(dst, r.IPAddress)
		dst = appendCompactStr(dst, r.UserAgent)
		dst = appendCompactStr(dst, r.RefererURI)
		dst = appendCompactStr(dst, r.UserID)
	} else {
		dst[flagsAt] |= compactRowRefs
		dst = refs.appendStr(dst, r.IPAddress, UserIPAddress)
		dst = refs.appendStr(dst, r.UserAgent, UserAgent)
		dst = appendCompactStr(dst, r.RefererURI)
		dst = refs.appendStr(dst, r.UserID, NetworkUserID)
	}
	dst = binary.AppendUvarint(dst, uint64(len(r.Headers)))
	for _, h := range r.Headers {
		dst = r.appendCompactHeader(dst, h)
	}
	dst = binary.AppendUvarint(dst, uint64(len(r.Parameters)))
	for _, p := range r.Parameters {
		dst = appendCompactStr(dst, p.Name)
		if p.Value == nil {
			dst = append(dst, 0)
			continue
		}
		v, decoded := *p.Value, decodedOf(decodedParams, *p.Value)
		if f, ok := paramRowField(p.Name); ok && row != nil {
			dst = refs.appendParam(dst, v, f, decoded)
		} else {
			dst = appendCompactValue(dst, v, decoded)
		}
	}
	if row != nil {
		dst = binary.LittleEndian.AppendUint32(dst, refs.crc)
	}
	return dst
}

// paramRowField returns the field of the enriched event that holds the value of a
// tracker parameter as sent (tracker protocol), unless enrich changed it, or in the
// case of cx, co, ue_px and ue_pr, the self-describing JSON it holds (the contexts
// envelope's version becomes 1-0-1).
func paramRowField(name string) (Field, bool) {
	switch name {
	case "cx", "co":
		return Contexts, true
	case "ue_px", "ue_pr":
		return UnstructEvent, true
	case "url":
		return PageURL, true
	case "refr":
		return PageReferrer, true
	case "page":
		return PageTitle, true
	case "eid":
		return EventID, true
	case "duid":
		return DomainUserID, true
	case "sid":
		return DomainSessionID, true
	case "uid":
		return UserID, true
	case "tnuid":
		return NetworkUserID, true
	case "ua":
		return UserAgent, true
	case "ip":
		return UserIPAddress, true
	case "tz":
		return OSTimezone, true
	case "tv":
		return VTracker, true
	case "se_ca":
		return SeCategory, true
	case "se_ac":
		return SeAction, true
	case "se_la":
		return SeLabel, true
	case "se_pr":
		return SeProperty, true
	}
	return 0, false
}

// rowRefs keeps the CRC-32C of the fields of row a compact form refers to.
type rowRefs struct {
	row *EnrichedEvent
	crc uint32
}

// field returns field f of the row, counted as referred to.
func (w *rowRefs) field(f Field) string {
	v := w.row.Fields[f]
	// The length's uvarint a byte at a time (crc32.Update would move a buffer for it
	// to the heap), as crc32.Update does without a faster implementation.
	tab := castagnoli()
	crc := ^w.crc
	for n := uint64(len(v)); ; n >>= 7 {
		b := byte(n & 0x7f)
		if n >= 0x80 {
			b |= 0x80
		}
		crc = tab[byte(crc)^b] ^ crc>>8
		if n < 0x80 {
			break
		}
	}
	w.crc = crc32.Update(^crc, tab, unsafe.Slice(unsafe.StringData(v), len(v)))
	return v
}

// castagnoli is the table of the CRC-32C of row references: most processors compute it
// with an instruction, eight bytes at a time.
var castagnoli = sync.OnceValue(func() *crc32.Table { return crc32.MakeTable(crc32.Castagnoli) })

// appendStr appends s as a field reference (flag 4) to f, or as itself.
func (w *rowRefs) appendStr(dst []byte, s string, f Field) []byte {
	if s != "" && s == w.row.Fields[f] {
		w.field(f)
		return binary.AppendUvarint(dst, uint64(2*f+1))
	}
	dst = binary.AppendUvarint(dst, uint64(2*len(s)))
	return append(dst, s...)
}

// appendParam appends a parameter value v as a reference to field f (or a splice of
// it) when that is shorter, as appendCompactValue does otherwise. A base64 value (cx,
// ue_px) is compared decoded, as appendCompactValue keeps it: encoding the field
// instead costs more than decoding the value in encoding/base64.
func (w *rowRefs) appendParam(dst []byte, v string, f Field, decoded *string) []byte {
	field := w.row.Fields[f]
	if field == "" {
		return appendCompactValue(dst, v, decoded)
	}
	if v == field {
		w.field(f)
		return binary.AppendUvarint(dst, uint64(2*f)*paramModes+paramField+1)
	}
	at := len(dst)
	dst = appendCompactValue(dst, v, decoded)
	h, n := binary.Uvarint(dst[at:])
	val := dst[at+n:]
	var x uint64
	if mode := (h - 1) % paramModes; mode == paramPlain {
		x = uint64(2*f)*paramModes + paramField
	} else {
		// A base64 value is kept decoded: the JSON the field holds, spliced.
		x = uint64(8*int(f)+2*int(mode-paramURLRaw))*paramModes + paramFieldBase64
	}
	pre, suf := commonAffixes(unsafe.String(unsafe.SliceData(val), len(val)), field)
	lit := val[pre : len(val)-suf]
	if 2*(pre+suf) < len(val) {
		// Most of the value is not the field's (JSON that is not canonical, another
		// URL): it stays on its own rather than tie the stored request to the row for
		// a few bytes.
		return dst
	}
	if pre == len(field) && len(lit) == 0 {
		// Only a decoded value can be the field itself here.
		w.field(f)
		return binary.AppendUvarint(dst[:at], x+1)
	}
	// s = 1: the length's lowest bit.
	x += paramModes + 1
	if spliceLen(x, pre, len(field)-pre-suf, len(lit)) >= len(dst)-at {
		return dst
	}
	w.field(f)
	var hdr [4 * binary.MaxVarintLen64]byte
	hb := binary.AppendUvarint(hdr[:0], x)
	hb = binary.AppendUvarint(hb, uint64(pre))
	hb = binary.AppendUvarint(hb, uint64(len(field)-pre-suf))
	hb = binary.AppendUvarint(hb, uint64(len(lit)))
	// lit is in dst, after at: it moves first, then the header goes before it.
	copy(dst[at+len(hb):], lit)
	copy(dst[at:], hb)
	return dst[:at+len(hb)+len(lit)]
}

// spliceLen is the length of a parameter value header x and the splice a, n, lit.
func spliceLen(x uint64, a, n, lit int) int {
	return uvarintLen(x) + uvarintLen(uint64(a)) + uvarintLen(uint64(n)) + uvarintLen(uint64(lit)) + lit
}

// commonAffixes returns the length of the longest common prefix of a and b, and of
// the longest common suffix of what follows it in each. It compares ranges with ==, a
// vector loop, rather than byte by byte: the values are JSON of a kilobyte that
// usually differs in a byte or a few (the version of an envelope).
func commonAffixes(a, b string) (pre, suf int) {
	n := min(len(a), len(b))
	// a[:pre] == b[:pre], and the answer is at most n.
	for n-pre > 16 {
		if mid := pre + (n-pre+1)/2; a[pre:mid] == b[pre:mid] {
			pre = mid
		} else {
			n = mid - 1
		}
	}
	for pre < n && a[pre] == b[pre] {
		pre++
	}
	a, b = a[pre:], b[pre:]
	n = min(len(a), len(b))
	// What follows the first 8 bytes that differ is usually the rest of both; if not,
	// a[len(a)-suf:] == b[len(b)-suf:], and the answer is at most n.
	if m := max(n-8, 0); a[len(a)-m:] == b[len(b)-m:] {
		suf = m
	} else {
		for n = m - 1; n-suf > 16; {
			if mid := suf + (n-suf+1)/2; a[len(a)-mid:len(a)-suf] == b[len(b)-mid:len(b)-suf] {
				suf = mid
			} else {
				n = mid - 1
			}
		}
	}
	for suf < n && a[len(a)-suf-1] == b[len(b)-suf-1] {
		suf++
	}
	return pre, suf
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

// DecodedParam is a parameter value (cx, ue_px) with its decoding, which
// AppendCompactRow copies instead of decoding the value again: Value must be exactly the
// unpadded URL-safe base64 text of Bytes (what base64.RawURLEncoding.Strict() reads as
// Bytes, with no line break).
type DecodedParam struct{ Value, Bytes string }

// decodedOf returns the decoding of v among ds, or nil. One whose length cannot be its
// value's is ignored.
func decodedOf(ds []DecodedParam, v string) *string {
	for i := range ds {
		d := &ds[i]
		if len(d.Bytes) > 0 && d.Value == v && base64.RawURLEncoding.EncodedLen(len(d.Bytes)) == len(v) {
			return &d.Bytes
		}
	}
	return nil
}

// appendCompactValue appends a parameter value that is not nil. decoded, when not nil,
// is s's decoding (DecodedParam): s is then exactly its unpadded base64url text.
func appendCompactValue(dst []byte, s string, decoded *string) []byte {
	if len(s) >= minBase64Param {
		if decoded != nil {
			// What the strict decoder below would write for s, without decoding it.
			dst = binary.AppendUvarint(dst, uint64(len(*decoded)*paramModes+paramURLRaw)+1)
			return append(dst, *decoded...)
		}
		mode := base64Mode(s)
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

// base64Mode returns the parameter mode (1-4) of the base64 encoding s would be in.
func base64Mode(s string) int {
	mode := paramURLRaw
	if s[len(s)-1] == '=' {
		mode = paramURLPadded
	}
	if strings.IndexByte(s, '+') >= 0 || strings.IndexByte(s, '/') >= 0 {
		mode += paramStdRaw - paramURLRaw
	}
	return mode
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
// A form that refers to its row's fields (AppendCompactRow) does not read without them:
// see UnmarshalCompactRow.
func (r *RawEvent) UnmarshalCompact(data string) error { return r.UnmarshalCompactRow(data, nil) }

// UnmarshalCompactRow is UnmarshalCompact for a form stored beside row: the fields it
// refers to are row's (r's strings may refer to them, not copied). It fails when they
// are not those the form was made against.
func (r *RawEvent) UnmarshalCompactRow(data string, row *EnrichedEvent) error {
	d := compactReader{s: data}
	if d.byte() != CompactRawMarker {
		return fmt.Errorf("%w: no marker", ErrCompactRaw)
	}
	flags := d.byte()
	if flags&^(compactHasMillis|compactHasSeconds|compactRowRefs) != 0 || flags&(compactHasMillis|compactHasSeconds) == compactHasMillis|compactHasSeconds {
		return fmt.Errorf("%w: flags %#x", ErrCompactRaw, flags)
	}
	refs := rowRefs{row: row}
	hasRefs := flags&compactRowRefs != 0
	if hasRefs && row == nil {
		return fmt.Errorf("%w: it refers to the fields of its row", ErrCompactRaw)
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
	if hasRefs {
		r.IPAddress = d.refStr(&refs)
		r.UserAgent = d.refStr(&refs)
		r.RefererURI = d.str()
		r.UserID = d.refStr(&refs)
	} else {
		r.IPAddress = d.str()
		r.UserAgent = d.str()
		r.RefererURI = d.str()
		r.UserID = d.str()
	}
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
		var value string
		switch {
		case mode == paramPlain:
			value = d.bytes(n)
		case mode <= paramStdPadded:
			raw := d.bytes(n)
			value = compactBase64[mode].EncodeToString(unsafe.Slice(unsafe.StringData(raw), len(raw)))
		case mode == paramField && hasRefs:
			value = d.fieldValue(&refs, n/2, n%2 == 1)
		case mode == paramFieldBase64 && hasRefs:
			raw := d.fieldValue(&refs, n/8, n%2 == 1)
			value = compactBase64[paramURLRaw+n/2%4].EncodeToString(unsafe.Slice(unsafe.StringData(raw), len(raw)))
		default:
			d.fail()
		}
		params = append(params, NVP{Name: name, Value: &value})
	}
	if hasRefs {
		if c := d.bytes(4); !d.err && uint32(c[0])|uint32(c[1])<<8|uint32(c[2])<<16|uint32(c[3])<<24 != refs.crc {
			return fmt.Errorf("%w: its row's fields are not those it was stored with", ErrCompactRaw)
		}
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

// refStr reads a string that may be a field of the row (flag 4).
func (d *compactReader) refStr(refs *rowRefs) string {
	x := d.uvarint()
	if x&1 == 0 {
		return d.bytes(x / 2)
	}
	if x/2 >= NumFields {
		d.fail()
		return ""
	}
	return refs.field(Field(x / 2))
}

// fieldValue returns field f of the row, or, spliced, the splice that follows.
func (d *compactReader) fieldValue(refs *rowRefs, f uint64, spliced bool) string {
	if f >= NumFields {
		d.fail()
		return ""
	}
	v := refs.field(Field(f))
	if !spliced {
		return v
	}
	return d.splice(v)
}

// splice reads a splice and returns v spliced.
func (d *compactReader) splice(v string) string {
	a, n := d.uvarint(), d.uvarint()
	lit := d.str()
	if a > uint64(len(v)) || n > uint64(len(v))-a {
		d.fail()
		return ""
	}
	return v[:a] + lit + v[a+n:]
}

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
// kept before the compact form). row is the enriched event stored with it, for the
// fields a compact form may refer to (AppendCompactRow); nil when there is none.
// stored is not retained.
func AppendMicroJSONOf(dst, stored []byte, row *EnrichedEvent) ([]byte, error) {
	if !IsCompactRaw(stored) {
		return append(dst, stored...), nil
	}
	var r RawEvent
	if err := r.UnmarshalCompactRow(unsafe.String(unsafe.SliceData(stored), len(stored)), row); err != nil {
		return dst, err
	}
	return r.AppendMicroJSON(dst), nil
}
