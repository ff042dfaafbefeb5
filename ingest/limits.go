package ingest

import (
	"math"
	"net"
	"net/http"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"time"
)

// rateLimiter is a token bucket per authenticated app: RateLimit tokens a second, RateBurst deep.
// Buckets exist only for apps that passed verification, so there are at most as many as configured
// apps: a flood of forged requests neither spends an app's budget nor grows this map.
type rateLimiter struct {
	rate  float64
	burst float64
	now   func() time.Time

	mu      sync.Mutex
	buckets map[string]*bucket
}

type bucket struct {
	tokens float64
	last   time.Time
}

func newRateLimiter(rate float64, burst int, now func() time.Time) *rateLimiter {
	if rate <= 0 {
		return nil
	}
	return &rateLimiter{rate: rate, burst: float64(burst), now: now, buckets: map[string]*bucket{}}
}

// allow takes a token of key's bucket. When there is none it reports how long until there is one.
func (l *rateLimiter) allow(key string) (bool, time.Duration) {
	if l == nil {
		return true, 0
	}
	now := l.now()
	l.mu.Lock()
	defer l.mu.Unlock()
	b := l.buckets[key]
	if b == nil {
		b = &bucket{tokens: l.burst, last: now}
		l.buckets[key] = b
	}
	if el := now.Sub(b.last).Seconds(); el > 0 {
		b.tokens = math.Min(l.burst, b.tokens+el*l.rate)
		b.last = now
	}
	if b.tokens >= 1 {
		b.tokens--
		return true, 0
	}
	return false, time.Duration((1 - b.tokens) / l.rate * float64(time.Second))
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

// bounded caps the callbacks handled at once (MaxInFlight): over it the answer is 503 with
// Retry-After at once, before the body is read, so memory stays bounded by MaxInFlight ×
// MaxBodyBytes whatever arrives.
func (r *Receiver) bounded(platform string, h http.HandlerFunc) http.HandlerFunc {
	if r.inflight == nil {
		return h
	}
	return func(w http.ResponseWriter, req *http.Request) {
		select {
		case r.inflight <- struct{}{}:
			defer func() { <-r.inflight }()
			h(w, req)
		default:
			r.metrics.callbacks.WithLabelValues(platform, "", outcomeOverloaded).Inc()
			r.log.Warn("too many callbacks in flight; answering 503", "platform", platform, "max_in_flight", r.cfg.MaxInFlight)
			w.Header().Set("Retry-After", "1")
			http.Error(w, "overloaded, retry", http.StatusServiceUnavailable)
		}
	}
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
