package ingest_test

import (
	"io"
	"net"
	"net/http"
	"net/netip"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/imarchive/imarchive/ingest"
)

// dialFrom opens a connection to addr from the loopback address local (127.0.0.0/8 is all loopback
// on Linux), and reports whether the server keeps it open: an HTTP request on it is answered.
func dialFrom(t *testing.T, local, addr string) (net.Conn, bool) {
	t.Helper()
	d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(local)}, Timeout: 2 * time.Second}
	c, err := d.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	c.SetDeadline(time.Now().Add(2 * time.Second))
	if _, err := io.WriteString(c, "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"); err != nil {
		return c, false
	}
	buf := make([]byte, 12)
	n, _ := io.ReadFull(c, buf)
	return c, n == 12 && string(buf) == "HTTP/1.1 200"
}

// TestConnsPerAddrCap: a client address may hold at most the cap of open connections; the next one
// is closed unanswered while other addresses and exempt proxies still get in, and a closed
// connection gives its place back.
func TestConnsPerAddrCap(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	reg := prometheus.NewRegistry()
	limited := ingest.LimitConnsPerAddr(ln, 3, []netip.Prefix{netip.MustParsePrefix("127.0.0.9/32")}, reg)
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { io.WriteString(w, "ok") })}
	go srv.Serve(limited)
	t.Cleanup(func() { srv.Close() })
	addr := ln.Addr().String()

	var held []net.Conn
	for i := range 3 {
		c, ok := dialFrom(t, "127.0.0.2", addr)
		if !ok {
			t.Fatalf("connection %d of 127.0.0.2 refused under the cap", i+1)
		}
		held = append(held, c)
	}
	over, ok := dialFrom(t, "127.0.0.2", addr)
	over.Close()
	if ok {
		t.Fatal("a fourth connection of 127.0.0.2 was served: no cap")
	}
	other, ok := dialFrom(t, "127.0.0.3", addr)
	if !ok {
		t.Error("another address was refused while 127.0.0.2 is at its cap")
	}
	other.Close()
	for range 5 {
		c, ok := dialFrom(t, "127.0.0.9", addr)
		if !ok {
			t.Error("an exempt (trusted proxy) address was capped")
		}
		defer c.Close()
	}
	held[0].Close()
	deadline := time.Now().Add(5 * time.Second)
	for {
		c, ok := dialFrom(t, "127.0.0.2", addr)
		if ok {
			c.Close()
			break
		}
		c.Close()
		if time.Now().After(deadline) {
			t.Fatal("a closed connection did not give its place back")
		}
		time.Sleep(50 * time.Millisecond)
	}
	for _, c := range held[1:] {
		c.Close()
	}
	if v := counterValue(t, reg, "imarchive_ingest_connections_refused_total"); v < 1 {
		t.Errorf("imarchive_ingest_connections_refused_total = %v, want at least 1", v)
	}
}

func counterValue(t *testing.T, reg *prometheus.Registry, name string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() == name {
			sum := 0.0
			for _, m := range mf.GetMetric() {
				sum += m.GetCounter().GetValue()
			}
			return sum
		}
	}
	return 0
}
