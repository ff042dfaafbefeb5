package ilink

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/imarchive/imarchive/connectors"
)

// DefaultTokenLifetime is the access_token lifetime the manual states (§5.1), used when an answer
// carries no expires_in.
const DefaultTokenLifetime = 7200 * time.Second

// Action types of set_config (§3.1–3.3). The manual's table gives 0, 1, 2; its register example JSON
// says "action_type": 1, which contradicts its own table and the delete call: the table wins.
const (
	ActionRegister   = 0
	ActionUnregister = 1
	ActionQuery      = 2
)

// Client calls the iLink API as one application and UID. It caches the access_token (§5.1) and
// replaces it before it expires, or when the platform refuses it (1008, 1015). Safe for concurrent use.
type Client struct {
	cfg    Config
	caller *connectors.Caller
	redact *connectors.Redactor
	now    func() time.Time

	mu      sync.Mutex
	token   string
	expires time.Time
	fetched int // tokens fetched, for tests and logs
}

// Option configures a Client.
type Option func(*Client)

// WithHTTPClient sets the HTTP client (default: a client without its own timeout; the Policy bounds
// each request).
func WithHTTPClient(h *http.Client) Option { return func(c *Client) { c.caller.HTTP = h } }

// WithClock sets the clock used for token expiry (tests).
func WithClock(now func() time.Time) Option { return func(c *Client) { c.now = now } }

// WithMetrics records request metrics.
func WithMetrics(m *connectors.Metrics) Option { return func(c *Client) { c.caller.Metrics = m } }

// NewClient validates cfg and returns a client. log may be nil.
func NewClient(cfg Config, log *slog.Logger, opts ...Option) (*Client, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	redact := connectors.NewRedactor(cfg.SecretKey.Reveal())
	c := &Client{
		cfg:    cfg,
		redact: redact,
		now:    time.Now,
		caller: &connectors.Caller{Source: "ilink", HTTP: &http.Client{}, Policy: cfg.Policy, Redact: redact, Log: log},
	}
	for _, o := range opts {
		o(c)
	}
	return c, nil
}

// Redactor returns the client's redactor (its secretkey and every access_token it obtained), for
// anything else that prints text the platform sent.
func (c *Client) Redactor() *connectors.Redactor { return c.redact }

// Answer is a decoded iLink answer: its code and every field as received.
type Answer struct {
	Code   Code
	Fields map[string]json.RawMessage
}

// post sends body as JSON to path and decodes the answer into out (which must accept the envelope's
// code). A non-zero code is an *APIError.
func (c *Client) post(ctx context.Context, op, path, query string, body any, out any) (Answer, error) {
	payload, err := json.Marshal(body)
	if err != nil {
		return Answer{}, fmt.Errorf("encode %s request: %w", op, err)
	}
	target := strings.TrimRight(c.cfg.BaseURL, "/") + "/" + path
	if query != "" {
		target += "?" + query
	}
	var ans Answer
	err = c.caller.Call(ctx, op, func(ctx context.Context) (*http.Request, error) {
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, target, bytes.NewReader(payload))
		if err != nil {
			return nil, err
		}
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Accept", "application/json")
		return req, nil
	}, func(status int, b []byte) error {
		if status != http.StatusOK {
			return &connectors.HTTPStatusError{Status: status, Body: clip(string(b))}
		}
		a, err := decodeAnswer(b)
		if err != nil {
			return fmt.Errorf("%w: %s: %w", ErrBadAnswer, op, err)
		}
		ans = a
		if a.Code != CodeOK {
			return &APIError{Op: op, Code: a.Code}
		}
		if out != nil {
			if err := json.Unmarshal(b, out); err != nil {
				return fmt.Errorf("%w: %s: %w", ErrBadAnswer, op, err)
			}
		}
		return nil
	})
	return ans, err
}

func decodeAnswer(b []byte) (Answer, error) {
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(b, &fields); err != nil {
		return Answer{}, fmt.Errorf("answer is not a JSON object: %q", clip(string(b)))
	}
	raw, ok := fields["code"]
	if !ok {
		return Answer{}, errors.New("answer has no code")
	}
	var code connectors.FlexInt
	if err := code.UnmarshalJSON(raw); err != nil {
		return Answer{}, fmt.Errorf("code: %w", err)
	}
	return Answer{Code: Code(code), Fields: fields}, nil
}

// setConfigRequest is §3.1–3.3's request: url and token only where the action takes them.
type setConfigRequest struct {
	AppKey     string `json:"appkey"`
	SecretKey  string `json:"secretkey"`
	URL        string `json:"url,omitempty"`
	UID        string `json:"uid"`
	ActionType int    `json:"action_type"`
	Token      string `json:"token,omitempty"`
}

var actionNames = map[int]string{ActionRegister: "register", ActionUnregister: "unregister", ActionQuery: "query"}

// Register calls set_config with action_type 0 (§3.1): the platform then checks the callback URL with
// its GET handshake and answers 1006 when it did not get the echostr back.
func (c *Client) Register(ctx context.Context, r Registration) (Answer, error) {
	if err := r.Validate(); err != nil {
		return Answer{}, err
	}
	c.redact.Add(append(connectors.URLSecrets(r.CallbackURL), r.Token.Reveal())...)
	return c.setConfig(ctx, ActionRegister, r.CallbackURL, r.Token.Reveal())
}

// Unregister calls set_config with action_type 1 (§3.2).
func (c *Client) Unregister(ctx context.Context) (Answer, error) {
	return c.setConfig(ctx, ActionUnregister, "", "")
}

// Query calls set_config with action_type 2 (§3.3); callbackURL may be empty.
func (c *Client) Query(ctx context.Context, callbackURL string) (Answer, error) {
	c.redact.Add(connectors.URLSecrets(callbackURL)...)
	return c.setConfig(ctx, ActionQuery, callbackURL, "")
}

func (c *Client) setConfig(ctx context.Context, action int, callbackURL, token string) (Answer, error) {
	req := setConfigRequest{AppKey: c.cfg.AppKey, SecretKey: c.cfg.SecretKey.Reveal(), UID: c.cfg.UID, ActionType: action}
	if action != ActionUnregister {
		req.URL = callbackURL
	}
	if action == ActionRegister {
		req.Token = token
	}
	return c.post(ctx, "set_config "+actionNames[action], "set_config", "", req, nil)
}

type tokenRequest struct {
	AppKey    string `json:"appkey"`
	SecretKey string `json:"secretkey"`
	UID       string `json:"uid"`
}

type tokenAnswer struct {
	AccessToken connectors.FlexString `json:"access_token"`
	ExpiresIn   connectors.FlexInt    `json:"expires_in"`
}

// AccessToken returns a valid access_token: the cached one while more than TokenRefreshBefore of its
// lifetime is left, else a new one from get_access_token (§5.1).
func (c *Client) AccessToken(ctx context.Context) (string, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.token != "" && c.now().Before(c.expires) {
		return c.token, nil
	}
	var ans tokenAnswer
	if _, err := c.post(ctx, "get_access_token", "get_access_token", "",
		tokenRequest{AppKey: c.cfg.AppKey, SecretKey: c.cfg.SecretKey.Reveal(), UID: c.cfg.UID}, &ans); err != nil {
		return "", err
	}
	if ans.AccessToken == "" {
		return "", fmt.Errorf("%w: get_access_token: code 0 without an access_token", ErrBadAnswer)
	}
	life := time.Duration(ans.ExpiresIn) * time.Second
	if life <= 0 {
		life = DefaultTokenLifetime
	}
	margin := c.cfg.TokenRefreshBefore
	if margin > life/2 {
		margin = life / 2
	}
	c.token = string(ans.AccessToken)
	c.expires = c.now().Add(life - margin)
	c.fetched++
	c.redact.Add(c.token)
	return c.token, nil
}

// TokensFetched says how many access_tokens the client obtained.
func (c *Client) TokensFetched() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.fetched
}

func (c *Client) dropToken(tok string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.token == tok {
		c.token = ""
	}
}

// authed calls an endpoint that takes ?access_token=. When the platform refuses the token (1008
// expired or invalid, 1015 no token for this UID) the token is replaced and the call made once more.
func (c *Client) authed(ctx context.Context, op, path string, body any, out any) error {
	_, err := c.authedCall(ctx, op, path, body, out)
	return err
}

// authedAnswer is authed returning the answer (its code and every field).
func (c *Client) authedAnswer(ctx context.Context, op, path string, body any) (Answer, error) {
	return c.authedCall(ctx, op, path, body, nil)
}

func (c *Client) authedCall(ctx context.Context, op, path string, body any, out any) (Answer, error) {
	for try := 0; ; try++ {
		tok, err := c.AccessToken(ctx)
		if err != nil {
			return Answer{}, err
		}
		ans, err := c.post(ctx, op, path, "access_token="+url.QueryEscape(tok), body, out)
		var ae *APIError
		if try == 0 && errors.As(err, &ae) && ae.Code.TokenProblem() {
			c.dropToken(tok)
			continue
		}
		return ans, err
	}
}

// Group is an entry of the group list (§5.6).
type Group struct {
	ID         string
	Name       string
	CreateTime string     // as received: "2014-12-13 13:13:13"
	CreatedAt  *time.Time // CreateTime read as China time (UTC+8); nil when it does not parse
	Attrs      map[string]string
}

// chinaTime is the platform's wall clock: the manual's times carry no zone; the platform is in China
// (UTC+8, no daylight saving since 1991).
var chinaTime = time.FixedZone("UTC+8", 8*3600)

type groupEntry struct {
	GroupID    connectors.FlexString `json:"group_id"`
	GroupName  connectors.FlexString `json:"group_name"`
	CreateTime connectors.FlexString `json:"create_time"`
}

type hamRequest struct {
	SendUID    string   `json:"send_uid"`
	ActionType int      `json:"action_type"`
	GroupID    string   `json:"group_id,omitempty"`
	UIDList    []string `json:"uid_list,omitempty"`
}

// Groups returns the group list (ham_group action_type 3, §5.6).
func (c *Client) Groups(ctx context.Context) ([]Group, error) {
	var ans struct {
		GroupList json.RawMessage `json:"group_list"`
	}
	if err := c.authed(ctx, "ham_group action 3", "ham_group", hamRequest{SendUID: c.cfg.UID, ActionType: 3}, &ans); err != nil {
		return nil, err
	}
	return DecodeGroupList(ans.GroupList)
}

// DecodeGroupList decodes §5.6's group_list: a JSON array of {group_id, group_name, create_time}, or
// a string holding one (the manual types it "json").
func DecodeGroupList(raw json.RawMessage) ([]Group, error) {
	objs, err := connectors.JSONList[map[string]json.RawMessage](raw)
	if err != nil {
		return nil, fmt.Errorf("%w: group_list: %w", ErrBadAnswer, err)
	}
	out := make([]Group, 0, len(objs))
	for i, obj := range objs {
		var e groupEntry
		b, _ := json.Marshal(obj)
		if err := json.Unmarshal(b, &e); err != nil {
			return nil, fmt.Errorf("%w: group_list[%d]: %w", ErrBadAnswer, i, err)
		}
		if e.GroupID == "" {
			return nil, fmt.Errorf("%w: group_list[%d] has no group_id", ErrBadAnswer, i)
		}
		g := Group{ID: string(e.GroupID), Name: string(e.GroupName), CreateTime: string(e.CreateTime), Attrs: connectors.Attrs(obj)}
		if t, err := time.ParseInLocation("2006-01-02 15:04:05", strings.TrimSpace(g.CreateTime), chinaTime); err == nil {
			t = t.UTC()
			g.CreatedAt = &t
		}
		out = append(out, g)
	}
	return out, nil
}

// GroupMembers returns a group's member UIDs (ham_group action_type 6, §5.9). The platform leaves out
// the UID the call is made as. A group that does not exist is an *APIError with code 1013
// (errors.Is ErrGroupNotFound).
func (c *Client) GroupMembers(ctx context.Context, groupID string) ([]string, error) {
	var ans struct {
		UIDList json.RawMessage `json:"uid_list"`
	}
	if err := c.authed(ctx, "ham_group action 6", "ham_group", hamRequest{SendUID: c.cfg.UID, ActionType: 6, GroupID: groupID}, &ans); err != nil {
		return nil, err
	}
	return DecodeUIDList(ans.UIDList)
}

// DecodeUIDList decodes a uid_list (§5.9): UIDs as strings or numbers, in an array or a string
// holding one. Duplicates are dropped; the order is kept.
func DecodeUIDList(raw json.RawMessage) ([]string, error) {
	ids, err := connectors.JSONList[connectors.FlexString](raw)
	if err != nil {
		return nil, fmt.Errorf("%w: uid_list: %w", ErrBadAnswer, err)
	}
	seen := map[string]bool{}
	out := make([]string, 0, len(ids))
	for _, id := range ids {
		s := strings.TrimSpace(string(id))
		if s == "" || seen[s] {
			continue
		}
		seen[s] = true
		out = append(out, s)
	}
	return out, nil
}

// UserState is one entry of uid_state_list (§5.10).
type UserState struct {
	UID    string
	State  int32 // as received: 1 online, 0 offline
	Online bool
	Attrs  map[string]string
}

// StateList is a decoded uid_state_list: the entries read, and those that could not be.
type StateList struct {
	States []UserState // by UID
	Bad    []string    // one line per entry not read, saying which and why
}

// UserStates returns the online state of the given UIDs (ham_user action_type 1, §5.10). Entries of
// the answer that cannot be read are in Bad, the others in States; the error is for the call itself.
func (c *Client) UserStates(ctx context.Context, uids []string) (StateList, error) {
	var ans struct {
		List json.RawMessage `json:"uid_state_list"`
	}
	if err := c.authed(ctx, "ham_user action 1", "ham_user", hamRequest{SendUID: c.cfg.UID, ActionType: 1, UIDList: uids}, &ans); err != nil {
		return StateList{}, err
	}
	return DecodeStateList(ans.List)
}

// DecodeStateList decodes §5.10's uid_state_list, [{"uid": "414", "state": 1}, …], in an array or a
// string holding one. Keys are matched with surrounding white space removed, as ingest matches its
// " time": the manual's own answer reads [{ "uid": "414"," state":1}, { "uid": "415"," state":0}]. An
// entry that cannot be read (not an object, no uid, no state, a state that is not an integer) is
// listed in Bad and the others are kept, so one bad entry costs only itself. The error (ErrBadAnswer)
// is for a uid_state_list that is not a list.
func DecodeStateList(raw json.RawMessage) (StateList, error) {
	entries, err := connectors.JSONList[json.RawMessage](raw)
	if err != nil {
		return StateList{}, fmt.Errorf("%w: uid_state_list: %w", ErrBadAnswer, err)
	}
	var out StateList
	for i, entry := range entries {
		u, err := decodeState(entry)
		if err != nil {
			out.Bad = append(out.Bad, fmt.Sprintf("uid_state_list[%d] %s: %v", i, clip(string(entry)), err))
			continue
		}
		out.States = append(out.States, u)
	}
	sort.SliceStable(out.States, func(i, j int) bool { return out.States[i].UID < out.States[j].UID })
	return out, nil
}

func decodeState(entry json.RawMessage) (UserState, error) {
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(entry, &obj); err != nil || obj == nil {
		return UserState{}, errors.New("not an object")
	}
	field := func(name string) (json.RawMessage, bool) {
		if v, ok := obj[name]; ok {
			return v, true
		}
		for k, v := range obj {
			if strings.TrimSpace(k) == name {
				return v, true
			}
		}
		return nil, false
	}
	var uid connectors.FlexString
	if v, ok := field("uid"); ok {
		if err := uid.UnmarshalJSON(v); err != nil {
			return UserState{}, fmt.Errorf("uid: %w", err)
		}
	}
	id := strings.TrimSpace(string(uid))
	if id == "" {
		return UserState{}, errors.New("no uid")
	}
	v, ok := field("state")
	if !ok {
		return UserState{}, fmt.Errorf("uid %s: no state", id)
	}
	var text connectors.FlexString
	if err := text.UnmarshalJSON(v); err != nil || strings.TrimSpace(string(text)) == "" {
		return UserState{}, fmt.Errorf("uid %s: state %s is not a number", id, clip(string(v)))
	}
	var state connectors.FlexInt
	if err := state.UnmarshalJSON(v); err != nil {
		return UserState{}, fmt.Errorf("uid %s: state: %w", id, err)
	}
	return UserState{UID: id, State: int32(state), Online: state == 1, Attrs: connectors.Attrs(obj)}, nil
}
