package audit

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"sort"
	"strconv"

	"github.com/imarchive/imarchive/pipeline"
)

// GenesisHash is the prev_hash of the first chained record of a partition: 32 zero bytes, in hex.
const GenesisHash = "0000000000000000000000000000000000000000000000000000000000000000"

// ErrBadHash is returned by Link for a hash that is not 64 hex digits.
var ErrBadHash = errors.New("not a hex SHA-256")

// PayloadDigest is the hex SHA-256 of a body.
func PayloadDigest(body []byte) string {
	sum := sha256.Sum256(body)
	return hex.EncodeToString(sum[:])
}

// HeadersDigest is the hex SHA-256 of a raw record's canonical headers: every field the raw archive
// keeps beside the body, in a fixed order (HTTP and other headers sorted by name), each name and value
// preceded by its length as 4 bytes big-endian.
func HeadersDigest(r pipeline.RawRow) string {
	h := sha256.New()
	field := func(name, value string) {
		writeLen(h, name)
		writeLen(h, value)
	}
	field("source", r.Source)
	field("app", r.App)
	field("received_at_ms", strconv.FormatInt(r.ReceivedAtMs, 10))
	field("event_id", r.EventID)
	field("raw_key", r.RawKey)
	field("path", r.Path)
	field("remote_addr", r.RemoteAddr)
	for _, k := range sortedKeys(r.HTTPHeaders) {
		field("http."+k, r.HTTPHeaders[k])
	}
	for _, k := range sortedKeys(r.Meta) {
		field("meta."+k, r.Meta[k])
	}
	return hex.EncodeToString(h.Sum(nil))
}

func writeLen(h hash.Hash, s string) {
	var n [4]byte
	binary.BigEndian.PutUint32(n[:], uint32(len(s)))
	h.Write(n[:])
	h.Write([]byte(s))
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// Link computes a record's chain hash: hex SHA-256(prev ‖ partition ‖ offset ‖ payload ‖ headers), the
// hashes as their 32 bytes, partition 4 and offset 8 bytes big-endian. It returns ErrBadHash (wrapped)
// when prev, payload or headers is not 64 hex digits.
func Link(prev string, partition int32, offset int64, payloadSHA256, headersSHA256 string) (string, error) {
	h := sha256.New()
	if err := writeHash(h, "prev_hash", prev); err != nil {
		return "", err
	}
	var b [12]byte
	binary.BigEndian.PutUint32(b[:4], uint32(partition))
	binary.BigEndian.PutUint64(b[4:], uint64(offset))
	h.Write(b[:])
	if err := writeHash(h, "payload_sha256", payloadSHA256); err != nil {
		return "", err
	}
	if err := writeHash(h, "headers_sha256", headersSHA256); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

func writeHash(h hash.Hash, name, s string) error {
	b, err := hex.DecodeString(s)
	if err != nil || len(b) != sha256.Size {
		return fmt.Errorf("%s %q: %w", name, s, ErrBadHash)
	}
	h.Write(b)
	return nil
}
