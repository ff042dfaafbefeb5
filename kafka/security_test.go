package kafka_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"io"
	"log/slog"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/imarchive/imarchive/kafka"
)

// testPKI is a CA and a server certificate for 127.0.0.1, written as PEM files.
type testPKI struct {
	caFile     string
	serverCert tls.Certificate
	clientCert string
	clientKey  string
}

func newPKI(t *testing.T) testPKI {
	t.Helper()
	dir := t.TempDir()
	caKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	caTmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "imarchive test CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	ca, _ := x509.ParseCertificate(caDER)
	leaf := func(cn string, usage x509.ExtKeyUsage, serial int64) ([]byte, []byte) {
		key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		tmpl := &x509.Certificate{
			SerialNumber: big.NewInt(serial), Subject: pkix.Name{CommonName: cn},
			NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
			IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, DNSNames: []string{"localhost"},
			ExtKeyUsage: []x509.ExtKeyUsage{usage}, KeyUsage: x509.KeyUsageDigitalSignature,
		}
		der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &key.PublicKey, caKey)
		if err != nil {
			t.Fatal(err)
		}
		kb, _ := x509.MarshalECPrivateKey(key)
		return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kb})
	}
	p := testPKI{caFile: filepath.Join(dir, "ca.pem"), clientCert: filepath.Join(dir, "client.pem"), clientKey: filepath.Join(dir, "client.key")}
	write := func(name string, b []byte) {
		if err := os.WriteFile(name, b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write(p.caFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: caDER}))
	sc, sk := leaf("127.0.0.1", x509.ExtKeyUsageServerAuth, 2)
	if p.serverCert, err = tls.X509KeyPair(sc, sk); err != nil {
		t.Fatal(err)
	}
	cc, ck := leaf("imarchive-serve", x509.ExtKeyUsageClientAuth, 3)
	write(p.clientCert, cc)
	write(p.clientKey, ck)
	return p
}

// secureCluster is a kfake cluster that takes only TLS connections and SCRAM-SHA-512 logins.
func secureCluster(t *testing.T, p testPKI, clientCA bool) []string {
	t.Helper()
	srvTLS := &tls.Config{Certificates: []tls.Certificate{p.serverCert}, MinVersion: tls.VersionTLS12}
	if clientCA {
		pool := x509.NewCertPool()
		b, _ := os.ReadFile(p.caFile)
		pool.AppendCertsFromPEM(b)
		srvTLS.ClientCAs, srvTLS.ClientAuth = pool, tls.RequireAndVerifyClientCert
	}
	c, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.TLS(srvTLS), kfake.EnableSASL(),
		kfake.Superuser(kafka.SASLScramSHA512, "imarchive-serve", "right-password"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	return c.ListenAddrs()
}

// roundTrip creates the topics, produces one record with acks=all and reads it back, all through
// the project's client options.
func roundTrip(t *testing.T, tc kafka.Config) error {
	t.Helper()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	ctx, cancel := context.WithTimeout(context.Background(), 8*time.Second)
	defer cancel()
	cl, err := kgo.NewClient(append(tc.ClientOptions(log), kgo.RequiredAcks(kgo.AllISRAcks()),
		kgo.ConsumeTopics(tc.Raw()), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))...)
	if err != nil {
		return err
	}
	defer cl.Close()
	// Ping (readiness) asks once and returns the broker's refusal as it is; requests retry until ctx.
	if err := kafka.Ping(ctx, cl); err != nil {
		return err
	}
	if err := tc.Ensure(ctx, cl); err != nil {
		return err
	}
	if err := cl.ProduceSync(ctx, &kgo.Record{Topic: tc.Raw(), Value: []byte("over TLS")}).FirstErr(); err != nil {
		return err
	}
	fs := cl.PollFetches(ctx)
	if err := fs.Err0(); err != nil {
		return err
	}
	if recs := fs.Records(); len(recs) != 1 || string(recs[0].Value) != "over TLS" {
		t.Fatalf("read back %d records", len(recs))
	}
	return nil
}

// TestKafkaTLSAndSCRAM: a broker that takes only TLS and SCRAM-SHA-512 is reached with the CA file,
// user and password (from a file) of the configuration; with a wrong password, without the CA,
// without TLS or without SASL nothing gets through, with an error that says why.
func TestKafkaTLSAndSCRAM(t *testing.T) {
	p := newPKI(t)
	brokers := secureCluster(t, p, false)
	pwFile := filepath.Join(t.TempDir(), "kafka-password")
	if err := os.WriteFile(pwFile, []byte("right-password\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	base := func() kafka.Config {
		tc := kafka.DefaultConfig()
		tc.Brokers = brokers
		tc.Prefix = "sec."
		tc.Partitions = 1
		tc.Security = kafka.Security{TLSCAFile: p.caFile, SASLMechanism: "scram-sha-512", SASLUser: "imarchive-serve", SASLPasswordFile: pwFile}
		return tc
	}
	if err := base().Validate(); err != nil {
		t.Fatalf("Validate: %v", err)
	}
	if err := roundTrip(t, base()); err != nil {
		t.Fatalf("TLS + SCRAM with the right credentials: %v", err)
	}
	withPassword := base()
	withPassword.Security.SASLPasswordFile, withPassword.Security.SASLPassword = "", "right-password"
	if err := roundTrip(t, withPassword); err != nil {
		t.Fatalf("password from the variable: %v", err)
	}
	cases := []struct {
		name string
		edit func(*kafka.Security)
		want string // in the error
	}{
		// kfake hangs up on a failed login (EOF); a real broker answers SASL_AUTHENTICATION_FAILED.
		{"wrong password", func(s *kafka.Security) { s.SASLPasswordFile, s.SASLPassword = "", "wrong-password" }, ""},
		{"wrong mechanism", func(s *kafka.Security) { s.SASLMechanism = kafka.SASLScramSHA256 }, ""},
		{"system roots only", func(s *kafka.Security) { s.TLSCAFile, s.TLS = "", true }, "certificate signed by unknown authority"},
		// How the broker's hang-up reads depends on when it comes (franz-go guesses "is TLS/SASL
		// missing?" when it is immediate): the point is that nothing gets through.
		{"no TLS", func(s *kafka.Security) { s.TLSCAFile = "" }, ""},
		{"no SASL", func(s *kafka.Security) { s.SASLMechanism, s.SASLUser, s.SASLPasswordFile = "", "", "" }, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			tc := base()
			c.edit(&tc.Security)
			if err := tc.Validate(); err != nil {
				t.Fatalf("Validate: %v", err)
			}
			err := roundTrip(t, tc)
			if err == nil {
				t.Fatal("got through")
			}
			t.Logf("refused: %v", err)
			if !strings.Contains(err.Error(), c.want) {
				t.Errorf("error %q does not say %q", err, c.want)
			}
			if strings.Contains(err.Error(), "wrong-password") || strings.Contains(err.Error(), "right-password") {
				t.Errorf("error shows the password: %v", err)
			}
		})
	}
}

// TestKafkaMutualTLS: a broker that requires a client certificate accepts the configured one and
// refuses a client without it.
func TestKafkaMutualTLS(t *testing.T) {
	p := newPKI(t)
	brokers := secureCluster(t, p, true)
	tc := kafka.DefaultConfig()
	tc.Brokers, tc.Prefix, tc.Partitions = brokers, "mtls.", 1
	tc.Security = kafka.Security{TLSCAFile: p.caFile, TLSCertFile: p.clientCert, TLSKeyFile: p.clientKey,
		SASLMechanism: kafka.SASLScramSHA512, SASLUser: "imarchive-serve", SASLPassword: "right-password"}
	if err := roundTrip(t, tc); err != nil {
		t.Fatalf("with the client certificate: %v", err)
	}
	tc.Security.TLSCertFile, tc.Security.TLSKeyFile = "", ""
	if err := roundTrip(t, tc); err == nil {
		t.Fatal("got through without a client certificate")
	}
}

// TestSecurityValidate: every mistake is reported at once, before anything connects, and no error
// shows a password.
func TestSecurityValidate(t *testing.T) {
	dir := t.TempDir()
	empty := filepath.Join(dir, "empty")
	os.WriteFile(empty, nil, 0o600)
	notPEM := filepath.Join(dir, "not.pem")
	os.WriteFile(notPEM, []byte("hello"), 0o600)
	cases := []struct {
		name string
		s    kafka.Security
		want []string
	}{
		{"plaintext", kafka.Security{}, nil},
		{"unknown mechanism", kafka.Security{SASLMechanism: "GSSAPI", SASLUser: "u", SASLPassword: "pw-1"}, []string{"GSSAPI"}},
		{"no user, no password", kafka.Security{SASLMechanism: "PLAIN"}, []string{"no user", "no password"}},
		{"both passwords", kafka.Security{SASLMechanism: "PLAIN", SASLUser: "u", SASLPassword: "pw-2", SASLPasswordFile: empty}, []string{"both"}},
		{"empty password file", kafka.Security{SASLMechanism: "PLAIN", SASLUser: "u", SASLPasswordFile: empty}, []string{"empty"}},
		{"user without mechanism", kafka.Security{SASLUser: "u", SASLPassword: "pw-3"}, []string{"no mechanism"}},
		{"missing CA file", kafka.Security{TLSCAFile: filepath.Join(dir, "nope.pem")}, []string{"CA file"}},
		{"CA file without PEM", kafka.Security{TLSCAFile: notPEM}, []string{"no PEM"}},
		{"cert without key", kafka.Security{TLS: true, TLSCertFile: notPEM}, []string{"needs its key"}},
	}
	for _, c := range cases {
		tc := kafka.DefaultConfig()
		tc.Brokers = []string{"127.0.0.1:9092"}
		tc.Security = c.s
		err := tc.Validate()
		if len(c.want) == 0 {
			if err != nil {
				t.Errorf("%s: %v", c.name, err)
			}
			continue
		}
		if err == nil {
			t.Errorf("%s: no error", c.name)
			continue
		}
		for _, w := range c.want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("%s: error %q does not say %q", c.name, err, w)
			}
		}
		if strings.Contains(err.Error(), "pw-") {
			t.Errorf("%s: error shows a password: %v", c.name, err)
		}
	}
}
