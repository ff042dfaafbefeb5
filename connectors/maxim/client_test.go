package maxim_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/imarchive/imarchive/connectors"
	"github.com/imarchive/imarchive/connectors/maxim"
	"github.com/imarchive/imarchive/connectors/maxim/maximtest"
)

// The manual's example app, token, owner and group.
const (
	appID   = "welovemaxim"
	token   = "eyJ0eXAiOiJKV1QiLCJhbGciOiJIUzUxMiJ9.eyJhcHAiOiJkcGJkdmVrZmVjYm8iLCJzdWIiOiIyMCIsImNsdXN0ZXIiOjAsInJvbGUiOjIsImlhdCI6MTU2Nzk5NzQwOH0.U-iFpEwprrkf-mFkhHN_CWmF5nkBbRQLTjttN4Qlkzw3ET1Zke9OZdjutm90KSyDs9jjYvUSAGGsWVjLmDZlkg"
	owner   = 2302128618880
	groupID = 2306414607729
)

func fastPolicy() connectors.Policy {
	return connectors.Policy{Timeout: 2 * time.Second, Attempts: 3, MinBackoff: time.Millisecond, MaxBackoff: 5 * time.Millisecond}
}

func config(endpoint string) maxim.Config {
	cfg := maxim.DefaultConfig()
	cfg.Endpoint, cfg.AppID, cfg.AccessToken, cfg.UserID, cfg.Policy = endpoint, appID, token, fmt.Sprint(owner), fastPolicy()
	return cfg
}

// manualData seeds the fake with the manual's example group and roster.
func manualData(fake *maximtest.Server) {
	fake.SetGroup(groupID, 1569586735861,
		maximtest.Member{UserID: 2302128618880, JoinTime: 1569615417000},
		maximtest.Member{UserID: 2199040544848, JoinTime: 1569615490000},
		maximtest.Member{UserID: 2199040544992, JoinTime: 1569615490000})
	fake.SetRoster(owner, maximtest.Contact{UserID: 2199040544848, Name: "a"}, maximtest.Contact{UserID: 2199040544992, Name: "b"})
}

func fixture(t *testing.T) (*maximtest.Server, *maxim.Client, *bytes.Buffer) {
	t.Helper()
	fake := maximtest.New(appID, token)
	t.Cleanup(fake.Close)
	manualData(fake)
	logs := &bytes.Buffer{}
	c, err := maxim.NewClient(config(fake.URL), slog.New(slog.NewTextHandler(logs, nil)))
	if err != nil {
		t.Fatal(err)
	}
	return fake, c, logs
}

func readFile(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "manual", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func jsonValue(t *testing.T, b []byte) any {
	t.Helper()
	var v any
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatalf("not JSON: %q", b)
	}
	return v
}

// rawServer answers every request with answer and records the request exactly as it came on the
// wire: header names keep their case.
func rawServer(t *testing.T, answer []byte) (string, <-chan string) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	got := make(chan string, 10)
	go func() {
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			r := bufio.NewReader(conn)
			var head strings.Builder
			for {
				line, err := r.ReadString('\n')
				if err != nil || line == "\r\n" {
					break
				}
				head.WriteString(strings.TrimRight(line, "\r\n") + "\n")
			}
			got <- head.String()
			fmt.Fprintf(conn, "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %d\r\nConnection: close\r\n\r\n%s", len(answer), answer)
			conn.Close()
		}
	}()
	return "http://" + ln.Addr().String(), got
}

// TestRequestsAsTheManual: the client sends the manual's method, path, query and header names (as
// written: app_id, access-token, user_id), byte for byte on the wire.
func TestRequestsAsTheManual(t *testing.T) {
	ctx := context.Background()
	for _, c := range []struct {
		golden string
		answer string
		call   func(*maxim.Client) error
	}{
		{"member_list.request.txt", "member_list.answer.json", func(c *maxim.Client) error {
			_, err := c.MemberPage(ctx, fmt.Sprint(groupID), fmt.Sprint(owner), "", 50)
			return err
		}},
		{"rosters.request.txt", "rosters.answer.json", func(c *maxim.Client) error { _, err := c.Rosters(ctx, fmt.Sprint(owner)); return err }},
	} {
		t.Run(c.golden, func(t *testing.T) {
			endpoint, got := rawServer(t, readFile(t, c.answer))
			client, err := maxim.NewClient(config(endpoint), nil)
			if err != nil {
				t.Fatal(err)
			}
			if err := c.call(client); err != nil {
				t.Fatal(err)
			}
			wire := <-got
			want := strings.Split(strings.TrimSpace(string(readFile(t, c.golden))), "\n")
			first := strings.SplitN(strings.SplitN(wire, "\n", 2)[0], " ", 3)
			wantFirst := strings.SplitN(want[0], " ", 2)
			gotURL, _ := url.Parse(first[1])
			wantURL, _ := url.Parse(wantFirst[1])
			if first[0] != wantFirst[0] || gotURL.Path != wantURL.Path || !reflect.DeepEqual(gotURL.Query(), wantURL.Query()) {
				t.Errorf("request line %q, want %q", first[:2], want[0])
			}
			for _, h := range want[1:] {
				if !strings.Contains(wire, h+"\n") {
					t.Errorf("header %q not sent as written; sent:\n%s", h, wire)
				}
			}
		})
	}
}

// TestFakeAnswersAsTheManual: for the manual's data the fake answers the manual's JSON exactly.
func TestFakeAnswersAsTheManual(t *testing.T) {
	fake, _, _ := fixture(t)
	get := func(path string) any {
		req, _ := http.NewRequest(http.MethodGet, fake.URL+path, nil)
		req.Header["app_id"] = []string{appID}
		req.Header["access-token"] = []string{token}
		req.Header["user_id"] = []string{fmt.Sprint(owner)}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return jsonValue(t, b)
	}
	for path, golden := range map[string]string{
		"/group/member_list?group_id=2306414607729&limit=50": "member_list.answer.json",
		"/user/rosters": "rosters.answer.json",
	} {
		if got, want := get(path), jsonValue(t, readFile(t, golden)); !reflect.DeepEqual(got, want) {
			t.Errorf("%s: answered %v\nwant %v", path, got, want)
		}
	}
}

func TestDecodeManualAnswers(t *testing.T) {
	var env struct {
		Data json.RawMessage `json:"data"`
	}
	json.Unmarshal(readFile(t, "member_list.answer.json"), &env)
	members, err := maxim.DecodeMembers(env.Data)
	if err != nil {
		t.Fatal(err)
	}
	if len(members) != 3 || members[0].UserID != "2302128618880" || !members[0].JoinTime.Equal(time.UnixMilli(1569615417000)) {
		t.Errorf("members %+v", members)
	}
	if members[1].Attrs["join_time"] != "1569615490000" || members[1].Attrs["user_id"] != "2199040544848" {
		t.Errorf("attrs %v", members[1].Attrs)
	}
	json.Unmarshal(readFile(t, "rosters.answer.json"), &env)
	roster, err := maxim.DecodeRoster(env.Data)
	if err != nil {
		t.Fatal(err)
	}
	if len(roster) != 2 || roster[0].UserID != "2199040544848" || roster[0].Name != "a" || roster[1].Name != "b" {
		t.Errorf("roster %+v", roster)
	}
	if r, err := maxim.DecodeRoster(json.RawMessage(`[2199040544848, "2199040544992"]`)); err != nil || len(r) != 2 || r[1].UserID != "2199040544992" {
		t.Errorf("bare ids: %+v, %v", r, err)
	}
	for _, bad := range []string{`{"a":1}`, `[{"user_id":"abc"}]`, `[true]`, `[{"user_id":1,"join_time":"x"}]`} {
		if _, err := maxim.DecodeMembers(json.RawMessage(bad)); !errors.Is(err, maxim.ErrBadAnswer) {
			t.Errorf("members %s: want ErrBadAnswer, got %v", bad, err)
		}
	}
	for _, bad := range []string{`{"a":1}`, `[{"user_id":"abc"}]`, `[true]`} {
		if _, err := maxim.DecodeRoster(json.RawMessage(bad)); !errors.Is(err, maxim.ErrBadAnswer) {
			t.Errorf("roster %s: want ErrBadAnswer, got %v", bad, err)
		}
	}
}

func FuzzDecodeMembers(f *testing.F) {
	for _, s := range []string{`[{"user_id":2302128618880,"join_time":1569615417000}]`, `[]`, `null`, `[{"user_id":"1"}]`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		ms, err := maxim.DecodeMembers(b)
		if err != nil {
			if !errors.Is(err, maxim.ErrBadAnswer) {
				t.Fatalf("not ErrBadAnswer: %v", err)
			}
			return
		}
		for _, m := range ms {
			if m.UserID == "" || strings.TrimLeft(m.UserID, "0123456789") != "" {
				t.Fatalf("accepted user id %q", m.UserID)
			}
		}
	})
}

func FuzzDecodeRoster(f *testing.F) {
	for _, s := range []string{`[{"user_id":2199040544848,"name":"a"}]`, `[1,2]`, `"[]"`, `[{}]`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		cs, err := maxim.DecodeRoster(b)
		if err != nil {
			if !errors.Is(err, maxim.ErrBadAnswer) {
				t.Fatalf("not ErrBadAnswer: %v", err)
			}
			return
		}
		for _, c := range cs {
			if c.UserID == "" || strings.TrimLeft(c.UserID, "0123456789") != "" {
				t.Fatalf("accepted user id %q", c.UserID)
			}
		}
	})
}

// TestPaging: member_list pages follow the cursor until none comes back; each member once.
func TestPaging(t *testing.T) {
	fake, c, _ := fixture(t)
	var ms []maximtest.Member
	for i := 0; i < 25; i++ {
		ms = append(ms, maximtest.Member{UserID: owner + uint64(i), JoinTime: 1569615417000 + int64(i)})
	}
	fake.SetGroup(groupID, 7, ms...)
	ctx := context.Background()
	var got []string
	cursor := ""
	pages := 0
	for {
		p, err := c.MemberPage(ctx, fmt.Sprint(groupID), fmt.Sprint(owner), cursor, 10)
		if err != nil {
			t.Fatal(err)
		}
		pages++
		for _, m := range p.Members {
			got = append(got, m.UserID)
		}
		if p.Version != "7" {
			t.Errorf("version %q", p.Version)
		}
		if p.Cursor == "" {
			break
		}
		cursor = p.Cursor
	}
	if pages != 3 || len(got) != 25 || got[0] != fmt.Sprint(owner) || got[24] != fmt.Sprint(owner+24) {
		t.Errorf("%d pages, %d members: %v", pages, len(got), got)
	}
	reqs := fake.Requests()
	if last := reqs[len(reqs)-1].Query; last.Get("cursor") == "" || last.Get("limit") != "10" || last.Get("group_id") != fmt.Sprint(groupID) {
		t.Errorf("last page asked with %v", last)
	}
	// A stale cursor is refused with 10002.
	fake.ExpireCursors()
	if _, err := c.MemberPage(ctx, fmt.Sprint(groupID), fmt.Sprint(owner), cursor, 10); !errors.Is(err, maxim.ErrBadRequest) {
		t.Errorf("stale cursor: want 10002, got %v", err)
	}
}

// TestEveryErrorCode injects each code of the manual's table: the transient ones are retried, every
// other one fails at once as an *APIError with the manual's meaning, in exactly one category.
func TestEveryErrorCode(t *testing.T) {
	cats := []error{maxim.ErrAuth, maxim.ErrLicense, maxim.ErrUserNotFound, maxim.ErrGroupNotFound, maxim.ErrPermission,
		maxim.ErrUnavailable, maxim.ErrBadRequest, maxim.ErrRejected}
	ctx := context.Background()
	for _, code := range maxim.Codes() {
		t.Run(fmt.Sprint(int(code)), func(t *testing.T) {
			fake, c, _ := fixture(t)
			fake.Fail(maximtest.MemberList, maximtest.Fault{Code: int(code)})
			page, err := c.MemberPage(ctx, fmt.Sprint(groupID), fmt.Sprint(owner), "", 0)
			calls := fake.Count(maximtest.MemberList)
			if code.Retryable() {
				if err != nil || len(page.Members) != 3 || calls != 2 {
					t.Fatalf("want a retry and success: %v, %d calls", err, calls)
				}
				return
			}
			var ae *maxim.APIError
			if !errors.As(err, &ae) || ae.Code != code {
				t.Fatalf("want APIError %d, got %v", code, err)
			}
			if calls != 1 {
				t.Errorf("sent %d times", calls)
			}
			words := strings.SplitN(code.Meaning(), ":", 2)[0]
			if !strings.Contains(err.Error(), fmt.Sprint(int(code))) || !strings.Contains(err.Error(), words) {
				t.Errorf("error %q lacks the code or %q", err, words)
			}
			n := 0
			for _, cat := range cats {
				if errors.Is(err, cat) {
					n++
				}
			}
			if n != 1 {
				t.Errorf("in %d categories", n)
			}
		})
	}
	if !strings.Contains(maxim.Code(12345).Meaning(), "not a code of the manual") {
		t.Error("an unknown code must say so")
	}
}

// TestHeaderChecks: the fake's own checks give the manual's codes for missing or wrong headers.
func TestHeaderChecks(t *testing.T) {
	ctx := context.Background()
	fake, _, _ := fixture(t)
	for name, c := range map[string]struct {
		mod  func(*maxim.Config)
		user string
		want maxim.Code
	}{
		"unknown app_id":      {func(c *maxim.Config) { c.AppID = "nope" }, fmt.Sprint(owner), maxim.CodeAppIDNotExist},
		"invalid token":       {func(c *maxim.Config) { c.AccessToken = "expired" }, fmt.Sprint(owner), maxim.CodeInvalidToken},
		"unknown user":        {func(c *maxim.Config) {}, "1", maxim.CodeUserNotExist},
		"no user_id":          {func(c *maxim.Config) {}, "", maxim.CodeBadParams},
		"user not in a group": {func(c *maxim.Config) {}, "2199040544000", maxim.CodeNotGroupMember},
	} {
		t.Run(name, func(t *testing.T) {
			fake.AddUsers(2199040544000)
			cfg := config(fake.URL)
			c.mod(&cfg)
			client, err := maxim.NewClient(cfg, nil)
			if err != nil {
				t.Fatal(err)
			}
			_, err = client.MemberPage(ctx, fmt.Sprint(groupID), c.user, "", 0)
			var ae *maxim.APIError
			if !errors.As(err, &ae) || ae.Code != c.want {
				t.Fatalf("want %d, got %v", c.want, err)
			}
		})
	}
	client, _ := maxim.NewClient(config(fake.URL), nil)
	if _, err := client.MemberPage(ctx, "999", fmt.Sprint(owner), "", 0); !errors.Is(err, maxim.ErrGroupNotFound) {
		t.Errorf("unknown group: %v", err)
	}
}

// TestTokenExpiryAndRotation: a refused token (10008) is read again from the token file; a rotated
// token is used at once, an unchanged one fails with the hint.
func TestTokenExpiryAndRotation(t *testing.T) {
	ctx := context.Background()
	fake, _, _ := fixture(t)
	file := filepath.Join(t.TempDir(), "token")
	os.WriteFile(file, []byte("first-token\n"), 0o600)
	fake.SetTokens("first-token")
	cfg := config(fake.URL)
	cfg.AccessToken, cfg.AccessTokenFile = "", file
	c, err := maxim.NewClient(cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Rosters(ctx, fmt.Sprint(owner)); err != nil {
		t.Fatal(err)
	}
	fake.SetTokens("second-token") // the first one expired
	_, err = c.Rosters(ctx, fmt.Sprint(owner))
	if !errors.Is(err, maxim.ErrAuth) || !strings.Contains(err.Error(), "10008") {
		t.Fatalf("an expired token and no new one: want 10008, got %v", err)
	}
	if strings.Contains(err.Error(), "first-token") {
		t.Error("the error shows the token")
	}
	os.WriteFile(file, []byte("second-token"), 0o600)
	before := fake.Count(maximtest.Rosters)
	if _, err := c.Rosters(ctx, fmt.Sprint(owner)); err != nil {
		t.Fatalf("after rotation: %v", err)
	}
	if n := fake.Count(maximtest.Rosters) - before; n != 2 {
		t.Errorf("%d requests: want the refused one and the retry", n)
	}
	if h := maxim.CodeInvalidToken.Hint(); !strings.Contains(h, "Token") {
		t.Errorf("hint %q", h)
	}
}

// TestSlowAndFailingServer: retries with backoff on 5xx, dropped connections and timeouts; 4xx is
// not retried; the attempts are bounded.
func TestSlowAndFailingServer(t *testing.T) {
	ctx := context.Background()
	fake, c, logs := fixture(t)
	fake.Fail(maximtest.Rosters, maximtest.Fault{Status: 503}, maximtest.Fault{Drop: true})
	if r, err := c.Rosters(ctx, fmt.Sprint(owner)); err != nil || len(r) != 2 {
		t.Fatalf("%v, %v", r, err)
	}
	if n := fake.Count(maximtest.Rosters); n != 3 || !strings.Contains(logs.String(), "retrying") {
		t.Errorf("%d requests; logs:\n%s", n, logs)
	}
	cfg := config(fake.URL)
	cfg.Policy = connectors.Policy{Timeout: 100 * time.Millisecond, Attempts: 2, MinBackoff: time.Millisecond, MaxBackoff: time.Millisecond}
	slow, _ := maxim.NewClient(cfg, nil)
	fake.Fail(maximtest.Rosters, maximtest.Fault{Delay: time.Second}, maximtest.Fault{Delay: time.Second})
	start := time.Now()
	_, err := slow.Rosters(ctx, fmt.Sprint(owner))
	if !errors.Is(err, connectors.ErrGaveUp) || !strings.Contains(err.Error(), "timed out") || time.Since(start) > 900*time.Millisecond {
		t.Fatalf("want a bounded timeout, got %v after %s", err, time.Since(start))
	}
	before := fake.Count(maximtest.Rosters)
	fake.Fail(maximtest.Rosters, maximtest.Fault{Status: 404})
	var se *connectors.HTTPStatusError
	if _, err := c.Rosters(ctx, fmt.Sprint(owner)); !errors.As(err, &se) || se.Status != 404 {
		t.Fatalf("want 404, got %v", err)
	}
	if n := fake.Count(maximtest.Rosters) - before; n != 1 {
		t.Errorf("404 sent %d times", n)
	}
}

// TestSecretsMasked: the access-token never shows, not even when the platform echoes it.
func TestSecretsMasked(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, `{"code": 10008, "message": "token %s expired"}`, r.Header.Get("access-token"))
	}))
	defer srv.Close()
	logs := &bytes.Buffer{}
	c, _ := maxim.NewClient(config(srv.URL), slog.New(slog.NewJSONHandler(logs, nil)))
	_, err := c.Rosters(context.Background(), fmt.Sprint(owner))
	if err == nil || !strings.Contains(err.Error(), "10008") {
		t.Fatalf("got %v", err)
	}
	cfg := config(srv.URL)
	slog.New(slog.NewJSONHandler(logs, nil)).Info("config", "cfg", cfg)
	for name, text := range map[string]string{"error": err.Error(), "logs": logs.String(), "String": cfg.String(), "%+v": fmt.Sprintf("%+v", cfg)} {
		if strings.Contains(text, token) {
			t.Errorf("%s shows the token: %s", name, text)
		}
	}
}

func TestConfigValidate(t *testing.T) {
	err := maxim.Config{Endpoint: "x", UserID: "abc", AccessToken: "t", AccessTokenFile: "/nonexistent"}.Validate()
	for _, want := range []string{"api_endpoint", "app_id: empty", "not both", "numeric user id", "page limit", "attempts"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Validate: %v; want %q", err, want)
		}
	}
	if _, err := maxim.ParseGroups("2306414607729, 2306414607730:2302128618880"); err != nil {
		t.Error(err)
	}
	if _, err := maxim.ParseGroups("g1,1:x"); err == nil || !strings.Contains(err.Error(), `"g1"`) || !strings.Contains(err.Error(), `"1:x"`) {
		t.Errorf("want both bad groups reported, got %v", err)
	}
	if err := (maxim.SyncConfig{Users: []string{"x"}}).Validate(); err == nil || !strings.Contains(err.Error(), "flush rows") {
		t.Errorf("SyncConfig.Validate: %v", err)
	}
}
