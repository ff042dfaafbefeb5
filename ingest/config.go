package ingest

import (
	"errors"
	"fmt"
	"strings"
	"time"
)

// Config is the ingest side's configuration.
type Config struct {
	// NeteaseApps maps a NetEase appkey to its AppSecret (IMARCHIVE_NETEASE_APPS, "appkey=secret,…").
	NeteaseApps map[string]string
	// Freshness is how far CurTime may be from our clock (default 5 min).
	Freshness time.Duration
	// MaxBodyBytes bounds a callback body (default 1 MiB).
	MaxBodyBytes int64
	// AckTimeout bounds the wait for Kafka's acknowledgement before answering 503 (default 4 s, inside
	// the platforms' 5 s).
	AckTimeout time.Duration
}

// DefaultConfig returns the defaults.
func DefaultConfig() Config {
	return Config{Freshness: 5 * time.Minute, MaxBodyBytes: 1 << 20, AckTimeout: 4 * time.Second}
}

// Validate reports every problem at once.
func (c Config) Validate() error {
	var errs []error
	if len(c.NeteaseApps) == 0 {
		errs = append(errs, errors.New("no platform apps configured (IMARCHIVE_NETEASE_APPS)"))
	}
	for k, v := range c.NeteaseApps {
		if k == "" || v == "" {
			errs = append(errs, fmt.Errorf("netease app %q: empty appkey or secret", k))
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
	return errors.Join(errs...)
}

// ParseApps parses "key=secret[,key=secret…]". White space around entries is ignored.
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

// redactEntry keeps the key of a key=secret entry and hides the rest, for error messages.
func redactEntry(s string) string {
	if k, _, ok := strings.Cut(s, "="); ok {
		return k + "=***"
	}
	return "***"
}
