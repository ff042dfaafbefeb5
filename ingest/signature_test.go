package ingest_test

import (
	"crypto/sha1"
	"encoding/hex"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/imarchive/imarchive/ingest"
)

// nearMisses are the forgeries closest to a valid hex or text signature sig: one character changed at
// the start, in the middle and at the end, a prefix (the first 8 characters, all but the last), one
// character more, and the right value doubled. A check that compares less than the whole value lets
// one of them through.
func nearMisses(sig string) map[string]string {
	flip := func(i int) string {
		b := []byte(sig)
		switch {
		case b[i] == '0':
			b[i] = '1'
		case b[i] >= '0' && b[i] <= '9':
			b[i] = '0'
		case b[i] == 'a' || b[i] == 'A':
			b[i]++
		default:
			b[i] = 'a'
		}
		return string(b)
	}
	return map[string]string{
		"first char changed":   flip(0),
		"middle char changed":  flip(len(sig) / 2),
		"last char changed":    flip(len(sig) - 1),
		"first 8 chars only":   sig[:8],
		"all but the last":     sig[:len(sig)-1],
		"one char more":        sig + "0",
		"doubled":              sig + sig,
		"upper-case, then cut": strings.ToUpper(sig)[:len(sig)-1],
	}
}

// TestNearMissSignaturesRefused: for every platform and every secret-bearing value it checks, the
// valid request is accepted and every near miss of its signature is refused with the platform's
// status (NetEase and Maxim 401, iLink handshake 401, iLink path secret 403), producing nothing.
// Built on the manuals' examples (NetEase 48, iLink §4.1 and the §3.1 handshake).
func TestNearMissSignaturesRefused(t *testing.T) {
	f := newFixture(t, nil)
	netease := seedMessage(t)
	ilinkBody := readFile(t, "../normalize/testdata/ilink/4.1_text.json")
	maximBody := readFile(t, "../normalize/testdata/maxim/chat_text.json")
	valid := signedHeaders(secret, netease, f.now)
	sorted, concatenated := ingest.ILinkSignature(ilinkToken, "1457408202", "r4nd0m")
	handshake := func(sig string) string {
		q := url.Values{"signature": {sig}, "timestamp": {"1457408202"}, "echostr": {"r4nd0m"}}
		return ilinkPath + "?" + q.Encode()
	}
	type attempt struct {
		method, path string
		body         []byte
		h            http.Header
	}
	cases := []struct {
		name   string
		valid  string // the right value
		make   func(v string) attempt
		status int // for a near miss
	}{
		{"netease CheckSum", valid.Get("CheckSum"), func(v string) attempt {
			h := signedHeaders(secret, netease, f.now)
			h.Set("CheckSum", v)
			return attempt{"POST", "/v1/netease/app1", netease, h}
		}, 401},
		{"netease MD5", valid.Get("MD5"), func(v string) attempt {
			h := signedHeaders(secret, netease, f.now)
			h.Set("MD5", v)
			// Signed over the header as sent, so only the body comparison can refuse it.
			h.Set("CheckSum", sha1hex(secret+v+h.Get("CurTime")))
			return attempt{"POST", "/v1/netease/app1", netease, h}
		}, 401},
		{"ilink handshake, sorted reading", sorted, func(v string) attempt { return attempt{"GET", handshake(v), nil, nil} }, 401},
		{"ilink handshake, concatenated reading", concatenated, func(v string) attempt { return attempt{"GET", handshake(v), nil, nil} }, 401},
		{"ilink path secret", ilinkSecret, func(v string) attempt {
			return attempt{"POST", "/v1/ilink/app1/" + url.PathEscape(v), ilinkBody, nil}
		}, 403},
		{"maxim signature", maximSecret, func(v string) attempt {
			return attempt{"POST", "/v1/maxim/welovemaxim", maximBody, maximHeaders(v)}
		}, 401},
	}
	before := f.endOffsets(t)
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			for miss, v := range nearMisses(c.valid) {
				if strings.EqualFold(v, c.valid) {
					continue // upper-casing alone is the same hex value
				}
				a := c.make(v)
				if status, _ := f.do(t, a.method, a.path, a.body, a.h); status != c.status {
					t.Errorf("%s (%q): status %d, want %d", miss, v, status, c.status)
				}
			}
		})
	}
	for topic, n := range f.endOffsets(t) {
		if n != before[topic] {
			t.Errorf("topic %s: %d records after near misses only, want %d", topic, n, before[topic])
		}
	}
	// The valid values pass the same way (so the refusals above are the near misses' doing).
	for _, c := range cases {
		a := c.make(c.valid)
		status, _ := f.do(t, a.method, a.path, a.body, a.h)
		if status != 200 {
			t.Errorf("%s: the valid value got %d, want 200", c.name, status)
		}
	}
	// A platform that sends the MD5 in upper case and signs what it sends is accepted (issue 16 item 5).
	other := []byte(strings.Replace(string(netease), `"1541869"`, `"1541870"`, 1))
	h := signedHeaders(secret, other, f.now)
	upper := strings.ToUpper(h.Get("MD5"))
	h.Set("MD5", upper)
	h.Set("CheckSum", strings.ToUpper(sha1hex(secret+upper+h.Get("CurTime"))))
	if status, _ := f.do(t, "POST", "/v1/netease/app1", other, h); status != 200 {
		t.Errorf("upper-case MD5 signed as sent: status %d, want 200", status)
	}
}

// TestVerifyNearMisses checks the exported verifiers directly, for callers other than the receiver
// (loadgen, tools): every near miss is refused, the right value accepted.
func TestVerifyNearMisses(t *testing.T) {
	body := seedMessage(t)
	now, window := time.UnixMilli(1646744309000), 5*time.Minute
	h := signedHeaders(secret, body, now)
	if err := ingest.VerifyNetease("app1", secret, h, body, now, window); err != nil {
		t.Fatalf("valid NetEase request: %v", err)
	}
	for miss, v := range nearMisses(h.Get("CheckSum")) {
		hh := h.Clone()
		hh.Set("CheckSum", v)
		if err := ingest.VerifyNetease("app1", secret, hh, body, now, window); err == nil {
			t.Errorf("NetEase CheckSum %s: accepted", miss)
		}
	}
	sorted, concatenated := ingest.ILinkSignature(ilinkToken, "1457408202", "r4nd0m")
	for _, sig := range []string{sorted, concatenated} {
		if !ingest.VerifyILinkSignature(ilinkToken, "1457408202", "r4nd0m", sig) {
			t.Fatalf("valid iLink signature %s refused", sig)
		}
		for miss, v := range nearMisses(sig) {
			if !strings.EqualFold(v, sig) && ingest.VerifyILinkSignature(ilinkToken, "1457408202", "r4nd0m", v) {
				t.Errorf("iLink signature %s: accepted", miss)
			}
		}
	}
	mh := maximHeaders(maximSecret)
	if err := ingest.VerifyMaxim("welovemaxim", maximSecret, mh, nil); err != nil {
		t.Fatalf("valid Maxim signature: %v", err)
	}
	for miss, v := range nearMisses(maximSecret) {
		if ingest.VerifyMaxim("welovemaxim", maximSecret, maximHeaders(v), nil) == nil {
			t.Errorf("Maxim signature %s: accepted", miss)
		}
	}
}

func sha1hex(s string) string {
	sum := sha1.Sum([]byte(s))
	return hex.EncodeToString(sum[:])
}
