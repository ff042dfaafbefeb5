package maxim

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/imarchive/imarchive/connectors"
)

// Client calls the Maxim server API as one app: app_id and access-token headers on every request,
// user_id where the API acts as a user. Business errors (HTTP 200, code in the body) are *APIError.
// Safe for concurrent use.
type Client struct {
	cfg    Config
	caller *connectors.Caller
	redact *connectors.Redactor

	mu    sync.Mutex
	token string
}

// Option configures a Client.
type Option func(*Client)

// WithHTTPClient sets the HTTP client.
func WithHTTPClient(h *http.Client) Option { return func(c *Client) { c.caller.HTTP = h } }

// WithMetrics records request metrics.
func WithMetrics(m *connectors.Metrics) Option { return func(c *Client) { c.caller.Metrics = m } }

// NewClient validates cfg and returns a client. log may be nil.
func NewClient(cfg Config, log *slog.Logger, opts ...Option) (*Client, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	tok := cfg.AccessToken.Reveal()
	if cfg.AccessTokenFile != "" {
		var err error
		if tok, err = readTokenFile(cfg.AccessTokenFile); err != nil {
			return nil, err
		}
	}
	redact := connectors.NewRedactor(tok)
	c := &Client{
		cfg:    cfg,
		redact: redact,
		token:  tok,
		caller: &connectors.Caller{Source: "maxim", HTTP: &http.Client{}, Policy: cfg.Policy, Redact: redact, Log: log},
	}
	for _, o := range opts {
		o(c)
	}
	return c, nil
}

// Redactor returns the client's redactor (every access-token it used).
func (c *Client) Redactor() *connectors.Redactor { return c.redact }

// UserID is the default acting user for group calls.
func (c *Client) UserID() string { return c.cfg.UserID }

func (c *Client) currentToken() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.token
}

// reloadToken reads the token file again after the platform refused tok; it reports whether a
// different token is now in use.
func (c *Client) reloadToken(tok string) bool {
	if c.cfg.AccessTokenFile == "" {
		return false
	}
	fresh, err := readTokenFile(c.cfg.AccessTokenFile)
	if err != nil {
		return false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if fresh == tok {
		return false
	}
	c.token = fresh
	c.redact.Add(fresh)
	return true
}

// envelope is every answer: {"code": 200, "data": …}, plus what a call adds (member_list: version,
// cursor). Errors carry a message under one of several names.
type envelope struct {
	Code    *connectors.FlexInt   `json:"code"`
	Data    json.RawMessage       `json:"data"`
	Version connectors.FlexString `json:"version"`
	Cursor  connectors.FlexString `json:"cursor"`
	Message connectors.FlexString `json:"message"`
	Msg     connectors.FlexString `json:"msg"`
	Error   connectors.FlexString `json:"error"`
}

// get sends a GET with the app headers (and user_id when not empty) and decodes the envelope. A token
// the platform refuses (10008) is read again from the token file, if there is one, and the call made
// once more.
func (c *Client) get(ctx context.Context, op, path string, query url.Values, userID string) (envelope, error) {
	target := strings.TrimRight(c.cfg.Endpoint, "/") + path
	if len(query) > 0 {
		target += "?" + query.Encode()
	}
	for try := 0; ; try++ {
		tok := c.currentToken()
		var env envelope
		err := c.caller.Call(ctx, op, func(ctx context.Context) (*http.Request, error) {
			req, err := http.NewRequestWithContext(ctx, http.MethodGet, target, nil)
			if err != nil {
				return nil, err
			}
			// The manual's header names, sent as written (lower case, underscores).
			req.Header["Content-Type"] = []string{"application/json"}
			req.Header["app_id"] = []string{c.cfg.AppID}
			req.Header["access-token"] = []string{tok}
			if userID != "" {
				req.Header["user_id"] = []string{userID}
			}
			return req, nil
		}, func(status int, b []byte) error {
			if status != http.StatusOK {
				return &connectors.HTTPStatusError{Status: status, Body: clip(string(b))}
			}
			e, err := decodeEnvelope(b)
			if err != nil {
				return fmt.Errorf("%w: %s: %w", ErrBadAnswer, op, err)
			}
			if Code(*e.Code) != CodeOK {
				msg := string(e.Message)
				if msg == "" {
					msg = string(e.Msg)
				}
				if msg == "" {
					msg = string(e.Error)
				}
				return &APIError{Op: op, Code: Code(*e.Code), Message: msg}
			}
			env = e
			return nil
		})
		var ae *APIError
		if try == 0 && errors.As(err, &ae) && ae.Code == CodeInvalidToken && c.reloadToken(tok) {
			continue
		}
		return env, err
	}
}

func decodeEnvelope(b []byte) (envelope, error) {
	var e envelope
	if err := json.Unmarshal(b, &e); err != nil {
		return e, fmt.Errorf("answer is not the manual's JSON envelope: %w (%q)", err, clip(string(b)))
	}
	if e.Code == nil {
		return e, fmt.Errorf("answer has no code: %q", clip(string(b)))
	}
	return e, nil
}

// Member is an entry of a member_list page.
type Member struct {
	UserID   string     // decimal text
	JoinTime *time.Time // join_time (ms), nil when absent
	Attrs    map[string]string
}

// Page is one member_list page.
type Page struct {
	Members []Member
	Cursor  string // the next page's cursor; "" on the last page
	Version string // the list's version, as received
}

// MemberPage gets one page of a group's members (GET /group/member_list): limit members after cursor
// ("" for the first page), acting as userID.
func (c *Client) MemberPage(ctx context.Context, groupID, userID, cursor string, limit int) (Page, error) {
	q := url.Values{"group_id": {groupID}}
	if cursor != "" {
		q.Set("cursor", cursor)
	}
	if limit > 0 {
		q.Set("limit", strconv.Itoa(limit))
	}
	env, err := c.get(ctx, "GET /group/member_list", "/group/member_list", q, userID)
	if err != nil {
		return Page{}, err
	}
	members, err := DecodeMembers(env.Data)
	if err != nil {
		return Page{}, err
	}
	return Page{Members: members, Cursor: strings.TrimSpace(string(env.Cursor)), Version: string(env.Version)}, nil
}

// DecodeMembers decodes member_list's data: [{"user_id": 2302128618880, "join_time": 1569615417000}, …].
func DecodeMembers(raw json.RawMessage) ([]Member, error) {
	objs, err := connectors.JSONList[map[string]json.RawMessage](raw)
	if err != nil {
		return nil, fmt.Errorf("%w: member_list data: %w", ErrBadAnswer, err)
	}
	out := make([]Member, 0, len(objs))
	for i, obj := range objs {
		var userID connectors.FlexString
		var joinTime connectors.FlexInt
		if err := field(obj, "user_id", &userID); err != nil {
			return nil, fmt.Errorf("%w: member_list data[%d]: %w", ErrBadAnswer, i, err)
		}
		if err := field(obj, "join_time", &joinTime); err != nil {
			return nil, fmt.Errorf("%w: member_list data[%d]: %w", ErrBadAnswer, i, err)
		}
		if !numeric(string(userID)) {
			return nil, fmt.Errorf("%w: member_list data[%d]: user_id %q is not a user id", ErrBadAnswer, i, userID)
		}
		m := Member{UserID: string(userID), Attrs: connectors.Attrs(obj)}
		if joinTime > 0 {
			t := time.UnixMilli(int64(joinTime)).UTC()
			m.JoinTime = &t
		}
		out = append(out, m)
	}
	return out, nil
}

// Contact is a roster entry.
type Contact struct {
	UserID string
	Name   string
	Attrs  map[string]string
}

// Rosters gets a user's roster (GET /user/rosters, user_id header = the user).
func (c *Client) Rosters(ctx context.Context, userID string) ([]Contact, error) {
	env, err := c.get(ctx, "GET /user/rosters", "/user/rosters", nil, userID)
	if err != nil {
		return nil, err
	}
	return DecodeRoster(env.Data)
}

// DecodeRoster decodes /user/rosters' data: [{"user_id": 2199040544848, "name": "a"}, …]; bare user ids
// are accepted too.
func DecodeRoster(raw json.RawMessage) ([]Contact, error) {
	items, err := connectors.JSONList[json.RawMessage](raw)
	if err != nil {
		return nil, fmt.Errorf("%w: rosters data: %w", ErrBadAnswer, err)
	}
	out := make([]Contact, 0, len(items))
	for i, it := range items {
		var obj map[string]json.RawMessage
		if err := json.Unmarshal(it, &obj); err != nil {
			var id connectors.FlexString
			if err := id.UnmarshalJSON(it); err != nil || !numeric(string(id)) {
				return nil, fmt.Errorf("%w: rosters data[%d]: want an object or a user id", ErrBadAnswer, i)
			}
			out = append(out, Contact{UserID: string(id), Attrs: map[string]string{"user_id": string(id)}})
			continue
		}
		var userID, name connectors.FlexString
		if err := field(obj, "user_id", &userID); err != nil {
			return nil, fmt.Errorf("%w: rosters data[%d]: %w", ErrBadAnswer, i, err)
		}
		if err := field(obj, "name", &name); err != nil {
			return nil, fmt.Errorf("%w: rosters data[%d]: %w", ErrBadAnswer, i, err)
		}
		if !numeric(string(userID)) {
			return nil, fmt.Errorf("%w: rosters data[%d]: user_id %q is not a user id", ErrBadAnswer, i, userID)
		}
		out = append(out, Contact{UserID: string(userID), Name: string(name), Attrs: connectors.Attrs(obj)})
	}
	return out, nil
}

// field decodes obj[name], when present, into v.
func field(obj map[string]json.RawMessage, name string, v json.Unmarshaler) error {
	raw, ok := obj[name]
	if !ok {
		return nil
	}
	if err := v.UnmarshalJSON(raw); err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	return nil
}

func clip(s string) string {
	if len(s) > 200 {
		return s[:200] + "…"
	}
	return s
}
