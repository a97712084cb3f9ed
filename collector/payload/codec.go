package payload

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"unsafe"

	"github.com/apache/thrift/lib/go/thrift"
)

// Thrift field ids of collector-payload-1 (see collector-payload.thrift). The ids in the
// idl string of the iglu-central CollectorPayload schema are obsolete and must not be used.
const (
	idSchema        = 31337
	idIPAddress     = 100
	idTimestamp     = 200
	idEncoding      = 210
	idCollector     = 220
	idUserAgent     = 300
	idRefererURI    = 310
	idPath          = 320
	idQuerystring   = 330
	idBody          = 340
	idHeaders       = 350
	idContentType   = 360
	idHostname      = 400
	idNetworkUserID = 410
)

// ErrMalformed is wrapped by every error Decode returns for input that is not a
// CollectorPayload in Thrift binary form.
var ErrMalformed = errors.New("malformed collector payload")

// Size returns the number of bytes Encode produces for p. It lets a caller size a
// buffer, or check a record limit, without encoding.
func Size(p *CollectorPayload) int {
	const fieldHeader = 3 // type i8 + id i16
	const str = fieldHeader + 4
	n := 1 // STOP
	n += str + len(p.Schema)
	n += str + len(p.IPAddress)
	n += fieldHeader + 8
	n += str + len(p.Encoding)
	n += str + len(p.Collector)
	for _, s := range []string{p.UserAgent, p.RefererURI, p.Path, p.Body, p.ContentType, p.Hostname, p.NetworkUserID} {
		if s != "" {
			n += str + len(s)
		}
	}
	n += str + len(p.Querystring)
	if p.Headers != nil {
		n += fieldHeader + 1 + 4
		for _, h := range p.Headers {
			n += 4 + len(h)
		}
	}
	return n
}

// SizeBody is Size for the payload that EncodeBody(p, body) encodes.
func SizeBody(p *CollectorPayload, body []byte) int {
	q := *p
	q.Body = ""
	n := Size(&q)
	if len(body) > 0 {
		n += 3 + 4 + len(body)
	}
	return n
}

// Encode serialises p as one Thrift struct with TBinaryProtocol (strict, big-endian, no
// message envelope), as Snowplow's TSerializer does. The result is a fresh slice of
// exactly Size(p) bytes that the caller owns.
//
// The five default-requiredness fields (schema, ipAddress, timestamp, encoding,
// collector) are always written; optional string fields are written when not empty,
// Querystring always, and Headers when not nil (an empty, non-nil list is written as an
// empty list). Fields are written in ascending id order; readers must not depend on it.
func Encode(p *CollectorPayload) ([]byte, error) {
	return AppendEncode(make([]byte, 0, Size(p)), p)
}

// EncodeBody is Encode for a payload whose body the caller holds as bytes: it encodes
// p with body as its body field (p.Body is ignored), sparing a large body the copy into
// a string. body must be valid UTF-8, as a Thrift string is.
func EncodeBody(p *CollectorPayload, body []byte) ([]byte, error) {
	return appendEncode(make([]byte, 0, SizeBody(p, body)), p, body, true)
}

// AppendEncodeBody appends the encoding of EncodeBody(p, body) to dst, so that a
// caller can reuse a buffer.
func AppendEncodeBody(dst []byte, p *CollectorPayload, body []byte) ([]byte, error) {
	return appendEncode(dst, p, body, true)
}

// AppendEncode appends the encoding of p (see Encode) to dst and returns the extended
// slice, so that a caller can reuse a buffer.
func AppendEncode(dst []byte, p *CollectorPayload) ([]byte, error) {
	return appendEncode(dst, p, nil, false)
}

func appendEncode(dst []byte, p *CollectorPayload, body []byte, bodyBytes bool) ([]byte, error) {
	if p == nil {
		return dst, errors.New("encoding collector payload: nil payload")
	}
	for _, h := range p.Headers {
		if len(h) > maxInt32 {
			return dst, fmt.Errorf("encoding collector payload: header of %d bytes is too long for Thrift", len(h))
		}
	}
	if n := SizeBody(p, body) + len(p.Body); n > maxInt32 {
		return dst, fmt.Errorf("encoding collector payload: %d bytes is too long for Thrift", n)
	}
	buf := &thrift.TMemoryBuffer{Buffer: bytes.NewBuffer(dst)}
	e := encoder{w: thrift.NewTBinaryProtocolConf(buf, &thrift.TConfiguration{}), ctx: context.Background()}
	e.str(idIPAddress, p.IPAddress)
	e.i64(idTimestamp, p.Timestamp)
	e.str(idEncoding, p.Encoding)
	e.str(idCollector, p.Collector)
	e.optStr(idUserAgent, p.UserAgent)
	e.optStr(idRefererURI, p.RefererURI)
	e.optStr(idPath, p.Path)
	e.str(idQuerystring, p.Querystring)
	if bodyBytes {
		e.optBytes(idBody, body)
	} else {
		e.optStr(idBody, p.Body)
	}
	if p.Headers != nil {
		e.list(idHeaders, p.Headers)
	}
	e.optStr(idContentType, p.ContentType)
	e.optStr(idHostname, p.Hostname)
	e.optStr(idNetworkUserID, p.NetworkUserID)
	e.str(idSchema, p.Schema)
	e.keep(e.w.WriteFieldStop(e.ctx))
	if e.err != nil {
		return dst, fmt.Errorf("encoding collector payload: %w", e.err)
	}
	return buf.Bytes(), nil
}

// encoder keeps the first write error. Writes to a TMemoryBuffer do not fail and every
// length is checked before encoding starts, so err stays nil unless the library changes.
type encoder struct {
	w   *thrift.TBinaryProtocol
	ctx context.Context
	err error
}

func (e *encoder) keep(err error) {
	if e.err == nil {
		e.err = err
	}
}

func (e *encoder) str(id int16, v string) {
	e.keep(e.w.WriteFieldBegin(e.ctx, "", thrift.STRING, id))
	e.keep(e.w.WriteString(e.ctx, v))
}

func (e *encoder) optStr(id int16, v string) {
	if v != "" {
		e.str(id, v)
	}
}

func (e *encoder) optBytes(id int16, v []byte) {
	if len(v) > 0 {
		e.keep(e.w.WriteFieldBegin(e.ctx, "", thrift.STRING, id))
		e.keep(e.w.WriteBinary(e.ctx, v))
	}
}

func (e *encoder) i64(id int16, v int64) {
	e.keep(e.w.WriteFieldBegin(e.ctx, "", thrift.I64, id))
	e.keep(e.w.WriteI64(e.ctx, v))
}

func (e *encoder) list(id int16, vs []string) {
	e.keep(e.w.WriteFieldBegin(e.ctx, "", thrift.LIST, id))
	e.keep(e.w.WriteListBegin(e.ctx, thrift.STRING, len(vs)))
	for _, v := range vs {
		e.keep(e.w.WriteString(e.ctx, v))
	}
}

const maxInt32 = 1<<31 - 1

// Decode parses one CollectorPayload written with TBinaryProtocol. Like the generated
// Java reader it ignores field order, skips fields with unknown ids (or a known id
// with an unexpected type), and ignores bytes after the closing STOP. Every declared
// string, list or skipped container length is bounded by the size of data, so garbage
// costs no more memory than its own length. Errors wrap ErrMalformed.
//
// The body, nearly all of a tracker's record, is not copied: p.Body shares data's memory,
// so data must not be modified while p or any part of its body is in use. Records read
// from a stream are never modified (streams.Stream.Read), so enrich decodes them in
// place. The other fields are copies, small strings that may outlive the record (a cache
// key, an event id) without holding on to it.
func Decode(data []byte) (*CollectorPayload, error) {
	buf := &thrift.TMemoryBuffer{Buffer: bytes.NewBuffer(data)}
	limit := int32(min(len(data), maxInt32))
	r := thrift.NewTBinaryProtocolConf(buf, &thrift.TConfiguration{
		MaxMessageSize:   limit,
		MaxFrameSize:     limit,
		MaxContainerSize: limit,
	})
	d := decoder{r: r, buf: buf.Buffer, ctx: context.Background()}
	p := &CollectorPayload{}
	for {
		_, typ, id, err := r.ReadFieldBegin(d.ctx)
		if err != nil {
			return nil, malformed("reading field header", err)
		}
		if typ == thrift.STOP {
			return p, nil
		}
		if err := d.field(p, typ, id); err != nil {
			return nil, malformed(fmt.Sprintf("reading field %d", id), err)
		}
	}
}

func malformed(what string, err error) error {
	return fmt.Errorf("%w: %s: %w", ErrMalformed, what, err)
}

// decoder reads field headers and skips unknown fields with the thrift library, and
// takes string values straight from the input buffer (one copy, no intermediate
// growth; none for the body) after checking their declared length against what is left.
type decoder struct {
	r   *thrift.TBinaryProtocol
	buf *bytes.Buffer
	ctx context.Context
}

func (d *decoder) field(p *CollectorPayload, typ thrift.TType, id int16) error {
	var dst *string
	switch id {
	case idSchema:
		dst = &p.Schema
	case idIPAddress:
		dst = &p.IPAddress
	case idEncoding:
		dst = &p.Encoding
	case idCollector:
		dst = &p.Collector
	case idUserAgent:
		dst = &p.UserAgent
	case idRefererURI:
		dst = &p.RefererURI
	case idPath:
		dst = &p.Path
	case idQuerystring:
		dst = &p.Querystring
	case idBody:
		if typ != thrift.STRING {
			return d.r.Skip(d.ctx, typ)
		}
		b, err := d.bytes()
		p.Body = unsafe.String(unsafe.SliceData(b), len(b))
		return err
	case idContentType:
		dst = &p.ContentType
	case idHostname:
		dst = &p.Hostname
	case idNetworkUserID:
		dst = &p.NetworkUserID
	case idTimestamp:
		if typ != thrift.I64 {
			return d.r.Skip(d.ctx, typ)
		}
		v, err := d.r.ReadI64(d.ctx)
		p.Timestamp = v
		return err
	case idHeaders:
		if typ != thrift.LIST {
			return d.r.Skip(d.ctx, typ)
		}
		return d.headers(p)
	default:
		return d.r.Skip(d.ctx, typ)
	}
	if typ != thrift.STRING {
		// Like the generated reader, a known id with another type is skipped.
		return d.r.Skip(d.ctx, typ)
	}
	v, err := d.string()
	*dst = v
	return err
}

func (d *decoder) string() (string, error) {
	b, err := d.bytes()
	return string(b), err
}

// bytes returns the next string's bytes in the input buffer, not copied.
func (d *decoder) bytes() ([]byte, error) {
	n, err := d.r.ReadI32(d.ctx)
	if err != nil {
		return nil, err
	}
	if n < 0 {
		return nil, fmt.Errorf("negative string length %d", n)
	}
	if int(n) > d.buf.Len() {
		return nil, fmt.Errorf("string length %d exceeds the %d bytes left", n, d.buf.Len())
	}
	return d.buf.Next(int(n)), nil
}

func (d *decoder) headers(p *CollectorPayload) error {
	elem, n, err := d.r.ReadListBegin(d.ctx)
	if err != nil {
		return err
	}
	if elem != thrift.STRING {
		// Like the generated reader, a list of the wrong element type is read as if it
		// were not there.
		for range n {
			if err := d.r.Skip(d.ctx, elem); err != nil {
				return err
			}
		}
		return nil
	}
	// ReadListBegin checked n against the bytes left (4 bytes per element at least),
	// so this allocation is bounded by the input size.
	hs := make([]string, 0, n)
	for range n {
		h, err := d.string()
		if err != nil {
			return err
		}
		hs = append(hs, h)
	}
	p.Headers = hs
	return nil
}

// String renders p as the toString() of the generated Java class does
// (CollectorPayload(schema:…, ipAddress:…, …)): fields in IDL order, optional fields only
// when set, lists as [a, b]. Snowplow puts this text, truncated, in size_violation bad
// rows.
func (p *CollectorPayload) String() string {
	var b strings.Builder
	b.Grow(Size(p) + 200)
	b.WriteString("CollectorPayload(schema:")
	b.WriteString(p.Schema)
	b.WriteString(", ipAddress:")
	b.WriteString(p.IPAddress)
	b.WriteString(", timestamp:")
	b.WriteString(strconv.FormatInt(p.Timestamp, 10))
	b.WriteString(", encoding:")
	b.WriteString(p.Encoding)
	b.WriteString(", collector:")
	b.WriteString(p.Collector)
	opt := func(name, v string, set bool) {
		if set {
			b.WriteString(", ")
			b.WriteString(name)
			b.WriteByte(':')
			b.WriteString(v)
		}
	}
	opt("userAgent", p.UserAgent, p.UserAgent != "")
	opt("refererUri", p.RefererURI, p.RefererURI != "")
	opt("path", p.Path, p.Path != "")
	opt("querystring", p.Querystring, true)
	opt("body", p.Body, p.Body != "")
	if p.Headers != nil {
		b.WriteString(", headers:[")
		for i, h := range p.Headers {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString(h)
		}
		b.WriteByte(']')
	}
	opt("contentType", p.ContentType, p.ContentType != "")
	opt("hostname", p.Hostname, p.Hostname != "")
	opt("networkUserId", p.NetworkUserID, p.NetworkUserID != "")
	b.WriteByte(')')
	return b.String()
}
