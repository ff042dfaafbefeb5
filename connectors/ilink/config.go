package ilink

import (
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"regexp"
	"strings"
	"time"

	"github.com/imarchive/imarchive/connectors"
)

// The manual's endpoints (§3.1, §5): HTTPS on 8183, plain HTTP on 8184.
const (
	DefaultBaseURL   = "https://hs.kaifakuai.com:8183"
	PlainHTTPBaseURL = "http://hs.kaifakuai.com:8184"
)

// Config is how the connector reaches the iLink API as one application.
type Config struct {
	BaseURL   string            // API base URL, default DefaultBaseURL (IMARCHIVE_ILINK_API_URL)
	AppKey    string            // appkey (IMARCHIVE_ILINK_APPKEY)
	SecretKey connectors.Secret // secretkey, 32 lower-case characters (IMARCHIVE_ILINK_SECRETKEY)
	UID       string            // the business platform's UID used with set_config (IMARCHIVE_ILINK_UID)
	Policy    connectors.Policy // timeouts and retries
	// TokenRefreshBefore: a cached access_token is replaced when less than this is left of its
	// lifetime (default 5 min; at most half the lifetime).
	TokenRefreshBefore time.Duration
}

// DefaultConfig returns the defaults.
func DefaultConfig() Config {
	return Config{BaseURL: DefaultBaseURL, Policy: connectors.DefaultPolicy(), TokenRefreshBefore: 5 * time.Minute}
}

var secretKeyShape = regexp.MustCompile(`^[0-9a-z]{32}$`)

// Validate reports every problem at once, never showing the secret.
func (c Config) Validate() error {
	var errs []error
	if err := validHTTPURL(c.BaseURL); err != nil {
		errs = append(errs, fmt.Errorf("ilink API URL: %w", err))
	}
	if c.AppKey == "" {
		errs = append(errs, errors.New("ilink appkey: empty (--appkey, IMARCHIVE_ILINK_APPKEY)"))
	}
	switch {
	case c.SecretKey == "":
		errs = append(errs, errors.New("ilink secretkey: empty (--secretkey, IMARCHIVE_ILINK_SECRETKEY)"))
	case !secretKeyShape.MatchString(c.SecretKey.Reveal()):
		errs = append(errs, fmt.Errorf("ilink secretkey: the manual gives 32 lower-case letters or digits, this one has %d characters%s",
			len(c.SecretKey.Reveal()), upperNote(c.SecretKey.Reveal())))
	}
	if c.UID == "" {
		errs = append(errs, errors.New("ilink uid: empty (--uid, IMARCHIVE_ILINK_UID)"))
	}
	if c.TokenRefreshBefore < 0 {
		errs = append(errs, fmt.Errorf("token refresh margin %s: must not be negative", c.TokenRefreshBefore))
	}
	if err := c.Policy.Validate(); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

func upperNote(s string) string {
	if strings.ToLower(s) != s {
		return " and upper-case letters"
	}
	return ""
}

// LogValue prints the configuration with the secret masked.
func (c Config) LogValue() slog.Value {
	return slog.GroupValue(
		slog.String("api_url", connectors.MaskURL(c.BaseURL)),
		slog.String("appkey", c.AppKey),
		slog.String("secretkey", c.SecretKey.String()),
		slog.String("uid", c.UID),
		slog.Duration("timeout", c.Policy.Timeout),
		slog.Int("attempts", c.Policy.Attempts),
	)
}

// String prints the configuration with the secret masked.
func (c Config) String() string {
	return fmt.Sprintf("api_url=%s appkey=%s secretkey=%s uid=%s timeout=%s attempts=%d",
		connectors.MaskURL(c.BaseURL), c.AppKey, c.SecretKey, c.UID, c.Policy.Timeout, c.Policy.Attempts)
}

// Registration is what set_config register (action_type 0) sends besides the credentials.
type Registration struct {
	CallbackURL string            // our serve's URL: https://HOST/v1/ilink/{appkey}/{path-secret}
	Token       connectors.Secret // 3–32 letters or digits; serve checks the GET handshake with it
}

var tokenShape = regexp.MustCompile(`^[A-Za-z0-9]{3,32}$`)

// Validate reports every problem at once.
func (r Registration) Validate() error {
	var errs []error
	if err := validHTTPURL(r.CallbackURL); err != nil {
		errs = append(errs, fmt.Errorf("callback URL: %w (--callback-url, IMARCHIVE_ILINK_CALLBACK_URL)", err))
	}
	if !tokenShape.MatchString(r.Token.Reveal()) {
		errs = append(errs, fmt.Errorf("handshake token: the manual wants 3–32 letters or digits, this one has %d characters (--token, IMARCHIVE_ILINK_TOKEN)", len(r.Token.Reveal())))
	}
	return errors.Join(errs...)
}

func validHTTPURL(s string) error {
	if s == "" {
		return errors.New("empty")
	}
	u, err := url.Parse(s)
	if err != nil {
		return errors.New("not a URL")
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return fmt.Errorf("%s: must start with http:// or https://", connectors.MaskURL(s))
	}
	if u.Host == "" {
		return fmt.Errorf("%s: no host", connectors.MaskURL(s))
	}
	return nil
}

// SyncConfig says what ilink sync takes besides the groups.
type SyncConfig struct {
	States     bool     // poll the online state of every account seen (default true)
	UIDs       []string // more accounts whose state to poll (IMARCHIVE_ILINK_SYNC_UIDS)
	StateBatch int      // UIDs per ham_user request (default 100)
	FlushRows  int      // rows buffered before a ClickHouse insert (default 5000)
}

// DefaultSyncConfig returns the defaults.
func DefaultSyncConfig() SyncConfig {
	return SyncConfig{States: true, StateBatch: 100, FlushRows: 5000}
}

// Validate reports every problem at once.
func (c SyncConfig) Validate() error {
	var errs []error
	if c.StateBatch < 1 {
		errs = append(errs, fmt.Errorf("state batch %d: want at least 1", c.StateBatch))
	}
	if c.FlushRows < 1 {
		errs = append(errs, fmt.Errorf("flush rows %d: want at least 1", c.FlushRows))
	}
	return errors.Join(errs...)
}
