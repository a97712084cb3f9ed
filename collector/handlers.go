package collector

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"

	"github.com/snowplow-mini/snowplow-mini/collector/payload"
)

// pixelGIF is the 43-byte transparent 1×1 GIF of the Snowplow collector.
var pixelGIF = [43]byte{
	0x47, 0x49, 0x46, 0x38, 0x39, 0x61, 0x01, 0x00, 0x01, 0x00, 0xf0, 0x00, 0x00, 0xff, 0xff, 0xff,
	0x00, 0x00, 0x00, 0x21, 0xf9, 0x04, 0x05, 0x00, 0x00, 0x00, 0x00, 0x2c, 0x00, 0x00, 0x00, 0x00,
	0x01, 0x00, 0x01, 0x00, 0x00, 0x02, 0x02, 0x44, 0x01, 0x00, 0x3b,
}

const robotsTxt = "User-agent: *\nDisallow: /\n\nUser-agent: Googlebot\nDisallow: /\n\nUser-agent: AdsBot-Google\nDisallow: /"

// anonymousNetworkUserID is recorded for requests with the SP-Anonymous header.
const anonymousNetworkUserID = "00000000-0000-0000-0000-000000000000"

// Header names as net/http stores them (canonical form), used as map keys directly to
// skip canonicalisation on the hot path.
const (
	hdrACAO        = "Access-Control-Allow-Origin"
	hdrACAC        = "Access-Control-Allow-Credentials"
	hdrSetCookie   = "Set-Cookie"
	hdrContentType = "Content-Type"
	hdrSPAnonymous = "Sp-Anonymous"
)

var (
	valTrue        = []string{"true"}
	valPlainText   = []string{"text/plain; charset=utf-8"}
	valGIF         = []string{"image/gif"}
	valNoCache     = []string{"no-cache, no-store, must-revalidate"}
	valPixelLength = []string{strconv.Itoa(len(pixelGIF))}
	valOK          = []byte("ok")
)

func (c *Collector) serveVendor(w http.ResponseWriter, r *http.Request) {
	path := r.URL.Path
	if mapped, ok := c.cfg.Paths[path]; ok {
		path = mapped
	}
	c.record(w, r, path, r.Method != http.MethodPost)
}

func (c *Collector) servePixelPath(w http.ResponseWriter, r *http.Request) {
	c.record(w, r, r.URL.Path, true)
}

func (c *Collector) serveRedirectPath(w http.ResponseWriter, r *http.Request) {
	switch {
	case r.Method == http.MethodOptions:
		c.servePreflight(w, r)
	case !c.cfg.EnableDefaultRedirect:
		c.text(w, routeRedirect, http.StatusNotFound, "redirects disabled")
	case r.Method == http.MethodGet || r.Method == http.MethodHead || r.Method == http.MethodPost:
		c.serveVendor(w, r)
	default:
		c.text(w, routeRedirect, http.StatusNotFound, "not found")
	}
}

func (c *Collector) servePreflight(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	c.setHSTS(h)
	h[hdrACAO] = []string{allowOrigin(r)}
	h[hdrACAC] = valTrue
	h["Access-Control-Allow-Headers"] = []string{"Content-Type, SP-Anonymous"}
	h["Access-Control-Max-Age"] = []string{c.maxAge}
	w.WriteHeader(http.StatusOK)
	c.metrics.request(routeOptions, http.StatusOK)
}

func (c *Collector) serveRobots(w http.ResponseWriter, _ *http.Request) {
	c.text(w, routeOther, http.StatusOK, robotsTxt)
}

func (c *Collector) serveSinkHealth(w http.ResponseWriter, _ *http.Request) {
	now := c.now()
	if c.rawHealth.check(now, c.raw) != nil || c.badHealth.check(now, c.bad) != nil {
		c.text(w, routeOther, http.StatusServiceUnavailable, "Service Unavailable")
		return
	}
	c.text(w, routeOther, http.StatusOK, "ok")
}

func (c *Collector) serveCrossDomain(w http.ResponseWriter, _ *http.Request) {
	h := w.Header()
	c.setHSTS(h)
	h[hdrContentType] = []string{"text/xml"}
	w.WriteHeader(http.StatusOK)
	_, _ = io.WriteString(w, c.crossDomainBody)
	c.metrics.request(routeOther, http.StatusOK)
}

func (c *Collector) serveRoot(w http.ResponseWriter, _ *http.Request) {
	rr := c.cfg.RootResponse
	h := w.Header()
	c.setHSTS(h)
	for k, v := range rr.Headers {
		h.Set(k, v)
	}
	w.WriteHeader(rr.StatusCode)
	_, _ = io.WriteString(w, rr.Body)
	c.metrics.request(routeOther, rr.StatusCode)
}

func (c *Collector) serveNotFound(w http.ResponseWriter, _ *http.Request) {
	c.text(w, routeOther, http.StatusNotFound, "404 page not found")
}

// text writes a plain-text answer.
func (c *Collector) text(w http.ResponseWriter, route string, code int, body string) {
	h := w.Header()
	c.setHSTS(h)
	h[hdrContentType] = valPlainText
	w.WriteHeader(code)
	_, _ = io.WriteString(w, body)
	c.metrics.request(route, code)
}

func (c *Collector) setHSTS(h http.Header) {
	if c.hsts != "" {
		h["Strict-Transport-Security"] = []string{c.hsts}
	}
}

// record handles every recording route: it builds the CollectorPayload of r with path
// as the recorded path, puts it on the raw stream (or a size_violation on the bad
// stream) and answers with the pixel, "ok" or a redirect. pixel is true for GET and
// HEAD, which record no body and answer with the pixel.
func (c *Collector) record(w http.ResponseWriter, r *http.Request, path string, pixel bool) {
	route := routeOf(path)
	h := w.Header()
	c.setHSTS(h)
	// CORS headers go on every answer, errors included, so that a browser tracker
	// can see the status and retry.
	h[hdrACAO] = []string{allowOrigin(r)}
	h[hdrACAC] = valTrue

	var body []byte
	if !pixel {
		bufp, err := c.readBody(w, r)
		if bufp != nil {
			defer c.releaseBody(bufp)
			body = *bufp
			c.metrics.requestBytes.Add(float64(len(body)))
		}
		if err != nil {
			var tooLarge *http.MaxBytesError
			if errors.As(err, &tooLarge) {
				c.text(w, route, http.StatusRequestEntityTooLarge,
					fmt.Sprintf("request body exceeds %d bytes", c.cfg.Networking.DropPayloadSize))
				return
			}
			c.text(w, route, http.StatusBadRequest, "reading request body: "+err.Error())
			return
		}
	}

	now := c.now()
	_, anonymous := r.Header[hdrSPAnonymous]
	doNotTrack := c.doNotTrack(r)
	redirect := strings.HasPrefix(path, "/r/")
	nuid, bounce := c.networkUserID(r, anonymous, pixel && !redirect && !doNotTrack)

	if bounce {
		// Set the cookie and send the browser back once to see whether it keeps it;
		// nothing is recorded until it returns.
		c.setCookies(h, r, nuid, anonymous, now)
		h["Location"] = []string{bounceLocation(r, c.cfg.CookieBounce.Name)}
		w.WriteHeader(http.StatusFound)
		c.metrics.request(route, http.StatusFound)
		return
	}

	if !doNotTrack {
		ip, ipKnown := "unknown", false
		if !anonymous {
			ip, ipKnown = clientIP(r)
		}
		p := &payload.CollectorPayload{
			Schema:        payload.SchemaURI,
			IPAddress:     ip,
			Timestamp:     now.UnixMilli(),
			Encoding:      "UTF-8",
			Collector:     c.name,
			UserAgent:     firstHeader(r.Header, "User-Agent"),
			RefererURI:    firstHeader(r.Header, "Referer"),
			Path:          path,
			Querystring:   r.URL.RawQuery,
			Hostname:      hostname(r.Host),
			NetworkUserID: nuid,
		}
		if !pixel {
			p.ContentType = contentType(firstHeader(r.Header, hdrContentType))
		}
		p.Headers = headerList(r, anonymous, p.ContentType)
		partitionKey := ip
		if !c.cfg.UseIPAddressAsPartitionKey || !ipKnown {
			partitionKey = c.newUUID()
		}
		// The body stays in its pooled buffer unless it must become text: a valid
		// UTF-8 body is encoded from the bytes, sparing a copy.
		if !utf8.Valid(body) {
			p.Body, body = toValidUTF8(string(body)), nil
		}
		if err := c.sink(p, body, partitionKey, now); err != nil {
			c.sinkFailed(w, route, err)
			return
		}
	}

	if !doNotTrack {
		c.setCookies(h, r, nuid, anonymous, now)
	}
	switch {
	case redirect:
		c.redirect(w, r, route)
	case pixel:
		h[hdrContentType] = valGIF
		h["Cache-Control"] = valNoCache
		h["Content-Length"] = valPixelLength
		w.WriteHeader(http.StatusOK)
		if r.Method != http.MethodHead {
			_, _ = w.Write(pixelGIF[:])
		}
		c.metrics.request(route, http.StatusOK)
	default:
		h[hdrContentType] = valPlainText
		w.WriteHeader(http.StatusOK)
		_, _ = w.Write(valOK)
		c.metrics.request(route, http.StatusOK)
	}
}

// networkUserID determines the network user id to record, in Snowplow's order of
// precedence: the SP-Anonymous id, the nuid query parameter, the request cookie, a new
// random id. An empty parameter or cookie counts as absent, so that a usable id is
// always recorded. With cookie bounce enabled, a request that may bounce (mayBounce: a
// pixel request that is neither a redirect nor do-not-track) and has no id is to be
// bounced; the bounced request that still has none gets the fallback id.
func (c *Collector) networkUserID(r *http.Request, anonymous, mayBounce bool) (nuid string, bounce bool) {
	if anonymous {
		return anonymousNetworkUserID, false
	}
	if v, ok := queryParam(r.URL.RawQuery, "nuid"); ok && v != "" {
		return v, false
	}
	if v := c.requestCookie(r, c.cfg.Cookie.Name); v != "" {
		return v, false
	}
	if cb := c.cfg.CookieBounce; cb.Enabled {
		if _, bounced := queryParam(r.URL.RawQuery, cb.Name); bounced {
			return cb.FallbackNetworkUserID, false
		}
		bounce = mayBounce
	}
	return c.newUUID(), bounce
}

// redirect answers a recorded /r/… request: 302 to the u parameter when it is a URI
// (with a host from RedirectDomains when that is set), 400 otherwise.
func (c *Collector) redirect(w http.ResponseWriter, r *http.Request, route string) {
	target, ok := queryParam(r.URL.RawQuery, "u")
	if ok && redirectAllowed(target, c.cfg.RedirectDomains) {
		w.Header()["Location"] = []string{target}
		w.WriteHeader(http.StatusFound)
		c.metrics.request(route, http.StatusFound)
		return
	}
	w.WriteHeader(http.StatusBadRequest)
	c.metrics.request(route, http.StatusBadRequest)
}

// readBody reads the request body into a pooled buffer, refusing more than
// DropPayloadSize bytes without reading them (an announced Content-Length over the limit
// is refused at once). The caller hands the buffer back with releaseBody.
func (c *Collector) readBody(w http.ResponseWriter, r *http.Request) (*[]byte, error) {
	limit := int64(c.cfg.Networking.DropPayloadSize)
	if r.ContentLength > limit {
		return nil, &http.MaxBytesError{Limit: limit}
	}
	rd := http.MaxBytesReader(w, r.Body, limit)
	bufp := c.bodyBufs.Get().(*[]byte)
	b := (*bufp)[:0]
	if n := int(r.ContentLength); n > cap(b) {
		b = make([]byte, 0, n+1) // +1: room to see EOF without growing
	}
	for {
		if len(b) == cap(b) {
			b = append(b, 0)[:len(b)]
		}
		n, err := rd.Read(b[len(b):cap(b)])
		b = b[:len(b)+n]
		if err == io.EOF {
			break
		}
		if err != nil {
			*bufp = b
			return bufp, err
		}
	}
	*bufp = b
	return bufp, nil
}

// maxPooledBody is the largest body buffer kept for reuse; larger ones, from rare
// large requests, go to the garbage collector.
const maxPooledBody = 256 << 10

func (c *Collector) releaseBody(bufp *[]byte) {
	if cap(*bufp) <= maxPooledBody {
		*bufp = (*bufp)[:0]
		c.bodyBufs.Put(bufp)
	}
}

// newUUID returns a random (version 4) UUID from a pooled ChaCha8 generator seeded
// from crypto/rand: as unpredictable as crypto/rand, without a system call per id.
func (c *Collector) newUUID() string {
	g := c.rands.Get().(*rand.ChaCha8)
	var id uuid.UUID
	binary.LittleEndian.PutUint64(id[:8], g.Uint64())
	binary.LittleEndian.PutUint64(id[8:], g.Uint64())
	c.rands.Put(g)
	id[6] = id[6]&0x0f | 0x40 // version 4
	id[8] = id[8]&0x3f | 0x80 // RFC 4122 variant
	return id.String()
}

func (c *Collector) doNotTrack(r *http.Request) bool {
	if c.dnt == nil {
		return false
	}
	v, ok := cookieIn(r, c.cfg.DoNotTrackCookie.Name)
	return ok && c.dnt.MatchString(v)
}

// requestCookie returns the value of the request's cookie name, "" when absent.
func (c *Collector) requestCookie(r *http.Request, name string) string {
	v, _ := cookieIn(r, name)
	return v
}

// setCookies adds the network user id cookie (and the client-readable copy) to h. With
// SP-Anonymous, cookies the request carried are deleted instead and none is created.
func (c *Collector) setCookies(h http.Header, r *http.Request, nuid string, anonymous bool, now time.Time) {
	ck := c.cfg.Cookie
	if !ck.Enabled {
		return
	}
	domain := c.cookieDomain(r)
	if anonymous {
		expired := now.Add(-ck.Expiration.Std())
		if _, ok := cookieIn(r, ck.Name); ok {
			h[hdrSetCookie] = append(h[hdrSetCookie], c.renderCookie(ck.Name, "", expired, domain, ck.HTTPOnly))
		}
		if ck.ClientCookieName != "" {
			if _, ok := cookieIn(r, ck.ClientCookieName); ok {
				h[hdrSetCookie] = append(h[hdrSetCookie], c.renderCookie(ck.ClientCookieName, "", expired, domain, false))
			}
		}
		return
	}
	expires := now.Add(ck.Expiration.Std())
	h[hdrSetCookie] = append(h[hdrSetCookie], c.renderCookie(ck.Name, nuid, expires, domain, ck.HTTPOnly))
	if ck.ClientCookieName != "" {
		h[hdrSetCookie] = append(h[hdrSetCookie], c.renderCookie(ck.ClientCookieName, nuid, expires, domain, false))
	}
}

// renderCookie writes a Set-Cookie value with the attributes in Snowplow's order.
func (c *Collector) renderCookie(name, value string, expires time.Time, domain string, httpOnly bool) string {
	var b strings.Builder
	b.Grow(160)
	b.WriteString(name)
	b.WriteByte('=')
	b.WriteString(sanitizeCookieValue(value))
	b.WriteString("; Expires=")
	b.WriteString(c.httpDate(expires))
	if domain != "" {
		b.WriteString("; Domain=")
		b.WriteString(domain)
	}
	b.WriteString("; Path=/")
	if s := c.cfg.Cookie.SameSite; s != "" {
		b.WriteString("; SameSite=")
		b.WriteString(s)
	}
	if c.cfg.Cookie.Secure {
		b.WriteString("; Secure")
	}
	if httpOnly {
		b.WriteString("; HttpOnly")
	}
	return b.String()
}

// cookieDomain picks the cookie Domain: the first configured domain that an Origin host
// equals or is a subdomain of, else the fallback domain, else none.
func (c *Collector) cookieDomain(r *http.Request) string {
	ck := c.cfg.Cookie
	if len(ck.Domains) > 0 {
		hosts := originHosts(r)
		for _, d := range ck.Domains {
			for _, o := range hosts {
				if o.host == d || strings.HasSuffix(o.host, "."+d) {
					return d
				}
			}
		}
	}
	return ck.FallbackDomain
}

// bounceLocation is the request's own URL with the bounce parameter added.
func bounceLocation(r *http.Request, param string) string {
	loc := r.URL.EscapedPath() + "?"
	if r.URL.RawQuery != "" {
		loc += r.URL.RawQuery + "&"
	}
	return loc + param + "=true"
}

// httpDate formats t as an HTTP date, reusing the last result within the same second:
// every cookie of a busy second has the same Expires.
func (c *Collector) httpDate(t time.Time) string {
	sec := t.Unix()
	if d := c.lastDate.Load(); d != nil && d.unix == sec {
		return d.text
	}
	d := &formattedDate{unix: sec, text: t.UTC().Format(http.TimeFormat)}
	c.lastDate.Store(d)
	return d.text
}

type formattedDate struct {
	unix int64
	text string
}
