package collector

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"time"

	"github.com/snowplow-mini/snowplow-mini/collector/payload"
	"github.com/snowplow-mini/snowplow-mini/iglu/badrow"
	"github.com/snowplow-mini/snowplow-mini/streams"
)

// records are the stream records of one request: payloads for the raw stream and
// size_violation bad rows for the bad stream.
type records struct {
	good [][]byte
	bad  [][]byte

	// pooled, when not nil, is the buffer of good[0], borrowed from Collector.recBufs
	// (see release).
	pooled *[]byte
}

// release hands a pooled record buffer back once the records are put: Stream.Put does
// not keep the data it is given.
func (c *Collector) release(recs *records) {
	if recs.pooled != nil && cap(*recs.pooled) <= maxPooledBody {
		c.recBufs.Put(recs.pooled)
	}
	recs.pooled = nil
}

// serialize turns p into records as Snowplow's SplitBatch does. maxBytes is the raw
// stream's limit for one record with this request's partition key; a record must be
// smaller than it.
//
//  1. If the whole payload is smaller than maxBytes, it is one record.
//  2. Else, if it is larger than networking.maxPayloadSize, it becomes a size_violation.
//  3. Else a POST body that is self-describing JSON with a data array is split: the
//     elements are packed greedily, in order, into copies of the payload whose body is
//     {"schema":…,"data":[…]} and whose records are smaller than maxBytes. An element
//     too large on its own becomes a size_violation; so does a payload that cannot be
//     split (no body, not JSON, not self-describing, no array, too large without data).
//
// body, when not nil, is the request body held as bytes (valid UTF-8), standing for
// p.Body, which is then empty.
func (c *Collector) serialize(p *payload.CollectorPayload, body []byte, maxBytes int, now time.Time) (records, error) {
	var size int
	if body != nil {
		size = payload.SizeBody(p, body)
	} else {
		size = payload.Size(p)
	}
	if size < maxBytes {
		// The common case: one record, encoded into a pooled buffer.
		bufp := c.recBufs.Get().(*[]byte)
		var data []byte
		var err error
		if body != nil {
			data, err = payload.AppendEncodeBody((*bufp)[:0], p, body)
		} else {
			data, err = payload.AppendEncode((*bufp)[:0], p)
		}
		*bufp = data
		return records{good: [][]byte{data}, pooled: bufp}, err
	}
	if body != nil {
		// Too large for one record: the rare paths below work on text.
		q := *p
		q.Body = string(body)
		p = &q
	}
	var out records
	violation := func(actual, maxSize int, msg string) error {
		row, err := c.sizeViolation(p, actual, maxSize, msg, now)
		out.bad = append(out.bad, row)
		return err
	}
	if maxPayload := c.cfg.Networking.MaxPayloadSize; size > maxPayload {
		err := violation(size, maxPayload, fmt.Sprintf("Payload exceeds max size of %d. Actual length: %d", maxPayload, size))
		return out, err
	}
	if p.Body == "" {
		return out, violation(size, maxBytes, "GET requests cannot be split")
	}
	schema, elems, msg := splitBody(p.Body)
	if msg != "" {
		return out, violation(size, maxBytes, msg)
	}

	// Every sub-batch record is the payload with body prefix + elements + suffix; the
	// Thrift length prefix of the body does not change with its length, so the record
	// size is base + the elements' bytes + the commas between them.
	prefix := `{"schema":` + schema + `,"data":[`
	const suffix = `]}`
	q := *p
	q.Body = prefix + suffix
	base := payload.Size(&q)
	if base >= maxBytes {
		return out, violation(size, maxBytes, `cannot split this POST request because event without "data" field is still too big`)
	}
	budget := maxBytes - 1 - base
	var batch []string
	batchLen := 0
	flush := func() error {
		q.Body = prefix + strings.Join(batch, ",") + suffix
		data, err := payload.Encode(&q)
		out.good = append(out.good, data)
		batch, batchLen = batch[:0], 0
		return err
	}
	for _, e := range elems {
		if len(e) > budget {
			if err := violation(len(e), maxBytes, "this POST request split is still too large"); err != nil {
				return out, err
			}
			continue
		}
		if len(batch) > 0 && batchLen+1+len(e) > budget {
			if err := flush(); err != nil {
				return out, err
			}
		}
		if len(batch) > 0 {
			batchLen++
		}
		batch = append(batch, e)
		batchLen += len(e)
	}
	// An empty data array still yields its (now small) record, so that an accepted
	// request is never dropped without trace.
	if len(batch) > 0 || len(out.good)+len(out.bad) == 0 {
		if err := flush(); err != nil {
			return out, err
		}
	}
	return out, nil
}

// igluURI matches an Iglu schema URI with a full SchemaVer.
var igluURI = regexp.MustCompile(`^iglu:[a-zA-Z0-9\-_.]+/[a-zA-Z0-9\-_]+/[a-zA-Z0-9\-_]+/[1-9][0-9]*-(?:0|[1-9][0-9]*)-(?:0|[1-9][0-9]*)$`)

// splitBody reads a self-describing JSON body with a data array. It returns the schema
// as a JSON string and each element as compact JSON, or the reason why the body cannot
// be split, worded as Snowplow words it.
func splitBody(body string) (schema string, elems []string, msg string) {
	var obj map[string]json.RawMessage
	if err := json.Unmarshal([]byte(body), &obj); err != nil {
		var typeErr *json.UnmarshalTypeError
		if errors.As(err, &typeErr) {
			return "", nil, "cannot split POST requests which are not self-describing: not a JSON object"
		}
		return "", nil, "cannot split POST requests which are not json " + err.Error()
	}
	var uri string
	if err := json.Unmarshal(obj["schema"], &uri); err != nil || !igluURI.MatchString(uri) {
		return "", nil, "cannot split POST requests which are not self-describing: schema must be an Iglu URI"
	}
	data, ok := obj["data"]
	if !ok {
		return "", nil, "cannot split POST requests which are not self-describing: no data"
	}
	var raw []json.RawMessage
	if t := bytes.TrimLeft(data, " \t\r\n"); len(t) == 0 || t[0] != '[' || json.Unmarshal(data, &raw) != nil {
		return "", nil, "cannot split POST requests which do not contain a data array"
	}
	elems = make([]string, len(raw))
	var buf bytes.Buffer
	for i, e := range raw {
		buf.Reset()
		// e is valid JSON (it was just decoded), so Compact cannot fail.
		if err := json.Compact(&buf, e); err != nil {
			return "", nil, "cannot split POST requests which are not json " + err.Error()
		}
		elems[i] = buf.String()
	}
	quoted, err := json.Marshal(uri)
	if err != nil {
		return "", nil, "cannot split POST requests which are not self-describing: " + err.Error()
	}
	return string(quoted), elems, ""
}

// sizeViolation returns the size_violation bad row of an oversized payload.
func (c *Collector) sizeViolation(p *payload.CollectorPayload, actual, maxSize int, msg string, now time.Time) ([]byte, error) {
	c.metrics.sizeViolations.Inc()
	row := badrow.SizeViolation{
		Processor:               c.processor,
		Timestamp:               now,
		MaximumAllowedSizeBytes: maxSize,
		ActualSizeBytes:         actual,
		Expectation:             "oversized collector payload: " + msg,
		Payload:                 badrow.TruncatePayload(p.String(), maxSize),
	}
	return row.Marshal()
}

// putError is a failed put to one stream.
type putError struct {
	stream string
	err    error
}

func (e *putError) Error() string { return fmt.Sprintf("writing to stream %q: %v", e.stream, e.err) }
func (e *putError) Unwrap() error { return e.err }

// sink writes the records of p (with body, see serialize): payloads to the raw stream, then bad rows to the bad
// stream. It waits at most PutTimeout in all.
func (c *Collector) sink(p *payload.CollectorPayload, body []byte, partitionKey string, now time.Time) error {
	recs, err := c.serialize(p, body, c.maxRecordBytes-len(partitionKey), now)
	defer c.release(&recs)
	if err != nil {
		return fmt.Errorf("serialising collector payload: %w", err)
	}
	// The put is bounded by PutTimeout, not by the client: once read, a request is
	// recorded or refused whether or not its client is still there.
	ctx := c.putDeadlines.get()
	if err := c.put(ctx, c.raw, &c.rawHealth, recs.good, partitionKey); err != nil {
		return err
	}
	return c.put(ctx, c.bad, &c.badHealth, recs.bad, partitionKey)
}

// put writes recs to s in as few Puts as the stream limits allow.
func (c *Collector) put(ctx context.Context, s streams.Stream, health *sinkHealth, recs [][]byte, partitionKey string) error {
	for len(recs) > 0 {
		n := streams.NextPut(len(recs), func(i int) int { return len(recs[i]) + len(partitionKey) })
		var one [1]streams.Entry
		entries := one[:0]
		if n > 1 {
			entries = make([]streams.Entry, 0, n)
		}
		for _, d := range recs[:n] {
			entries = append(entries, streams.Entry{PartitionKey: partitionKey, Data: d})
		}
		if _, err := s.Put(ctx, entries); err != nil {
			health.putFailed.Inc()
			if health.failed(c.now(), err) {
				c.logger.Error("stream not accepting records; answering 503 until it does",
					"stream", health.name, "err", err)
			}
			return &putError{stream: health.name, err: err}
		}
		health.putOK.Add(float64(n))
		if health.succeeded() {
			c.logger.Info("stream accepting records again", "stream", health.name)
		}
		recs = recs[n:]
	}
	return nil
}

// sinkFailed answers a request whose records could not all be written. Nothing of it
// is acknowledged: a stream that is full, closing or too slow gets 503 with
// Retry-After, anything else 500.
func (c *Collector) sinkFailed(w http.ResponseWriter, route string, err error) {
	var pe *putError
	if !errors.As(err, &pe) {
		c.logger.Error("recording request", "err", err)
		c.text(w, route, http.StatusInternalServerError, "could not record the request")
		return
	}
	if errors.Is(err, streams.ErrFull) || errors.Is(err, context.DeadlineExceeded) || errors.Is(err, streams.ErrClosed) {
		w.Header()["Retry-After"] = []string{"1"}
		c.text(w, route, http.StatusServiceUnavailable,
			fmt.Sprintf("stream %q is not accepting records, retry later", pe.stream))
		return
	}
	c.text(w, route, http.StatusInternalServerError, fmt.Sprintf("could not write to stream %q", pe.stream))
}
