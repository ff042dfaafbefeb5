// Package ilinktest is a local stand-in for the ET-iLink API (manual 000, §3 and §5), for tests: it
// answers set_config, get_access_token, ham_group (actions 3 and 6), ham_user (action 1 states, action
// 2 subscriptions) and ham_topic (action 1 subscriptions) with the manual's field names, types and
// codes, checks credentials and access_tokens (with expiry on a clock the test controls), performs the
// GET handshake on registration as the platform does, pushes status changes and topic messages to the
// registered callback of each subscriber (§4.3, §4.4), and can be told to fail: an error code, an HTTP
// status, a delay, a dropped connection.
package ilinktest

import (
	"bytes"
	"context"
	"crypto/md5"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Endpoints, as Fail and Requests name them.
const (
	SetConfig      = "set_config"
	GetAccessToken = "get_access_token"
	GroupList      = "ham_group/3"
	GroupMembers   = "ham_group/6"
	UserStates     = "ham_user/1"
	SubscribeUsers = "ham_user/2"
	// SubscribeUsersExample is ham_user with §5.11's example action_type 7.
	SubscribeUsersExample = "ham_user/7"
	Topics                = "ham_topic/1"
)

// Group is a group the fake knows.
type Group struct {
	ID         string
	Name       string
	CreateTime string // "2014-12-13 13:13:13"
	Members    []string
}

// Fault is an injected failure for one request.
type Fault struct {
	Code   int           // answer HTTP 200 with this code
	Status int           // answer this HTTP status (with a small text body)
	Delay  time.Duration // wait before answering (or before the fault)
	Drop   bool          // close the connection without an answer
}

// Request is a request the fake received.
type Request struct {
	Endpoint string
	Query    url.Values
	Body     map[string]any
	Raw      []byte
}

// Registration is a callback URL registered with set_config.
type Registration struct {
	URL   string
	Token string
}

type token struct {
	appkey, uid string
	expires     time.Time
}

// Server is the fake iLink API.
type Server struct {
	*httptest.Server

	mu            sync.Mutex
	appKey        string
	secretKey     string
	uids          map[string]bool
	groups        []Group
	states        map[string]int
	regs          map[string]Registration // by uid
	tokens        map[string]token
	faults        map[string][]Fault
	requests      []Request
	issued        int
	now           func() time.Time
	tokenLifetime time.Duration
	listsAsText   bool
	handshake     bool
	handshakeOrd  string // "sorted" or "concat"
	setConfigMax  int
	setConfigs    int
	stateKey      string                     // the key of a state in uid_state_list (default "state")
	stateEntries  map[string]json.RawMessage // uid → the entry to answer instead
	refused       map[string]int             // uid → the code a ham_user request naming it gets
	userSubAction int                        // the ham_user action_type it takes for subscriptions (2 or 7)
	maxSubs       int                        // subscriptions (users and topics) per UID; 0: no limit
	userSubs      map[string]map[string]bool // subscriber UID → subscribed UIDs
	topicSubs     map[string]map[string]int  // subscriber UID → topic → QoS
	pushes        []Push
}

// Push is a callback the fake pushed to a subscriber's registered URL.
type Push struct {
	URL    string
	Body   []byte
	Status int // the callback's answer; 0 when it could not be reached
}

// New starts a fake for one application (appkey, secretkey) whose UIDs are uids.
func New(appKey, secretKey string, uids ...string) *Server {
	s := &Server{
		appKey: appKey, secretKey: secretKey, uids: map[string]bool{},
		states: map[string]int{}, regs: map[string]Registration{}, tokens: map[string]token{},
		faults: map[string][]Fault{}, now: time.Now, tokenLifetime: 7200 * time.Second,
		handshake: true, handshakeOrd: "sorted", stateKey: "state",
		stateEntries: map[string]json.RawMessage{}, refused: map[string]int{},
		userSubAction: 2, userSubs: map[string]map[string]bool{}, topicSubs: map[string]map[string]int{},
	}
	for _, u := range uids {
		s.uids[u] = true
	}
	s.Server = httptest.NewServer(http.HandlerFunc(s.serve))
	return s
}

// SetClock sets the fake's clock (token expiry).
func (s *Server) SetClock(now func() time.Time) { s.mu.Lock(); s.now = now; s.mu.Unlock() }

// SetGroups replaces the groups.
func (s *Server) SetGroups(gs ...Group) { s.mu.Lock(); s.groups = gs; s.mu.Unlock() }

// SetState sets a UID's online state (1 online, 0 offline). A change is pushed, as §4.3's status
// message, to the registered callback of every UID subscribed to uid (and to no one else).
func (s *Server) SetState(uid string, state int) {
	s.mu.Lock()
	s.uids[uid] = true
	prev, had := s.states[uid]
	s.states[uid] = state
	var targets []struct{ url, subscriber string }
	if !had || prev != state {
		for sub, set := range s.userSubs {
			if reg, ok := s.regs[sub]; ok && set[uid] {
				targets = append(targets, struct{ url, subscriber string }{reg.URL, sub})
			}
		}
	}
	now := s.now()
	s.mu.Unlock()
	sort.Slice(targets, func(i, j int) bool { return targets[i].subscriber < targets[j].subscriber })
	for _, t := range targets {
		s.push(t.url, map[string]any{"from_uid": uid, "to_uid": t.subscriber, "msg_type": 4, "time": now.Unix(), "type": state})
	}
}

// Publish posts a message to a topic (§5.14): it is pushed, as §4.4's topic message, to the registered
// callback of every UID subscribed to the topic.
func (s *Server) Publish(fromUID, subject, text string) {
	s.mu.Lock()
	var targets []struct{ url, subscriber string }
	for sub, topics := range s.topicSubs {
		if reg, ok := s.regs[sub]; ok {
			if _, ok := topics[subject]; ok {
				targets = append(targets, struct{ url, subscriber string }{reg.URL, sub})
			}
		}
	}
	now := s.now()
	s.mu.Unlock()
	sort.Slice(targets, func(i, j int) bool { return targets[i].subscriber < targets[j].subscriber })
	for _, t := range targets {
		s.push(t.url, map[string]any{"from_uid": fromUID, "to_uid": t.subscriber, "group_id": subject, "msg_type": 4,
			"create_time": now.Unix(), "content": base64.StdEncoding.EncodeToString([]byte(text))})
	}
}

func (s *Server) push(url string, body map[string]any) {
	b, _ := json.Marshal(body)
	p := Push{URL: url, Body: b}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second) // §2.1: the platform waits five seconds
	defer cancel()
	if req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(b)); err == nil {
		req.Header.Set("Content-Type", "application/json")
		if resp, err := http.DefaultClient.Do(req); err == nil {
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			p.Status = resp.StatusCode
		}
	}
	s.mu.Lock()
	s.pushes = append(s.pushes, p)
	s.mu.Unlock()
}

// Pushes returns the callbacks pushed so far, oldest first.
func (s *Server) Pushes() []Push {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Push(nil), s.pushes...)
}

// UserSubscribeAction sets which ham_user action_type the fake takes for subscriptions: 2 (§5.11's
// table, the default) or 7 (its example); the other is answered 1012 (无效的操作).
func (s *Server) UserSubscribeAction(action int) {
	s.mu.Lock()
	s.userSubAction = action
	s.mu.Unlock()
}

// SubscriptionLimit makes subscriptions beyond n per UID (users and topics together) answer 1011
// (超过最大订阅数目限制); 0 is no limit.
func (s *Server) SubscriptionLimit(n int) { s.mu.Lock(); s.maxSubs = n; s.mu.Unlock() }

// UserSubscriptions returns the UIDs subscriber is subscribed to, sorted.
func (s *Server) UserSubscriptions(subscriber string) []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []string
	for u := range s.userSubs[subscriber] {
		out = append(out, u)
	}
	sort.Strings(out)
	return out
}

// TopicSubscriptions returns the topics subscriber is subscribed to, with their QoS.
func (s *Server) TopicSubscriptions(subscriber string) map[string]int {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := map[string]int{}
	for t, q := range s.topicSubs[subscriber] {
		out[t] = q
	}
	return out
}

func (s *Server) subscriptions(uid string) int { return len(s.userSubs[uid]) + len(s.topicSubs[uid]) }

// Register records a callback as if set_config had succeeded (for tests that start registered).
func (s *Server) Register(uid, callbackURL, tok string) {
	s.mu.Lock()
	s.regs[uid] = Registration{URL: callbackURL, Token: tok}
	s.mu.Unlock()
}

// Registration returns the callback registered for uid.
func (s *Server) Registration(uid string) (Registration, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	r, ok := s.regs[uid]
	return r, ok
}

// ListsAsText makes the fake send its lists (group_list, uid_list, uid_state_list) as strings holding
// JSON, the other reading of the manual's "json" type.
func (s *Server) ListsAsText(on bool) { s.mu.Lock(); s.listsAsText = on; s.mu.Unlock() }

// Handshake sets whether set_config register performs the GET handshake (default on) and with which
// signature reading: "sorted" (the manual's table, default) or "concat" (its samples).
func (s *Server) Handshake(on bool, order string) {
	s.mu.Lock()
	s.handshake, s.handshakeOrd = on, order
	s.mu.Unlock()
}

// StateKey sets the key of the state in uid_state_list entries: "state" by default; " state" answers
// as the manual prints its answer (§5.10: [{ "uid": "414"," state":1}, …]).
func (s *Server) StateKey(key string) { s.mu.Lock(); s.stateKey = key; s.mu.Unlock() }

// StateEntry makes the state answer carry raw, verbatim, as uid's entry (a malformed entry, say).
func (s *Server) StateEntry(uid, raw string) {
	s.mu.Lock()
	s.uids[uid] = true
	s.stateEntries[uid] = json.RawMessage(raw)
	s.mu.Unlock()
}

// RefuseUID makes every ham_user request whose uid_list names uid answer code (1001 UID 不存在, say),
// the whole request, as a platform that checks its parameters does.
func (s *Server) RefuseUID(uid string, code int) { s.mu.Lock(); s.refused[uid] = code; s.mu.Unlock() }

// SetConfigLimit makes set_config answer 1004 after n calls (0: no limit).
func (s *Server) SetConfigLimit(n int) { s.mu.Lock(); s.setConfigMax = n; s.mu.Unlock() }

// ExpireTokens makes every issued access_token invalid, as if its lifetime had passed.
func (s *Server) ExpireTokens() {
	s.mu.Lock()
	for k, t := range s.tokens {
		t.expires = time.Time{}
		s.tokens[k] = t
	}
	s.mu.Unlock()
}

// TokensIssued says how many access_tokens were issued.
func (s *Server) TokensIssued() int { s.mu.Lock(); defer s.mu.Unlock(); return s.issued }

// Fail queues faults for the next requests to an endpoint, one fault per request, in order.
func (s *Server) Fail(endpoint string, faults ...Fault) {
	s.mu.Lock()
	s.faults[endpoint] = append(s.faults[endpoint], faults...)
	s.mu.Unlock()
}

// Requests returns the requests received, oldest first.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Request(nil), s.requests...)
}

// Count returns how many requests an endpoint received.
func (s *Server) Count(endpoint string) int {
	n := 0
	for _, r := range s.Requests() {
		if r.Endpoint == endpoint {
			n++
		}
	}
	return n
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	raw, _ := io.ReadAll(r.Body)
	var body map[string]any
	dec := json.NewDecoder(strings.NewReader(string(raw)))
	dec.UseNumber()
	if r.Method != http.MethodPost || dec.Decode(&body) != nil {
		http.Error(w, "want a POST with a JSON object", http.StatusBadRequest)
		return
	}
	path := strings.TrimPrefix(r.URL.Path, "/")
	endpoint := path
	if path == "ham_group" || path == "ham_user" || path == "ham_topic" {
		endpoint = path + "/" + str(body["action_type"])
	}
	s.mu.Lock()
	s.requests = append(s.requests, Request{Endpoint: endpoint, Query: r.URL.Query(), Body: body, Raw: raw})
	var fault *Fault
	if q := s.faults[endpoint]; len(q) > 0 {
		fault = &q[0]
		s.faults[endpoint] = q[1:]
	}
	s.mu.Unlock()

	if fault != nil {
		if fault.Delay > 0 {
			select {
			case <-time.After(fault.Delay):
			case <-r.Context().Done():
				return
			}
		}
		switch {
		case fault.Drop:
			if hj, ok := w.(http.Hijacker); ok {
				if conn, _, err := hj.Hijack(); err == nil {
					conn.Close()
					return
				}
			}
			panic(http.ErrAbortHandler)
		case fault.Status != 0:
			http.Error(w, "injected failure", fault.Status)
			return
		case fault.Code != 0:
			answer(w, map[string]any{"code": fault.Code})
			return
		}
	}

	switch path {
	case "set_config":
		answer(w, s.setConfig(r.Context(), body))
	case "get_access_token":
		answer(w, s.getToken(body))
	case "ham_group", "ham_user", "ham_topic":
		answer(w, s.ham(path, r.URL.Query().Get("access_token"), body))
	default:
		http.NotFound(w, r)
	}
}

func answer(w http.ResponseWriter, v map[string]any) {
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(v)
}

func str(v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case string:
		return x
	case json.Number:
		return x.String()
	}
	return fmt.Sprint(v)
}

func code(c int) map[string]any { return map[string]any{"code": c} }

var tokenShape = regexp.MustCompile(`^[A-Za-z0-9]{3,32}$`)

func (s *Server) credentials(body map[string]any) (int, bool) {
	if str(body["appkey"]) != s.appKey || str(body["secretkey"]) != s.secretKey {
		return 1000, false
	}
	if !s.uids[str(body["uid"])] {
		return 1001, false
	}
	return 0, true
}

func (s *Server) setConfig(ctx context.Context, body map[string]any) map[string]any {
	s.mu.Lock()
	c, ok := s.credentials(body)
	if !ok {
		s.mu.Unlock()
		return code(c)
	}
	uid := str(body["uid"])
	action, err := strconv.Atoi(str(body["action_type"]))
	if err != nil {
		s.mu.Unlock()
		return code(1010)
	}
	switch action {
	case 0:
		s.setConfigs++
		if s.setConfigMax > 0 && s.setConfigs > s.setConfigMax {
			s.mu.Unlock()
			return code(1004)
		}
		u := str(body["url"])
		tok := str(body["token"])
		if !strings.HasPrefix(u, "http://") && !strings.HasPrefix(u, "https://") {
			s.mu.Unlock()
			return code(1005)
		}
		if !tokenShape.MatchString(tok) {
			s.mu.Unlock()
			return code(1010)
		}
		handshake, order := s.handshake, s.handshakeOrd
		s.mu.Unlock()
		if handshake && !verifyCallback(ctx, u, tok, order) {
			return code(1006)
		}
		s.mu.Lock()
		s.regs[uid] = Registration{URL: u, Token: tok}
		s.mu.Unlock()
		return code(0)
	case 1:
		defer s.mu.Unlock()
		if _, ok := s.regs[uid]; !ok {
			return code(1007)
		}
		delete(s.regs, uid)
		return code(0)
	case 2:
		defer s.mu.Unlock()
		reg, ok := s.regs[uid]
		if !ok {
			return code(1007)
		}
		if u := str(body["url"]); u != "" && u != reg.URL {
			return code(1007)
		}
		return code(0)
	}
	s.mu.Unlock()
	return code(1012)
}

// verifyCallback is the platform's GET handshake (§3.1).
func verifyCallback(ctx context.Context, callback, tok, order string) bool {
	ts := strconv.FormatInt(time.Now().Unix(), 10)
	echostr := fmt.Sprintf("echo%d", time.Now().UnixNano())
	parts := []string{tok, ts, echostr}
	if order == "sorted" {
		sort.Strings(parts)
	}
	sum := md5.Sum([]byte(strings.Join(parts, "")))
	u, err := url.Parse(callback)
	if err != nil {
		return false
	}
	q := u.Query()
	q.Set("signature", hex.EncodeToString(sum[:]))
	q.Set("timestamp", ts)
	q.Set("echostr", echostr)
	u.RawQuery = q.Encode()
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return false
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return false
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	return resp.StatusCode == http.StatusOK && strings.TrimSpace(string(b)) == echostr
}

func (s *Server) getToken(body map[string]any) map[string]any {
	s.mu.Lock()
	defer s.mu.Unlock()
	if c, ok := s.credentials(body); !ok {
		return code(c)
	}
	uid := str(body["uid"])
	if _, ok := s.regs[uid]; !ok {
		return code(1007)
	}
	s.issued++
	tok := fmt.Sprintf("tok-%s-%d-%d", uid, s.issued, time.Now().UnixNano())
	s.tokens[tok] = token{appkey: s.appKey, uid: uid, expires: s.now().Add(s.tokenLifetime)}
	return map[string]any{"code": 0, "access_token": tok, "expires_in": int(s.tokenLifetime / time.Second)}
}

func (s *Server) list(v any) any {
	if !s.listsAsText {
		return v
	}
	b, _ := json.Marshal(v)
	return string(b)
}

func (s *Server) ham(path, tok string, body map[string]any) map[string]any {
	s.mu.Lock()
	defer s.mu.Unlock()
	t, ok := s.tokens[tok]
	if !ok || !s.now().Before(t.expires) {
		return code(1008)
	}
	sendUID := str(body["send_uid"])
	if sendUID != t.uid {
		return code(1015)
	}
	action := str(body["action_type"])
	switch path + "/" + action {
	case GroupList:
		list := []map[string]any{}
		for _, g := range s.groups {
			list = append(list, map[string]any{"group_id": g.ID, "group_name": g.Name, "create_time": g.CreateTime})
		}
		return map[string]any{"code": 0, "group_list": s.list(list)}
	case GroupMembers:
		gid := str(body["group_id"])
		if gid == "" {
			return code(1010)
		}
		for _, g := range s.groups {
			if g.ID != gid {
				continue
			}
			uids := []string{}
			for _, m := range g.Members {
				if m != sendUID { // §5.9: the list leaves out the caller
					uids = append(uids, m)
				}
			}
			return map[string]any{"code": 0, "uid_list": s.list(uids)}
		}
		return code(1013)
	case UserStates:
		raw, ok := body["uid_list"].([]any)
		if !ok {
			return code(1010)
		}
		for _, u := range raw {
			if c, ok := s.refused[str(u)]; ok {
				return code(c)
			}
		}
		list := []any{}
		for _, u := range raw {
			uid := str(u)
			if !s.uids[uid] {
				continue
			}
			if e, ok := s.stateEntries[uid]; ok {
				list = append(list, e)
				continue
			}
			list = append(list, map[string]any{"uid": uid, s.stateKey: s.states[uid]})
		}
		return map[string]any{"code": 0, "uid_state_list": s.list(list)}
	case SubscribeUsers, SubscribeUsersExample:
		if action != strconv.Itoa(s.userSubAction) {
			return code(1012)
		}
		raw, ok := body["uid_list"].([]any)
		typ := str(body["type"])
		if !ok || len(raw) == 0 || (typ != "0" && typ != "1") {
			return code(1010)
		}
		for _, u := range raw {
			if !s.uids[str(u)] {
				return code(1001)
			}
		}
		set := s.userSubs[sendUID]
		if set == nil {
			set = map[string]bool{}
			s.userSubs[sendUID] = set
		}
		if typ == "0" {
			for _, u := range raw {
				delete(set, str(u))
			}
			return code(0)
		}
		added := 0
		for _, u := range raw {
			if !set[str(u)] {
				added++
			}
		}
		if s.maxSubs > 0 && s.subscriptions(sendUID)+added > s.maxSubs {
			return code(1011)
		}
		for _, u := range raw {
			set[str(u)] = true
		}
		return code(0)
	case Topics:
		subject := str(body["subject"])
		typ := str(body["type"])
		if subject == "" || strings.ContainsAny(subject, "#+") || (typ != "0" && typ != "1") {
			return code(1010)
		}
		topics := s.topicSubs[sendUID]
		if topics == nil {
			topics = map[string]int{}
			s.topicSubs[sendUID] = topics
		}
		if typ == "0" {
			delete(topics, subject)
			return code(0)
		}
		qos, err := strconv.Atoi(str(body["qos"]))
		if err != nil || qos < 0 || qos > 2 {
			return code(1010)
		}
		if _, had := topics[subject]; !had && s.maxSubs > 0 && s.subscriptions(sendUID)+1 > s.maxSubs {
			return code(1011)
		}
		topics[subject] = qos
		return code(0)
	}
	return code(1012)
}
