package chconn_test

import (
	"context"
	"encoding/pem"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/imarchive/imarchive/chconn"
	"github.com/imarchive/imarchive/internal/testenv"
)

// tlsFront puts an HTTPS server in front of the real ClickHouse engine's HTTP interface (chDB has
// no TLS of its own), recording the credentials each request carried. It returns the front's
// host:port and the PEM file of its certificate.
func tlsFront(t *testing.T) (addr, caFile string, seen func() []string) {
	t.Helper()
	target, err := url.Parse(testenv.ClickHouseDSN(t))
	if err != nil {
		t.Fatal(err)
	}
	target.Path, target.RawQuery, target.User = "", "", nil
	proxy := httputil.NewSingleHostReverseProxy(target)
	var mu sync.Mutex
	var creds []string
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		u, p, ok := r.BasicAuth()
		if !ok {
			u, p = r.Header.Get("X-ClickHouse-User"), r.Header.Get("X-ClickHouse-Key")
		}
		mu.Lock()
		creds = append(creds, u+":"+p)
		mu.Unlock()
		proxy.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	caFile = filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(caFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw}), 0o644); err != nil {
		t.Fatal(err)
	}
	return srv.Listener.Addr().String(), caFile, func() []string {
		mu.Lock()
		defer mu.Unlock()
		return append([]string(nil), creds...)
	}
}

// TestTLSAndCredentialsFromDSN: over HTTPS, the server's certificate is verified against
// tls_ca_file (and refused against the system's roots), and the password is taken from the DSN or
// from password_file; the files' parameters never reach the server as settings.
func TestTLSAndCredentialsFromDSN(t *testing.T) {
	addr, caFile, seen := tlsFront(t)
	pwFile := filepath.Join(t.TempDir(), "ch-password")
	if err := os.WriteFile(pwFile, []byte("from-a-file\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	ping := func(dsn string) error {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		conn, err := chconn.Open(ctx, dsn)
		if err != nil {
			return err
		}
		defer conn.Close()
		var one uint8
		return conn.QueryRow(ctx, "SELECT 1").Scan(&one)
	}
	base := "https://imarchive_writer%s@" + addr + "/default?secure=true"
	if err := ping(strings.Replace(base, "%s", ":in-the-dsn", 1) + "&tls_ca_file=" + url.QueryEscape(caFile)); err != nil {
		t.Fatalf("HTTPS with tls_ca_file: %v", err)
	}
	if err := ping(strings.Replace(base, "%s", "", 1) + "&tls_ca_file=" + url.QueryEscape(caFile) + "&password_file=" + url.QueryEscape(pwFile)); err != nil {
		t.Fatalf("HTTPS with password_file: %v", err)
	}
	got := map[string]bool{}
	for _, c := range seen() {
		got[c] = true
	}
	if !got["imarchive_writer:in-the-dsn"] || !got["imarchive_writer:from-a-file"] {
		t.Errorf("credentials the server saw: %v", seen())
	}
	if err := ping(strings.Replace(base, "%s", ":x", 1)); err == nil || !strings.Contains(err.Error(), "certificate") {
		t.Errorf("without tls_ca_file (system roots): %v, want a certificate error", err)
	}
}

// TestOptionsOwnParams: imarchive's own DSN parameters are checked and removed before clickhouse-go
// sees them; mistakes are reported together and never show the password.
func TestOptionsOwnParams(t *testing.T) {
	dir := t.TempDir()
	pw := filepath.Join(dir, "pw")
	os.WriteFile(pw, []byte("s3cret-pw\n"), 0o600)
	empty := filepath.Join(dir, "empty")
	os.WriteFile(empty, nil, 0o600)
	opts, err := chconn.Options("clickhouse://u@h:9440/db?secure=true&password_file=" + url.QueryEscape(pw) + "&max_execution_time=60")
	if err != nil {
		t.Fatal(err)
	}
	if opts.Auth.Password != "s3cret-pw" || opts.TLS == nil || opts.TLS.MinVersion == 0 || opts.Auth.Database != "db" {
		t.Errorf("options: password %q, TLS %v, database %q", opts.Auth.Password, opts.TLS, opts.Auth.Database)
	}
	for k := range opts.Settings {
		if strings.HasPrefix(k, "tls_") || k == "password_file" {
			t.Errorf("parameter %s would be sent to the server as a setting", k)
		}
	}
	if opts.Settings["max_execution_time"] == nil {
		t.Errorf("other parameters must still reach clickhouse-go: settings %v", opts.Settings)
	}
	for dsn, want := range map[string]string{
		"clickhouse://u@h:9000/db?tls_ca_file=/x.pem":                             "need secure=true",
		"clickhouse://u@h:9440/db?secure=true&tls_cert_file=/x.pem":               "go together",
		"clickhouse://u@h:9440/db?secure=true&tls_ca_file=/nonexistent.pem":       "tls_ca_file",
		"clickhouse://u:s3cret-pw@h:9000/db?password_file=" + url.QueryEscape(pw): "keep one",
		"clickhouse://u@h:9000/db?password_file=" + url.QueryEscape(empty):        "is empty",
	} {
		_, err := chconn.Options(dsn)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: error %v, want %q", dsn, err, want)
		}
		if err != nil && strings.Contains(err.Error(), "s3cret-pw") {
			t.Errorf("error shows the password: %v", err)
		}
	}
}
