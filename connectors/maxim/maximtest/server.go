// Package maximtest is a local stand-in for the Maxim server API (manual 001), for tests: GET
// /group/member_list (paged with cursor and limit) and GET /user/rosters, with the manual's headers
// (app_id, access-token, user_id), envelope ({"code": 200, "data": …}) and error codes in HTTP 200
// bodies, and failures on demand: an error code, an HTTP status, a delay, a dropped connection.
package maximtest

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Endpoints, as Fail and Count name them. A fault can be aimed at one group or user by appending
// ":ID" ("member_list:2306414607729").
const (
	MemberList = "member_list"
	Rosters    = "rosters"
)

// Member is a group member.
type Member struct {
	UserID   uint64
	JoinTime int64 // ms
}

// Contact is a roster entry.
type Contact struct {
	UserID uint64
	Name   string
}

// Fault is an injected failure for one request.
type Fault struct {
	Code   int           // answer HTTP 200 with this business code
	Status int           // answer this HTTP status
	Delay  time.Duration // wait first
	Drop   bool          // close the connection without an answer
}

// Request is a request the fake received.
type Request struct {
	Endpoint string
	Query    url.Values
	Header   http.Header
}

type group struct {
	members []Member
	version int64
}

// Server is the fake Maxim API for one app.
type Server struct {
	*httptest.Server

	mu       sync.Mutex
	appID    string
	tokens   map[string]bool
	users    map[uint64]bool
	rosters  map[uint64][]Contact
	groups   map[uint64]*group
	faults   map[string][]Fault
	requests []Request
	maxLimit int
	epoch    int // changes every cursor: an old run's cursor is refused after ExpireCursors
}

// New starts a fake for app appID accepting the given access-tokens.
func New(appID string, tokens ...string) *Server {
	s := &Server{appID: appID, tokens: map[string]bool{}, users: map[uint64]bool{}, rosters: map[uint64][]Contact{},
		groups: map[uint64]*group{}, faults: map[string][]Fault{}, maxLimit: 1000}
	for _, t := range tokens {
		s.tokens[t] = true
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /group/member_list", s.memberList)
	mux.HandleFunc("GET /user/rosters", s.userRosters)
	s.Server = httptest.NewServer(mux)
	return s
}

// SetTokens replaces the accepted access-tokens (a rotation).
func (s *Server) SetTokens(tokens ...string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.tokens = map[string]bool{}
	for _, t := range tokens {
		s.tokens[t] = true
	}
}

// AddUsers makes users exist.
func (s *Server) AddUsers(ids ...uint64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, id := range ids {
		s.users[id] = true
	}
}

// RemoveUser makes a user not exist (10000).
func (s *Server) RemoveUser(id uint64) { s.mu.Lock(); delete(s.users, id); s.mu.Unlock() }

// SetRoster sets a user's roster (the user exists).
func (s *Server) SetRoster(user uint64, contacts ...Contact) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.users[user] = true
	s.rosters[user] = contacts
}

// SetGroup sets a group's members (they exist as users) and the list's version.
func (s *Server) SetGroup(id uint64, version int64, members ...Member) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, m := range members {
		s.users[m.UserID] = true
	}
	s.groups[id] = &group{members: members, version: version}
}

// DestroyGroup removes a group (20001).
func (s *Server) DestroyGroup(id uint64) { s.mu.Lock(); delete(s.groups, id); s.mu.Unlock() }

// ExpireCursors makes every cursor handed out so far invalid (10002), as a platform may after a while.
func (s *Server) ExpireCursors() { s.mu.Lock(); s.epoch++; s.mu.Unlock() }

// Fail queues faults for the next requests to an endpoint ("member_list", "rosters", or one aimed at
// an id: "member_list:GROUP", "rosters:USER"), one per request, in order.
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

// Count returns how many requests an endpoint received (for "member_list:G", those for group G).
func (s *Server) Count(endpoint string) int {
	name, id, _ := strings.Cut(endpoint, ":")
	n := 0
	for _, r := range s.Requests() {
		if r.Endpoint != name {
			continue
		}
		if id == "" || r.Query.Get("group_id") == id || r.Header.Get("user_id") == id && name == Rosters {
			n++
		}
	}
	return n
}

func write(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(v)
}

func fail(w http.ResponseWriter, code int) {
	write(w, map[string]any{"code": code, "message": messages[code]})
}

var messages = map[int]string{
	10000: "user not exist", 10002: "invalid request parameter", 10003: "missing access token",
	10008: "invalid token", 20001: "group not exist", 20002: "user is not group member", 40000: "app_id not exist",
}

// begin records the request, applies a queued fault, and checks the headers; it returns the acting
// user, or false when it has answered.
func (s *Server) begin(w http.ResponseWriter, r *http.Request, endpoint, target string) (uint64, bool) {
	s.mu.Lock()
	s.requests = append(s.requests, Request{Endpoint: endpoint, Query: r.URL.Query(), Header: r.Header.Clone()})
	var fault *Fault
	for _, key := range []string{endpoint + ":" + target, endpoint} {
		if q := s.faults[key]; len(q) > 0 {
			fault = &q[0]
			s.faults[key] = q[1:]
			break
		}
	}
	s.mu.Unlock()
	if fault != nil {
		if fault.Delay > 0 {
			select {
			case <-time.After(fault.Delay):
			case <-r.Context().Done():
				return 0, false
			}
		}
		switch {
		case fault.Drop:
			if hj, ok := w.(http.Hijacker); ok {
				if conn, _, err := hj.Hijack(); err == nil {
					conn.Close()
					return 0, false
				}
			}
			panic(http.ErrAbortHandler)
		case fault.Status != 0:
			http.Error(w, "injected failure", fault.Status)
			return 0, false
		case fault.Code != 0:
			fail(w, fault.Code)
			return 0, false
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	switch {
	case r.Header.Get("app_id") != s.appID:
		fail(w, 40000)
		return 0, false
	case r.Header.Get("access-token") == "":
		fail(w, 10003)
		return 0, false
	case !s.tokens[r.Header.Get("access-token")]:
		fail(w, 10008)
		return 0, false
	}
	user, err := strconv.ParseUint(r.Header.Get("user_id"), 10, 64)
	if err != nil {
		fail(w, 10002)
		return 0, false
	}
	if !s.users[user] {
		fail(w, 10000)
		return 0, false
	}
	return user, true
}

func (s *Server) cursor(offset int) string {
	return base64.RawURLEncoding.EncodeToString([]byte(fmt.Sprintf("%d:%d", s.epoch, offset)))
}

func (s *Server) offset(cursor string) (int, bool) {
	b, err := base64.RawURLEncoding.DecodeString(cursor)
	if err != nil {
		return 0, false
	}
	epoch, off, ok := strings.Cut(string(b), ":")
	n, err := strconv.Atoi(off)
	if !ok || err != nil || epoch != strconv.Itoa(s.epoch) || n < 0 {
		return 0, false
	}
	return n, true
}

func (s *Server) memberList(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	user, ok := s.begin(w, r, MemberList, q.Get("group_id"))
	if !ok {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	gid, err := strconv.ParseUint(q.Get("group_id"), 10, 64)
	if err != nil {
		fail(w, 10002)
		return
	}
	g, ok := s.groups[gid]
	if !ok {
		fail(w, 20001)
		return
	}
	member := false
	for _, m := range g.members {
		member = member || m.UserID == user
	}
	if !member {
		fail(w, 20002)
		return
	}
	limit := 1000
	if l := q.Get("limit"); l != "" {
		if limit, err = strconv.Atoi(l); err != nil || limit < 1 || limit > s.maxLimit {
			fail(w, 10002)
			return
		}
	}
	start := 0
	if c := q.Get("cursor"); c != "" {
		if start, ok = s.offset(c); !ok || start > len(g.members) {
			fail(w, 10002)
			return
		}
	}
	end := min(start+limit, len(g.members))
	data := []map[string]any{}
	for _, m := range g.members[start:end] {
		data = append(data, map[string]any{"user_id": m.UserID, "join_time": m.JoinTime})
	}
	ans := map[string]any{"code": 200, "data": data, "version": g.version}
	if end < len(g.members) {
		ans["cursor"] = s.cursor(end)
	}
	write(w, ans)
}

func (s *Server) userRosters(w http.ResponseWriter, r *http.Request) {
	user, ok := s.begin(w, r, Rosters, r.Header.Get("user_id"))
	if !ok {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	contacts := append([]Contact(nil), s.rosters[user]...)
	sort.SliceStable(contacts, func(i, j int) bool { return contacts[i].UserID < contacts[j].UserID })
	data := []map[string]any{}
	for _, c := range contacts {
		data = append(data, map[string]any{"user_id": c.UserID, "name": c.Name})
	}
	write(w, map[string]any{"code": 200, "data": data})
}
