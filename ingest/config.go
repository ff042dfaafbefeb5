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

	// Freshness is how far CurTime may be from our clock (default 5 min).
	Freshness time.Duration
	// MaxBodyBytes bounds a callback body (default 1 MiB).
	MaxBodyBytes int64
	// AckTimeout bounds the wait for Kafka's acknowledgement before answering 503 (default 4 s, inside
	// the platforms' 5 s).
	AckTimeout time.Duration
	// DedupeWindow is how long a delivered event_id is remembered, so that a platform retry produces
	// nothing (default 10 min).
	DedupeWindow time.Duration
	// DedupeSize caps how many event_ids are remembered; past it the oldest are forgotten first
	// (default 200 000, some 30 MiB).
	DedupeSize int
}

// DefaultConfig returns the defaults.
func DefaultConfig() Config {
	return Config{
		Freshness:    5 * time.Minute,
		MaxBodyBytes: 1 << 20,
		AckTimeout:   4 * time.Second,
		DedupeWindow: 10 * time.Minute,
		DedupeSize:   200_000,
	}
}

// Validate reports every problem at once.
func (c Config) Validate() error {
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
	}
	for k, v := range c.MaximApps {
		if k == "" || v == "" {
			errs = append(errs, fmt.Errorf("maxim app %q: empty app_id or secret", k))
		}
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
	if c.DedupeWindow < 0 {
		errs = append(errs, fmt.Errorf("dedupe window %s: must not be negative (0 turns deduplication off)", c.DedupeWindow))
	}
	if c.DedupeSize < 0 || (c.DedupeWindow > 0 && c.DedupeSize == 0) {
		errs = append(errs, fmt.Errorf("dedupe size %d: must be positive while the dedupe window is", c.DedupeSize))
	}
	return errors.Join(errs...)
}

// ParseApps parses "key=secret[,key=secret…]". White space around entries is ignored. Errors never
// show a secret.
func ParseApps(s string) (map[string]string, error) {
	m := map[string]string{}
	if strings.TrimSpace(s) == "" {
		return m, nil
	}
	for _, part := range strings.Split(s, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		k, v, ok := strings.Cut(part, "=")
		k, v = strings.TrimSpace(k), strings.TrimSpace(v)
		if !ok || k == "" || v == "" {
			return nil, fmt.Errorf("app entry %q: want key=secret", redactEntry(part))
		}
		if _, dup := m[k]; dup {
			return nil, fmt.Errorf("app %q listed twice", k)
		}
		m[k] = v
	}
	return m, nil
}

// ParseILinkApps parses "appkey=token:secret[,…]" (IMARCHIVE_ILINK_APPS). Errors never show a token
// or secret.
func ParseILinkApps(s string) (map[string]ILinkApp, error) {
	kv, err := ParseApps(s)
	if err != nil {
		return nil, err
	}
	m := make(map[string]ILinkApp, len(kv))
	for k, v := range kv {
		token, secret, ok := strings.Cut(v, ":")
		token, secret = strings.TrimSpace(token), strings.TrimSpace(secret)
		if !ok || token == "" || secret == "" {
			return nil, fmt.Errorf("ilink app %q: want appkey=token:secret", k)
		}
		m[k] = ILinkApp{Token: token, Secret: secret}
	}
	return m, nil
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
