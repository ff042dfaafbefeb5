// Package tlsreload serves a TLS certificate from its files and loads it again when either file
// changes: a renewed certificate is picked up without a restart, and a broken renewal keeps the last
// good one. No library in our dependencies does this for plain files; it is small.
package tlsreload

import (
	"crypto/tls"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"time"
)

// Reloader holds the certificate of a pair of PEM files; GetCertificate is its tls.Config hook.
type Reloader struct {
	certFile, keyFile string
	log               *slog.Logger

	mu      sync.Mutex
	cert    *tls.Certificate
	modTime time.Time
	checked time.Time
}

// New loads the certificate; the files are looked at again at most once a second, at a handshake.
func New(certFile, keyFile string, log *slog.Logger) (*Reloader, error) {
	r := &Reloader{certFile: certFile, keyFile: keyFile, log: log}
	if err := r.load(); err != nil {
		return nil, err
	}
	return r, nil
}

func (r *Reloader) stamp() time.Time {
	var latest time.Time
	for _, name := range []string{r.certFile, r.keyFile} {
		if st, err := os.Stat(name); err == nil && st.ModTime().After(latest) {
			latest = st.ModTime()
		}
	}
	return latest
}

func (r *Reloader) load() error {
	stamp := r.stamp()
	cert, err := tls.LoadX509KeyPair(r.certFile, r.keyFile)
	if err != nil {
		return fmt.Errorf("tls certificate: %w", err)
	}
	r.cert, r.modTime = &cert, stamp
	return nil
}

// GetCertificate returns the current certificate, reloading it first when its files changed.
func (r *Reloader) GetCertificate(*tls.ClientHelloInfo) (*tls.Certificate, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if now := time.Now(); now.Sub(r.checked) >= time.Second {
		r.checked = now
		if stamp := r.stamp(); !stamp.Equal(r.modTime) {
			if err := r.load(); err != nil {
				r.modTime = stamp // do not retry the broken files at every handshake
				r.log.Error("tls certificate changed on disk but does not load; serving the previous one", "err", err)
			} else {
				r.log.Info("tls certificate reloaded", "cert_file", r.certFile)
			}
		}
	}
	return r.cert, nil
}
