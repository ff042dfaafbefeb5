package ingest_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"hash/crc32"
	"net/http"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/imarchive/imarchive/ingest"
	"github.com/imarchive/imarchive/kafka"
)

// rotationConfigs are the three states of an app's secrets around a rotation, written in the
// variables' syntax: the old secret only, the new one only, and both (the new one listed first).
var rotationConfigs = []struct {
	name      string
	listing   func(app, old, new string) string
	acceptOld bool
	acceptNew bool
}{
	{"old only", func(app, old, _ string) string { return app + "=" + old }, true, false},
	{"new only", func(app, _, new string) string { return app + "=" + new }, false, true},
	{"both", func(app, old, new string) string { return app + "=" + new + "," + app + "=" + old }, true, true},
}

// TestSecretRotation: for every platform, with the old secret only, the new one only and both
// configured, a callback signed with the old, the new or neither secret is accepted exactly when its
// secret is configured; one verified with the previous secret is counted as such; a refusal
// produces nothing.
func TestSecretRotation(t *testing.T) {
	const (
		oldSecret, newSecret, otherSecret = "old-s3cret-0123456", "new-s3cret-0123456", "never-configured"
	)
	neteaseBody := seedMessage(t)
	maximBody := readFile(t, "../normalize/testdata/maxim/chat_text.json")
	ilinkBody := readFile(t, "../normalize/testdata/ilink/4.3_status_offline.json")
	for _, rc := range rotationConfigs {
		t.Run(rc.name, func(t *testing.T) {
			nCur, nPrev, err := ingest.ParseAppsRotation(rc.listing("app1", oldSecret, newSecret))
			if err != nil {
				t.Fatal(err)
			}
			mCur, mPrev, err := ingest.ParseAppsRotation(rc.listing("welovemaxim", oldSecret, newSecret))
			if err != nil {
				t.Fatal(err)
			}
			// iLink rotates its token and its path secret together: "app=token:secret".
			iCur, iPrev, err := ingest.ParseILinkAppsRotation(rc.listing("app1", "oldtok:"+oldSecret, "newtok:"+newSecret))
			if err != nil {
				t.Fatal(err)
			}
			f := newFixture(t, func(c *ingest.Config) {
				c.NeteaseApps, c.NeteasePrevious = nCur, nPrev
				c.MaximApps, c.MaximPrevious = mCur, mPrev
				c.ILinkApps, c.ILinkPrevious = iCur, iPrev
			})
			produced := int64(0)
			for _, signer := range []struct {
				name, secret, token string
				accepted            bool
			}{
				{"signed with old", oldSecret, "oldtok", rc.acceptOld},
				{"signed with new", newSecret, "newtok", rc.acceptNew},
				{"signed with neither", otherSecret, "othertok", false},
			} {
				t.Run(signer.name, func(t *testing.T) {
					// A fresh body each time, so no delivery is a duplicate of another.
					nb := bytes.Replace(neteaseBody, []byte(`"1541869"`), []byte(`"`+signer.name+rc.name+`"`), 1)
					mb := bytes.Replace(maximBody, []byte(`"3074681428834398208"`), []byte(`"`+strconv.Itoa(int(crc32.ChecksumIEEE([]byte(signer.name+rc.name))))+`"`), 1)
					ib := bytes.Replace(ilinkBody, []byte(`{`), []byte(`{"x":"`+signer.name+`",`), 1)
					wantOK := func(what string, got, okStatus, refused int) {
						t.Helper()
						want := refused
						if signer.accepted {
							want = okStatus
						}
						if got != want {
							t.Errorf("%s: status %d, want %d", what, got, want)
						}
					}
					st, _ := f.do(t, "POST", "/v1/netease/app1", nb, signedHeaders(signer.secret, nb, f.now))
					wantOK("netease", st, 200, 401)
					st, _ = f.do(t, "POST", "/v1/maxim/welovemaxim", mb, maximHeaders(signer.secret))
					wantOK("maxim", st, 200, 401)
					st, _ = f.do(t, "POST", "/v1/ilink/app1/"+signer.secret, ib, http.Header{"Content-Type": {"application/json"}})
					wantOK("ilink push", st, 200, 403)
					// The GET handshake: signed with the token, on the path with the secret.
					ts, echo := "1457408202", "echo-"+strconv.Itoa(len(signer.name))
					sorted, _ := ingest.ILinkSignature(signer.token, ts, echo)
					st, got := f.do(t, "GET", "/v1/ilink/app1/"+signer.secret+"?signature="+sorted+"&timestamp="+ts+"&echostr="+echo, nil, nil)
					wantOK("ilink handshake", st, 200, 403)
					if signer.accepted && got != echo {
						t.Errorf("ilink handshake answered %q, want %q", got, echo)
					}
					if signer.accepted {
						produced += 3
					}
				})
			}
			if n := f.endOffsets(t)[f.tc.Raw()]; n != produced {
				t.Errorf("raw topic has %d records, want %d: a refused callback produced, or an accepted one did not", n, produced)
			}
			prev := metricValue(t, f, "imarchive_ingest_previous_secret_total", nil)
			wantPrev := 0.0
			if rc.acceptOld && rc.acceptNew {
				wantPrev = 4 // netease, maxim, ilink push, ilink handshake (counted once per request)
			}
			if prev != wantPrev {
				t.Errorf("imarchive_ingest_previous_secret_total = %v, want %v", prev, wantPrev)
			}
		})
	}
}

// TestParseAppsRotation: the variables' rotation syntax. An app listed twice has a current (first)
// and a previous (second) secret; a third listing or the same secret twice is an error; errors never
// show a secret; the old single-secret lists parse as before.
func TestParseAppsRotation(t *testing.T) {
	cases := []struct {
		in        string
		cur, prev map[string]string
		err       string
	}{
		{"a=x,b=y", map[string]string{"a": "x", "b": "y"}, map[string]string{}, ""},
		{"a=new, b=y, a=old", map[string]string{"a": "new", "b": "y"}, map[string]string{"a": "old"}, ""},
		{"a=s1,a=s2,a=s3", nil, nil, "more than twice"},
		{"a=dup-s3cret,a=dup-s3cret", nil, nil, "same secret"},
		{"a=x,a", nil, nil, "want key=secret"},
		{"", map[string]string{}, map[string]string{}, ""},
	}
	for _, c := range cases {
		cur, prev, err := ingest.ParseAppsRotation(c.in)
		if c.err != "" {
			if err == nil || !strings.Contains(err.Error(), c.err) {
				t.Errorf("%q: error %v, want one saying %q", c.in, err, c.err)
			}
			for _, s := range []string{"s1", "s2", "s3", "dup-s3cret"} {
				if err != nil && strings.Contains(err.Error(), s) {
					t.Errorf("%q: error %q shows a secret", c.in, err)
				}
			}
			continue
		}
		if err != nil || !equalMaps(cur, c.cur) || !equalMaps(prev, c.prev) {
			t.Errorf("%q: got %v, %v, %v; want %v, %v", c.in, cur, prev, err, c.cur, c.prev)
		}
	}
	// ParseApps (what loadgen and the ilink command read) keeps the current secret.
	if m, err := ingest.ParseApps("a=new,a=old"); err != nil || m["a"] != "new" {
		t.Errorf("ParseApps: %v, %v; want the current (first) secret", m, err)
	}
	cur, prev, err := ingest.ParseILinkAppsRotation("a=tokN:secN,a=tokO:secO")
	if err != nil || cur["a"] != (ingest.ILinkApp{Token: "tokN", Secret: "secN"}) || prev["a"] != (ingest.ILinkApp{Token: "tokO", Secret: "secO"}) {
		t.Errorf("ilink rotation: %v %v %v", cur, prev, err)
	}
	// A previous secret alone, without its app, does not validate.
	cfg := ingest.DefaultConfig()
	cfg.NeteaseApps = map[string]string{"a": "x"}
	cfg.NeteasePrevious = map[string]string{"b": "y"}
	if err := cfg.Validate(); err == nil || !strings.Contains(err.Error(), `"b"`) {
		t.Errorf("Validate: %v, want an error naming b", err)
	}
}

func equalMaps(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || w != v {
			return false
		}
	}
	return true
}

// TestRateLimitPerApp: past its burst, an app's authenticated callbacks get 429 with Retry-After and
// produce nothing, while another app is not held back; once the bucket refills (the receiver's
// clock moves on) the same callback is accepted. Forged requests do not spend an app's budget.
func TestRateLimitPerApp(t *testing.T) {
	f := newFixture(t, func(c *ingest.Config) {
		c.NeteaseApps = map[string]string{"app1": secret, "app2": secret}
		c.RateLimit = 2
		c.RateBurst = 3
	})
	body := func(i int) []byte {
		return bytes.Replace(seedMessage(t), []byte(`"1541869"`), []byte(`"rl-`+strconv.Itoa(i)+`"`), 1)
	}
	// Forged requests first: refused 401, and they take nothing from app1's bucket.
	for i := range 10 {
		if st, _ := f.do(t, "POST", "/v1/netease/app1", body(100+i), signedHeaders("forged", body(100+i), f.now)); st != 401 {
			t.Fatalf("forged request: status %d", st)
		}
	}
	var statuses []int
	var retryAfter string
	for i := range 5 {
		req, _ := http.NewRequest("POST", f.srv.URL+"/v1/netease/app1", bytes.NewReader(body(i)))
		req.Header = signedHeaders(secret, body(i), f.now)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		statuses = append(statuses, resp.StatusCode)
		if resp.StatusCode == http.StatusTooManyRequests {
			retryAfter = resp.Header.Get("Retry-After")
		}
	}
	if want := []int{200, 200, 200, 429, 429}; !equalInts(statuses, want) {
		t.Fatalf("statuses %v, want %v (burst 3)", statuses, want)
	}
	if retryAfter != "1" {
		t.Errorf("Retry-After %q, want 1 (2 tokens a second)", retryAfter)
	}
	if st, _ := f.do(t, "POST", "/v1/netease/app2", body(50), signedHeaders(secret, body(50), f.now)); st != 200 {
		t.Errorf("app2 held back by app1's limit: status %d", st)
	}
	if n := f.endOffsets(t)[f.tc.Raw()]; n != 4 {
		t.Errorf("raw topic has %d records, want 4 (3 of app1, 1 of app2): a 429 produced", n)
	}
	// Half a second later one token is back: the platform's retry of the refused callback gets in.
	now := f.advance(500 * time.Millisecond)
	if st, _ := f.do(t, "POST", "/v1/netease/app1", body(3), signedHeaders(secret, body(3), now)); st != 200 {
		t.Errorf("after the refill: status %d, want 200", st)
	}
	if st, _ := f.do(t, "POST", "/v1/netease/app1", body(4), signedHeaders(secret, body(4), now)); st != 429 {
		t.Errorf("second after the refill: status %d, want 429", st)
	}
	if v := metricValue(t, f, "imarchive_ingest_rate_limited_total", map[string]string{"app": "app1"}); v != 3 {
		t.Errorf("imarchive_ingest_rate_limited_total{app1} = %v, want 3", v)
	}
}

func equalInts(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// TestMaxInFlight: with every slot held by callbacks waiting for Kafka, the next one is answered 503
// with Retry-After at once, before its body is read; when the held ones finish, callbacks get in
// again.
func TestMaxInFlight(t *testing.T) {
	g := &gatedProducer{hold: make(chan struct{}), holdAll: true}
	f := newGatedFixture(t, g, func(c *ingest.Config) { c.MaxInFlight = 2; c.AckTimeout = 10 * time.Second })
	var wg sync.WaitGroup
	held := make([]int, 2)
	for i := range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			b := bytes.Replace(seedMessage(t), []byte(`"1541869"`), []byte(`"held-`+strconv.Itoa(i)+`"`), 1)
			held[i], _ = f.do(t, "POST", "/v1/netease/app1", b, signedHeaders(secret, b, f.now))
		}()
	}
	deadline := time.Now().Add(10 * time.Second)
	for g.callCount() < 2 {
		if time.Now().After(deadline) {
			t.Fatal("the two held callbacks never reached the producer")
		}
		time.Sleep(10 * time.Millisecond)
	}
	b := seedMessage(t)
	req, _ := http.NewRequest("POST", f.srv.URL+"/v1/netease/app1", bytes.NewReader(b))
	req.Header = signedHeaders(secret, b, f.now)
	start := time.Now()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusServiceUnavailable || resp.Header.Get("Retry-After") == "" {
		t.Fatalf("third callback: status %d, Retry-After %q; want 503 with Retry-After", resp.StatusCode, resp.Header.Get("Retry-After"))
	}
	if took := time.Since(start); took > 2*time.Second {
		t.Errorf("the refusal took %s: it must not wait for a slot", took)
	}
	g.open()
	wg.Wait()
	if held[0] != 200 || held[1] != 200 {
		t.Fatalf("held callbacks answered %v", held)
	}
	if st, _ := f.do(t, "POST", "/v1/netease/app1", b, signedHeaders(secret, b, f.now.Add(time.Second))); st != 200 {
		t.Errorf("after the slots freed: status %d", st)
	}
	if v := metricValue(t, f, "imarchive_ingest_callbacks_total", map[string]string{"outcome": "overloaded"}); v != 1 {
		t.Errorf("overloaded outcomes %v, want 1", v)
	}
}

// TestTrustedProxyForwardedFor: behind a trusted proxy the iLink allow-list is matched against the
// client address the proxy reports (the right-most X-Forwarded-For entry that is not a trusted
// proxy), and the raw record keeps it beside the proxy's; from an untrusted peer X-Forwarded-For is
// ignored, so a client cannot talk its way into the allow-list.
func TestTrustedProxyForwardedFor(t *testing.T) {
	loopback := netip.MustParsePrefix("127.0.0.1/32")
	platform := netip.MustParsePrefix("203.0.113.0/24")
	body := readFile(t, "../normalize/testdata/ilink/4.3_status_offline.json")
	cases := []struct {
		name    string
		trusted []netip.Prefix
		xff     []string
		status  int
		client  string // imarchive.client_addr of the raw record
	}{
		{"no proxy trusted: the forged header is ignored", nil, []string{"203.0.113.7"}, 403, ""},
		{"trusted proxy, client in the allow-list", []netip.Prefix{loopback}, []string{"203.0.113.7"}, 200, "203.0.113.7"},
		{"trusted proxy, client outside", []netip.Prefix{loopback}, []string{"198.51.100.1"}, 403, ""},
		{"client-written left entry is not believed", []netip.Prefix{loopback}, []string{"203.0.113.7, 198.51.100.1"}, 403, ""},
		{"two hops of trusted proxies", []netip.Prefix{loopback, netip.MustParsePrefix("10.0.0.0/8")}, []string{"203.0.113.9", "10.1.2.3"}, 200, "203.0.113.9"},
		{"malformed entry from a trusted proxy", []netip.Prefix{loopback}, []string{"not-an-ip"}, 403, ""},
		{"trusted proxy without the header: the proxy is the client", []netip.Prefix{loopback}, nil, 403, ""},
	}
	for i, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f := newFixture(t, func(cfg *ingest.Config) {
				cfg.ILinkAllowIPs = []netip.Prefix{platform}
				cfg.TrustedProxies = c.trusted
			})
			b := bytes.Replace(body, []byte(`{`), []byte(`{"case":`+strconv.Itoa(i)+`,`), 1)
			h := http.Header{"Content-Type": {"application/json"}}
			for _, v := range c.xff {
				h.Add("X-Forwarded-For", v)
			}
			if st, _ := f.do(t, "POST", ilinkPath, b, h); st != c.status {
				t.Fatalf("status %d, want %d", st, c.status)
			}
			if c.status != 200 {
				if n := f.endOffsets(t)[f.tc.Raw()]; n != 0 {
					t.Fatalf("a refused callback produced %d raw records", n)
				}
				return
			}
			raw := f.records(t, f.tc.Raw())
			hm := headerMap(raw[0])
			if hm[kafka.HeaderClientAddr] != c.client || !strings.HasPrefix(hm[kafka.HeaderRemoteAddr], "127.0.0.1:") {
				t.Errorf("raw record client %q, remote %q; want client %q and the proxy as remote", hm[kafka.HeaderClientAddr], hm[kafka.HeaderRemoteAddr], c.client)
			}
		})
	}
}

// TestReplayedSignature: a NetEase request replayed byte for byte — the same body and the same
// CurTime, MD5 and CheckSum — within the freshness window is answered as delivered and produces
// nothing, even with the event_id dedupe turned off; a platform retry (re-signed) is not a replay;
// a replay outside the window is refused as stale.
func TestReplayedSignature(t *testing.T) {
	f := newFixture(t, func(c *ingest.Config) { c.DedupeWindow = 0; c.DedupeSize = 0 })
	body := seedMessage(t)
	h := signedHeaders(secret, body, f.now)
	for i := range 3 {
		if st, _ := f.do(t, "POST", "/v1/netease/app1", body, h); st != 200 {
			t.Fatalf("send %d: status %d", i, st)
		}
	}
	f.wantCounts(t, 1, 1, 0)
	if v := metricValue(t, f, "imarchive_ingest_replays_total", nil); v != 2 {
		t.Errorf("imarchive_ingest_replays_total = %v, want 2", v)
	}
	// The platform's own retry is re-signed: with dedupe off it is produced again (ClickHouse folds it).
	if st, _ := f.do(t, "POST", "/v1/netease/app1", body, f.retryHeaders(body, 1)); st != 200 {
		t.Fatalf("re-signed retry: status %d", st)
	}
	f.wantCounts(t, 2, 2, 0)
	// Six minutes on, the captured request is stale.
	f.advance(6 * time.Minute)
	if st, _ := f.do(t, "POST", "/v1/netease/app1", body, h); st != 401 {
		t.Errorf("replay after the window: status %d, want 401", st)
	}
	f.wantCounts(t, 2, 2, 0)
}

// TestReplayOfFailedDeliveryGetsThrough: a request whose first delivery failed (503) is not
// remembered as delivered, so the same signed request sent again is produced, not swallowed.
func TestReplayOfFailedDeliveryGetsThrough(t *testing.T) {
	g := &gatedProducer{failFirst: true}
	f := newGatedFixture(t, g, nil)
	body := seedMessage(t)
	h := signedHeaders(secret, body, f.now)
	if st, _ := f.do(t, "POST", "/v1/netease/app1", body, h); st != 503 {
		t.Fatalf("first: status %d, want 503", st)
	}
	if st, _ := f.do(t, "POST", "/v1/netease/app1", body, h); st != 200 {
		t.Fatalf("resent: status %d, want 200", st)
	}
	f.wantCounts(t, 1, 1, 0)
}

// TestReplaysDoNotSpendRateBudget: 50 replays of one captured, delivered request are answered as
// delivered and take nothing from the app's rate budget — replays are recognised before the rate
// limit — so the next genuine callback is accepted, not refused 429.
func TestReplaysDoNotSpendRateBudget(t *testing.T) {
	f := newFixture(t, func(c *ingest.Config) { c.RateLimit = 1; c.RateBurst = 3 })
	body := seedMessage(t)
	h := signedHeaders(secret, body, f.now)
	counts := map[int]int{}
	for range 51 {
		st, _ := f.do(t, "POST", "/v1/netease/app1", body, h)
		counts[st]++
	}
	if counts[200] != 51 {
		t.Errorf("one delivery and 50 replays answered %v, want 51×200", counts)
	}
	next := bytes.Replace(body, []byte(`"1541869"`), []byte(`"after-replays"`), 1)
	if st, _ := f.do(t, "POST", "/v1/netease/app1", next, signedHeaders(secret, next, f.now)); st != 200 {
		t.Errorf("the next genuine callback after the replays: status %d, want 200", st)
	}
	f.wantCounts(t, 2, 2, 0)
}

// TestEventIDConflictIsKeptAndAlerted: whoever knows a static credential (here Maxim's signature)
// sends a forged message with a real message id first; the genuine callback with the same id comes
// second. It is not swallowed as a duplicate: its raw receipt is kept and it is dead-lettered with
// the SHA-256 of both bodies, counted in imarchive_ingest_event_id_conflicts_total, and answered as
// delivered. A true retry of the first (the same bytes) is still a duplicate.
func TestEventIDConflictIsKeptAndAlerted(t *testing.T) {
	f := newFixture(t, nil)
	genuine := readFile(t, "../normalize/testdata/maxim/chat_text.json")
	forged := bytes.Replace(genuine, []byte("你好,美信"), []byte("FORGED: wire the money"), 1)
	for i, body := range [][]byte{forged, forged, genuine} {
		if st, _ := f.do(t, "POST", "/v1/maxim/welovemaxim", body, maximHeaders(maximSecret)); st != 200 {
			t.Fatalf("delivery %d: status %d", i, st)
		}
	}
	f.wantCounts(t, 2, 1, 1)
	raw := f.records(t, f.tc.Raw())
	if !bytes.Equal(raw[1].Value, genuine) {
		t.Errorf("the second raw receipt is not the genuine body")
	}
	dl := f.records(t, f.tc.DeadLetter())[0]
	h := headerMap(dl)
	sum := func(b []byte) string { s := sha256.Sum256(b); return hex.EncodeToString(s[:]) }
	if h[kafka.HeaderBodySHA256] != sum(genuine) || h[kafka.HeaderFirstBodySHA256] != sum(forged) {
		t.Errorf("dead letter hashes: this %s, first %s; want %s, %s", h[kafka.HeaderBodySHA256], h[kafka.HeaderFirstBodySHA256], sum(genuine), sum(forged))
	}
	if !strings.Contains(h[kafka.HeaderReason], "event_id conflict") || h[kafka.HeaderStage] != "ingest.dedupe" || !bytes.Equal(dl.Value, genuine) {
		t.Errorf("dead letter: reason %q, stage %q", h[kafka.HeaderReason], h[kafka.HeaderStage])
	}
	if v := metricValue(t, f, "imarchive_ingest_event_id_conflicts_total", nil); v != 1 {
		t.Errorf("imarchive_ingest_event_id_conflicts_total = %v, want 1", v)
	}
	if v := metricValue(t, f, "imarchive_ingest_duplicates_total", nil); v != 1 {
		t.Errorf("imarchive_ingest_duplicates_total = %v, want 1 (the forgery's own retry)", v)
	}
}

// TestILinkPathSecretMinimumLength: the path secret is an iLink push's only credential; one shorter
// than MinILinkSecretLen is refused at start, for the current and the previous entry alike, and the
// error does not show it.
func TestILinkPathSecretMinimumLength(t *testing.T) {
	base := ingest.DefaultConfig()
	short, long := strings.Repeat("s", ingest.MinILinkSecretLen-1), strings.Repeat("s", ingest.MinILinkSecretLen)
	for _, c := range []struct {
		cur, prev string
		ok        bool
	}{{long, "", true}, {short, "", false}, {long, short, false}, {long, long + "x", true}} {
		cfg := base
		cfg.ILinkApps = map[string]ingest.ILinkApp{"a": {Token: "t", Secret: c.cur}}
		if c.prev != "" {
			cfg.ILinkPrevious = map[string]ingest.ILinkApp{"a": {Token: "t", Secret: c.prev}}
		}
		err := cfg.Validate()
		if (err == nil) != c.ok {
			t.Errorf("secrets of %d and %d characters: %v, want ok=%v", len(c.cur), len(c.prev), err, c.ok)
		}
		if err != nil && strings.Contains(err.Error(), short) {
			t.Errorf("the error shows the secret: %v", err)
		}
	}
}
