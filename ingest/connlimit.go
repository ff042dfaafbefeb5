package ingest

import (
	"net"
	"net/netip"
	"sync"

	"github.com/prometheus/client_golang/prometheus"
)

// LimitConnsPerAddr wraps ln so that at most perAddr connections are open at once from one client
// address; a connection over the cap is closed as soon as it is accepted, before anything is read,
// and counted in imarchive_ingest_connections_refused_total. Peers in exempt (the trusted reverse
// proxies, which carry many clients' connections) are not capped. perAddr <= 0 returns ln as it is.
//
// Written by hand: golang.org/x/net/netutil.LimitListener caps the total, not per address, and
// blocks in Accept when full instead of refusing.
func LimitConnsPerAddr(ln net.Listener, perAddr int, exempt []netip.Prefix, reg prometheus.Registerer) net.Listener {
	if perAddr <= 0 {
		return ln
	}
	refused := prometheus.NewCounter(prometheus.CounterOpts{
		Name: "imarchive_ingest_connections_refused_total",
		Help: "Connections closed on accept because their client address already had IMARCHIVE_MAX_CONNS_PER_ADDR open.",
	})
	reg.MustRegister(refused)
	return &connLimitListener{Listener: ln, perAddr: perAddr, exempt: exempt, refused: refused, open: map[netip.Addr]int{}}
}

type connLimitListener struct {
	net.Listener
	perAddr int
	exempt  []netip.Prefix
	refused prometheus.Counter

	mu   sync.Mutex
	open map[netip.Addr]int
}

func (l *connLimitListener) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		addr, ok := parseHostAddr(c.RemoteAddr().String())
		if !ok || allowed(l.exempt, addr) {
			return c, nil
		}
		l.mu.Lock()
		if l.open[addr] >= l.perAddr {
			l.mu.Unlock()
			l.refused.Inc()
			c.Close()
			continue
		}
		l.open[addr]++
		l.mu.Unlock()
		return &countedConn{Conn: c, release: func() { l.release(addr) }}, nil
	}
}

func (l *connLimitListener) release(addr netip.Addr) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.open[addr] <= 1 {
		delete(l.open, addr)
		return
	}
	l.open[addr]--
}

// countedConn gives its place back once, on the first Close.
type countedConn struct {
	net.Conn
	once    sync.Once
	release func()
}

func (c *countedConn) Close() error {
	c.once.Do(c.release)
	return c.Conn.Close()
}

// CloseWrite lets the HTTP server half-close before it closes (so a client reads its last answer
// rather than a reset).
func (c *countedConn) CloseWrite() error {
	if cw, ok := c.Conn.(interface{ CloseWrite() error }); ok {
		return cw.CloseWrite()
	}
	return nil
}
