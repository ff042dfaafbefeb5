package kafka

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"hash"
	"os"
	"slices"
	"strings"

	"github.com/twmb/franz-go/pkg/kgo"
)

// HeaderSignature is the record header that carries a record's signature:
// "v1:<key id>:<base64url of HMAC-SHA256>".
const HeaderSignature = "imarchive.sig"

// MinRecordKeyLen is the shortest record key accepted (bytes of the secret as written).
const MinRecordKeyLen = 32

// Errors of Verify. Each wraps ErrUnauthenticRecord.
var (
	ErrUnauthenticRecord = errors.New("record not signed by imarchive")
	ErrUnsigned          = fmt.Errorf("%w: no %s header", ErrUnauthenticRecord, HeaderSignature)
	ErrUnknownKey        = fmt.Errorf("%w: signed with a key this process does not have", ErrUnauthenticRecord)
	ErrBadSignature      = fmt.Errorf("%w: the signature does not match", ErrUnauthenticRecord)
)

// RecordKey is one HMAC key: an id named in each signature, so keys can be rotated, and the secret.
type RecordKey struct {
	ID     string
	Secret []byte
}

// RecordAuth signs the records serve and replay produce, and verifies them where consume reads
// them, so that a record written to the events topic by anyone else — the topic's ACLs let a
// client in, a listener was left open — is dead-lettered instead of becoming history.
//
// The signature is HMAC-SHA256 with a key shared by serve, replay and consume (NewRecordAuth:
// IMARCHIVE_RECORD_KEYS or IMARCHIVE_RECORD_KEYS_FILE, "id=secret[,id=secret]", current first)
// over the record's key, value and headers (in order, but the signature's own), each length-
// prefixed; it is carried in the imarchive.sig header with the key's id. Rotation: give consume the
// new key second, then serve and replay the new key first, then, once consume has read every record
// signed with the old one, drop it everywhere. A record signed with a key no longer listed is
// dead-lettered; the raw topic is the record of truth, and imarchive replay re-signs its events.
//
// With no keys, Sign does nothing and Verify accepts everything: the topics are then as trusted as
// the Kafka ACLs that guard them.
type RecordAuth struct {
	Keys []RecordKey
	err  error // of NewRecordAuth, reported by Config.Validate
}

// NewRecordAuth reads the keys from spec ("id=secret[,id=secret…]", IMARCHIVE_RECORD_KEYS) or from
// file (the same, commas or lines; IMARCHIVE_RECORD_KEYS_FILE, e.g. a Docker or Kubernetes secret),
// not both. A mistake is kept and reported by Config.Validate, with the other problems.
func NewRecordAuth(spec, file string) RecordAuth {
	switch {
	case spec != "" && file != "":
		return RecordAuth{err: errors.New("record keys: give IMARCHIVE_RECORD_KEYS or IMARCHIVE_RECORD_KEYS_FILE, not both")}
	case file != "":
		b, err := os.ReadFile(file)
		if err != nil {
			return RecordAuth{err: fmt.Errorf("record keys file: %w", err)}
		}
		spec = strings.ReplaceAll(string(b), "\n", ",")
	}
	keys, err := ParseRecordKeys(spec)
	return RecordAuth{Keys: keys, err: err}
}

// ParseRecordKeys reads "id=secret[,id=secret…]". Errors never show a secret.
func ParseRecordKeys(s string) ([]RecordKey, error) {
	var out []RecordKey
	seen := map[string]bool{}
	for _, part := range strings.Split(strings.TrimSpace(s), ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		id, secret, ok := strings.Cut(part, "=")
		id, secret = strings.TrimSpace(id), strings.TrimSpace(secret)
		switch {
		case !ok || id == "" || secret == "":
			return nil, errors.New("record keys: want id=secret[,id=secret]")
		case strings.ContainsAny(id, ":"):
			return nil, fmt.Errorf("record key %q: the id cannot hold ':'", id)
		case len(secret) < MinRecordKeyLen:
			return nil, fmt.Errorf("record key %q: %d characters, want at least %d (e.g. openssl rand -hex 32)", id, len(secret), MinRecordKeyLen)
		case seen[id]:
			return nil, fmt.Errorf("record key %q listed twice", id)
		}
		seen[id] = true
		out = append(out, RecordKey{ID: id, Secret: []byte(secret)})
	}
	return out, nil
}

func (a RecordAuth) validate() error { return a.err }

// On reports whether records are signed and verified.
func (a RecordAuth) On() bool { return len(a.Keys) > 0 }

// Sign adds the signature header made with the current key (the first), in place of any the record
// carried. Without keys it does nothing.
func (a RecordAuth) Sign(rec *kgo.Record) {
	if !a.On() {
		return
	}
	rec.Headers = slices.DeleteFunc(rec.Headers, func(h kgo.RecordHeader) bool { return h.Key == HeaderSignature })
	k := a.Keys[0]
	rec.Headers = append(rec.Headers, kgo.RecordHeader{Key: HeaderSignature,
		Value: []byte("v1:" + k.ID + ":" + base64.RawURLEncoding.EncodeToString(mac(k.Secret, rec)))})
}

// Verify checks rec's signature with the key it names; without keys it accepts every record. It
// returns nil or an error wrapping ErrUnsigned, ErrUnknownKey or ErrBadSignature.
func (a RecordAuth) Verify(rec *kgo.Record) error {
	if !a.On() {
		return nil
	}
	var sig []byte
	found := false
	for _, h := range rec.Headers {
		if h.Key == HeaderSignature {
			sig, found = h.Value, true
		}
	}
	if !found {
		return ErrUnsigned
	}
	version, rest, _ := strings.Cut(string(sig), ":")
	id, sum, ok := strings.Cut(rest, ":")
	if version != "v1" || !ok {
		return fmt.Errorf("%w: %s header %.40q", ErrBadSignature, HeaderSignature, sig)
	}
	want, err := base64.RawURLEncoding.DecodeString(sum)
	if err != nil {
		return fmt.Errorf("%w: not base64url", ErrBadSignature)
	}
	for _, k := range a.Keys {
		if k.ID == id {
			if !hmac.Equal(mac(k.Secret, rec), want) {
				return ErrBadSignature
			}
			return nil
		}
	}
	return fmt.Errorf("%w (%q)", ErrUnknownKey, id)
}

// mac is HMAC-SHA256 over the record's key, value and headers but the signature's, each
// length-prefixed, after a domain-separation label.
func mac(secret []byte, rec *kgo.Record) []byte {
	h := hmac.New(sha256.New, secret)
	h.Write([]byte("imarchive record v1\x00"))
	field(h, rec.Key)
	field(h, rec.Value)
	for _, hd := range rec.Headers {
		if hd.Key == HeaderSignature {
			continue
		}
		field(h, []byte(hd.Key))
		field(h, hd.Value)
	}
	return h.Sum(nil)
}

func field(h hash.Hash, b []byte) {
	var n [8]byte
	binary.BigEndian.PutUint64(n[:], uint64(len(b)))
	h.Write(n[:])
	h.Write(b)
}
