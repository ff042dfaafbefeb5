package main_test

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// testCA signs server certificates for 127.0.0.1.
type testCA struct {
	key  *ecdsa.PrivateKey
	cert *x509.Certificate
	pool *x509.CertPool
}

func newTestCA(t *testing.T) *testCA {
	t.Helper()
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "imarchive test CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	return &testCA{key: key, cert: cert, pool: pool}
}

// writeServerCert writes a certificate for 127.0.0.1 with the given serial, and its key.
func (ca *testCA) writeServerCert(t *testing.T, certFile, keyFile string, serial int64) {
	t.Helper()
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(serial), Subject: pkix.Name{CommonName: "imarchive serve"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		KeyUsage: x509.KeyUsageDigitalSignature,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.cert, &key.PublicKey, ca.key)
	if err != nil {
		t.Fatal(err)
	}
	kb, _ := x509.MarshalECPrivateKey(key)
	// Key first, then the certificate: a reader between the two writes sees a mismatched pair and
	// keeps the previous one.
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kb}), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestServeTLSRotationAndProxy: the real binary serves HTTPS with --tls-cert-file/--tls-key-file and
// picks up a renewed certificate without a restart; a NetEase app listed twice in
// IMARCHIVE_NETEASE_APPS accepts callbacks signed with either secret and no other; behind a trusted
// proxy the iLink allow-list is matched against the client the proxy names in X-Forwarded-For.
func TestServeTLSRotationAndProxy(t *testing.T) {
	s := newStack(t)
	dir := t.TempDir()
	certFile, keyFile := filepath.Join(dir, "serve.pem"), filepath.Join(dir, "serve.key")
	ca := newTestCA(t)
	ca.writeServerCert(t, certFile, keyFile, 100)
	s.env = append(s.env,
		"IMARCHIVE_TLS_CERT_FILE="+certFile,
		"IMARCHIVE_TLS_KEY_FILE="+keyFile,
		"IMARCHIVE_NETEASE_APPS=app1=new-s3cret,app2=other,app1=s3cret",
		"IMARCHIVE_ILINK_APPS=il=tok:path-s3cret-0123456",
		"IMARCHIVE_ILINK_ALLOW_IPS=203.0.113.0/24",
		"IMARCHIVE_TRUSTED_PROXIES=127.0.0.1",
	)
	s.start("serve")
	defer s.stop("serve")

	client := func() *http.Client {
		return &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{
			TLSClientConfig: &tls.Config{RootCAs: ca.pool}, DisableKeepAlives: true,
		}}
	}
	base := "https://" + s.listen
	var serial int64
	do := func(method, path string, body []byte, h http.Header) int {
		t.Helper()
		req, _ := http.NewRequest(method, base+path, bytes.NewReader(body))
		for k, v := range h {
			req.Header[k] = v
		}
		resp, err := client().Do(req)
		if err != nil {
			t.Fatalf("%s %s: %v", method, path, err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		serial = resp.TLS.PeerCertificates[0].SerialNumber.Int64()
		return resp.StatusCode
	}
	waitFor(t, "serve /readyz (ops listener) and /healthz over HTTPS", 60*time.Second, func() bool {
		resp, err := http.Get("http://" + s.ops + "/readyz")
		if err != nil {
			return false
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return false
		}
		resp, err = client().Get(base + "/healthz")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	})

	seed, err := os.ReadFile("../../normalize/testdata/netease/48_message.json")
	if err != nil {
		t.Fatal(err)
	}
	body := func(id string) []byte { return bytes.Replace(seed, []byte(`"1541869"`), []byte(`"`+id+`"`), 1) }
	for _, c := range []struct {
		secret string
		want   int
	}{{"new-s3cret", 200}, {"s3cret", 200}, {"other", 401}, {"guess", 401}} {
		b := body("tls-" + c.secret)
		if got := do("POST", "/v1/netease/app1", b, sign(c.secret, b)); got != c.want {
			t.Errorf("signed with %q: status %d, want %d", c.secret, got, c.want)
		}
	}
	if serial != 100 {
		t.Fatalf("served certificate serial %d, want 100", serial)
	}

	// Plain HTTP on the HTTPS port gets nothing through.
	if resp, err := http.Post("http://"+s.listen+"/v1/netease/app1", "application/json", bytes.NewReader(seed)); err == nil {
		resp.Body.Close()
		if resp.StatusCode == http.StatusOK {
			t.Error("plain HTTP accepted on the HTTPS port")
		}
	}

	status := []byte(`{"from_uid":"414","to_uid":"1","msg_type":4,"time":1457408202,"type":1}`)
	for _, c := range []struct {
		xff  string
		want int
	}{{"203.0.113.5", 200}, {"198.51.100.7", 403}, {"203.0.113.5, 198.51.100.7", 403}} {
		if got := do("POST", "/v1/ilink/il/path-s3cret-0123456", status, http.Header{"X-Forwarded-For": {c.xff}}); got != c.want {
			t.Errorf("iLink via the proxy for %q: status %d, want %d", c.xff, got, c.want)
		}
	}

	// A renewed certificate is served to new connections without a restart.
	time.Sleep(1100 * time.Millisecond) // file times of the renewal must differ from the first
	ca.writeServerCert(t, certFile, keyFile, 101)
	waitFor(t, "the renewed certificate", 10*time.Second, func() bool {
		do("GET", "/healthz", nil, nil)
		return serial == 101
	})
	if !strings.Contains(s.logs["serve"].String(), "tls certificate reloaded") {
		t.Error("serve did not log the reload")
	}
}

// TestServeHelpListsSecuritySettings: every hardening setting is a flag with its IMARCHIVE_*
// variable in serve's --help (and the Kafka ones in consume's).
func TestServeHelpListsSecuritySettings(t *testing.T) {
	for cmd, want := range map[string][]string{
		"serve": {"IMARCHIVE_TLS_CERT_FILE", "IMARCHIVE_TLS_KEY_FILE", "IMARCHIVE_TRUSTED_PROXIES", "IMARCHIVE_RATE_LIMIT",
			"IMARCHIVE_RATE_BURST", "IMARCHIVE_MAX_IN_FLIGHT", "IMARCHIVE_KAFKA_TLS_CA_FILE", "IMARCHIVE_KAFKA_SASL_MECHANISM",
			"IMARCHIVE_KAFKA_SASL_PASSWORD_FILE", "listed twice"},
		"consume": {"IMARCHIVE_KAFKA_TLS", "IMARCHIVE_KAFKA_TLS_CERT_FILE", "IMARCHIVE_KAFKA_SASL_USER"},
		"access":  {"IMARCHIVE_ACCESS_WRITER_PASSWORD", "IMARCHIVE_ACCESS_ANALYST_USER", "IMARCHIVE_ACCESS_AUDITOR_PASSWORD", "IMARCHIVE_ACCESS_ROLE_PREFIX"},
	} {
		out, err := exec.Command(binary(t), cmd, "--help").Output()
		if err != nil {
			t.Fatalf("imarchive %s --help: %v", cmd, err)
		}
		for _, w := range want {
			if !strings.Contains(string(out), w) {
				t.Errorf("imarchive %s --help does not mention %s", cmd, w)
			}
		}
	}
}

// TestServeCutsSlowAndOversizedRequests: a client that sends its headers too slowly, or stops in the
// middle of its body, has its connection closed by serve after the read timeouts (so a slow client
// holds no slot for long), and a body over IMARCHIVE_MAX_BODY_BYTES is answered 413 without being read.
func TestServeCutsSlowAndOversizedRequests(t *testing.T) {
	s := newStack(t)
	s.env = append(s.env, "IMARCHIVE_HTTP_READ_HEADER_TIMEOUT=1s", "IMARCHIVE_HTTP_READ_TIMEOUT=2s", "IMARCHIVE_MAX_BODY_BYTES=1024")
	s.start("serve")
	defer s.stop("serve")
	waitFor(t, "serve /healthz", 30*time.Second, func() bool {
		resp, err := http.Get("http://" + s.listen + "/healthz")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	})
	// closedWithin sends what, stalls, and reports how long until serve hangs up.
	closedWithin := func(what string) time.Duration {
		t.Helper()
		c, err := net.Dial("tcp", s.listen)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		start := time.Now()
		if _, err := io.WriteString(c, what); err != nil {
			t.Fatal(err)
		}
		c.SetReadDeadline(time.Now().Add(15 * time.Second))
		io.Copy(io.Discard, c) // until serve closes the connection (or answers and closes)
		return time.Since(start)
	}
	if d := closedWithin("POST /v1/netease/app1 HTTP/1.1\r\nHost: x\r\nCurTi"); d > 5*time.Second {
		t.Errorf("a client stalled in its headers kept its connection %s (read-header timeout 1s)", d)
	}
	if d := closedWithin("POST /v1/netease/app1 HTTP/1.1\r\nHost: x\r\nContent-Length: 500\r\n\r\n{\"eventType\":"); d > 6*time.Second {
		t.Errorf("a client stalled in its body kept its connection %s (read timeout 2s)", d)
	}
	big := bytes.Repeat([]byte("x"), 4096)
	resp, err := http.Post("http://"+s.listen+"/v1/netease/app1", "application/json", bytes.NewReader(big))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusRequestEntityTooLarge {
		t.Errorf("a 4 KiB body with a 1 KiB limit: status %d, want 413", resp.StatusCode)
	}
}

// TestServeHoldsUnderConnectionFlood: serve as shipped, against the flood of issue 19 from one
// address: 400 connections from 127.0.0.2 that send nothing (they would sit in the header timeout)
// and 200 that trickle a body to an unknown app. Past IMARCHIVE_MAX_CONNS_PER_ADDR the flooding
// address's connections are closed on accept, the trickling ones are refused from their headers,
// and a genuine callback from another address is answered 200 within the platforms' 5 s. /metrics
// and /readyz are on the ops listener only, and the callback port does not serve them.
func TestServeHoldsUnderConnectionFlood(t *testing.T) {
	s := newStack(t)
	s.env = append(s.env, "IMARCHIVE_MAX_CONNS_PER_ADDR=64", "IMARCHIVE_HTTP_READ_HEADER_TIMEOUT=30s")
	s.start("serve")
	defer s.stop("serve")
	waitFor(t, "serve /readyz", 60*time.Second, func() bool {
		resp, err := http.Get("http://" + s.ops + "/readyz")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	})
	for _, path := range []string{"/metrics", "/readyz"} {
		resp, err := http.Get("http://" + s.listen + path)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusNotFound {
			t.Errorf("the callback port answers %s with %d, want 404 (it belongs on the ops listener)", path, resp.StatusCode)
		}
	}
	dial := func() net.Conn {
		d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP("127.0.0.2")}, Timeout: 5 * time.Second}
		c, err := d.Dial("tcp", s.listen)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		return c
	}
	for range 400 {
		dial()
	}
	for range 200 {
		c := dial()
		io.WriteString(c, "POST /v1/netease/does-not-exist HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\n\r\n{")
	}
	seed, err := os.ReadFile("../../normalize/testdata/netease/48_message.json")
	if err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequest(http.MethodPost, "http://"+s.listen+"/v1/netease/app1", bytes.NewReader(seed))
	req.Header = sign("s3cret", seed)
	start := time.Now()
	resp, err := (&http.Client{Timeout: 5 * time.Second}).Do(req)
	if err != nil {
		t.Fatalf("a genuine callback during the flood got no answer in time: %v", err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("a genuine callback during the flood: status %d after %s, want 200", resp.StatusCode, time.Since(start))
	}
	var refused float64
	waitFor(t, "the flooding address's connections to be refused", 10*time.Second, func() bool {
		resp, err := http.Get("http://" + s.ops + "/metrics")
		if err != nil {
			return false
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		for _, line := range strings.Split(string(b), "\n") {
			if v, ok := strings.CutPrefix(line, "imarchive_ingest_connections_refused_total "); ok {
				fmt.Sscan(v, &refused)
			}
		}
		return refused >= 600-64
	})
	t.Logf("%v connections of the flooding address refused on accept", refused)
}
