package ingest

import (
	"errors"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"net/netip"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// rateLimiter is a token bucket per authenticated app (golang.org/x/time/rate): RateLimit tokens a
// second, RateBurst deep. Buckets exist only for apps that passed verification, so there are at most
// as many as configured apps: a flood of forged requests neither spends an app's budget nor grows
// this map.
type rateLimiter struct {
	rate  rate.Limit
	burst int
	now   func() time.Time

	mu      sync.Mutex
	buckets map[string]*rate.Limiter
}

func newRateLimiter(limit float64, burst int, now func() time.Time) *rateLimiter {
	if limit <= 0 {
		return nil
	}
	return &rateLimiter{rate: rate.Limit(limit), burst: burst, now: now, buckets: map[string]*rate.Limiter{}}
}

// allow takes a token of key's bucket. When there is none it reports how long until there is one.
func (l *rateLimiter) allow(key string) (bool, time.Duration) {
	if l == nil {
		return true, 0
	}
	now := l.now()
	l.mu.Lock()
	b := l.buckets[key]
	if b == nil {
		b = rate.NewLimiter(l.rate, l.burst)
		l.buckets[key] = b
	}
	l.mu.Unlock()
	r := b.ReserveN(now, 1)
	if !r.OK() { // a burst below one token: never
		return false, time.Second
	}
	if d := r.DelayFrom(now); d > 0 {
		r.CancelAt(now) // refused: the token is not spent
		return false, d
	}
	return true, 0
}

// admit applies the app's rate limit to an authenticated callback. Over the limit it answers 429
// with Retry-After (whole seconds, at least 1) and reports false: nothing is produced, and the
// platform may retry (the copy manual does not document NetEase's retry rule).
func (r *Receiver) admit(w http.ResponseWriter, platform, app string) bool {
	ok, wait := r.limiter.allow(platform + "/" + app)
	if ok {
		return true
	}
	secs := int(math.Ceil(wait.Seconds()))
	secs = max(secs, 1)
	r.metrics.callbacks.WithLabelValues(platform, "", outcomeRateLimited).Inc()
	r.metrics.rateLimited.WithLabelValues(platform, app).Inc()
	r.log.Warn("callback over the app's rate limit; answering 429 so the platform retries later",
		"platform", platform, "app", app, "limit_per_s", r.cfg.RateLimit, "burst", r.cfg.RateBurst, "retry_after_s", secs)
	w.Header().Set("Retry-After", strconv.Itoa(secs))
	http.Error(w, "too many callbacks for this app; retry after "+strconv.Itoa(secs)+"s", http.StatusTooManyRequests)
	return false
}

// slot takes one of the MaxInFlight slots for an authenticated callback about to be read, verified
// and produced. Only authenticated requests take one — a request is checked against its app's
// credentials (headers, path secret) before — so requests without a credential cannot hold the slots
// that the platforms' callbacks need. When none is free the answer is 503 with Retry-After at once,
// before the body is read, and ok is false; otherwise release gives the slot back. Memory for bodies
// is so bounded by MaxInFlight × MaxBodyBytes, whatever arrives.
func (r *Receiver) slot(w http.ResponseWriter, req *http.Request, platform string) (release func(), ok bool) {
	if r.inflight == nil {
		return func() {}, true
	}
	select {
	case r.inflight <- struct{}{}:
		return func() { <-r.inflight }, true
	default:
		r.metrics.callbacks.WithLabelValues(platform, "", outcomeOverloaded).Inc()
		r.log.Warn("too many callbacks in flight; answering 503", "platform", platform, "max_in_flight", r.cfg.MaxInFlight)
		w.Header().Set("Retry-After", "1")
		hangUp(w)
		http.Error(w, "overloaded, retry", http.StatusServiceUnavailable)
		return nil, false
	}
}

// checkLength refuses, before anything is read, a body whose declared Content-Length is over
// MaxBodyBytes. A body without one (chunked) is cut at the limit while it is read.
func (r *Receiver) checkLength(req *http.Request) error {
	if req.ContentLength > r.cfg.MaxBodyBytes {
		return fmt.Errorf("%w: Content-Length %d over %d bytes", ErrBodyTooLarge, req.ContentLength, r.cfg.MaxBodyBytes)
	}
	return nil
}

// ErrBodyTooLarge is returned for a body over the limit (413).
var ErrBodyTooLarge = errors.New("request body too large")

// ErrBodySlow is returned for a body that did not arrive at BodyMinRate after BodyGrace, or not
// within BodyTimeout (408).
var ErrBodySlow = errors.New("request body too slow")

// readBody reads an authenticated callback's body, at most MaxBodyBytes. The body has deadlines of
// its own, apart from the server's: all of it within BodyTimeout, and, after BodyGrace, at least
// BodyMinRate bytes a second on average — so a client that trickles its body is cut off in seconds,
// not at the whole-request timeout. A declared Content-Length is read into a buffer of exactly that
// size (no growth copies); a chunked body grows up to the limit.
func (r *Receiver) readBody(w http.ResponseWriter, req *http.Request) ([]byte, error) {
	limit := r.cfg.MaxBodyBytes
	if err := r.checkLength(req); err != nil {
		return nil, err
	}
	dr := &deadlineReader{
		src: req.Body, rc: http.NewResponseController(w), start: time.Now(),
		timeout: r.cfg.BodyTimeout, grace: r.cfg.BodyGrace, rate: float64(r.cfg.BodyMinRate),
	}
	defer dr.rc.SetReadDeadline(time.Time{})
	var body []byte
	var err error
	if n := req.ContentLength; n >= 0 {
		body = make([]byte, n)
		_, err = io.ReadFull(dr, body)
	} else {
		body, err = io.ReadAll(http.MaxBytesReader(w, io.NopCloser(dr), limit))
	}
	var mbe *http.MaxBytesError
	switch {
	case errors.As(err, &mbe):
		return nil, fmt.Errorf("%w: over %d bytes", ErrBodyTooLarge, limit)
	case errors.Is(err, os.ErrDeadlineExceeded):
		return nil, fmt.Errorf("%w: %d bytes in %s (at least %d bytes/s after %s, all within %s)", ErrBodySlow,
			dr.n, time.Since(dr.start).Round(time.Millisecond), r.cfg.BodyMinRate, r.cfg.BodyGrace, r.cfg.BodyTimeout)
	case err != nil:
		return nil, fmt.Errorf("read body after %d bytes: %w", dr.n, err)
	}
	return body, nil
}

// deadlineReader moves the connection's read deadline before every read: the next byte is due by
// start + grace + n/rate (n bytes read so far), and never after start + timeout.
type deadlineReader struct {
	src           io.Reader
	rc            *http.ResponseController
	start         time.Time
	timeout       time.Duration
	grace         time.Duration
	rate          float64 // bytes per second; 0: only the timeout
	n             int64
	deadlineUnset bool // the connection does not support deadlines (tests' recorders): rely on the server's
}

func (d *deadlineReader) Read(p []byte) (int, error) {
	if !d.deadlineUnset {
		due := d.start.Add(d.timeout)
		if d.rate > 0 {
			due = minTime(due, d.start.Add(d.grace+time.Duration(float64(d.n+1)/d.rate*float64(time.Second))))
		}
		if err := d.rc.SetReadDeadline(due); err != nil {
			d.deadlineUnset = true
		}
	}
	n, err := d.src.Read(p)
	d.n += int64(n)
	return n, err
}

func minTime(a, b time.Time) time.Time {
	if b.Before(a) {
		return b
	}
	return a
}

// hangUp makes the answer the connection's last and stops reading it: a refused request's body is
// never read, not even drained after the answer, so a refused client holds nothing.
func hangUp(w http.ResponseWriter) {
	w.Header().Set("Connection", "close")
	http.NewResponseController(w).SetReadDeadline(time.Now())
}

// clientAddr is the address of the client that sent req: the TCP peer, unless the peer is a trusted
// proxy (TrustedProxies), in which case it is the right-most X-Forwarded-For entry that is not a
// trusted proxy itself — the left-most entries are whatever the client wrote and are never believed.
// ok is false when the address cannot be known (a malformed entry from a trusted proxy).
func (r *Receiver) clientAddr(req *http.Request) (netip.Addr, bool) {
	peer, ok := parseHostAddr(req.RemoteAddr)
	if !ok || len(r.cfg.TrustedProxies) == 0 || !allowed(r.cfg.TrustedProxies, peer) {
		return peer, ok
	}
	var hops []string
	for _, v := range req.Header.Values("X-Forwarded-For") {
		hops = append(hops, strings.Split(v, ",")...)
	}
	addr := peer
	for i := len(hops) - 1; i >= 0; i-- {
		a, ok := parseHostAddr(strings.TrimSpace(hops[i]))
		if !ok {
			return netip.Addr{}, false
		}
		addr = a
		if !allowed(r.cfg.TrustedProxies, a) {
			break
		}
	}
	return addr, true
}

// clientAddrString is clientAddr for logs and records; "" when it cannot be known.
func (r *Receiver) clientAddrString(req *http.Request) string {
	if a, ok := r.clientAddr(req); ok {
		return a.String()
	}
	return ""
}

// parseHostAddr reads "ip", "ip:port" or "[ipv6]:port".
func parseHostAddr(s string) (netip.Addr, bool) {
	if a, err := netip.ParseAddr(s); err == nil {
		return a.Unmap(), true
	}
	host, _, err := net.SplitHostPort(s)
	if err != nil {
		return netip.Addr{}, false
	}
	a, err := netip.ParseAddr(host)
	if err != nil {
		return netip.Addr{}, false
	}
	return a.Unmap(), true
}

func allowed(list []netip.Prefix, a netip.Addr) bool {
	for _, p := range list {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// usedSecret counts a callback verified with an app's previous secret (index > 0), so that the
// operator sees when the platform has moved to the new one and the old can be removed.
func (r *Receiver) usedSecret(platform, app string, index int) {
	if index <= 0 {
		return
	}
	r.metrics.previousSecret.WithLabelValues(platform, app).Inc()
	r.log.Debug("callback verified with the app's previous secret", "platform", platform, "app", app)
}

// replayed answers a request whose signature was already delivered: success, nothing produced.
func (r *Receiver) replayed(w http.ResponseWriter, platform, app, typ string, answer func(http.ResponseWriter)) {
	r.metrics.callbacks.WithLabelValues(platform, typeLabel(platform, typ), outcomeReplay).Inc()
	r.metrics.replays.WithLabelValues(platform).Inc()
	r.log.Info("replayed request (a signature already delivered): answered as delivered, nothing produced", "platform", platform, "app", app)
	answer(w)
}
