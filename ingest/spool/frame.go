package spool

import (
	"bytes"
	"encoding/binary"
	"hash/crc32"
)

// A segment file is a sequence of frames:
//
//	offset  size  field
//	0       4     magic "ISP1"
//	4       4     payload length, little endian
//	8       4     CRC32C (Castagnoli) of bytes 4–8 and 12–28 of the header and of the payload
//	12      8     sequence number, little endian, strictly increasing through the spool
//	20      8     append time, Unix milliseconds, little endian
//	28      n     payload
//
// The magic lets recovery find the next frame after a damaged one without trusting any length; the
// checksum decides whether a frame is intact. Nothing else is in a segment file.
const (
	headerSize = 28
	// MaxRecordBytes bounds one record's payload; a larger length field is damage.
	MaxRecordBytes = 64 << 20
)

var (
	magic    = [4]byte{'I', 'S', 'P', '1'}
	castagno = crc32.MakeTable(crc32.Castagnoli)
)

// frame is a record as found in a segment.
type frame struct {
	off     int64 // in its segment
	seq     uint64
	atMs    int64
	payload []byte
}

func (f frame) size() int64 { return headerSize + int64(len(f.payload)) }

// appendFrame encodes a frame onto dst.
func appendFrame(dst []byte, seq uint64, atMs int64, payload []byte) []byte {
	var h [headerSize]byte
	copy(h[0:4], magic[:])
	binary.LittleEndian.PutUint32(h[4:8], uint32(len(payload)))
	binary.LittleEndian.PutUint64(h[12:20], seq)
	binary.LittleEndian.PutUint64(h[20:28], uint64(atMs))
	binary.LittleEndian.PutUint32(h[8:12], checksum(h[:], payload))
	dst = append(dst, h[:]...)
	return append(dst, payload...)
}

func checksum(h []byte, payload []byte) uint32 {
	c := crc32.Update(0, castagno, h[4:8])
	c = crc32.Update(c, castagno, h[12:headerSize])
	return crc32.Update(c, castagno, payload)
}

// parseFrame reads the frame at data[off:]. ok is false when there is none intact there: too short,
// no magic, a length out of bounds or past the data, or a checksum that does not match.
func parseFrame(data []byte, off int64) (f frame, ok bool) {
	if int64(len(data))-off < headerSize {
		return frame{}, false
	}
	h := data[off : off+headerSize]
	if !bytes.Equal(h[0:4], magic[:]) {
		return frame{}, false
	}
	n := int64(binary.LittleEndian.Uint32(h[4:8]))
	if n > MaxRecordBytes || off+headerSize+n > int64(len(data)) {
		return frame{}, false
	}
	payload := data[off+headerSize : off+headerSize+n]
	if binary.LittleEndian.Uint32(h[8:12]) != checksum(h, payload) {
		return frame{}, false
	}
	return frame{
		off:     off,
		seq:     binary.LittleEndian.Uint64(h[12:20]),
		atMs:    int64(binary.LittleEndian.Uint64(h[20:28])),
		payload: payload,
	}, true
}

// Damage is a stretch of a segment that holds no intact frame: a record cut short by a crash (a torn
// tail) or bytes changed on disk. Recovery keeps it aside, never deletes it.
type Damage struct {
	Segment string // file name
	Offset  int64
	Length  int64
	Tail    bool // it runs to the end of the segment (typically a write a crash cut short)
}

// scan walks the frames of a segment's bytes. A frame whose sequence number is not above the one
// before it is damage too (a stale copy cannot be told from a good one otherwise). After damage it
// resumes at the next offset where an intact frame starts. fn sees every intact frame in order.
func scan(name string, data []byte, fn func(frame)) []Damage {
	var (
		dmg  []Damage
		off  int64
		last uint64
		seen bool
	)
	valid := func(at int64) (frame, bool) {
		f, ok := parseFrame(data, at)
		if !ok || (seen && f.seq <= last) {
			return frame{}, false
		}
		return f, true
	}
	for off < int64(len(data)) {
		f, ok := valid(off)
		if !ok {
			next := int64(len(data))
			for at := off + 1; at < int64(len(data)); {
				i := bytes.Index(data[at:], magic[:])
				if i < 0 {
					break
				}
				if _, ok := valid(at + int64(i)); ok {
					next = at + int64(i)
					break
				}
				at += int64(i) + 1
			}
			dmg = append(dmg, Damage{Segment: name, Offset: off, Length: next - off, Tail: next == int64(len(data))})
			off = next
			continue
		}
		fn(f)
		last, seen = f.seq, true
		off += f.size()
	}
	return dmg
}
