package ilink_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/imarchive/imarchive/connectors"
	"github.com/imarchive/imarchive/connectors/ilink"
	"github.com/imarchive/imarchive/connectors/ilink/ilinktest"
)

// The manual's example credentials (§3.1).
const (
	appKey    = "4cdad356-85b4-008627"
	secretKey = "c7147f6fea0daf6cbd36ed65b037b4c9"
	uid       = "100"
)

// fastPolicy retries quickly, so failure paths stay fast.
func fastPolicy() connectors.Policy {
	return connectors.Policy{Timeout: 2 * time.Second, Attempts: 3, MinBackoff: time.Millisecond, MaxBackoff: 5 * time.Millisecond}
}

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *clock { return &clock{t: time.Date(2024, 5, 1, 8, 0, 0, 0, time.UTC)} }
func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}
func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// fixture starts a fake with the manual's application, registered, and a client for it.
func fixture(t *testing.T, opts ...ilink.Option) (*ilinktest.Server, *ilink.Client, *bytes.Buffer) {
	t.Helper()
	fake := ilinktest.New(appKey, secretKey, uid, "414", "415", "416")
	t.Cleanup(fake.Close)
	fake.Register(uid, "http://xxx.com", "abcdefg")
	cfg := ilink.DefaultConfig()
	cfg.BaseURL = fake.URL
	cfg.AppKey, cfg.SecretKey, cfg.UID = appKey, secretKey, uid
	cfg.Policy = fastPolicy()
	logs := &bytes.Buffer{}
	c, err := ilink.NewClient(cfg, slog.New(slog.NewTextHandler(logs, nil)), opts...)
	if err != nil {
		t.Fatal(err)
	}
	return fake, c, logs
}

func readJSON(t *testing.T, name string) any {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "manual", name))
	if err != nil {
		t.Fatal(err)
	}
	var v any
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return v
}

func jsonOf(t *testing.T, b []byte) any {
	t.Helper()
	var v any
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatalf("not JSON: %q", b)
	}
	return v
}

// TestRequestsAsTheManual: every request the client sends has exactly the fields and types of the
// manual's examples (testdata/manual/*.request.json).
func TestRequestsAsTheManual(t *testing.T) {
	fake, c, _ := fixture(t)
	fake.Handshake(false, "")
	fake.SetGroups(ilinktest.Group{ID: "4ad356-85b4-008627", Name: "聊天群", CreateTime: "2014-12-13 13:13:13", Members: []string{"414", "415"}})
	ctx := context.Background()
	steps := []struct {
		endpoint string
		golden   string
		call     func() error
	}{
		{ilinktest.SetConfig, "set_config_register.request.json", func() error {
			_, err := c.Register(ctx, ilink.Registration{CallbackURL: "http://xxx.com", Token: "abcdefg"})
			return err
		}},
		{ilinktest.SetConfig, "set_config_query.request.json", func() error { _, err := c.Query(ctx, "http://xxx.com"); return err }},
		{ilinktest.GetAccessToken, "get_access_token.request.json", func() error { _, err := c.AccessToken(ctx); return err }},
		{ilinktest.GroupList, "ham_group_list.request.json", func() error { _, err := c.Groups(ctx); return err }},
		{ilinktest.GroupMembers, "ham_group_members.request.json", func() error { _, err := c.GroupMembers(ctx, "4ad356-85b4-008627"); return err }},
		{ilinktest.UserStates, "ham_user_states.request.json", func() error { _, err := c.UserStates(ctx, []string{"414", "415"}); return err }},
		{ilinktest.SetConfig, "set_config_unregister.request.json", func() error { _, err := c.Unregister(ctx); return err }},
	}
	for _, st := range steps {
		before := len(fake.Requests())
		if err := st.call(); err != nil {
			t.Fatalf("%s: %v", st.golden, err)
		}
		reqs := fake.Requests()[before:]
		var got *ilinktest.Request
		for i := range reqs {
			if reqs[i].Endpoint == st.endpoint {
				got = &reqs[i]
			}
		}
		if got == nil {
			t.Fatalf("%s: no %s request", st.golden, st.endpoint)
		}
		if want := readJSON(t, st.golden); !reflect.DeepEqual(jsonOf(t, got.Raw), want) {
			t.Errorf("%s: sent %s\nwant %v", st.golden, got.Raw, want)
		}
		if st.endpoint != ilinktest.SetConfig && st.endpoint != ilinktest.GetAccessToken && got.Query.Get("access_token") == "" {
			t.Errorf("%s: no access_token in the query", st.golden)
		}
	}
}

// TestFakeAnswersAsTheManual: the fake answers exactly as the manual's answer tables and examples
// (testdata/manual/*.answer.json), so the client is tested against the manual, not against itself.
func TestFakeAnswersAsTheManual(t *testing.T) {
	fake, _, _ := fixture(t)
	fake.SetGroups(
		ilinktest.Group{ID: "4ad356-85b4-008627", Name: "聊天群", CreateTime: "2014-12-13 13:13:13", Members: []string{"414", "415"}},
		ilinktest.Group{ID: "4cfsd356-85b4-008621", Name: "聊天2群", CreateTime: "2014-12-13 13:13:13"},
	)
	fake.SetState("414", 1)
	fake.SetState("415", 0)
	post := func(path string, body string) any {
		resp, err := http.Post(fake.URL+path, "application/json", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return jsonOf(t, b)
	}
	tokAnswer := post("/get_access_token", `{"appkey":"`+appKey+`","secretkey":"`+secretKey+`","uid":"100"}`).(map[string]any)
	tok := tokAnswer["access_token"].(string)
	tokAnswer["access_token"] = "TOKEN"
	if want := readJSON(t, "get_access_token.answer.json"); !reflect.DeepEqual(tokAnswer, want) {
		t.Errorf("get_access_token answered %v, want %v", tokAnswer, want)
	}
	for _, c := range []struct{ path, body, golden string }{
		{"/set_config", `{"appkey":"` + appKey + `","secretkey":"` + secretKey + `","action_type":2,"uid":"100"}`, "set_config.answer.json"},
		{"/ham_group?access_token=" + tok, `{"send_uid":"100","action_type":3}`, "ham_group_list.answer.json"},
		{"/ham_group?access_token=" + tok, `{"send_uid":"100","action_type":6,"group_id":"4ad356-85b4-008627"}`, "ham_group_members.answer.json"},
		{"/ham_user?access_token=" + tok, `{"send_uid":"100","action_type":1,"uid_list":["414","415"]}`, "ham_user_states.answer.json"},
	} {
		if got, want := post(c.path, c.body), readJSON(t, c.golden); !reflect.DeepEqual(got, want) {
			t.Errorf("%s: answered %v, want %v", c.golden, got, want)
		}
	}
}

func TestDecodeLists(t *testing.T) {
	groups, err := ilink.DecodeGroupList(json.RawMessage(`[{"group_id":"g1","group_name":"聊天群","create_time":"2014-12-13 13:13:13","extra":5}]`))
	if err != nil {
		t.Fatal(err)
	}
	want := time.Date(2014, 12, 13, 5, 13, 13, 0, time.UTC) // 13:13:13 China time
	if len(groups) != 1 || groups[0].ID != "g1" || groups[0].Name != "聊天群" || groups[0].CreatedAt == nil || !groups[0].CreatedAt.Equal(want) {
		t.Fatalf("decoded %+v", groups)
	}
	if groups[0].Attrs["extra"] != "5" || groups[0].Attrs["create_time"] != "2014-12-13 13:13:13" {
		t.Errorf("attrs %v: every field must be kept", groups[0].Attrs)
	}
	for name, c := range map[string]struct {
		raw  string
		want []string
		bad  bool
	}{
		"array":          {raw: `["414","415"]`, want: []string{"414", "415"}},
		"numbers":        {raw: `[414, 415]`, want: []string{"414", "415"}},
		"text":           {raw: `"[\"414\",\"415\"]"`, want: []string{"414", "415"}},
		"duplicates":     {raw: `["414","414",""]`, want: []string{"414"}},
		"null":           {raw: `null`, want: nil},
		"empty text":     {raw: `""`, want: nil},
		"object":         {raw: `{"a":1}`, bad: true},
		"bad text":       {raw: `"[414"`, bad: true},
		"nested objects": {raw: `[{"uid":"1"}]`, bad: true},
	} {
		got, err := ilink.DecodeUIDList(json.RawMessage(c.raw))
		if c.bad {
			if !errors.Is(err, ilink.ErrBadAnswer) {
				t.Errorf("%s: want ErrBadAnswer, got %v, %v", name, got, err)
			}
			continue
		}
		if err != nil || (len(got) != 0 || len(c.want) != 0) && !reflect.DeepEqual(got, c.want) {
			t.Errorf("%s: got %v, %v; want %v", name, got, err, c.want)
		}
	}
	list, err := ilink.DecodeStateList(json.RawMessage(`"[{\"uid\":415,\"state\":\"0\"},{\"uid\":\"414\",\"state\":1}]"`))
	if err != nil {
		t.Fatal(err)
	}
	states := list.States
	if len(states) != 2 || states[0].UID != "414" || !states[0].Online || states[1].UID != "415" || states[1].Online || states[1].State != 0 || len(list.Bad) != 0 {
		t.Errorf("states %+v", list)
	}
	if _, err := ilink.DecodeStateList(json.RawMessage(`{"uid":"414","state":1}`)); !errors.Is(err, ilink.ErrBadAnswer) {
		t.Errorf("a uid_state_list that is not a list: want ErrBadAnswer, got %v", err)
	}
}

// TestDecodeStateListAsTheManualPrintsIt: §5.10's answer, exactly as printed ("uid_state_list ... 格式如下:
// [{ "uid": "414"," state":1}, { "uid": "415"," state":0}]"), is read like its repaired form; an entry
// that cannot be read costs only itself and is reported.
func TestDecodeStateListAsTheManualPrintsIt(t *testing.T) {
	list, err := ilink.DecodeStateList(json.RawMessage(`[{ "uid": "414"," state":1}, { "uid": "415"," state":0}]`))
	if err != nil {
		t.Fatalf("the manual's literal answer: %v", err)
	}
	if len(list.States) != 2 || !list.States[0].Online || list.States[0].UID != "414" || list.States[1].Online || len(list.Bad) != 0 {
		t.Errorf("the manual's literal answer read as %+v", list)
	}
	if list.States[0].Attrs[" state"] != "1" {
		t.Errorf("attrs must keep the key as sent: %v", list.States[0].Attrs)
	}
	list, err = ilink.DecodeStateList(json.RawMessage(`[{"uid":"414","state":1},{"uid":"415"},{"state":1},"416",{"uid":"417","state":"online"},{"uid":"418","state":null},{"uid":"419","state":""},{"uid":" 420 ","state":"0"}]`))
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, s := range list.States {
		got = append(got, s.UID)
	}
	if !reflect.DeepEqual(got, []string{"414", "420"}) {
		t.Errorf("states read %v, want 414 and 420", got)
	}
	if len(list.Bad) != 6 {
		t.Errorf("bad entries %d, want 6: %q", len(list.Bad), list.Bad)
	}
	for _, want := range []string{"uid 415: no state", "no uid", "not an object", "uid 417", "uid 418", "uid 419"} {
		if !strings.Contains(strings.Join(list.Bad, "\n"), want) {
			t.Errorf("bad entries do not say %q: %q", want, list.Bad)
		}
	}
}

func FuzzDecodeGroupList(f *testing.F) {
	for _, s := range []string{`[{"group_id":"g","group_name":"n","create_time":"2014-12-13 13:13:13"}]`, `"[]"`, `null`, `[{"group_id":1}]`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		groups, err := ilink.DecodeGroupList(b)
		if err != nil {
			if !errors.Is(err, ilink.ErrBadAnswer) {
				t.Fatalf("error not ErrBadAnswer: %v", err)
			}
			return
		}
		for _, g := range groups {
			if g.ID == "" {
				t.Fatal("a group without id was accepted")
			}
		}
	})
}

func FuzzDecodeStateList(f *testing.F) {
	for _, s := range []string{`[{"uid":"414","state":1}]`, `"[{\"uid\":1,\"state\":\"0\"}]"`, `[]`, `[{}]`, `[{ "uid": "414"," state":1}, { "uid": "415"," state":0}]`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		list, err := ilink.DecodeStateList(b)
		if err != nil {
			if !errors.Is(err, ilink.ErrBadAnswer) {
				t.Fatalf("error not ErrBadAnswer: %v", err)
			}
			return
		}
		for _, s := range list.States {
			if s.UID == "" || s.Online != (s.State == 1) {
				t.Fatalf("bad state %+v", s)
			}
		}
	})
}

// TestEveryErrorCode injects each code of §6 into a member-list call and checks what the client does:
// the token codes fetch a new token and retry once, the transient ones retry with backoff, every
// other one fails at once with the manual's meaning.
func TestEveryErrorCode(t *testing.T) {
	for _, code := range ilink.Codes() {
		if code == ilink.CodeOK {
			continue
		}
		t.Run(fmt.Sprint(int(code)), func(t *testing.T) {
			fake, c, _ := fixture(t)
			fake.SetGroups(ilinktest.Group{ID: "g1", Members: []string{"414"}})
			ctx := context.Background()
			if _, err := c.AccessToken(ctx); err != nil {
				t.Fatal(err)
			}
			fake.Fail(ilinktest.GroupMembers, ilinktest.Fault{Code: int(code)})
			members, err := c.GroupMembers(ctx, "g1")
			calls := fake.Count(ilinktest.GroupMembers)
			switch {
			case code.TokenProblem():
				if err != nil || !reflect.DeepEqual(members, []string{"414"}) {
					t.Fatalf("want a new token and success, got %v, %v", members, err)
				}
				if calls != 2 || fake.TokensIssued() != 2 {
					t.Errorf("calls %d, tokens %d: want 2 and 2", calls, fake.TokensIssued())
				}
			case code.Retryable():
				if err != nil || calls != 2 || fake.TokensIssued() != 1 {
					t.Fatalf("want a retry with the same token: err %v, calls %d, tokens %d", err, calls, fake.TokensIssued())
				}
			default:
				var ae *ilink.APIError
				if !errors.As(err, &ae) || ae.Code != code {
					t.Fatalf("want APIError %d, got %v", code, err)
				}
				if calls != 1 {
					t.Errorf("a permanent error was sent %d times", calls)
				}
				info := strings.SplitN(code.Meaning(), ":", 2)[0]
				if !strings.Contains(err.Error(), fmt.Sprint(int(code))) || !strings.Contains(err.Error(), info) {
					t.Errorf("error %q does not give the code and the manual's words %q", err, info)
				}
			}
		})
	}
}

// TestErrorCodeCategories: errors.Is sorts every code into a category callers can act on.
func TestErrorCodeCategories(t *testing.T) {
	cats := []error{ilink.ErrCredentials, ilink.ErrNotRegistered, ilink.ErrCallbackRejected, ilink.ErrToken, ilink.ErrRateLimited,
		ilink.ErrGroupNotFound, ilink.ErrPermission, ilink.ErrUnavailable, ilink.ErrRejected}
	for _, code := range append(ilink.Codes()[1:], 1234) {
		err := error(&ilink.APIError{Op: "x", Code: code})
		n := 0
		for _, c := range cats {
			if errors.Is(err, c) {
				n++
			}
		}
		if n != 1 {
			t.Errorf("code %d is in %d categories, want 1", code, n)
		}
		if code.Meaning() == "" {
			t.Errorf("code %d has no meaning", code)
		}
	}
	if !strings.Contains(ilink.Code(1234).Meaning(), "not a code of the manual") {
		t.Error("an unknown code must say so")
	}
}

// TestSetConfigErrorPaths: the fake's own checks give the manual's codes for register, query and
// unregister, and the client reports them with their meaning.
func TestSetConfigErrorPaths(t *testing.T) {
	ctx := context.Background()
	t.Run("bad credentials 1000", func(t *testing.T) {
		fake := ilinktest.New(appKey, "00000000000000000000000000000000", uid)
		defer fake.Close()
		cfg := ilink.DefaultConfig()
		cfg.BaseURL, cfg.AppKey, cfg.SecretKey, cfg.UID, cfg.Policy = fake.URL, appKey, secretKey, uid, fastPolicy()
		c, _ := ilink.NewClient(cfg, nil)
		_, err := c.Query(ctx, "")
		if !errors.Is(err, ilink.ErrCredentials) || !strings.Contains(err.Error(), "1000") {
			t.Fatalf("want 1000, got %v", err)
		}
		if strings.Contains(err.Error(), secretKey) {
			t.Error("the error shows the secretkey")
		}
	})
	t.Run("unknown uid 1001", func(t *testing.T) {
		fake := ilinktest.New(appKey, secretKey, "someone-else")
		defer fake.Close()
		cfg := ilink.DefaultConfig()
		cfg.BaseURL, cfg.AppKey, cfg.SecretKey, cfg.UID, cfg.Policy = fake.URL, appKey, secretKey, uid, fastPolicy()
		c, _ := ilink.NewClient(cfg, nil)
		if _, err := c.Query(ctx, ""); !errors.Is(err, ilink.ErrCredentials) || !strings.Contains(err.Error(), "1001") {
			t.Fatalf("want 1001, got %v", err)
		}
	})
	fake, c, _ := fixture(t)
	fake.Handshake(false, "")
	if _, err := c.Unregister(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Query(ctx, ""); !errors.Is(err, ilink.ErrNotRegistered) {
		t.Fatalf("query after unregister: want 1007, got %v", err)
	}
	if _, err := c.Unregister(ctx); !errors.Is(err, ilink.ErrNotRegistered) {
		t.Fatalf("unregister twice: want 1007, got %v", err)
	}
	if _, err := c.AccessToken(ctx); !errors.Is(err, ilink.ErrNotRegistered) {
		t.Fatalf("token without registration: want 1007, got %v", err)
	}
	fake.SetConfigLimit(1)
	if _, err := c.Register(ctx, ilink.Registration{CallbackURL: "http://xxx.com/cb", Token: "abcdefg"}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Register(ctx, ilink.Registration{CallbackURL: "http://xxx.com/cb", Token: "abcdefg"}); !errors.Is(err, ilink.ErrRateLimited) || !strings.Contains(err.Error(), "1004") {
		t.Fatalf("want 1004, got %v", err)
	}
	// The client refuses what the manual forbids before sending it.
	if _, err := c.Register(ctx, ilink.Registration{CallbackURL: "ftp://x", Token: "a!"}); err == nil ||
		!strings.Contains(err.Error(), "http:// or https://") || !strings.Contains(err.Error(), "3–32 letters or digits") {
		t.Fatalf("want both problems reported, got %v", err)
	}
}

// TestTokenLifetime: the access_token is fetched once, reused while valid, replaced before it expires
// (no call ever gets 1008 for expiry), and replaced when the platform drops it early.
func TestTokenLifetime(t *testing.T) {
	clk := newClock()
	fake, c, _ := fixture(t, ilink.WithClock(clk.Now))
	fake.SetClock(clk.Now)
	fake.SetGroups(ilinktest.Group{ID: "g1", Members: []string{"414"}})
	ctx := context.Background()
	call := func() {
		t.Helper()
		if _, err := c.GroupMembers(ctx, "g1"); err != nil {
			t.Fatal(err)
		}
	}
	for i := 0; i < 5; i++ {
		call()
		clk.Add(10 * time.Minute)
	}
	if n := fake.TokensIssued(); n != 1 {
		t.Fatalf("%d tokens for 50 minutes of calls, want 1", n)
	}
	clk.Add(7200*time.Second - 50*time.Minute - 4*time.Minute) // 4 min before expiry: inside the 5 min margin
	call()
	if n := fake.TokensIssued(); n != 2 {
		t.Fatalf("tokens %d: want a new token 4 min before expiry", n)
	}
	fake.ExpireTokens() // the platform drops it early
	call()
	if n := fake.TokensIssued(); n != 3 {
		t.Fatalf("tokens %d: want a new one after 1008", n)
	}
	// Every answer was code 0 but the one 1008: count the member calls.
	if n := fake.Count(ilinktest.GroupMembers); n != 8 {
		t.Errorf("%d member calls, want 7 + 1 retry", n)
	}
	// A token refused twice in a row is an error, not a loop.
	fake.Fail(ilinktest.GroupMembers, ilinktest.Fault{Code: 1008}, ilinktest.Fault{Code: 1008})
	if _, err := c.GroupMembers(ctx, "g1"); !errors.Is(err, ilink.ErrToken) {
		t.Fatalf("want ErrToken, got %v", err)
	}
}

// TestSlowAndFailingServer: timeouts, HTTP errors and dropped connections are retried with backoff,
// and give up after the configured attempts with the last failure.
func TestSlowAndFailingServer(t *testing.T) {
	ctx := context.Background()
	fake, c, logs := fixture(t)
	fake.SetGroups(ilinktest.Group{ID: "g1", Members: []string{"414", "415"}})
	if _, err := c.AccessToken(ctx); err != nil {
		t.Fatal(err)
	}
	fake.Fail(ilinktest.GroupMembers, ilinktest.Fault{Status: 502}, ilinktest.Fault{Drop: true})
	if got, err := c.GroupMembers(ctx, "g1"); err != nil || len(got) != 2 {
		t.Fatalf("after a 502 and a dropped connection: %v, %v", got, err)
	}
	if n := fake.Count(ilinktest.GroupMembers); n != 3 {
		t.Errorf("%d requests, want 3", n)
	}
	if !strings.Contains(logs.String(), "retrying") {
		t.Error("retries are not logged")
	}

	// A server slower than the request timeout.
	cfg := ilink.DefaultConfig()
	cfg.BaseURL, cfg.AppKey, cfg.SecretKey, cfg.UID = fake.URL, appKey, secretKey, uid
	cfg.Policy = connectors.Policy{Timeout: 100 * time.Millisecond, Attempts: 2, MinBackoff: time.Millisecond, MaxBackoff: time.Millisecond}
	slow, err := ilink.NewClient(cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	fake.Fail(ilinktest.GetAccessToken, ilinktest.Fault{Delay: time.Second})
	start := time.Now()
	if _, err := slow.AccessToken(ctx); err != nil {
		t.Fatalf("a slow first answer must be retried: %v", err)
	}
	if took := time.Since(start); took > 900*time.Millisecond {
		t.Errorf("took %s: the request timeout was not applied", took)
	}
	fake.Fail(ilinktest.GroupMembers, ilinktest.Fault{Delay: time.Second}, ilinktest.Fault{Delay: time.Second})
	_, err = slow.GroupMembers(ctx, "g1")
	if !errors.Is(err, connectors.ErrGaveUp) || !strings.Contains(err.Error(), "timed out") {
		t.Fatalf("want a timeout after 2 attempts, got %v", err)
	}
	// HTTP 400 is not retried.
	before := fake.Count(ilinktest.GroupMembers)
	fake.Fail(ilinktest.GroupMembers, ilinktest.Fault{Status: 400})
	var se *connectors.HTTPStatusError
	if _, err := c.GroupMembers(ctx, "g1"); !errors.As(err, &se) || se.Status != 400 {
		t.Fatalf("want HTTP 400, got %v", err)
	}
	if n := fake.Count(ilinktest.GroupMembers) - before; n != 1 {
		t.Errorf("HTTP 400 sent %d times, want 1", n)
	}
	// A cancelled context stops at once.
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := c.GroupMembers(cctx, "g1"); !errors.Is(err, context.Canceled) {
		t.Fatalf("want context.Canceled, got %v", err)
	}
}

// TestSecretsMasked: the secretkey, the access_token and the handshake token appear in no error, log
// line or printed configuration.
func TestSecretsMasked(t *testing.T) {
	ctx := context.Background()
	fake, c, logs := fixture(t)
	tok, err := c.AccessToken(ctx)
	if err != nil {
		t.Fatal(err)
	}
	fake.Fail(ilinktest.GroupMembers, ilinktest.Fault{Drop: true}, ilinktest.Fault{Drop: true}, ilinktest.Fault{Drop: true})
	_, err = c.GroupMembers(ctx, "g1")
	if err == nil {
		t.Fatal("want an error")
	}
	cfg := ilink.DefaultConfig()
	cfg.SecretKey = secretKey
	var js bytes.Buffer
	json.NewEncoder(&js).Encode(struct{ S connectors.Secret }{cfg.SecretKey})
	slog.New(slog.NewJSONHandler(logs, nil)).Info("config", "cfg", cfg, "secret", cfg.SecretKey)
	for name, text := range map[string]string{
		"error": err.Error(), "logs": logs.String(), "String": cfg.String(),
		"%v": fmt.Sprintf("%v", cfg), "%+v": fmt.Sprintf("%+v", cfg), "%#v": fmt.Sprintf("%#v", cfg), "json": js.String(),
	} {
		for _, secret := range []string{secretKey, tok} {
			if strings.Contains(text, secret) {
				t.Errorf("%s shows a secret: %s", name, text)
			}
		}
	}
	if !strings.Contains(err.Error(), "ham_group") {
		t.Errorf("the error %q no longer says what failed", err)
	}
}

func TestConfigValidate(t *testing.T) {
	err := ilink.Config{BaseURL: "ftp://x", SecretKey: "ABC"}.Validate()
	for _, want := range []string{"http:// or https://", "appkey: empty", "32 lower-case", "upper-case", "uid: empty", "request timeout", "attempts"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Validate: %v; want it to say %q", err, want)
		}
	}
	if err != nil && strings.Contains(err.Error(), "ABC") {
		t.Error("Validate shows the secretkey")
	}
	good := ilink.DefaultConfig()
	good.AppKey, good.SecretKey, good.UID = appKey, secretKey, uid
	if err := good.Validate(); err != nil {
		t.Errorf("valid config: %v", err)
	}
}
