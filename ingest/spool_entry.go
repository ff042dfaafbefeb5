package ingest

import (
	"encoding/binary"
	"errors"
	"fmt"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/imarchive/imarchive/kafka"
)

// SpoolEntry is one acknowledged callback in the spool: the records it produces — its raw record
// (body, headers, receive time), its event or dead letter — exactly as they would have been produced,
// with the receipt they belong to. Topics are kept by role (raw, events, dead letter), so a changed
// topic prefix applies to what is forwarded after a restart.
type SpoolEntry struct {
	Receipt  string
	Platform string
	App      string
	Received time.Time
	Records  []*kgo.Record
}

// Topic roles in a spool entry.
const (
	roleRaw byte = iota
	roleEvents
	roleDeadLetter
)

const spoolEntryVersion = 1

// errSpoolEntry: an entry that does not decode.
var errSpoolEntry = errors.New("spool entry does not decode")

// EncodeSpoolEntry encodes e; its records' topics must be tc's.
func EncodeSpoolEntry(tc kafka.Config, e SpoolEntry) ([]byte, error) {
	b := []byte{spoolEntryVersion}
	b = appendBytes(b, []byte(e.Receipt))
	b = appendBytes(b, []byte(e.Platform))
	b = appendBytes(b, []byte(e.App))
	b = binary.AppendVarint(b, e.Received.UnixMilli())
	b = binary.AppendUvarint(b, uint64(len(e.Records)))
	for _, r := range e.Records {
		var role byte
		switch r.Topic {
		case tc.Raw():
			role = roleRaw
		case tc.Events():
			role = roleEvents
		case tc.DeadLetter():
			role = roleDeadLetter
		default:
			return nil, fmt.Errorf("spool entry: record for topic %q, not one of %v", r.Topic, tc.All())
		}
		b = append(b, role)
		b = appendBytes(b, r.Key)
		b = appendBytes(b, r.Value)
		b = binary.AppendVarint(b, r.Timestamp.UnixMilli())
		b = binary.AppendUvarint(b, uint64(len(r.Headers)))
		for _, h := range r.Headers {
			b = appendBytes(b, []byte(h.Key))
			b = appendBytes(b, h.Value)
		}
	}
	return b, nil
}

func appendBytes(b, v []byte) []byte {
	b = binary.AppendUvarint(b, uint64(len(v)))
	return append(b, v...)
}

// DecodeSpoolEntry decodes an entry for the topics of tc.
func DecodeSpoolEntry(tc kafka.Config, data []byte) (SpoolEntry, error) {
	d := entryDecoder{data: data}
	if v := d.byte(); v != spoolEntryVersion {
		return SpoolEntry{}, fmt.Errorf("%w: version %d", errSpoolEntry, v)
	}
	e := SpoolEntry{Receipt: string(d.bytes()), Platform: string(d.bytes()), App: string(d.bytes())}
	e.Received = time.UnixMilli(d.varint())
	n := d.uvarint()
	if n > uint64(len(data)) {
		return SpoolEntry{}, fmt.Errorf("%w: %d records in %d bytes", errSpoolEntry, n, len(data))
	}
	names := [...]string{roleRaw: tc.Raw(), roleEvents: tc.Events(), roleDeadLetter: tc.DeadLetter()}
	for range n {
		role := d.byte()
		if int(role) >= len(names) {
			d.fail("topic role %d", role)
			break
		}
		r := &kgo.Record{Topic: names[role], Key: d.bytes(), Value: d.bytes()}
		r.Timestamp = time.UnixMilli(d.varint())
		nh := d.uvarint()
		if nh > uint64(len(data)) {
			d.fail("%d headers", nh)
			break
		}
		for range nh {
			r.Headers = append(r.Headers, kgo.RecordHeader{Key: string(d.bytes()), Value: d.bytes()})
		}
		e.Records = append(e.Records, r)
		if d.err != nil {
			break
		}
	}
	if d.err == nil && d.off != len(data) {
		d.fail("%d bytes left over", len(data)-d.off)
	}
	if d.err != nil {
		return SpoolEntry{}, d.err
	}
	return e, nil
}

type entryDecoder struct {
	data []byte
	off  int
	err  error
}

func (d *entryDecoder) fail(format string, args ...any) {
	if d.err == nil {
		d.err = fmt.Errorf("%w at byte %d: %s", errSpoolEntry, d.off, fmt.Sprintf(format, args...))
	}
}

func (d *entryDecoder) byte() byte {
	if d.err != nil || d.off >= len(d.data) {
		d.fail("truncated")
		return 0
	}
	d.off++
	return d.data[d.off-1]
}

func (d *entryDecoder) uvarint() uint64 {
	if d.err != nil {
		return 0
	}
	v, n := binary.Uvarint(d.data[d.off:])
	if n <= 0 || n != len(binary.AppendUvarint(nil, v)) { // one encoding per value
		d.fail("bad length")
		return 0
	}
	d.off += n
	return v
}

func (d *entryDecoder) varint() int64 {
	if d.err != nil {
		return 0
	}
	v, n := binary.Varint(d.data[d.off:])
	if n <= 0 || n != len(binary.AppendVarint(nil, v)) {
		d.fail("bad number")
		return 0
	}
	d.off += n
	return v
}

func (d *entryDecoder) bytes() []byte {
	n := d.uvarint()
	if d.err != nil {
		return nil
	}
	if n > uint64(len(d.data)-d.off) {
		d.fail("length %d past the end", n)
		return nil
	}
	v := d.data[d.off : d.off+int(n) : d.off+int(n)]
	d.off += int(n)
	return v
}
