package kafka

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"os"
	"strings"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/sasl"
	"github.com/twmb/franz-go/pkg/sasl/plain"
	"github.com/twmb/franz-go/pkg/sasl/scram"
)

// Security is how a client authenticates to the brokers and protects the connection. The zero value
// is plaintext without authentication (a broker on a private network or loopback).
//
// Files are read again for each new connection (TLS) or authentication (the SASL password file), so
// a certificate or password rotated on disk is picked up without a restart; Validate reads them once
// at start so that a mistake is reported before anything runs.
type Security struct {
	// TLS turns on TLS to the brokers (IMARCHIVE_KAFKA_TLS). It is implied by any of the files below.
	TLS bool
	// TLSCAFile is a PEM bundle of the CAs that sign the brokers' certificates
	// (IMARCHIVE_KAFKA_TLS_CA_FILE); empty: the system's roots.
	TLSCAFile string
	// TLSCertFile and TLSKeyFile are a PEM client certificate and key, for brokers that require
	// mutual TLS (IMARCHIVE_KAFKA_TLS_CERT_FILE, IMARCHIVE_KAFKA_TLS_KEY_FILE).
	TLSCertFile, TLSKeyFile string
	// TLSServerName overrides the name checked in the brokers' certificates
	// (IMARCHIVE_KAFKA_TLS_SERVER_NAME); empty: the host of each broker address.
	TLSServerName string

	// SASLMechanism is PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512 (IMARCHIVE_KAFKA_SASL_MECHANISM);
	// empty: no SASL. PLAIN sends the password as is: use it only with TLS.
	SASLMechanism string
	// SASLUser is the SASL user name (IMARCHIVE_KAFKA_SASL_USER).
	SASLUser string
	// SASLPassword (IMARCHIVE_KAFKA_SASL_PASSWORD) or SASLPasswordFile
	// (IMARCHIVE_KAFKA_SASL_PASSWORD_FILE, e.g. a Docker or Kubernetes secret; trailing newline
	// ignored) is the password; not both.
	SASLPassword, SASLPasswordFile string
}

// SASL mechanisms.
const (
	SASLPlain       = "PLAIN"
	SASLScramSHA256 = "SCRAM-SHA-256"
	SASLScramSHA512 = "SCRAM-SHA-512"
)

func (s Security) tlsOn() bool {
	return s.TLS || s.TLSCAFile != "" || s.TLSCertFile != "" || s.TLSKeyFile != ""
}

// validate reports every problem at once, reading the files it names. Errors never show a password.
func (s Security) validate() error {
	var errs []error
	if s.tlsOn() {
		if _, err := s.tlsConfig(); err != nil {
			errs = append(errs, err)
		}
	}
	if (s.TLSCertFile == "") != (s.TLSKeyFile == "") {
		errs = append(errs, errors.New("kafka TLS: a client certificate needs its key and a key its certificate (IMARCHIVE_KAFKA_TLS_CERT_FILE, IMARCHIVE_KAFKA_TLS_KEY_FILE)"))
	}
	switch strings.ToUpper(s.SASLMechanism) {
	case "":
		if s.SASLUser != "" || s.SASLPassword != "" || s.SASLPasswordFile != "" {
			errs = append(errs, errors.New("kafka SASL: a user or password is set but no mechanism (IMARCHIVE_KAFKA_SASL_MECHANISM)"))
		}
		return errors.Join(errs...)
	case SASLPlain, SASLScramSHA256, SASLScramSHA512:
	default:
		errs = append(errs, fmt.Errorf("kafka SASL mechanism %q: want %s, %s or %s", s.SASLMechanism, SASLPlain, SASLScramSHA256, SASLScramSHA512))
	}
	if s.SASLUser == "" {
		errs = append(errs, errors.New("kafka SASL: no user (IMARCHIVE_KAFKA_SASL_USER)"))
	}
	if s.SASLPassword != "" && s.SASLPasswordFile != "" {
		errs = append(errs, errors.New("kafka SASL: both a password and a password file are set; keep one"))
	} else if _, err := s.password(); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// password returns the SASL password, reading the file when one is named.
func (s Security) password() (string, error) {
	if s.SASLPasswordFile == "" {
		if s.SASLPassword == "" {
			return "", errors.New("kafka SASL: no password (IMARCHIVE_KAFKA_SASL_PASSWORD or IMARCHIVE_KAFKA_SASL_PASSWORD_FILE)")
		}
		return s.SASLPassword, nil
	}
	b, err := os.ReadFile(s.SASLPasswordFile)
	if err != nil {
		return "", fmt.Errorf("kafka SASL password file: %w", err)
	}
	p := strings.TrimRight(string(b), "\r\n")
	if p == "" {
		return "", fmt.Errorf("kafka SASL password file %s is empty", s.SASLPasswordFile)
	}
	return p, nil
}

// tlsConfig builds the client TLS configuration from the files (TLS 1.2 at least).
func (s Security) tlsConfig() (*tls.Config, error) {
	cfg := &tls.Config{MinVersion: tls.VersionTLS12, ServerName: s.TLSServerName}
	if s.TLSCAFile != "" {
		pem, err := os.ReadFile(s.TLSCAFile)
		if err != nil {
			return nil, fmt.Errorf("kafka TLS CA file: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("kafka TLS CA file %s: no PEM certificate in it", s.TLSCAFile)
		}
		cfg.RootCAs = pool
	}
	if s.TLSCertFile != "" && s.TLSKeyFile != "" {
		cert, err := tls.LoadX509KeyPair(s.TLSCertFile, s.TLSKeyFile)
		if err != nil {
			return nil, fmt.Errorf("kafka TLS client certificate: %w", err)
		}
		cfg.Certificates = []tls.Certificate{cert}
	}
	return cfg, nil
}

// options are the kgo options of the security settings.
func (s Security) options() []kgo.Opt {
	var opts []kgo.Opt
	if s.tlsOn() {
		opts = append(opts, kgo.Dialer(s.dialTLS))
	}
	if m := s.mechanism(); m != nil {
		opts = append(opts, kgo.SASL(m))
	}
	return opts
}

// dialTLS connects with TLS, reading the certificate files for this connection.
func (s Security) dialTLS(ctx context.Context, network, host string) (net.Conn, error) {
	cfg, err := s.tlsConfig()
	if err != nil {
		return nil, err
	}
	if cfg.ServerName == "" {
		if h, _, err := net.SplitHostPort(host); err == nil {
			cfg.ServerName = h
		}
	}
	d := &tls.Dialer{NetDialer: &net.Dialer{Timeout: 5 * time.Second}, Config: cfg}
	return d.DialContext(ctx, network, host)
}

func (s Security) mechanism() sasl.Mechanism {
	switch strings.ToUpper(s.SASLMechanism) {
	case SASLPlain:
		return plain.Plain(func(context.Context) (plain.Auth, error) {
			p, err := s.password()
			return plain.Auth{User: s.SASLUser, Pass: p}, err
		})
	case SASLScramSHA256:
		return scram.Sha256(func(context.Context) (scram.Auth, error) {
			p, err := s.password()
			return scram.Auth{User: s.SASLUser, Pass: p}, err
		})
	case SASLScramSHA512:
		return scram.Sha512(func(context.Context) (scram.Auth, error) {
			p, err := s.password()
			return scram.Auth{User: s.SASLUser, Pass: p}, err
		})
	}
	return nil
}
