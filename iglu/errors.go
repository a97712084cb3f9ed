package iglu

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// Codes of parse errors, as Snowplow writes them in the "error" field of a NotIglu
// failure message.
const (
	CodeInvalidIgluURI     = "INVALID_IGLUURI"
	CodeInvalidSchemaVer   = "INVALID_SCHEMAVER"
	CodeInvalidDataPayload = "INVALID_DATA_PAYLOAD"
	CodeInvalidSchema      = "INVALID_SCHEMA"
	CodeInvalidMetaschema  = "INVALID_METASCHEMA"
)

// Sentinels for errors.Is on a *ParseError: errors.Is(err, iglu.ErrInvalidSchemaVer).
var (
	ErrInvalidIgluURI     = &ParseError{Code: CodeInvalidIgluURI}
	ErrInvalidSchemaVer   = &ParseError{Code: CodeInvalidSchemaVer}
	ErrInvalidDataPayload = &ParseError{Code: CodeInvalidDataPayload}
	ErrInvalidSchema      = &ParseError{Code: CodeInvalidSchema}
)

// ParseError is a failure to read an Iglu URI, a SchemaVer or a self-describing JSON.
type ParseError struct {
	// Code is one of the Code* constants.
	Code string
	// Input is the text that failed to parse (for self-describing JSON, the schema URI
	// if there was one), for messages only.
	Input string
}

func (e *ParseError) Error() string {
	var what string
	switch e.Code {
	case CodeInvalidIgluURI:
		what = "invalid Iglu URI"
	case CodeInvalidSchemaVer:
		what = "invalid SchemaVer"
	case CodeInvalidDataPayload:
		what = "not a self-describing JSON"
	case CodeInvalidSchema:
		what = "not a self-describing JSON schema"
	case CodeInvalidMetaschema:
		what = "invalid meta-schema"
	default:
		what = "iglu parse error"
	}
	if e.Input == "" {
		return fmt.Sprintf("%s (%s)", what, e.Code)
	}
	return fmt.Sprintf("%s (%s): %q", what, e.Code, e.Input)
}

// Is matches any *ParseError with the same Code, so the Err* sentinels work with errors.Is.
func (e *ParseError) Is(target error) bool {
	var t *ParseError
	return errors.As(target, &t) && t.Code == e.Code
}

// ErrorKind tells which variant a ClientError is.
type ErrorKind int

const (
	// ResolutionError: no repository returned the schema; see LookupHistory.
	ResolutionError ErrorKind = iota + 1
	// ValidationError: the instance is invalid (DataReports) or the schema cannot be
	// used to validate (SchemaIssues).
	ValidationError
)

// ClientError is an Iglu client error with the JSON encoding of Snowplow's iglu client,
// the value of the "error" field of IgluError failure messages in bad rows:
//
//	{"error":"ResolutionError","lookupHistory":[{"repository":…,"errors":[…],"attempts":1,"lastAttempt":…}]}
//	{"dataReports":[{"message":…,"path":…,"keyword":…,"targets":[…]}],"error":"ValidationError"}
//	{"schemaIssues":[{"path":…,"message":…}],"error":"ValidationError"}
type ClientError struct {
	Kind ErrorKind
	// LookupHistory has one entry per repository tried, sorted by repository name
	// (ResolutionError only).
	LookupHistory []LookupHistory
	// DataReports lists what is wrong with the instance (ValidationError).
	DataReports []DataReport
	// SchemaIssues lists why the schema cannot be used (ValidationError; then
	// DataReports is empty).
	SchemaIssues []SchemaIssue
	// SupersededBy is the version the instance was validated against when the requested
	// schema is superseded (ValidationError with DataReports); zero otherwise.
	SupersededBy SchemaVer
}

// LookupHistory is what happened in one repository while looking a schema up.
type LookupHistory struct {
	Repository  string
	Errors      []RegistryError
	Attempts    int
	LastAttempt time.Time
}

// RegistryErrorKind names a repository failure as Snowplow does.
type RegistryErrorKind string

// Registry error kinds.
const (
	// NotFound: the repository answered that it does not have the schema.
	NotFound RegistryErrorKind = "NotFound"
	// RepoFailure: the repository could not be reached or answered with an error.
	RepoFailure RegistryErrorKind = "RepoFailure"
	// ClientFailure: the request could not be made or its answer not understood.
	ClientFailure RegistryErrorKind = "ClientFailure"
)

// RegistryError is one failure of one repository.
type RegistryError struct {
	Kind    RegistryErrorKind
	Message string // empty for NotFound
}

// DataReport is one reason an instance is invalid, in the shape of Snowplow's
// ValidatorReport.
type DataReport struct {
	Message string
	// Path is the JSONPath of the offending value ("$.a.b[0]"); nil encodes as null.
	Path *string
	// Keyword is the JSON Schema keyword that failed; nil encodes as null.
	Keyword *string
	// Targets are the keyword's arguments (e.g. found and expected types); nil encodes
	// as null.
	Targets []string
}

// SchemaIssue is one reason a schema cannot be used to validate.
type SchemaIssue struct {
	Path    string
	Message string
}

// lastAttemptLayout is the ISO-8601 instant Snowplow writes (UTC, milliseconds).
const lastAttemptLayout = "2006-01-02T15:04:05.000Z"

// MarshalJSON encodes the error as Snowplow's iglu client does. Note that
// encoding/json escapes <, > and & in the result; AppendJSON gives the exact bytes.
func (e *ClientError) MarshalJSON() ([]byte, error) {
	return e.AppendJSON(nil), nil
}

// AppendJSON appends the compact JSON encoding of e to b.
func (e *ClientError) AppendJSON(b []byte) []byte {
	switch e.Kind {
	case ResolutionError:
		b = append(b, `{"error":"ResolutionError","lookupHistory":[`...)
		for i, h := range e.LookupHistory {
			if i > 0 {
				b = append(b, ',')
			}
			b = append(b, `{"repository":`...)
			b = appendJSONString(b, h.Repository)
			b = append(b, ',')
			b = h.appendBody(b)
			b = append(b, '}')
		}
		return append(b, "]}"...)
	default:
		if len(e.SchemaIssues) > 0 {
			b = append(b, `{"schemaIssues":[`...)
			for i, s := range e.SchemaIssues {
				if i > 0 {
					b = append(b, ',')
				}
				b = append(b, `{"path":`...)
				b = appendJSONString(b, s.Path)
				b = append(b, `,"message":`...)
				b = appendJSONString(b, s.Message)
				b = append(b, '}')
			}
			return append(b, `],"error":"ValidationError"}`...)
		}
		b = append(b, `{"dataReports":[`...)
		for i, r := range e.DataReports {
			if i > 0 {
				b = append(b, ',')
			}
			b = r.appendJSON(b)
		}
		b = append(b, `],"error":"ValidationError"`...)
		if !e.SupersededBy.IsZero() {
			b = append(b, `,"supersededBy":"`...)
			b = e.SupersededBy.AppendText(b)
			b = append(b, '"')
		}
		return append(b, '}')
	}
}

// appendBody appends "errors":[…],"attempts":n,"lastAttempt":"…" (no braces).
func (h LookupHistory) appendBody(b []byte) []byte {
	b = append(b, `"errors":[`...)
	for i, re := range h.Errors {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, `{"error":`...)
		b = appendJSONString(b, string(re.Kind))
		if re.Kind != NotFound {
			b = append(b, `,"message":`...)
			b = appendJSONString(b, re.Message)
		}
		b = append(b, '}')
	}
	b = append(b, `],"attempts":`...)
	b = strconv.AppendInt(b, int64(h.Attempts), 10)
	b = append(b, `,"lastAttempt":"`...)
	b = h.LastAttempt.UTC().AppendFormat(b, lastAttemptLayout)
	return append(b, '"')
}

func (r DataReport) appendJSON(b []byte) []byte {
	b = append(b, `{"message":`...)
	b = appendJSONString(b, r.Message)
	b = append(b, `,"path":`...)
	b = appendOptString(b, r.Path)
	b = append(b, `,"keyword":`...)
	b = appendOptString(b, r.Keyword)
	b = append(b, `,"targets":`...)
	if r.Targets == nil {
		b = append(b, "null"...)
	} else {
		b = append(b, '[')
		for i, t := range r.Targets {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendJSONString(b, t)
		}
		b = append(b, ']')
	}
	return append(b, '}')
}

func appendOptString(b []byte, s *string) []byte {
	if s == nil {
		return append(b, "null"...)
	}
	return appendJSONString(b, *s)
}

// UnmarshalJSON reads the encoding written by MarshalJSON (and by Snowplow), so bad rows
// written elsewhere can be read back.
func (e *ClientError) UnmarshalJSON(data []byte) error {
	var raw struct {
		Error         string `json:"error"`
		LookupHistory []struct {
			Repository string `json:"repository"`
			Errors     []struct {
				Error   string `json:"error"`
				Message string `json:"message"`
			} `json:"errors"`
			Attempts    int       `json:"attempts"`
			LastAttempt time.Time `json:"lastAttempt"`
		} `json:"lookupHistory"`
		DataReports []struct {
			Message string   `json:"message"`
			Path    *string  `json:"path"`
			Keyword *string  `json:"keyword"`
			Targets []string `json:"targets"`
		} `json:"dataReports"`
		SchemaIssues []SchemaIssue `json:"schemaIssues"`
		SupersededBy string        `json:"supersededBy"`
	}
	if err := json.Unmarshal(data, &raw); err != nil {
		return fmt.Errorf("decoding iglu client error: %w", err)
	}
	out := ClientError{}
	switch raw.Error {
	case "ResolutionError":
		out.Kind = ResolutionError
		for _, h := range raw.LookupHistory {
			lh := LookupHistory{Repository: h.Repository, Attempts: h.Attempts, LastAttempt: h.LastAttempt}
			for _, re := range h.Errors {
				lh.Errors = append(lh.Errors, RegistryError{Kind: RegistryErrorKind(re.Error), Message: re.Message})
			}
			out.LookupHistory = append(out.LookupHistory, lh)
		}
	case "ValidationError":
		out.Kind = ValidationError
		for _, r := range raw.DataReports {
			out.DataReports = append(out.DataReports, DataReport(r))
		}
		out.SchemaIssues = raw.SchemaIssues
		if raw.SupersededBy != "" {
			v, err := ParseSchemaVer(raw.SupersededBy)
			if err != nil {
				return fmt.Errorf("decoding iglu client error: supersededBy: %w", err)
			}
			out.SupersededBy = v
		}
	default:
		return fmt.Errorf("decoding iglu client error: unknown error type %q", raw.Error)
	}
	*e = out
	return nil
}

// Error returns a one-line summary; the full detail is in the JSON encoding.
func (e *ClientError) Error() string {
	var sb strings.Builder
	switch e.Kind {
	case ResolutionError:
		sb.WriteString("schema cannot be resolved:")
		for i, h := range e.LookupHistory {
			if i > 0 {
				sb.WriteByte(';')
			}
			sb.WriteString(" ")
			sb.WriteString(h.Repository)
			sb.WriteString(": ")
			for j, re := range h.Errors {
				if j > 0 {
					sb.WriteString(", ")
				}
				sb.WriteString(string(re.Kind))
				if re.Message != "" {
					sb.WriteString(" (")
					sb.WriteString(re.Message)
					sb.WriteString(")")
				}
			}
		}
	default:
		if len(e.SchemaIssues) > 0 {
			sb.WriteString("schema cannot be used to validate:")
			for i, s := range e.SchemaIssues {
				if i > 0 {
					sb.WriteByte(';')
				}
				sb.WriteString(" ")
				sb.WriteString(s.Message)
			}
		} else {
			sb.WriteString("instance is not valid against its schema:")
			for i, r := range e.DataReports {
				if i > 0 {
					sb.WriteByte(';')
				}
				sb.WriteString(" ")
				sb.WriteString(r.Message)
			}
		}
	}
	return sb.String()
}

// IsNotFound reports whether e is a ResolutionError in which every repository answered
// NotFound (no repository failed).
func (e *ClientError) IsNotFound() bool {
	if e.Kind != ResolutionError {
		return false
	}
	for _, h := range e.LookupHistory {
		for _, re := range h.Errors {
			if re.Kind != NotFound {
				return false
			}
		}
	}
	return true
}

// MicroJSON returns the body Snowplow Micro answers with a 404 on
// /micro/iglu/…: {"value":{"<repository>":{"errors":[…],"attempts":n,"lastAttempt":"…"}}}
// (ResolutionError only; other kinds encode as with MarshalJSON).
func (e *ClientError) MicroJSON() []byte {
	if e.Kind != ResolutionError {
		return e.AppendJSON(nil)
	}
	b := []byte(`{"value":{`)
	for i, h := range e.LookupHistory {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendJSONString(b, h.Repository)
		b = append(b, ":{"...)
		b = h.appendBody(b)
		b = append(b, '}')
	}
	return append(b, "}}"...)
}

// redactedMessage stands, in answers to HTTP clients, for the message of a repository
// failure.
const redactedMessage = "the repository could not be used; the server log has the details"

// HasFailures reports whether some repository failed (RepoFailure or ClientFailure)
// rather than answering that it does not have the schema.
func (e *ClientError) HasFailures() bool {
	for _, h := range e.LookupHistory {
		for _, re := range h.Errors {
			if re.Kind != NotFound {
				return true
			}
		}
	}
	return false
}

// Redacted returns a copy of e fit for an HTTP answer: the messages of repository
// failures, which carry transport details (addresses, DNS servers, file paths), are
// replaced by a generic one; the kinds, repositories and attempts stay.
func (e *ClientError) Redacted() *ClientError {
	c := e.clone()
	for i := range c.LookupHistory {
		for j := range c.LookupHistory[i].Errors {
			if re := &c.LookupHistory[i].Errors[j]; re.Kind != NotFound && re.Message != "" {
				re.Message = redactedMessage
			}
		}
	}
	return c
}

// clone returns a deep copy, so a cached error can be handed out and changed by callers.
func (e *ClientError) clone() *ClientError {
	c := *e
	c.LookupHistory = slices.Clone(e.LookupHistory)
	for i := range c.LookupHistory {
		c.LookupHistory[i].Errors = slices.Clone(c.LookupHistory[i].Errors)
	}
	c.DataReports = slices.Clone(e.DataReports)
	c.SchemaIssues = slices.Clone(e.SchemaIssues)
	return &c
}

// appendJSONString appends s as a JSON string, escaping like encoding/json with HTML
// escaping off. It is the one escaper of this package; it cannot be
// event.AppendJSONString, which bad rows and enriched JSON use, because enrich/event
// imports iglu. Both write valid JSON that decodes to the same string; they spell a few
// characters differently: \u0008 and \u000c here where event writes \b and \f,
// U+2028/U+2029 escaped here, and invalid UTF-8 written as the escape \ufffd here and as
// the raw character there.
func appendJSONString(b []byte, s string) []byte {
	const hex = "0123456789abcdef"
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c >= 0x20 && c != '"' && c != '\\' && c < 0x80 {
			i++
			continue
		}
		if c < 0x80 {
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hex[r&0xf])
			i += size
			start = i
			continue
		}
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}
