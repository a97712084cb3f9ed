package enrich

import (
	"errors"
	"strconv"
	"strings"

	"github.com/snowplow-mini/snowplow-mini/collector/payload"
	"github.com/snowplow-mini/snowplow-mini/enrich/event"
	"github.com/snowplow-mini/snowplow-mini/enrich/internal/jvm"
	"github.com/snowplow-mini/snowplow-mini/iglu"
	"github.com/snowplow-mini/snowplow-mini/iglu/badrow"
)

// loaded is a raw record read and checked as Snowplow's ThriftLoader does.
type loaded struct {
	cp      *payload.CollectorPayload
	vendor  string
	version string
	qs      []event.NVP
	cs      jvm.Charset
	ip      string // client IP: X-Forwarded-For / Forwarded headers, else the Thrift ipAddress
	nuid    string // canonical network user id, "" when absent

	bufs *recordBufs // the record's buffers, nil for none
}

// Messages of collector_payload_format_violation bad rows.
const (
	msgDeserialize  = "error deserializing raw event: "
	msgEndOfBytes   = "Reached end of bytes when parsing as thrift format"
	msgNoPath       = "request does not contain a path"
	msgBadPath      = "path does not match (/)vendor/version(/) nor is a legacy /i(ce.png) request"
	msgBadNUID      = "not valid UUID"
	collectorSchema = "iglu:com.snowplowanalytics.snowplow/CollectorPayload/thrift/1-0-*"
)

// thriftErrorText maps an error of payload.Decode to the message of Java's Thrift reader.
func thriftErrorText(err error) string {
	msg := err.Error()
	lower := strings.ToLower(msg)
	switch {
	case strings.Contains(msg, "EOF"), strings.Contains(msg, "exceeds the"):
		return msgEndOfBytes
	case strings.Contains(lower, "negative"):
		return "Negative length: " + lastNumber(msg)
	case strings.Contains(lower, "unknown data type"):
		return "Unrecognized type " + lastNumber(msg)
	}
	if i := strings.LastIndex(msg, ": "); i >= 0 {
		msg = msg[i+2:]
	}
	return msg
}

// lastNumber returns the last (optionally signed) decimal number in s.
func lastNumber(s string) string {
	end := -1
	for i := len(s) - 1; i >= 0; i-- {
		c := s[i]
		if c >= '0' && c <= '9' {
			if end < 0 {
				end = i + 1
			}
			continue
		}
		if end >= 0 {
			if c == '-' {
				return s[i:end]
			}
			return s[i+1 : end]
		}
	}
	if end >= 0 {
		return s[:end]
	}
	return ""
}

// load decodes and checks a raw record. On failure it returns the violations (each
// becomes its own bad row, as Snowplow emits one row per violation).
func (p *pipeline) load(record []byte) (*loaded, []badrow.Message) {
	cp, err := payload.Decode(record)
	if err != nil {
		if !errors.Is(err, payload.ErrMalformed) {
			return nil, []badrow.Message{badrow.CPFormatError{Error: msgDeserialize + err.Error()}}
		}
		return nil, []badrow.Message{badrow.CPFormatError{Error: msgDeserialize + thriftErrorText(err)}}
	}
	sanitizePayload(cp)
	cs, csErr, ok := jvm.LookupCharset(cp.Encoding)
	if !ok {
		return nil, []badrow.Message{badrow.CPFormatError{Error: msgDeserialize + csErr}}
	}
	l := &loaded{cp: cp, cs: cs}
	var msgs []badrow.Message

	qs, qerr := parseQueryString(cp.Querystring, cs)
	if qerr != nil {
		msgs = append(msgs, badrow.CPFormatInputData{
			PayloadField: "querystring", Value: badrow.Str(cp.Querystring),
			Expectation: "could not extract name-value pairs from querystring with encoding " + cs.String() + ": " + stripInstanceEtc(qerr.Error()),
		})
	}
	l.qs = qs

	switch {
	case cp.Path == "":
		msgs = append(msgs, badrow.CPFormatInputData{PayloadField: "path", Expectation: msgNoPath})
	default:
		v, ver, ok := parseAPIPath(cp.Path)
		if !ok {
			msgs = append(msgs, badrow.CPFormatInputData{PayloadField: "path", Value: badrow.Str(cp.Path), Expectation: msgBadPath})
		}
		l.vendor, l.version = v, ver
	}

	if cp.NetworkUserID != "" {
		n, ok := parseJavaUUID(cp.NetworkUserID)
		if !ok {
			msgs = append(msgs, badrow.CPFormatInputData{PayloadField: "networkUserId", Value: badrow.Str(cp.NetworkUserID), Expectation: msgBadNUID})
		}
		l.nuid = n
	}

	if !p.collectorCriterion.Matches(mustKey(cp.Schema)) {
		msgs = append(msgs, badrow.CPFormatError{Error: "verifying record as " + collectorSchema + " failed: found " + cp.Schema})
	}
	if len(msgs) > 0 {
		return nil, msgs
	}
	l.ip = p.ipRe.extractIP(cp.Headers, cp.IPAddress)
	return l, nil
}

// mustKey parses an Iglu URI, giving the zero key (which matches no criterion) on failure.
func mustKey(s string) iglu.SchemaKey {
	k, err := iglu.ParseSchemaKey(s)
	if err != nil {
		return iglu.SchemaKey{}
	}
	return k
}

// sanitizePayload replaces invalid UTF-8 in the payload's strings, as Java's Thrift reader
// decodes them.
func sanitizePayload(cp *payload.CollectorPayload) {
	for _, s := range []*string{&cp.Schema, &cp.IPAddress, &cp.Encoding, &cp.Collector, &cp.UserAgent,
		&cp.RefererURI, &cp.Path, &cp.Querystring, &cp.Body, &cp.ContentType, &cp.Hostname, &cp.NetworkUserID} {
		*s = jvm.ValidUTF8(*s)
	}
	for i, h := range cp.Headers {
		cp.Headers[i] = jvm.ValidUTF8(h)
	}
}

// parseAPIPath maps a request path to vendor and version as CollectorPayload.parseApi:
// ^[/]?([^/]+)/([^/]+)[/]?$, else /i, /i?… and /ice.png… are Tracker Protocol 1.
func parseAPIPath(path string) (vendor, version string, ok bool) {
	s := path
	if strings.HasPrefix(s, "/") {
		s = s[1:]
	}
	trimmed := strings.TrimSuffix(s, "/")
	if i := strings.IndexByte(trimmed, '/'); i > 0 && i < len(trimmed)-1 && !strings.ContainsRune(trimmed[i+1:], '/') {
		return trimmed[:i], trimmed[i+1:], true
	}
	if strings.HasPrefix(path, "/ice.png") || path == "/i" || strings.HasPrefix(path, "/i?") {
		return "com.snowplowanalytics.snowplow", "tp1", true
	}
	return "", "", false
}

// parseJavaUUID parses s as java.util.UUID.fromString and returns its canonical (lower
// case, 8-4-4-4-12) text: at most 36 characters, exactly four dashes, each part a signed
// hexadecimal long, truncated to the part's width.
func parseJavaUUID(s string) (string, bool) {
	if len(s) > 36 || strings.Count(s, "-") != 4 {
		return "", false
	}
	parts := strings.Split(s, "-")
	widths := []int{8, 4, 4, 4, 12}
	var b strings.Builder
	for i, part := range parts {
		v, ok := parseHexLong(part)
		if !ok {
			return "", false
		}
		w := widths[i]
		v &= 1<<(4*uint(w)) - 1
		h := strconv.FormatUint(v, 16)
		if i > 0 {
			b.WriteByte('-')
		}
		b.WriteString(strings.Repeat("0", w-len(h)))
		b.WriteString(h)
	}
	return b.String(), true
}

// parseHexLong is Long.parseLong(s, 16) for ASCII input, returned as its two's complement.
func parseHexLong(s string) (uint64, bool) {
	neg := false
	if s != "" && (s[0] == '-' || s[0] == '+') {
		neg = s[0] == '-'
		s = s[1:]
	}
	if s == "" {
		return 0, false
	}
	var v uint64
	for i := 0; i < len(s); i++ {
		d := jvm.Unhex(s[i])
		if d < 0 || v > (1<<63)>>4 {
			return 0, false
		}
		v = v<<4 | uint64(d)
	}
	if (!neg && v > 1<<63-1) || (neg && v > 1<<63) {
		return 0, false
	}
	if neg {
		return -v, true
	}
	return v, true
}

// stripInstanceEtc tidies an exception message as Snowplow's JsonUtils.stripInstanceEtc:
// object hashes replaced, tabs to four spaces, ASCII control characters removed, trimmed.
func stripInstanceEtc(msg string) string {
	// "@[0-9a-z]+;" -> "@xxxxxx;"
	if strings.IndexByte(msg, '@') >= 0 {
		var sb strings.Builder
		for i := 0; i < len(msg); i++ {
			if msg[i] == '@' {
				j := i + 1
				for j < len(msg) && (msg[j] >= '0' && msg[j] <= '9' || msg[j] >= 'a' && msg[j] <= 'z') {
					j++
				}
				if j > i+1 && j < len(msg) && msg[j] == ';' {
					sb.WriteString("@xxxxxx;")
					i = j
					continue
				}
			}
			sb.WriteByte(msg[i])
		}
		msg = sb.String()
	}
	msg = strings.ReplaceAll(msg, "\t", "    ")
	msg = removeASCIIControls(msg)
	return javaTrim(msg)
}

// removeASCIIControls removes U+0000–U+001F and U+007F (Java's \p{Cntrl}).
func removeASCIIControls(s string) string {
	i := 0
	for i < len(s) && s[i] >= 0x20 && s[i] != 0x7f {
		i++
	}
	if i == len(s) {
		return s
	}
	b := make([]byte, 0, len(s))
	b = append(b, s[:i]...)
	for ; i < len(s); i++ {
		if c := s[i]; c >= 0x20 && c != 0x7f {
			b = append(b, c)
		}
	}
	return string(b)
}

// javaTrim is String.trim: leading and trailing chars <= ' ' removed.
func javaTrim(s string) string {
	i, j := 0, len(s)
	for i < j && s[i] <= ' ' {
		i++
	}
	for j > i && s[j-1] <= ' ' {
		j--
	}
	return s[i:j]
}
