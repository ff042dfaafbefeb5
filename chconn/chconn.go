// Package chconn opens ClickHouse connections from a clickhouse-go DSN, the one way every component
// reaches ClickHouse.
//
// The DSN is clickhouse-go's: http://user:pass@host:8123/db for ClickHouse's HTTP interface — the
// protocol imarchive's tests exercise (the chDB engine CI runs speaks only HTTP) and the one the
// compose stack ships — or clickhouse://user:pass@host:9000/db for the native protocol, which works
// through other clickhouse-go code that no test here covers: CheckProtocol names it, and
// imarchive config check and consume warn about it.
//
// # Settings every write states
//
// A write does not rely on the server's defaults, which change between releases (ClickHouse 26.3
// turned async_insert on) and differ between a server and chDB: inserts carry InsertSettings
// (synchronous, deduplicated, with the batch's token), migrations DDLSettings (ALTERs and mutations
// complete before the next statement). IsDataError tells a refusal of the rows themselves from an
// outage: see errors.go for the codes.
//
// # TLS and credentials
//
// Everything is in the DSN, so every command (consume, migrate, query, replay, export, the
// connectors) gets it the same way:
//
//		clickhouse://imarchive_writer@ch.example.com:9440/imarchive?secure=true&tls_ca_file=/etc/imarchive/ch-ca.pem&password_file=/run/secrets/ch
//		https://imarchive@ch.example.com:8443/imarchive?secure=true
//
//	  - secure=true turns TLS on (https:// requires it; the native TLS port is 9440, HTTPS 8443);
//	    the server's certificate is verified against the system's roots, or against tls_ca_file, a PEM
//	    bundle (read by imarchive, not clickhouse-go). tls_server_name overrides the name checked.
//	    skip_verify=true turns verification off: never outside a test.
//	  - tls_cert_file and tls_key_file are a PEM client certificate and key, for a server that
//	    authenticates users by certificate (ssl_certificate users).
//	  - The user and password are the DSN's user info. password_file names a file holding the
//	    password instead (a Docker or Kubernetes secret; one trailing newline ignored), so the
//	    password is in no environment variable; it cannot be combined with a password in the DSN.
//
// imarchive never prints a DSN's password: imarchive config check masks it, and errors here do not
// repeat the DSN.
package chconn

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net/url"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2"
	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
)

// ErrNoDSN is returned when no DSN was configured.
var ErrNoDSN = errors.New("no ClickHouse DSN configured (IMARCHIVE_CLICKHOUSE_DSN)")

// ErrBadDSN is returned for a DSN whose scheme is none of DSNSchemes.
var ErrBadDSN = errors.New("bad ClickHouse DSN")

// DSNSchemes are the DSN schemes Options accepts: clickhouse and tcp (the native protocol), http and
// https (the HTTP interface).
var DSNSchemes = []string{"clickhouse", "tcp", "http", "https"}

// DSN parameters read by imarchive itself and removed before clickhouse-go parses the rest (it would
// send unknown parameters to the server as settings).
const (
	paramCAFile       = "tls_ca_file"
	paramCertFile     = "tls_cert_file"
	paramKeyFile      = "tls_key_file"
	paramPasswordFile = "password_file"
)

// Options parses a DSN into clickhouse-go options with the project's defaults, reading the files its
// tls_ca_file, tls_cert_file, tls_key_file and password_file parameters name.
func Options(dsn string) (*clickhouse.Options, error) {
	if dsn == "" {
		return nil, ErrNoDSN
	}
	// clickhouse-go speaks its native protocol for any scheme but http(s): name a wrong one instead.
	if scheme, _, ok := strings.Cut(dsn, "://"); !ok || !slices.Contains(DSNSchemes, strings.ToLower(scheme)) {
		what := fmt.Sprintf("unknown scheme %q", scheme)
		if !ok {
			what = "no scheme" // and nothing of the DSN itself: it may hold a password
		}
		return nil, fmt.Errorf("%w: %s: want %s (e.g. clickhouse://user@host:9000/imarchive or http://host:8123/imarchive)",
			ErrBadDSN, what, strings.Join(DSNSchemes, "://, ")+"://")
	}
	rest, files, err := ownParams(dsn)
	if err != nil {
		return nil, err
	}
	opts, err := clickhouse.ParseDSN(rest)
	if err != nil {
		return nil, fmt.Errorf("parse clickhouse DSN: %w", err)
	}
	if err := files.apply(opts); err != nil {
		return nil, err
	}
	if opts.DialTimeout == 0 {
		opts.DialTimeout = 5 * time.Second
	}
	if opts.ReadTimeout == 0 {
		opts.ReadTimeout = 60 * time.Second
	}
	return opts, nil
}

// Open connects and pings.
func Open(ctx context.Context, dsn string) (driver.Conn, error) {
	opts, err := Options(dsn)
	if err != nil {
		return nil, err
	}
	return OpenOptions(ctx, opts)
}

// OpenOptions connects with the given options and pings.
func OpenOptions(ctx context.Context, opts *clickhouse.Options) (driver.Conn, error) {
	conn, err := clickhouse.Open(opts)
	if err != nil {
		return nil, fmt.Errorf("open clickhouse: %w", err)
	}
	if err := conn.Ping(ctx); err != nil {
		conn.Close()
		return nil, fmt.Errorf("ping clickhouse at %v: %w", opts.Addr, err)
	}
	return conn, nil
}

// EnsureDatabase creates the DSN's database when it does not exist, connecting to the server's default
// database to do so.
func EnsureDatabase(ctx context.Context, opts *clickhouse.Options) error {
	db := opts.Auth.Database
	if db == "" || db == "default" {
		return nil
	}
	o := *opts
	o.Auth.Database = "default"
	conn, err := OpenOptions(ctx, &o)
	if err != nil {
		return err
	}
	defer conn.Close()
	if err := conn.Exec(ctx, "CREATE DATABASE IF NOT EXISTS "+quoteIdent(db)); err != nil {
		return fmt.Errorf("create database %s: %w", db, err)
	}
	return nil
}

func quoteIdent(s string) string {
	out := []byte{'`'}
	for i := 0; i < len(s); i++ {
		if s[i] == '`' || s[i] == '\\' {
			out = append(out, '\\')
		}
		out = append(out, s[i])
	}
	return string(append(out, '`'))
}

// dsnFiles are the files a DSN names.
type dsnFiles struct{ ca, cert, key, password string }

// ownParams takes imarchive's own parameters out of a DSN.
func ownParams(dsn string) (string, dsnFiles, error) {
	var f dsnFiles
	u, err := url.Parse(dsn)
	if err != nil {
		// Not a URL: clickhouse-go reports it (without the password).
		return dsn, f, nil
	}
	q := u.Query()
	f.ca, f.cert, f.key, f.password = q.Get(paramCAFile), q.Get(paramCertFile), q.Get(paramKeyFile), q.Get(paramPasswordFile)
	if f == (dsnFiles{}) {
		return dsn, f, nil
	}
	for _, p := range []string{paramCAFile, paramCertFile, paramKeyFile, paramPasswordFile} {
		q.Del(p)
	}
	u.RawQuery = q.Encode()
	return u.String(), f, nil
}

func (f dsnFiles) apply(opts *clickhouse.Options) error {
	var errs []error
	if (f.ca != "" || f.cert != "" || f.key != "") && opts.TLS == nil {
		errs = append(errs, fmt.Errorf("clickhouse DSN: %s, %s and %s need secure=true", paramCAFile, paramCertFile, paramKeyFile))
	}
	if (f.cert == "") != (f.key == "") {
		errs = append(errs, fmt.Errorf("clickhouse DSN: %s and %s go together", paramCertFile, paramKeyFile))
	}
	if len(errs) == 0 && opts.TLS != nil {
		if opts.TLS.MinVersion == 0 {
			opts.TLS.MinVersion = tls.VersionTLS12
		}
		if f.ca != "" {
			pem, err := os.ReadFile(f.ca)
			pool := x509.NewCertPool()
			switch {
			case err != nil:
				errs = append(errs, fmt.Errorf("clickhouse DSN %s: %w", paramCAFile, err))
			case !pool.AppendCertsFromPEM(pem):
				errs = append(errs, fmt.Errorf("clickhouse DSN %s %s: no PEM certificate in it", paramCAFile, f.ca))
			default:
				opts.TLS.RootCAs = pool
			}
		}
		if f.cert != "" {
			cert, err := tls.LoadX509KeyPair(f.cert, f.key)
			if err != nil {
				errs = append(errs, fmt.Errorf("clickhouse DSN client certificate: %w", err))
			} else {
				opts.TLS.Certificates = []tls.Certificate{cert}
			}
		}
	}
	if f.password != "" {
		b, err := os.ReadFile(f.password)
		pw := strings.TrimSuffix(strings.TrimSuffix(string(b), "\n"), "\r")
		switch {
		case opts.Auth.Password != "":
			errs = append(errs, fmt.Errorf("clickhouse DSN: a password and %s; keep one", paramPasswordFile))
		case err != nil:
			errs = append(errs, fmt.Errorf("clickhouse DSN %s: %w", paramPasswordFile, err))
		case pw == "":
			errs = append(errs, fmt.Errorf("clickhouse DSN %s %s is empty", paramPasswordFile, f.password))
		default:
			opts.Auth.Password = pw
		}
	}
	return errors.Join(errs...)
}
