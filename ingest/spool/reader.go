package spool

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"time"
)

// Reader reads the records not yet forwarded, in order, from the segment files. A spool has one
// reader (its forwarder); it sees records appended after it was made as they become durable.
type Reader struct {
	s     *Spool
	segID uint64 // the segment it reads; 0 before the first
	pos   int64  // offset in it up to which frames were read
	last  uint64 // sequence number of the last record returned
	buf   []Record
}

// NewReader returns a reader starting at the first record not forwarded.
func (s *Spool) NewReader() *Reader {
	s.mu.Lock()
	defer s.mu.Unlock()
	return &Reader{s: s, last: s.acked}
}

// Next returns the next record, waiting until one is durable or ctx ends. It returns ErrClosed once
// the spool is closed.
func (r *Reader) Next(ctx context.Context) (Record, error) {
	for {
		if len(r.buf) > 0 {
			rec := r.buf[0]
			r.buf = r.buf[1:]
			r.last = rec.Seq
			return rec, nil
		}
		s := r.s
		s.mu.Lock()
		if s.closed {
			s.mu.Unlock()
			return Record{}, ErrClosed
		}
		seg, active := r.segment()
		if seg == nil {
			ch := s.changed
			s.mu.Unlock()
			if err := wait(ctx, ch); err != nil {
				return Record{}, err
			}
			continue
		}
		limit, name := seg.size, seg.name
		if r.pos < limit {
			s.mu.Unlock()
			if err := r.fill(name, limit); err != nil {
				return Record{}, err
			}
			continue
		}
		if !active {
			r.segID, r.pos = seg.id+1, -1 // on to the next segment
			s.mu.Unlock()
			continue
		}
		ch := s.changed
		s.mu.Unlock()
		if err := wait(ctx, ch); err != nil {
			return Record{}, err
		}
	}
}

// segment finds the segment the reader is in, moving it to the next one when its own is gone.
// Called with s.mu held; active says whether appends still go to it.
func (r *Reader) segment() (*segInfo, bool) {
	s := r.s
	for i, seg := range s.segs {
		if seg.id < r.segID {
			continue
		}
		if seg.id != r.segID || r.pos < 0 {
			r.segID, r.pos = seg.id, 0
		}
		return seg, s.active != nil && i == len(s.segs)-1
	}
	return nil, false
}

// fill reads the frames of the reader's segment from pos up to limit.
func (r *Reader) fill(name string, limit int64) error {
	f, err := os.Open(filepath.Join(r.s.dir, name))
	if errors.Is(err, fs.ErrNotExist) {
		// Deleted because everything in it was forwarded.
		r.segID, r.pos = r.segID+1, -1
		return nil
	}
	if err != nil {
		return fmt.Errorf("open spool segment: %w", err)
	}
	defer f.Close()
	data := make([]byte, limit-r.pos)
	if _, err := f.ReadAt(data, r.pos); err != nil && !errors.Is(err, io.EOF) {
		return fmt.Errorf("read spool segment %s: %w", name, err)
	}
	// Damage was reported and set aside by recovery; here it is only skipped.
	scan(name, data, func(fr frame) {
		if fr.seq <= r.last {
			return
		}
		r.buf = append(r.buf, Record{Seq: fr.seq, At: time.UnixMilli(fr.atMs), Payload: fr.payload, size: fr.size()})
	})
	if len(r.buf) > 0 {
		r.s.mu.Lock()
		acked := r.s.acked
		r.s.mu.Unlock()
		i := 0
		for i < len(r.buf) && r.buf[i].Seq <= acked {
			i++
		}
		r.buf = r.buf[i:]
	}
	r.pos = limit
	return nil
}

func wait(ctx context.Context, ch <-chan struct{}) error {
	select {
	case <-ch:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
