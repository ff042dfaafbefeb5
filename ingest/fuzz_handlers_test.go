package ingest_test

import (
	"context"
	"crypto/md5"
	"encoding/hex"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/imarchive/imarchive/ingest"
)

// The HTTP handlers fuzzed end to end: a real Receiver on an HTTP server over an in-process kfake
// cluster. Whatever arrives, the answer is one of the documented statuses (never a 500, which
// NetEase would count as delivered), a refused request produces nothing, and an accepted one
// produces at most one raw record (none when it repeats an earlier delivery).

// handlerFuzz is one fuzz target's receiver and a way to count what it produced.
type handlerFuzz struct {
	f   *fixture
	adm *kadm.Client
}

func newHandlerFuzz(f *testing.F) *handlerFuzz {
	fx := newFixture(f, nil)
	cl, err := kgo.NewClient(kgo.SeedBrokers(fx.tc.Brokers...))
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(cl.Close)
	return &handlerFuzz{f: fx, adm: kadm.NewClient(cl)}
}

func (h *handlerFuzz) raw(t *testing.T) int64 {
	t.Helper()
	ends, err := h.adm.ListEndOffsets(context.Background(), h.f.tc.Raw())
	if err != nil {
		t.Fatal(err)
	}
	var n int64
	ends.Each(func(o kadm.ListedOffset) { n += o.Offset })
	return n
}

// send posts (or gets) and returns the status and body; a transport error fails the test.
func (h *handlerFuzz) send(t *testing.T, method, path string, body []byte, hdr http.Header) (int, string) {
	t.Helper()
	return h.f.do(t, method, path, body, hdr)
}

// What a fuzzed request must get.
type verdict int

const (
	mustRefuse verdict = iota
	mustAccept
	either // decided by something the test does not model (Maxim's body appId)
)

// check holds for every fuzzed request: the status is documented; a refusal produced nothing; an
// acceptance produced at most one raw record.
func (h *handlerFuzz) check(t *testing.T, before int64, status int, want verdict, allowed ...int) {
	t.Helper()
	after := h.raw(t)
	ok := false
	for _, s := range allowed {
		ok = ok || s == status
	}
	if !ok {
		t.Fatalf("status %d, want one of %v", status, allowed)
	}
	if status == http.StatusOK {
		if want == mustRefuse {
			t.Fatalf("accepted a request that should have been refused")
		}
		if after-before > 1 {
			t.Fatalf("one request produced %d raw records", after-before)
		}
		return
	}
	if want == mustAccept && status != http.StatusRequestEntityTooLarge {
		t.Fatalf("refused (%d) a correctly authenticated request", status)
	}
	if after != before {
		t.Fatalf("refused request (%d) produced %d raw records", status, after-before)
	}
}

func seedBodies(f *testing.F, dir string) [][]byte {
	f.Helper()
	files, _ := filepath.Glob(filepath.Join(dir, "*.json"))
	var out [][]byte
	for _, name := range files {
		if strings.HasSuffix(name, ".event.json") {
			continue
		}
		b, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		out = append(out, b)
	}
	return out
}

// FuzzNeteaseHandler: POST /v1/netease/app1 with any body, signed correctly, with a wrong secret,
// without headers, or with the MD5 of another body, at any clock skew. Only a correct signature
// within the freshness window is accepted.
func FuzzNeteaseHandler(f *testing.F) {
	for i, b := range seedBodies(f, "../normalize/testdata/netease") {
		f.Add(b, uint8(i%4), int32(i*37%900)-450)
	}
	f.Add([]byte(`{"eventType":"48"}`), uint8(0), int32(0))
	f.Add([]byte(`not json`), uint8(0), int32(299))
	f.Add([]byte{}, uint8(2), int32(0))
	h := newHandlerFuzz(f)
	f.Fuzz(func(t *testing.T, body []byte, mode uint8, skewSec int32) {
		skew := time.Duration(skewSec) * time.Second
		var hdr http.Header
		switch mode % 4 {
		case 0:
			hdr = signedHeaders(secret, body, h.f.now.Add(skew))
		case 1:
			hdr = signedHeaders("not-the-secret", body, h.f.now.Add(skew))
		case 2:
			hdr = http.Header{}
		case 3:
			hdr = signedHeaders(secret, append([]byte("x"), body...), h.f.now.Add(skew))
		}
		fresh := skew <= 5*time.Minute && skew >= -5*time.Minute
		before := h.raw(t)
		status, _ := h.send(t, http.MethodPost, "/v1/netease/app1", body, hdr)
		want := mustRefuse
		if mode%4 == 0 && fresh {
			want = mustAccept
		}
		h.check(t, before, status, want, 200, 401, 413)
	})
}

// FuzzILinkHandler: POST /v1/ilink/app1/{secret} with any body and any path secret. Only the
// configured secret is accepted, and then any body is archived (answered {"code":0}).
func FuzzILinkHandler(f *testing.F) {
	for i, b := range seedBodies(f, "../normalize/testdata/ilink") {
		secrets := []string{ilinkSecret, "", "p4th-s3cre", ilinkSecret + "/x"}
		f.Add(b, secrets[i%len(secrets)])
	}
	f.Add([]byte(`{"msg_type":4}`), ilinkSecret)
	h := newHandlerFuzz(f)
	f.Fuzz(func(t *testing.T, body []byte, pathSecret string) {
		if pathSecret == "." || pathSecret == ".." {
			t.Skip("the mux redirects to the cleaned path before any handler runs")
		}
		before := h.raw(t)
		status, answer := h.send(t, http.MethodPost, "/v1/ilink/app1/"+url.PathEscape(pathSecret), body, http.Header{"Content-Type": {"application/json"}})
		want := mustRefuse
		if pathSecret == ilinkSecret {
			want = mustAccept
		}
		h.check(t, before, status, want, 200, 403, 413)
		if status == http.StatusOK && answer != `{"code":0}` {
			t.Fatalf("answer %q", answer)
		}
	})
}

// FuzzILinkHandshake: GET /v1/ilink/app1/{secret} with any signature, timestamp and echostr. The
// answer is 200 with echostr verbatim exactly when the signature is either reading of the manual's
// rule (computed here independently), else an empty 401; nothing is ever produced.
func FuzzILinkHandshake(f *testing.F) {
	sorted, concatenated := md5Readings(ilinkToken, "1457408202", "hello")
	f.Add(sorted, "1457408202", "hello")
	f.Add(strings.ToUpper(concatenated), "1457408202", "hello")
	f.Add("", "", "")
	f.Add("x", "1", "\x00\xff<script>")
	h := newHandlerFuzz(f)
	f.Fuzz(func(t *testing.T, signature, timestamp, echostr string) {
		q := url.Values{"signature": {signature}, "timestamp": {timestamp}, "echostr": {echostr}}
		before := h.raw(t)
		status, answer := h.send(t, http.MethodGet, "/v1/ilink/app1/"+ilinkSecret+"?"+q.Encode(), nil, nil)
		s, c := md5Readings(ilinkToken, timestamp, echostr)
		got := strings.ToLower(strings.TrimSpace(signature))
		want := got == s || got == c
		switch {
		case status != 200 && status != 401:
			t.Fatalf("status %d", status)
		case (status == 200) != want:
			t.Fatalf("status %d for signature %q, valid: %v", status, signature, want)
		case status == 200 && answer != echostr:
			t.Fatalf("answered %q, want echostr %q", answer, echostr)
		case status == 401 && answer != "":
			t.Fatalf("refusal with a body %q", answer)
		}
		if h.raw(t) != before {
			t.Fatal("the handshake produced a record")
		}
	})
}

// md5Readings is the manual's handshake signature, both readings, written independently of ingest.
func md5Readings(token, timestamp, echostr string) (sorted, concatenated string) {
	parts := []string{token, timestamp, echostr}
	slices.Sort(parts)
	s := md5.Sum([]byte(strings.Join(parts, "")))
	c := md5.Sum([]byte(token + timestamp + echostr))
	return hex.EncodeToString(s[:]), hex.EncodeToString(c[:])
}

// FuzzMaximHandler: POST /v1/maxim/welovemaxim with any body and any signature header. Only the
// console's secret is accepted.
func FuzzMaximHandler(f *testing.F) {
	for i, b := range seedBodies(f, "../normalize/testdata/maxim") {
		sigs := []string{maximSecret, "", "m4xim-s3cre", " " + maximSecret}
		f.Add(b, sigs[i%len(sigs)])
	}
	f.Add([]byte(`{"appId":"another"}`), maximSecret)
	h := newHandlerFuzz(f)
	f.Fuzz(func(t *testing.T, body []byte, sig string) {
		if strings.ContainsFunc(sig, func(r rune) bool { return r < 0x20 && r != '\t' || r == 0x7f }) || !utf8.ValidString(sig) {
			t.Skip("not a header value an HTTP client can send")
		}
		hdr := http.Header{"Content-Type": {"application/json"}}
		hdr["Signature"] = []string{sig}
		before := h.raw(t)
		status, _ := h.send(t, http.MethodPost, "/v1/maxim/welovemaxim", body, hdr)
		// The server reads the value without surrounding white space. A correct signature can still
		// be refused (401) when the body names another appId.
		want := mustRefuse
		if strings.Trim(sig, " \t") == maximSecret {
			want = either
		}
		h.check(t, before, status, want, 200, 401, 413)
	})
}

// FuzzParseAppsRotation: the rotation syntax of the app variables. Whatever the input, a parsed list
// has at most a current and a previous secret per app, never the same one twice, every previous one
// has a current one, and an error never shows a secret (the same list with every secret replaced by a
// marker gives an error without the marker).
func FuzzParseAppsRotation(f *testing.F) {
	f.Add("a=new,a=old")
	f.Add("a=x, b=y ,a=z,b=w")
	f.Add("a=1,a=2,a=3")
	f.Add("a=s,a=s")
	f.Add("=x,a=")
	f.Fuzz(func(t *testing.T, s string) {
		cur, prev, err := ingest.ParseAppsRotation(s)
		if err == nil {
			for k, p := range prev {
				if c, ok := cur[k]; !ok || c == p || p == "" {
					t.Fatalf("%q: app %q current %q previous %q", s, k, c, p)
				}
			}
			for k, c := range cur {
				if k == "" || c == "" || strings.ContainsAny(k, ",=") {
					t.Fatalf("%q: parsed %q=%q", s, k, c)
				}
			}
		}
		const marker = "☃SECRET☃"
		if strings.Contains(s, marker) {
			return
		}
		parts := strings.Split(s, ",")
		for i, p := range parts {
			if k, v, ok := strings.Cut(p, "="); ok && strings.TrimSpace(v) != "" {
				parts[i] = k + "=" + marker
			}
		}
		if _, _, err := ingest.ParseAppsRotation(strings.Join(parts, ",")); err != nil && strings.Contains(err.Error(), marker) {
			t.Fatalf("error %q shows a secret", err)
		}
	})
}
