package web

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"time"
)

// waitRequest is the query or JSON body of /micro/wait: how many events of which kind to
// wait for, the filters of /micro/good (type "good") or /micro/bad (type "bad"), and how
// long to wait.
type waitRequest struct {
	Type      *string  `json:"type"`  // "good" (default) or "bad"
	Count     *int     `json:"count"` // default 1
	Timeout   *timeout `json:"timeout"`
	EventType *string  `json:"event_type"`
	Schema    *string  `json:"schema"`
	Contexts  []string `json:"contexts"`
	Vendor    *string  `json:"vendor"`
	Version   *string  `json:"version"`
	AppID     *string  `json:"app_id"`
	Limit     *int     `json:"limit"`
}

// timeout is a wait timeout in JSON or a query: a Go duration string ("5s", "1500ms")
// or a number of seconds (2, 0.5).
type timeout time.Duration

func (t *timeout) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if len(b) > 0 && b[0] == '"' {
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		return t.parse(s)
	}
	return t.parse(string(b))
}

func (t *timeout) parse(s string) error {
	if secs, err := strconv.ParseFloat(s, 64); err == nil {
		if secs < 0 || secs > 1e6 {
			return fmt.Errorf("timeout: %q: must be between 0 and 1e6 seconds", s)
		}
		*t = timeout(time.Duration(secs * float64(time.Second)))
		return nil
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		return fmt.Errorf("timeout: %q is neither a duration (\"5s\") nor a number of seconds", s)
	}
	if d < 0 {
		return fmt.Errorf("timeout: %q: must not be negative", s)
	}
	*t = timeout(d)
	return nil
}

// waitSpec is a validated waitRequest.
type waitSpec struct {
	bad     bool
	count   int
	limit   int // -1: all
	timeout time.Duration
	good    goodFilter
	badF    badFilter
}

func (s *Server) parseWait(r *http.Request) (waitSpec, *bodyError) {
	var req waitRequest
	q := r.URL.Query()
	req.Type = queryString(r, "type")
	req.EventType = queryString(r, "event_type")
	req.Schema = queryString(r, "schema")
	req.Contexts = q["contexts"]
	req.Vendor = queryString(r, "vendor")
	req.Version = queryString(r, "version")
	req.AppID = queryString(r, "app_id")
	var err error
	if req.Count, err = queryInt(r, "count"); err != nil {
		return waitSpec{}, &bodyError{http.StatusBadRequest, err.Error()}
	}
	if req.Limit, err = queryInt(r, "limit"); err != nil {
		return waitSpec{}, &bodyError{http.StatusBadRequest, err.Error()}
	}
	if v := queryString(r, "timeout"); v != nil {
		req.Timeout = new(timeout)
		if err := req.Timeout.parse(*v); err != nil {
			return waitSpec{}, &bodyError{http.StatusBadRequest, err.Error()}
		}
	}
	if berr := decodeBody(r, &req, false); berr != nil {
		return waitSpec{}, berr
	}

	spec := waitSpec{count: 1, limit: -1, timeout: s.cfg.Wait.DefaultTimeout}
	var errs []error
	if req.Type != nil {
		switch *req.Type {
		case "good":
		case "bad":
			spec.bad = true
		default:
			errs = append(errs, fmt.Errorf("type: %q: must be \"good\" or \"bad\"", *req.Type))
		}
	}
	if req.Count != nil {
		if *req.Count < 0 {
			errs = append(errs, fmt.Errorf("count: %d: must not be negative", *req.Count))
		}
		spec.count = *req.Count
	}
	if req.Limit != nil {
		if *req.Limit < 0 {
			errs = append(errs, fmt.Errorf("limit: %d: must not be negative", *req.Limit))
		}
		spec.limit = *req.Limit
	}
	if req.Timeout != nil {
		spec.timeout = time.Duration(*req.Timeout)
		if spec.timeout > s.cfg.Wait.MaxTimeout {
			errs = append(errs, fmt.Errorf("timeout: %s: must be at most %s", spec.timeout, s.cfg.Wait.MaxTimeout))
		}
	}
	if spec.bad {
		if req.EventType != nil || req.Schema != nil || req.Contexts != nil {
			errs = append(errs, errors.New("event_type, schema and contexts filter good events: not allowed with type \"bad\""))
		}
		spec.badF = badFilter{Vendor: req.Vendor, Version: req.Version, AppID: req.AppID}
	} else {
		if req.Vendor != nil || req.Version != nil {
			errs = append(errs, errors.New("vendor and version filter bad events: use them with type \"bad\""))
		}
		spec.good = goodFilter{EventType: req.EventType, Schema: req.Schema, Contexts: req.Contexts, AppID: req.AppID}
	}
	if err := errors.Join(errs...); err != nil {
		return spec, &bodyError{http.StatusBadRequest, err.Error()}
	}
	return spec, nil
}

// handleWait answers /micro/wait: it blocks until the store holds at least count events
// matching the filters (events already stored count too, so a test may ask after sending)
// or the timeout passes, then answers 200 with
//
//	{"complete":true|false,"found":N,"events":[…newest first, at most limit…]}
//
// A timeout is answered with 200 and "complete":false rather than an error status, so
// that what did arrive can be shown and no client retries the request (browsers retry
// some 408s on their own).
func (s *Server) handleWait(w http.ResponseWriter, r *http.Request) {
	spec, berr := s.parseWait(r)
	if berr != nil {
		berr.write(w)
		return
	}
	found, complete, err := s.wait(r, spec)
	if err != nil {
		s.storeFailed(w, r, err)
		return
	}
	if complete {
		s.metrics.waits.WithLabelValues("complete").Inc()
	} else {
		s.metrics.waits.WithLabelValues("timeout").Inc()
	}
	limit := found
	if spec.limit >= 0 {
		limit = min(limit, spec.limit)
	}
	w.Header().Set("Content-Type", "application/json")
	prefix := fmt.Sprintf(`{"complete":%t,"found":%d,"events":`, complete, found)
	s.writeListIn(w, r, prefix, "}", func(ctx context.Context, emit func(func([]byte) []byte) bool) error {
		if spec.bad {
			return s.findBad(ctx, &spec.badF, limit, 0, func(b *badEvent) bool {
				return emit(func(dst []byte) []byte { return append(dst, b.json...) })
			})
		}
		return s.findGood(ctx, &spec.good, limit, 0, func(se *StoredEvent) bool {
			return emit(func(dst []byte) []byte { return s.appendGood(dst, se) })
		})
	})
}

// wait returns how many events match once there are at least spec.count of them
// (complete), or what there is when the timeout passes, the request ends or the server
// shuts down. Each pass reads only the rows committed since the last one, waking on the
// store's commit notification; a reset through this server starts the count over.
func (s *Server) wait(r *http.Request, spec waitSpec) (found int, complete bool, err error) {
	timer := time.NewTimer(spec.timeout)
	defer timer.Stop()
	ctx := r.Context()
	var lastID int64
	epoch := s.resets.Load()
	for {
		changed := s.store.Changed()
		if e := s.resets.Load(); e != epoch {
			epoch, found, lastID = e, 0, 0
		}
		maxID := lastID
		count := func(id int64) bool {
			maxID = max(maxID, id)
			found++
			return true
		}
		if spec.bad {
			err = s.findBad(ctx, &spec.badF, -1, lastID, func(b *badEvent) bool { return count(b.id) })
		} else {
			err = s.findGood(ctx, &spec.good, -1, lastID, func(se *StoredEvent) bool { return count(se.ID) })
		}
		if err != nil {
			return found, false, err
		}
		lastID = maxID
		if found >= spec.count {
			return found, true, nil
		}
		select {
		case <-changed:
		case <-timer.C:
			return found, false, nil
		case <-ctx.Done():
			return found, false, nil
		case <-s.endWaits:
			return found, false, nil
		}
	}
}
