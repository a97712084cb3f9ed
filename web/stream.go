package web

import (
	"fmt"
	"net/http"
	"time"
)

// Live updates for the UI: GET /micro/stream is a server-sent event stream fed by the
// store's commits. Each message is the store's summary,
//
//	event: counts
//	data: {"good":N,"bad":N}
//
// sent on connect and after every commit, reset or prune, at most every
// streamInterval; the page then reloads only the view it shows. A comment line every
// streamKeepAlive keeps proxies from closing an idle stream.
const (
	streamInterval  = 100 * time.Millisecond
	streamKeepAlive = 20 * time.Second
)

func (s *Server) handleStream(w http.ResponseWriter, r *http.Request) {
	rc := http.NewResponseController(w)
	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-cache")
	h.Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)
	s.metrics.streams.Inc()
	defer s.metrics.streams.Dec()
	// A stream outlives the server's write timeout, if one is set.
	_ = rc.SetWriteDeadline(time.Time{})

	ctx := r.Context()
	keepAlive := time.NewTicker(streamKeepAlive)
	defer keepAlive.Stop()
	var last Counts
	sent := false
	for {
		changed := s.store.Changed()
		c, err := s.store.Count(ctx, "")
		if err != nil {
			if ctx.Err() == nil {
				s.log.Warn("reading the event store for a live stream", "err", err)
			}
			return
		}
		if !sent || c != last {
			if _, err := fmt.Fprintf(w, "event: counts\ndata: {\"good\":%d,\"bad\":%d}\n\n", c.Good, c.Bad); err != nil {
				return
			}
			if err := rc.Flush(); err != nil {
				return
			}
			last, sent = c, true
		}
		select {
		case <-changed:
		case <-keepAlive.C:
			if _, err := fmt.Fprint(w, ": keep-alive\n\n"); err != nil {
				return
			}
			if err := rc.Flush(); err != nil {
				return
			}
			continue
		case <-ctx.Done():
			return
		case <-s.endWaits:
			return
		}
		// Let a burst of commits settle into one message.
		t := time.NewTimer(streamInterval)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return
		case <-s.endWaits:
			t.Stop()
			return
		}
	}
}
