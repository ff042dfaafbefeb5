package ingest_test

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/imarchive/imarchive/ingest"
)

// slowClient opens a connection, sends the request head of path with the given headers and a
// declared body of length bytes, then trickles the body a byte at a time until stop closes, or
// the server answers or hangs up. It reports (on answered) the status line it got, "" for none.
func slowClient(t *testing.T, addr, path string, h http.Header, length int, stop <-chan struct{}, started *sync.WaitGroup, answered chan<- string) {
	c, err := net.Dial("tcp", addr)
	if err != nil {
		started.Done()
		answered <- "dial: " + err.Error()
		return
	}
	defer c.Close()
	var head strings.Builder
	fmt.Fprintf(&head, "POST %s HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n", path, length)
	for k, vs := range h {
		for _, v := range vs {
			fmt.Fprintf(&head, "%s: %s\r\n", k, v)
		}
	}
	head.WriteString("\r\n{")
	_, err = io.WriteString(c, head.String())
	started.Done()
	if err != nil {
		answered <- ""
		return
	}
	got := make(chan string, 1)
	go func() {
		line, _ := bufio.NewReader(c).ReadString('\n')
		got <- strings.TrimSpace(line)
	}()
	tick := time.NewTicker(200 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case <-stop:
			answered <- ""
			return
		case line := <-got:
			answered <- line
			return
		case <-tick.C:
			if _, err := c.Write([]byte(" ")); err != nil {
				answered <- <-got
				return
			}
		}
	}
}

// TestSlowUnauthenticatedClientsCannotStarveIngest is the pre-authentication slot exhaustion of
// issue 19: 1,200 clients that hold no credential — against an unknown NetEase app, a known app
// with a forged CheckSum, an unknown Maxim app, a known one with a wrong signature and an iLink app
// with a wrong path secret — each declare a 100 KB body and trickle it. With the default
// MaxInFlight (1,024) they used to take every in-flight slot before any check, and every genuine
// callback of every platform got 503 until they gave up. Now each of them is refused from its
// headers alone, before a byte of its body is read or a slot is taken, and a genuine callback of each
// platform is answered 200 within the platforms' 5 s while they are still connected.
func TestSlowUnauthenticatedClientsCannotStarveIngest(t *testing.T) {
	f := newFixture(t, nil)
	if ingest.DefaultConfig().MaxInFlight >= 1100 {
		t.Fatalf("the attack needs more clients than MaxInFlight (%d)", ingest.DefaultConfig().MaxInFlight)
	}
	addr := strings.TrimPrefix(f.srv.URL, "http://")
	forged := signedHeaders("not-the-secret", []byte(`{"x":1}`), f.now)
	attacks := []struct {
		path string
		h    http.Header
	}{
		{"/v1/netease/does-not-exist", signedHeaders(secret, []byte(`{"x":1}`), f.now)},
		{"/v1/netease/app1", forged},
		{"/v1/maxim/does-not-exist", maximHeaders(maximSecret)},
		{"/v1/maxim/welovemaxim", maximHeaders("wrong-signature")},
		{"/v1/ilink/app1/wrong-path-secret-123", http.Header{}},
	}
	// 1,100 of the kinds that used to read their body before any check, and 100 wrong iLink secrets.
	const clients = 1200
	stop := make(chan struct{})
	answered := make(chan string, clients)
	var started sync.WaitGroup
	started.Add(clients)
	for i := range clients {
		a := attacks[i%(len(attacks)-1)]
		if i >= 1100 {
			a = attacks[len(attacks)-1]
		}
		go slowClient(t, addr, a.path, a.h, 100_000, stop, &started, answered)
	}
	started.Wait()
	time.Sleep(300 * time.Millisecond) // let the server take them all in

	client := &http.Client{Timeout: 5 * time.Second} // the platforms' deadline
	genuine := []struct {
		name, path string
		body       []byte
		h          http.Header
	}{
		{"netease", "/v1/netease/app1", seedMessage(t), signedHeaders(secret, seedMessage(t), f.now)},
		{"ilink", ilinkPath, readFile(t, "../normalize/testdata/ilink/4.3_status_offline.json"), http.Header{}},
		{"maxim", "/v1/maxim/welovemaxim", readFile(t, "../normalize/testdata/maxim/chat_text.json"), maximHeaders(maximSecret)},
	}
	for _, g := range genuine {
		req, _ := http.NewRequest(http.MethodPost, f.srv.URL+g.path, strings.NewReader(string(g.body)))
		for k, v := range g.h {
			req.Header[k] = v
		}
		start := time.Now()
		resp, err := client.Do(req)
		if err != nil {
			t.Errorf("%s: a genuine callback during the flood got no answer in time: %v", g.name, err)
			continue
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Errorf("%s: a genuine callback during the flood: %d %q after %s, want 200", g.name, resp.StatusCode, strings.TrimSpace(string(b)), time.Since(start).Round(time.Millisecond))
		}
	}
	close(stop)
	statuses := map[string]int{}
	for range clients {
		statuses[<-answered]++
	}
	t.Logf("the slow clients' answers: %v", statuses)
	for line, n := range statuses {
		if !strings.Contains(line, " 401 ") && !strings.Contains(line, " 403 ") {
			t.Errorf("%d slow clients without a credential got %q, want 401 or 403 before their body", n, line)
		}
	}
}

// TestUnauthenticatedBodiesAreNotRead: 600 clients without a credential each send a 1 MiB body as
// fast as they can (the probe's 1.38 GB). Refused from their headers, their bodies are never read:
// the receiver allocates a few KiB per request, not the body.
func TestUnauthenticatedBodiesAreNotRead(t *testing.T) {
	f := newFixture(t, nil)
	addr := strings.TrimPrefix(f.srv.URL, "http://")
	body := make([]byte, 1<<20)
	for i := range body {
		body[i] = 'a'
	}
	const clients = 600
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	var wg sync.WaitGroup
	sem := make(chan struct{}, 100)
	for i := range clients {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			path, h := "/v1/netease/does-not-exist", signedHeaders(secret, body, f.now)
			if i%2 == 1 {
				path, h = "/v1/maxim/welovemaxim", maximHeaders("wrong-signature")
			}
			c, err := net.Dial("tcp", addr)
			if err != nil {
				t.Error(err)
				return
			}
			defer c.Close()
			var head strings.Builder
			fmt.Fprintf(&head, "POST %s HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n", path, len(body))
			for k, vs := range h {
				for _, v := range vs {
					fmt.Fprintf(&head, "%s: %s\r\n", k, v)
				}
			}
			head.WriteString("\r\n")
			io.WriteString(c, head.String())
			c.SetDeadline(time.Now().Add(20 * time.Second))
			go c.Write(body) // as fast as the server takes it; it fails once the server hangs up
			line, _ := bufio.NewReader(c).ReadString('\n')
			if !strings.Contains(line, " 401 ") {
				t.Errorf("%s: %q, want 401", path, strings.TrimSpace(line))
			}
		}()
	}
	wg.Wait()
	runtime.ReadMemStats(&after)
	allocated := after.TotalAlloc - before.TotalAlloc
	t.Logf("%d unauthenticated 1 MiB bodies: %.1f MiB allocated in all", clients, float64(allocated)/(1<<20))
	if allocated > 64<<20 {
		t.Errorf("%.0f MiB allocated for %d refused requests: their bodies were read", float64(allocated)/(1<<20), clients)
	}
}

// TestSlowAuthenticatedBodyCutAtMinimumRate: a request with valid headers whose body trickles in
// below BodyMinRate is cut off with 408 soon after BodyGrace, not at a whole-request timeout, gives
// its in-flight slot back, and the answer names no socket address.
func TestSlowAuthenticatedBodyCutAtMinimumRate(t *testing.T) {
	f := newFixture(t, func(c *ingest.Config) {
		c.MaxInFlight = 1
		c.BodyGrace = 300 * time.Millisecond
		c.BodyMinRate = 1000
		c.BodyTimeout = 30 * time.Second
	})
	addr := strings.TrimPrefix(f.srv.URL, "http://")
	body := seedMessage(t)
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	var head strings.Builder
	fmt.Fprintf(&head, "POST /v1/netease/app1 HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n", len(body))
	for k, vs := range signedHeaders(secret, body, f.now) {
		fmt.Fprintf(&head, "%s: %s\r\n", k, vs[0])
	}
	head.WriteString("\r\n")
	start := time.Now()
	io.WriteString(c, head.String())
	go func() { // 10 bytes a second
		for i := 0; i < len(body); i++ {
			if _, err := c.Write(body[i : i+1]); err != nil {
				return
			}
			time.Sleep(100 * time.Millisecond)
		}
	}()
	c.SetReadDeadline(time.Now().Add(10 * time.Second))
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		t.Fatalf("no answer to a trickled body within 10 s: %v", err)
	}
	answer, _ := io.ReadAll(resp.Body)
	took := time.Since(start)
	if resp.StatusCode != http.StatusRequestTimeout {
		t.Errorf("trickled body: %d %q, want 408", resp.StatusCode, answer)
	}
	if strings.Contains(string(answer), "127.0.0.1") || strings.Contains(string(answer), "tcp") {
		t.Errorf("the answer shows a socket address: %q", answer)
	}
	t.Logf("cut after %s: %d %q", took.Round(time.Millisecond), resp.StatusCode, strings.TrimSpace(string(answer)))
	// The one slot is free again.
	if st, _ := f.do(t, "POST", "/v1/netease/app1", body, signedHeaders(secret, body, f.now)); st != 200 {
		t.Errorf("after the slow body: status %d, want 200 (its slot was not given back)", st)
	}
}

// TestRefusalsLookAlike: what an outsider learns from a refusal is its status, nothing more — an
// unknown app is answered exactly as a known app with a bad signature (no app enumeration), and an
// iLink request from outside the allow-list exactly as one with a wrong path secret, whether or not
// its secret was right.
func TestRefusalsLookAlike(t *testing.T) {
	f := newFixture(t, func(c *ingest.Config) {
		var err error
		if c.ILinkAllowIPs, err = ingest.ParseAllowIPs("192.0.2.0/24"); err != nil { // not the test client
			t.Fatal(err)
		}
	})
	body := seedMessage(t)
	maximBody := readFile(t, "../normalize/testdata/maxim/chat_text.json")
	ilinkBody := readFile(t, "../normalize/testdata/ilink/4.1_text.json")
	type answer struct {
		status int
		body   string
	}
	ask := func(path string, b []byte, h http.Header) answer {
		st, got := f.do(t, "POST", path, b, h)
		return answer{st, got}
	}
	pairs := []struct {
		name string
		a, b answer
	}{
		{"netease: unknown app vs bad CheckSum",
			ask("/v1/netease/no-such-app", body, signedHeaders(secret, body, f.now)),
			ask("/v1/netease/app1", body, signedHeaders("wrong", body, f.now))},
		{"netease: unknown app vs missing headers",
			ask("/v1/netease/no-such-app", body, nil),
			ask("/v1/netease/app1", body, nil)},
		{"maxim: unknown app vs bad signature",
			ask("/v1/maxim/no-such-app", maximBody, maximHeaders(maximSecret)),
			ask("/v1/maxim/welovemaxim", maximBody, maximHeaders("wrong"))},
		{"ilink: outside the allow-list with the right secret vs a wrong secret",
			ask(ilinkPath, ilinkBody, nil),
			ask("/v1/ilink/app1/wrong-secret-0123456", ilinkBody, nil)},
		{"ilink: wrong secret vs unknown app",
			ask("/v1/ilink/app1/wrong-secret-0123456", ilinkBody, nil),
			ask("/v1/ilink/no-such-app/wrong-secret-0123456", ilinkBody, nil)},
	}
	for _, p := range pairs {
		if p.a != p.b {
			t.Errorf("%s: answered differently: %d %q vs %d %q", p.name, p.a.status, p.a.body, p.b.status, p.b.body)
		}
		if p.a.status != 401 && p.a.status != 403 {
			t.Errorf("%s: status %d, want 401 or 403", p.name, p.a.status)
		}
	}
	if n := f.endOffsets(t)[f.tc.Raw()]; n != 0 {
		t.Errorf("refused requests produced %d raw records", n)
	}
}
