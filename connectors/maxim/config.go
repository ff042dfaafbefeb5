package maxim

import (
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/imarchive/imarchive/connectors"
)

// DefaultEndpoint is the manual's api_endpoint; a private deployment has its own (console, 应用信息).
const DefaultEndpoint = "https://api.maximtop.com"

// Config is how the connector reaches the Maxim server API as one app.
type Config struct {
	Endpoint        string            // api_endpoint (IMARCHIVE_MAXIM_API_URL)
	AppID           string            // app_id header (IMARCHIVE_MAXIM_APP_ID)
	AccessToken     connectors.Secret // access-token header (IMARCHIVE_MAXIM_ACCESS_TOKEN)
	AccessTokenFile string            // or a file holding it, read again when the platform answers 10008 (IMARCHIVE_MAXIM_ACCESS_TOKEN_FILE)
	UserID          string            // the user_id member_list acts as, for groups without their own (IMARCHIVE_MAXIM_USER_ID)
	PageLimit       int               // member_list limit per page (default 1000, the API's default)
	Policy          connectors.Policy // timeouts and retries
}

// DefaultConfig returns the defaults.
func DefaultConfig() Config {
	return Config{Endpoint: DefaultEndpoint, PageLimit: 1000, Policy: connectors.DefaultPolicy()}
}

// Validate reports every problem at once, never showing the token.
func (c Config) Validate() error {
	var errs []error
	if u, err := url.Parse(c.Endpoint); c.Endpoint == "" || err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		errs = append(errs, fmt.Errorf("maxim API URL %q: want the app's api_endpoint, http(s)://host (--api-url, IMARCHIVE_MAXIM_API_URL)", connectors.MaskURL(c.Endpoint)))
	}
	if c.AppID == "" {
		errs = append(errs, errors.New("maxim app_id: empty (--app-id, IMARCHIVE_MAXIM_APP_ID)"))
	}
	switch {
	case c.AccessToken == "" && c.AccessTokenFile == "":
		errs = append(errs, errors.New("maxim access-token: none (--access-token or --access-token-file, IMARCHIVE_MAXIM_ACCESS_TOKEN[_FILE])"))
	case c.AccessToken != "" && c.AccessTokenFile != "":
		errs = append(errs, errors.New("maxim access-token: give --access-token or --access-token-file, not both"))
	case c.AccessTokenFile != "":
		if _, err := readTokenFile(c.AccessTokenFile); err != nil {
			errs = append(errs, err)
		}
	}
	if c.UserID != "" && !numeric(c.UserID) {
		errs = append(errs, fmt.Errorf("maxim user_id %q: want a numeric user id", c.UserID))
	}
	if c.PageLimit < 1 || c.PageLimit > 100000 {
		errs = append(errs, fmt.Errorf("member_list page limit %d: want 1..100000", c.PageLimit))
	}
	if err := c.Policy.Validate(); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// LogValue prints the configuration with the token masked.
func (c Config) LogValue() slog.Value {
	return slog.GroupValue(
		slog.String("api_url", connectors.MaskURL(c.Endpoint)),
		slog.String("app_id", c.AppID),
		slog.String("access_token", c.AccessToken.String()),
		slog.String("access_token_file", c.AccessTokenFile),
		slog.String("user_id", c.UserID),
		slog.Int("page_limit", c.PageLimit),
	)
}

// String prints the configuration with the token masked.
func (c Config) String() string {
	return fmt.Sprintf("api_url=%s app_id=%s access_token=%s access_token_file=%s user_id=%s page_limit=%d",
		connectors.MaskURL(c.Endpoint), c.AppID, c.AccessToken, c.AccessTokenFile, c.UserID, c.PageLimit)
}

func readTokenFile(path string) (string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return "", fmt.Errorf("maxim access-token file: %w", err)
	}
	tok := strings.TrimSpace(string(b))
	if tok == "" {
		return "", fmt.Errorf("maxim access-token file %s: empty", path)
	}
	return tok, nil
}

func numeric(s string) bool {
	_, err := strconv.ParseUint(s, 10, 64)
	return err == nil
}

// GroupRef is a group to sync, with the user member_list acts as (its owner, or any member allowed to
// list); an empty Actor means Config.UserID.
type GroupRef struct {
	ID    string
	Actor string
}

// ParseGroups parses "GROUP[:USER],…".
func ParseGroups(s string) ([]GroupRef, error) {
	var out []GroupRef
	var errs []error
	for _, part := range strings.Split(s, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		id, actor, _ := strings.Cut(part, ":")
		id, actor = strings.TrimSpace(id), strings.TrimSpace(actor)
		if !numeric(id) || (actor != "" && !numeric(actor)) {
			errs = append(errs, fmt.Errorf("group %q: want GROUP_ID or GROUP_ID:USER_ID, numeric", part))
			continue
		}
		out = append(out, GroupRef{ID: id, Actor: actor})
	}
	return out, errors.Join(errs...)
}

// SyncConfig says what maxim sync takes.
type SyncConfig struct {
	Groups       []GroupRef    // groups to sync besides those seen (IMARCHIVE_MAXIM_SYNC_GROUPS)
	Users        []string      // accounts whose roster to take besides those seen (IMARCHIVE_MAXIM_SYNC_USERS)
	FromArchive  bool          // also the groups and accounts seen in the archive and earlier snapshots (default true)
	Rosters      bool          // take rosters (default true)
	RefreshAfter time.Duration // incremental: skip an item whose last complete snapshot is younger (default 1 h; 0 takes everything)
	Resume       bool          // resume the last run if it did not complete (default true)
	FlushRows    int           // rows buffered before a ClickHouse insert (default 5000)
	MaxPages     int           // most pages of one group, a guard against a cursor that never ends (default 100000)
}

// DefaultSyncConfig returns the defaults.
func DefaultSyncConfig() SyncConfig {
	return SyncConfig{FromArchive: true, Rosters: true, RefreshAfter: time.Hour, Resume: true, FlushRows: 5000, MaxPages: 100000}
}

// Validate reports every problem at once.
func (c SyncConfig) Validate() error {
	var errs []error
	for _, u := range c.Users {
		if !numeric(u) {
			errs = append(errs, fmt.Errorf("user %q: want a numeric user id", u))
		}
	}
	if c.RefreshAfter < 0 {
		errs = append(errs, fmt.Errorf("refresh-after %s: must not be negative", c.RefreshAfter))
	}
	if c.FlushRows < 1 {
		errs = append(errs, fmt.Errorf("flush rows %d: want at least 1", c.FlushRows))
	}
	if c.MaxPages < 1 {
		errs = append(errs, fmt.Errorf("max pages %d: want at least 1", c.MaxPages))
	}
	return errors.Join(errs...)
}
