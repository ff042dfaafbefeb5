package kafka_test

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/imarchive/imarchive/kafka"
)

const (
	keyOld = "0123456789abcdef0123456789abcdef-old"
	keyNew = "0123456789abcdef0123456789abcdef-new"
)

func auth(t testing.TB, spec string) kafka.RecordAuth {
	t.Helper()
	tc := kafka.DefaultConfig()
	tc.Brokers = []string{"k:9092"}
	tc.Auth = kafka.NewRecordAuth(spec, "")
	if err := tc.Validate(); err != nil {
		t.Fatal(err)
	}
	return tc.Auth
}

func record() *kgo.Record {
	return &kgo.Record{Topic: "imarchive.events", Key: []byte("maxim/app/channel:1/2"), Value: []byte(`{"body":"hello"}`),
		Headers: []kgo.RecordHeader{{Key: "imarchive.source", Value: []byte("maxim")}}}
}

// TestRecordAuth: a record signed with the current key verifies; changing its key, value, a header,
// or adding one breaks it; an unsigned record, one signed with a key not listed and one with a
// garbled signature are refused; during a rotation both keys verify; without keys everything
// passes (signing is off).
func TestRecordAuth(t *testing.T) {
	a := auth(t, "k2="+keyNew+",k1="+keyOld)
	signed := func() *kgo.Record { r := record(); a.Sign(r); return r }
	if err := a.Verify(signed()); err != nil {
		t.Fatalf("a signed record: %v", err)
	}
	tamper := map[string]func(r *kgo.Record){
		"key": func(r *kgo.Record) { r.Key = []byte("maxim/app/channel:1/3") },
		"value": func(r *kgo.Record) {
			r.Value = bytes.Replace(r.Value, []byte("hello"), []byte("FORGED: wire the money"), 1)
		},
		"header value":  func(r *kgo.Record) { r.Headers[0].Value = []byte("ilink") },
		"header added":  func(r *kgo.Record) { r.Headers = append(r.Headers, kgo.RecordHeader{Key: "x", Value: []byte("y")}) },
		"value to key":  func(r *kgo.Record) { r.Key, r.Value = append(r.Key, r.Value[:1]...), r.Value[1:] },
		"garbled sig":   func(r *kgo.Record) { r.Headers[len(r.Headers)-1].Value = []byte("v1:k2:!!") },
		"other version": func(r *kgo.Record) { r.Headers[len(r.Headers)-1].Value[1] = '2' },
	}
	for name, fn := range tamper {
		r := signed()
		fn(r)
		if err := a.Verify(r); !errors.Is(err, kafka.ErrBadSignature) {
			t.Errorf("%s changed: Verify = %v, want ErrBadSignature", name, err)
		}
	}
	if err := a.Verify(record()); !errors.Is(err, kafka.ErrUnsigned) {
		t.Errorf("unsigned: %v", err)
	}
	stranger := auth(t, "k9=a-key-nobody-here-has-0123456789abcdef")
	r := record()
	stranger.Sign(r)
	if err := a.Verify(r); !errors.Is(err, kafka.ErrUnknownKey) {
		t.Errorf("signed with a stranger's key: %v", err)
	}
	// Rotation: records signed with the old key before the switch still verify while it is listed.
	old := auth(t, "k1="+keyOld)
	r = record()
	old.Sign(r)
	if err := a.Verify(r); err != nil {
		t.Errorf("old key during the rotation: %v", err)
	}
	if err := auth(t, "k2="+keyNew).Verify(r); !errors.Is(err, kafka.ErrUnknownKey) {
		t.Errorf("old key after it was dropped: %v, want ErrUnknownKey", err)
	}
	// Signing again (a dead letter copies the raw record's headers) replaces the signature.
	r = signed()
	a.Sign(r)
	n := 0
	for _, h := range r.Headers {
		if h.Key == kafka.HeaderSignature {
			n++
		}
	}
	if n != 1 || a.Verify(r) != nil {
		t.Errorf("signed twice: %d signature headers, verify %v", n, a.Verify(r))
	}
	off := auth(t, "")
	r = record()
	off.Sign(r)
	if len(r.Headers) != 1 || off.Verify(r) != nil || off.On() {
		t.Errorf("without keys: headers %v, on %v", r.Headers, off.On())
	}
}

// TestRecordKeysConfig: keys come from the variable or a file, not both; short secrets, ids with
// ':' and a key listed twice are refused, and no error shows a secret.
func TestRecordKeysConfig(t *testing.T) {
	file := filepath.Join(t.TempDir(), "keys")
	if err := os.WriteFile(file, []byte("k2="+keyNew+"\nk1="+keyOld+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if a := kafka.NewRecordAuth("", file); len(a.Keys) != 2 || a.Keys[0].ID != "k2" {
		t.Errorf("from a file: %+v", a.Keys)
	}
	for name, c := range map[string]struct{ spec, file string }{
		"both":       {"k1=" + keyOld, file},
		"short":      {"k1=short-secret", ""},
		"colon id":   {"k:1=" + keyOld, ""},
		"twice":      {"k1=" + keyOld + ",k1=" + keyNew, ""},
		"no secret":  {"k1=", ""},
		"no file":    {"", filepath.Join(t.TempDir(), "none")},
		"not a pair": {keyOld, ""},
	} {
		tc := kafka.DefaultConfig()
		tc.Brokers = []string{"k:9092"}
		tc.Auth = kafka.NewRecordAuth(c.spec, c.file)
		err := tc.Validate()
		if err == nil {
			t.Errorf("%s: accepted", name)
			continue
		}
		if strings.Contains(err.Error(), "0123456789abcdef") || strings.Contains(err.Error(), "short-secret") {
			t.Errorf("%s: the error shows a secret: %v", name, err)
		}
	}
}

// BenchmarkRecordAuth is the cost of signing (serve, per record) and verifying (consume, per event)
// a record the size of a typical event, and of a 1 MiB one.
func BenchmarkRecordAuth(b *testing.B) {
	a := auth(b, "k1="+keyOld)
	for _, size := range []int{1 << 10, 1 << 20} {
		r := record()
		r.Value = bytes.Repeat([]byte("x"), size)
		name := "1KiB"
		if size > 1<<10 {
			name = "1MiB"
		}
		b.Run("sign/"+name, func(b *testing.B) {
			b.SetBytes(int64(size))
			for b.Loop() {
				a.Sign(r)
			}
		})
		b.Run("verify/"+name, func(b *testing.B) {
			a.Sign(r)
			b.SetBytes(int64(size))
			for b.Loop() {
				if err := a.Verify(r); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
