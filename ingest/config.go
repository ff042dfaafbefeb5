package ingest

import (
	"errors"
	"fmt"
	"net/netip"
	"strings"
	"time"
)

// ILinkApp is one ET-iLink application: the token it was registered with (set_config, used by the GET
// handshake's signature) and the secret of its callback path /v1/ilink/{appkey}/{secret}.
type ILinkApp struct {
	Token  string
	Secret string
}

// MinILinkSecretLen is the shortest iLink path secret accepted: iLink pushes carry no signature, so
// the secret segment of the callback path is their only credential and must not be guessable.
const MinILinkSecretLen = 16

// Config is the ingest side's configuration.
type Config struct {
	// NeteaseApps maps a NetEase appkey to its AppSecret (IMARCHIVE_NETEASE_APPS, "appkey=secret,…").
	NeteaseApps map[string]string
	// ILinkApps maps an iLink appkey to its token and path secret (IMARCHIVE_ILINK_APPS,
	// "appkey=token:secret,…").
	ILinkApps map[string]ILinkApp
	// ILinkAllowIPs, when not empty, are the only source addresses iLink callbacks are accepted from
	// (IMARCHIVE_ILINK_ALLOW_IPS, addresses or CIDR prefixes); others get 403.
	ILinkAllowIPs []netip.Prefix
	// MaximApps maps a Maxim app_id to the signature secret set in its console (IMARCHIVE_MAXIM_APPS,
	// "app_id=secret,…").
	MaximApps map[string]string

	// NeteasePrevious, ILinkPrevious and MaximPrevious hold an app's previous secret while it is being
	// rotated: an app listed twice in its variable ("app=new,app=old") has both accepted until the
	// second entry is removed. The first listing is the current one (what loadgen signs with and
	// imarchive ilink register registers). A callback verified with a previous secret is counted in
	// imarchive_ingest_previous_secret_total, so the operator sees when the platform stopped using it.
	NeteasePrevious map[string]string
	ILinkPrevious   map[string]ILinkApp
	MaximPrevious   map[string]string

	// TrustedProxies are the peers whose X-Forwarded-For is believed (IMARCHIVE_TRUSTED_PROXIES,
	// addresses or CIDR prefixes). For a request from one of them, the client address is the
	// right-most X-Forwarded-For entry that is not itself a trusted proxy; it is what the iLink
	// allow-list is matched against and what the raw record and the logs keep. From any other peer,
	// X-Forwarded-* is ignored and the TCP peer is the client.
	TrustedProxies []netip.Prefix

	// RateLimit is the most authenticated callbacks per second one app may send (token bucket,
	// RateBurst deep); over it the answer is 429 with Retry-After, nothing is produced, and the
	// platform retries. 0 turns it off.
	RateLimit float64
	// RateBurst is the bucket's depth: how many callbacks above the rate an app may send at once.
	RateBurst int
	// MaxInFlight bounds the callbacks being read, verified and produced at once (and so the memory
	// they hold, at most MaxInFlight × MaxBodyBytes); over it the answer is 503 with Retry-After.
	// 0 means no bound.
	MaxInFlight int

	// BodyTimeout bounds the reading of an authenticated callback's body (default 10 s): the body has
	// deadlines of its own, apart from the server's header timeout.
	BodyTimeout time.Duration
	// BodyMinRate is the least average rate, in bytes a second, at which a body must arrive once
	// BodyGrace has passed (defaults 16 KiB/s after 2 s; 0 turns the rate off): a client that
	// trickles its body is cut off (408) in seconds, not at BodyTimeout.
	BodyMinRate int64
	BodyGrace   time.Duration

	// Freshness is how far CurTime may be from our clock (default 5 min).
	Freshness time.Duration
	// MaxBodyBytes bounds a callback body (default 1 MiB).
	MaxBodyBytes int64
	// AckTimeout is serve's own answer deadline, counted from a callback's arrival (default 4 s, inside
	// iLink's 5 s): by then the callback is answered — success once Kafka or the spool has it, else
	// 503 (iLink: the answer is withheld past its 5 s, so that it retries) — whatever the Kafka client
	// is still doing.
	AckTimeout time.Duration
	// SpoolAfter is how long a callback waits for Kafka's acknowledgement before it is written to the
	// spool instead (default 2 s; less than AckTimeout, leaving the rest for the spool's fsync). Used
	// only with a spool (WithSpool).
	SpoolAfter time.Duration
	// SpoolDir is the spool's directory (IMARCHIVE_SPOOL_DIR); empty: no spool, and a callback Kafka
	// does not acknowledge in time is answered 503. serve opens it (package ingest/spool).
	SpoolDir string
	// SpoolMaxBytes bounds the spool's files on disk (default 1 GiB); when full, callbacks are refused
	// as when Kafka is down without a spool.
	SpoolMaxBytes int64
	// SpoolSegmentBytes is the size of one spool segment file (default 8 MiB).
	SpoolSegmentBytes int64
	// DedupeWindow is how long a delivered event_id is remembered, so that a platform retry produces
	// nothing (default 10 min).
	DedupeWindow time.Duration
	// DedupeSize caps how many event_ids are remembered; past it the oldest are forgotten first
	// (default 200 000, some 43 MiB at the 227 bytes per entry BenchmarkDedupeWindowMemory measures).
	DedupeSize int
}

// DefaultConfig returns the defaults.
func DefaultConfig() Config {
	return Config{
		Freshness:         5 * time.Minute,
		MaxBodyBytes:      1 << 20,
		AckTimeout:        4 * time.Second,
		SpoolAfter:        2 * time.Second,
		SpoolMaxBytes:     1 << 30,
		SpoolSegmentBytes: 8 << 20,
		DedupeWindow:      10 * time.Minute,
		DedupeSize:        200_000,
		RateLimit:         0,
		RateBurst:         200,
		MaxInFlight:       1024,
		BodyTimeout:       10 * time.Second,
		BodyMinRate:       16 << 10,
		BodyGrace:         2 * time.Second,
	}
}

// Validate reports every problem at once.
func (c Config) Validate() error {
	var errs []error
	errs = append(errs, c.validateApps()...)
	errs = append(errs, c.validateRotation()...)
	errs = append(errs, c.validateLimits()...)
	errs = append(errs, c.validateSpool()...)
	errs = append(errs, c.validateDedupe()...)
	return errors.Join(errs...)
}

// validateApps checks the platforms' apps: each with its credentials, iLink's usable in a path.
func (c Config) validateApps() []error {
	var errs []error
	if len(c.NeteaseApps)+len(c.ILinkApps)+len(c.MaximApps) == 0 {
		errs = append(errs, errors.New("no platform apps configured (IMARCHIVE_NETEASE_APPS, IMARCHIVE_ILINK_APPS, IMARCHIVE_MAXIM_APPS)"))
	}
	for k, v := range c.NeteaseApps {
		if k == "" || v == "" {
			errs = append(errs, fmt.Errorf("netease app %q: empty appkey or secret", k))
		}
	}
	for k, v := range c.ILinkApps {
		if k == "" || v.Token == "" || v.Secret == "" {
			errs = append(errs, fmt.Errorf("ilink app %q: empty appkey, token or secret", k))
		}
		if strings.Contains(k, "/") || strings.Contains(v.Secret, "/") {
			errs = append(errs, fmt.Errorf("ilink app %q: appkey and secret are path segments and cannot hold '/'", k))
		}
		if v.Secret != "" && len(v.Secret) < MinILinkSecretLen {
			errs = append(errs, fmt.Errorf("ilink app %q: path secret of %d characters, want at least %d (it is the only credential of an iLink push; e.g. openssl rand -hex 16)", k, len(v.Secret), MinILinkSecretLen))
		}
	}
	for k, v := range c.MaximApps {
		if k == "" || v == "" {
			errs = append(errs, fmt.Errorf("maxim app %q: empty app_id or secret", k))
		}
	}
	return errs
}

// validateRotation checks the previous secrets of a rotation: each beside a current one.
func (c Config) validateRotation() []error {
	var errs []error
	for k, v := range c.NeteasePrevious {
		if _, ok := c.NeteaseApps[k]; !ok || v == "" {
			errs = append(errs, fmt.Errorf("netease app %q: a previous secret needs a current one", k))
		}
	}
	for k, v := range c.ILinkPrevious {
		if _, ok := c.ILinkApps[k]; !ok || v.Token == "" || v.Secret == "" || strings.Contains(v.Secret, "/") || len(v.Secret) < MinILinkSecretLen {
			errs = append(errs, fmt.Errorf("ilink app %q: a previous token:secret needs a current one, no '/' in the secret and at least %d characters", k, MinILinkSecretLen))
		}
	}
	for k, v := range c.MaximPrevious {
		if _, ok := c.MaximApps[k]; !ok || v == "" {
			errs = append(errs, fmt.Errorf("maxim app %q: a previous secret needs a current one", k))
		}
	}
	return errs
}

// validateLimits checks the rate limit, the in-flight bound, the body's read limits and the deadlines.
func (c Config) validateLimits() []error {
	var errs []error
	if c.RateLimit < 0 {
		errs = append(errs, fmt.Errorf("rate limit %v: must not be negative (0 turns it off)", c.RateLimit))
	}
	if c.RateLimit > 0 && c.RateBurst < 1 {
		errs = append(errs, fmt.Errorf("rate burst %d: must be at least 1 while a rate limit is set", c.RateBurst))
	}
	if c.MaxInFlight < 0 {
		errs = append(errs, fmt.Errorf("max in-flight %d: must not be negative (0: no bound)", c.MaxInFlight))
	}
	if c.BodyTimeout <= 0 || c.BodyGrace < 0 || c.BodyMinRate < 0 {
		errs = append(errs, fmt.Errorf("body read limits (timeout %s, grace %s, min rate %d B/s): timeout must be positive, the others not negative", c.BodyTimeout, c.BodyGrace, c.BodyMinRate))
	}
	if c.Freshness <= 0 {
		errs = append(errs, fmt.Errorf("freshness window %s: must be positive", c.Freshness))
	}
	if c.MaxBodyBytes <= 0 {
		errs = append(errs, fmt.Errorf("max body bytes %d: must be positive", c.MaxBodyBytes))
	}
	if c.AckTimeout <= 0 {
		errs = append(errs, fmt.Errorf("ack timeout %s: must be positive", c.AckTimeout))
	}
	return errs
}

// validateSpool checks the spool's sizes and when a callback goes to it, when there is one.
func (c Config) validateSpool() []error {
	var errs []error
	if c.SpoolDir == "" {
		return nil
	}
	if c.SpoolAfter <= 0 || c.SpoolAfter >= c.AckTimeout {
		errs = append(errs, fmt.Errorf("spool after %s: must be positive and less than the ack timeout (%s), leaving time for the spool's fsync", c.SpoolAfter, c.AckTimeout))
	}
	if c.SpoolMaxBytes <= 0 {
		errs = append(errs, fmt.Errorf("spool max bytes %d: must be positive", c.SpoolMaxBytes))
	}
	if c.SpoolSegmentBytes <= 0 || c.SpoolSegmentBytes > c.SpoolMaxBytes {
		errs = append(errs, fmt.Errorf("spool segment bytes %d: must be positive and at most the spool max bytes (%d)", c.SpoolSegmentBytes, c.SpoolMaxBytes))
	}
	return errs
}

// validateDedupe checks the dedupe window and its size.
func (c Config) validateDedupe() []error {
	var errs []error
	if c.DedupeWindow < 0 {
		errs = append(errs, fmt.Errorf("dedupe window %s: must not be negative (0 turns deduplication off)", c.DedupeWindow))
	}
	if c.DedupeSize < 0 || (c.DedupeWindow > 0 && c.DedupeSize == 0) {
		errs = append(errs, fmt.Errorf("dedupe size %d: must be positive while the dedupe window is", c.DedupeSize))
	}
	return errs
}

// ParseApps parses "key=secret[,key=secret…]" and returns each app's current secret (its first
// listing; see ParseAppsRotation). White space around entries is ignored. Errors never show a secret.
func ParseApps(s string) (map[string]string, error) {
	cur, _, err := ParseAppsRotation(s)
	return cur, err
}

// ParseAppsRotation parses "key=secret[,key=secret…]" where a key may be listed twice during a
// secret rotation: its first listing is the current secret, its second the previous one, both
// accepted. A key listed a third time, or twice with the same secret, is an error. Errors never show
// a secret.
func ParseAppsRotation(s string) (current, previous map[string]string, err error) {
	current, previous = map[string]string{}, map[string]string{}
	if strings.TrimSpace(s) == "" {
		return current, previous, nil
	}
	for _, part := range strings.Split(s, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		k, v, ok := strings.Cut(part, "=")
		k, v = strings.TrimSpace(k), strings.TrimSpace(v)
		if !ok || k == "" || v == "" {
			return nil, nil, fmt.Errorf("app entry %q: want key=secret", redactEntry(part))
		}
		cur, listed := current[k]
		switch {
		case !listed:
			current[k] = v
		case previous[k] != "":
			return nil, nil, fmt.Errorf("app %q listed more than twice (at most a current and a previous secret)", k)
		case cur == v:
			return nil, nil, fmt.Errorf("app %q listed twice with the same secret", k)
		default:
			previous[k] = v
		}
	}
	return current, previous, nil
}

// ParseILinkApps parses "appkey=token:secret[,…]" (IMARCHIVE_ILINK_APPS) and returns each app's current
// token and secret (see ParseILinkAppsRotation). Errors never show a token or secret.
func ParseILinkApps(s string) (map[string]ILinkApp, error) {
	cur, _, err := ParseILinkAppsRotation(s)
	return cur, err
}

// ParseILinkAppsRotation parses "appkey=token:secret[,…]" where an appkey may be listed twice during a
// rotation of its token, its path secret or both: the first listing is current, the second previous.
// Errors never show a token or secret.
func ParseILinkAppsRotation(s string) (current, previous map[string]ILinkApp, err error) {
	cur, prev, err := ParseAppsRotation(s)
	if err != nil {
		return nil, nil, err
	}
	split := func(k, v string) (ILinkApp, error) {
		token, secret, ok := strings.Cut(v, ":")
		token, secret = strings.TrimSpace(token), strings.TrimSpace(secret)
		if !ok || token == "" || secret == "" {
			return ILinkApp{}, fmt.Errorf("ilink app %q: want appkey=token:secret", k)
		}
		return ILinkApp{Token: token, Secret: secret}, nil
	}
	current, previous = make(map[string]ILinkApp, len(cur)), make(map[string]ILinkApp, len(prev))
	for k, v := range cur {
		if current[k], err = split(k, v); err != nil {
			return nil, nil, err
		}
	}
	for k, v := range prev {
		if previous[k], err = split(k, v); err != nil {
			return nil, nil, err
		}
	}
	return current, previous, nil
}

// ParseAllowIPs parses a comma-separated list of IP addresses and CIDR prefixes.
func ParseAllowIPs(s string) ([]netip.Prefix, error) {
	var out []netip.Prefix
	for _, part := range strings.Split(s, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		if p, err := netip.ParsePrefix(part); err == nil {
			out = append(out, p.Masked())
			continue
		}
		a, err := netip.ParseAddr(part)
		if err != nil {
			return nil, fmt.Errorf("allowed address %q: not an IP address or CIDR prefix", part)
		}
		a = a.Unmap()
		out = append(out, netip.PrefixFrom(a, a.BitLen()))
	}
	return out, nil
}

// redactEntry keeps the key of a key=secret entry and hides the rest, for error messages.
func redactEntry(s string) string {
	if k, _, ok := strings.Cut(s, "="); ok {
		return k + "=***"
	}
	return "***"
}
