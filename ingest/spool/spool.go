package spool

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Errors of Append. ErrFull and ErrBroken mean the record was not kept: the caller must not
// acknowledge it.
var (
	// ErrFull: the spool's files would grow past MaxBytes.
	ErrFull = errors.New("spool full")
	// ErrBroken: a write or fsync failed; the spool takes nothing more until it is reopened (a restart
	// of serve), whose recovery keeps every record that was synced.
	ErrBroken = errors.New("spool broken by a failed write")
	// ErrClosed: the spool was closed.
	ErrClosed = errors.New("spool closed")
	// ErrLocked: another process has the directory open.
	ErrLocked = errors.New("spool directory in use by another process")
)

// Options bound a spool.
type Options struct {
	// MaxBytes bounds the spool's segment files on disk; an append past it fails with ErrFull.
	MaxBytes int64
	// SegmentBytes is the size after which a new segment file is started; a segment is deleted once
	// every record in it was forwarded.
	SegmentBytes int64
	// Now is the clock of append times (time.Now when nil).
	Now func() time.Time
}

// DefaultOptions: 1 GiB in segments of 8 MiB.
func DefaultOptions() Options {
	return Options{MaxBytes: 1 << 30, SegmentBytes: 8 << 20}
}

// Validate reports every problem at once.
func (o Options) Validate() error {
	var errs []error
	if o.MaxBytes <= 0 {
		errs = append(errs, fmt.Errorf("spool max bytes %d: must be positive", o.MaxBytes))
	}
	if o.SegmentBytes <= 0 || o.SegmentBytes > o.MaxBytes {
		errs = append(errs, fmt.Errorf("spool segment bytes %d: must be positive and at most max bytes (%d)", o.SegmentBytes, o.MaxBytes))
	}
	return errors.Join(errs...)
}

// Files of a spool directory.
const (
	checkpointFile = "forwarded"
	lockFile       = "LOCK"
	// DamagedDir holds the bytes recovery found damaged, one file per stretch, named
	// <segment>.<offset>.damaged: kept for an operator, never read back.
	DamagedDir    = "damaged"
	segmentSuffix = ".seg"
)

var segmentName = regexp.MustCompile(`^[0-9]{20}\.seg$`)

func segName(id uint64) string { return fmt.Sprintf("%020d%s", id, segmentSuffix) }

// Record is a record read from the spool.
type Record struct {
	Seq     uint64
	At      time.Time // when it was appended
	Payload []byte
	size    int64
}

// Size is the record's bytes on disk, header included.
func (r Record) Size() int64 { return r.size }

// Recovery is what Open found.
type Recovery struct {
	Segments  int      // segment files kept
	Records   int      // records not yet forwarded
	Forwarded uint64   // the checkpoint: every record up to this sequence number was forwarded
	Damaged   []Damage // stretches holding no intact record, each copied into DamagedDir
}

// Stats is a spool's state now.
type Stats struct {
	Records   int       // appended, not yet forwarded
	Bytes     int64     // their bytes on disk
	DiskBytes int64     // segment files on disk (counted against MaxBytes)
	MaxBytes  int64     // the bound
	Oldest    time.Time // append time of the oldest record not forwarded; zero when none
	Full      bool      // the last append was refused for space and nothing was freed since
	Forwarded uint64    // sequence number of the last record forwarded
	Broken    error     // why the spool takes nothing more, if it does not
}

type segInfo struct {
	id   uint64 // from its name: the sequence number it was started at
	name string
	last uint64 // greatest sequence number in it; 0 when none
	size int64  // bytes that are on disk for good (synced)
}

type pending struct {
	seq  uint64
	atMs int64
	size int64
}

type appendReq struct {
	payload []byte
	rec     Record
	err     error
	done    chan struct{}
}

// Spool is an append-only log of records on local disk, read in order by one reader and truncated
// from the front as the reader acknowledges what it forwarded. Append returns once the record is
// fsynced; concurrent appends share an fsync (group commit). Safe for concurrent use.
type Spool struct {
	dir  string
	opts Options
	log  *slog.Logger
	lock *os.File

	reqs chan *appendReq
	quit chan struct{}
	done chan struct{}

	ackMu sync.Mutex // one checkpoint write at a time

	mu       sync.Mutex
	segs     []*segInfo // oldest first; the last is the active one when active != nil
	active   *os.File
	nextSeq  uint64
	acked    uint64
	queue    []pending // not yet forwarded, oldest first
	pendingB int64
	diskB    int64
	full     bool
	broken   error
	closed   bool
	changed  chan struct{} // closed when records became durable or the spool closed
}

// Open opens (creating it if needed) the spool in dir and recovers it: every intact record after
// the checkpoint is kept for the reader; every damaged stretch is copied into dir/damaged, logged and
// reported; segments whose records were all forwarded are deleted. Appends go to a new segment.
func Open(dir string, opts Options, log *slog.Logger) (*Spool, Recovery, error) {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if err := opts.Validate(); err != nil {
		return nil, Recovery{}, err
	}
	if err := os.MkdirAll(filepath.Join(dir, DamagedDir), 0o700); err != nil {
		return nil, Recovery{}, fmt.Errorf("create spool directory: %w", err)
	}
	lock, err := lockDir(filepath.Join(dir, lockFile))
	if err != nil {
		return nil, Recovery{}, fmt.Errorf("spool %s: %w", dir, err)
	}
	s := &Spool{dir: dir, opts: opts, log: log, lock: lock, reqs: make(chan *appendReq, 256),
		quit: make(chan struct{}), done: make(chan struct{}), changed: make(chan struct{})}
	rec, err := s.recover()
	if err != nil {
		unlockDir(lock)
		return nil, Recovery{}, err
	}
	go s.writer()
	return s, rec, nil
}

func (s *Spool) recover() (Recovery, error) {
	acked, err := readCheckpoint(s.dir)
	if err != nil {
		return Recovery{}, err
	}
	s.acked = acked
	s.nextSeq = acked + 1
	names, err := listSegments(s.dir)
	if err != nil {
		return Recovery{}, err
	}
	rec := Recovery{Forwarded: acked}
	for _, name := range names {
		id, _ := strconv.ParseUint(strings.TrimSuffix(name, segmentSuffix), 10, 64)
		path := filepath.Join(s.dir, name)
		data, err := os.ReadFile(path)
		if err != nil {
			return Recovery{}, fmt.Errorf("read spool segment: %w", err)
		}
		seg := &segInfo{id: id, name: name, size: int64(len(data))}
		kept := 0
		dmg := scan(name, data, func(f frame) {
			seg.last = max(seg.last, f.seq)
			s.nextSeq = max(s.nextSeq, f.seq+1)
			if f.seq <= acked {
				return
			}
			s.queue = append(s.queue, pending{seq: f.seq, atMs: f.atMs, size: f.size()})
			s.pendingB += f.size()
			kept++
		})
		for _, d := range dmg {
			if err := setAside(s.dir, data, d); err != nil {
				return Recovery{}, err
			}
			s.log.Error("spool: damaged record set aside; the intact records around it are kept",
				"segment", d.Segment, "offset", d.Offset, "bytes", d.Length, "torn_tail", d.Tail,
				"copy", filepath.Join(s.dir, DamagedDir, damagedName(d)))
		}
		rec.Damaged = append(rec.Damaged, dmg...)
		if kept == 0 {
			if err := os.Remove(path); err != nil {
				return Recovery{}, fmt.Errorf("remove forwarded spool segment: %w", err)
			}
			continue
		}
		s.segs = append(s.segs, seg)
		s.diskB += seg.size
	}
	// Records must be in sequence order across segments for the reader; they are, since segment ids
	// increase with the sequence numbers in them. Guard against a renamed file all the same.
	if !slices.IsSortedFunc(s.queue, func(a, b pending) int { return cmpU64(a.seq, b.seq) }) {
		return Recovery{}, fmt.Errorf("spool %s: records out of order across segments (a segment file renamed?): move the directory aside and start with an empty one", s.dir)
	}
	if len(rec.Damaged) > 0 {
		if err := syncDir(filepath.Join(s.dir, DamagedDir)); err != nil {
			return Recovery{}, err
		}
	}
	rec.Segments, rec.Records = len(s.segs), len(s.queue)
	return rec, nil
}

func cmpU64(a, b uint64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

func damagedName(d Damage) string { return fmt.Sprintf("%s.%d.damaged", d.Segment, d.Offset) }

// setAside copies a damaged stretch into the damaged directory (once: a file already there is kept).
func setAside(dir string, data []byte, d Damage) error {
	path := filepath.Join(dir, DamagedDir, damagedName(d))
	if _, err := os.Stat(path); err == nil {
		return nil
	}
	f, err := os.OpenFile(path, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
	if err != nil {
		return fmt.Errorf("set aside damaged spool bytes: %w", err)
	}
	if _, err := f.Write(data[d.Offset : d.Offset+d.Length]); err != nil {
		f.Close()
		return fmt.Errorf("set aside damaged spool bytes: %w", err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return fmt.Errorf("set aside damaged spool bytes: %w", err)
	}
	return f.Close()
}

func listSegments(dir string) ([]string, error) {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("list spool directory: %w", err)
	}
	var names []string
	for _, e := range ents {
		if e.Type().IsRegular() && segmentName.MatchString(e.Name()) {
			names = append(names, e.Name())
		}
	}
	slices.Sort(names)
	return names, nil
}

func readCheckpoint(dir string) (uint64, error) {
	b, err := os.ReadFile(filepath.Join(dir, checkpointFile))
	if errors.Is(err, fs.ErrNotExist) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("read spool checkpoint: %w", err)
	}
	v, err := strconv.ParseUint(strings.TrimSpace(string(b)), 10, 64)
	if err != nil {
		// Written by rename, so not torn; if it is unreadable anyway, forwarding again from the start
		// re-sends records (which fold downstream) and loses none.
		return 0, nil
	}
	return v, nil
}

func writeCheckpoint(dir string, seq uint64) error {
	tmp := filepath.Join(dir, checkpointFile+".tmp")
	f, err := os.OpenFile(tmp, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o600)
	if err != nil {
		return fmt.Errorf("write spool checkpoint: %w", err)
	}
	_, werr := f.WriteString(strconv.FormatUint(seq, 10) + "\n")
	serr := f.Sync()
	cerr := f.Close()
	if err := errors.Join(werr, serr, cerr); err != nil {
		return fmt.Errorf("write spool checkpoint: %w", err)
	}
	if err := os.Rename(tmp, filepath.Join(dir, checkpointFile)); err != nil {
		return fmt.Errorf("write spool checkpoint: %w", err)
	}
	return syncDir(dir)
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("sync directory: %w", err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("sync directory %s: %w", dir, err)
	}
	return nil
}

// Append writes payload as the next record and returns once it is on disk (fsynced). It returns
// ErrFull, ErrBroken, ErrClosed, or ctx's error when ctx ended first — the record may then still be
// written, and is then forwarded like any other.
func (s *Spool) Append(ctx context.Context, payload []byte) (Record, error) {
	if len(payload) > MaxRecordBytes {
		return Record{}, fmt.Errorf("spool record of %d bytes: over %d", len(payload), MaxRecordBytes)
	}
	req := &appendReq{payload: payload, done: make(chan struct{})}
	select {
	case s.reqs <- req:
	case <-s.quit:
		return Record{}, ErrClosed
	case <-ctx.Done():
		return Record{}, ctx.Err()
	}
	select {
	case <-req.done:
		return req.rec, req.err
	case <-ctx.Done():
		return Record{}, ctx.Err()
	}
}

// writer takes the queued appends and writes them in batches, one write and one fsync per batch.
func (s *Spool) writer() {
	defer close(s.done)
	const maxBatch = 512
	for {
		var first *appendReq
		select {
		case first = <-s.reqs:
		case <-s.quit:
			s.failQueued()
			return
		}
		batch := []*appendReq{first}
	drain:
		for len(batch) < maxBatch {
			select {
			case r := <-s.reqs:
				batch = append(batch, r)
			default:
				break drain
			}
		}
		s.write(batch)
		for _, r := range batch {
			close(r.done)
		}
	}
}

func (s *Spool) failQueued() {
	for {
		select {
		case r := <-s.reqs:
			r.err = ErrClosed
			close(r.done)
		default:
			return
		}
	}
}

func (s *Spool) write(batch []*appendReq) {
	s.mu.Lock()
	if s.broken != nil {
		s.mu.Unlock()
		for _, r := range batch {
			r.err = s.broken
		}
		return
	}
	// An empty spool whose active segment holds only forwarded records starts afresh.
	if s.active != nil && len(s.queue) == 0 {
		seg := s.segs[len(s.segs)-1]
		if seg.size > 0 {
			s.active.Close()
			s.active = nil
			s.segs = s.segs[:len(s.segs)-1]
			s.diskB -= seg.size
			if err := os.Remove(filepath.Join(s.dir, seg.name)); err != nil {
				s.log.Warn("spool: cannot remove a forwarded segment", "segment", seg.name, "err", err)
			}
		}
	}
	now := s.opts.Now().UnixMilli()
	var (
		buf      []byte
		accepted []*appendReq
		room     = s.opts.MaxBytes - s.diskB
	)
	for _, r := range batch {
		n := int64(headerSize + len(r.payload))
		if int64(len(buf))+n > room {
			r.err = ErrFull
			s.full = true
			continue
		}
		r.rec = Record{Seq: s.nextSeq, At: time.UnixMilli(now), Payload: r.payload, size: n}
		s.nextSeq++
		buf = appendFrame(buf, r.rec.Seq, now, r.payload)
		accepted = append(accepted, r)
	}
	if len(accepted) == 0 {
		s.mu.Unlock()
		return
	}
	var seg *segInfo
	if s.active != nil {
		seg = s.segs[len(s.segs)-1]
		if seg.size > 0 && seg.size+int64(len(buf)) > s.opts.SegmentBytes {
			s.active.Close()
			s.active = nil
		}
	}
	s.mu.Unlock()

	err := s.writeFrames(buf, accepted[0].rec.Seq)

	s.mu.Lock()
	defer s.mu.Unlock()
	if err != nil {
		s.broken = fmt.Errorf("%w: %w", ErrBroken, err)
		s.log.Error("spool: write failed; refusing appends until serve restarts (recovery keeps every synced record)", "err", err)
		for _, r := range accepted {
			r.err = s.broken
		}
		return
	}
	seg = s.segs[len(s.segs)-1]
	seg.size += int64(len(buf))
	seg.last = accepted[len(accepted)-1].rec.Seq
	s.diskB += int64(len(buf))
	for _, r := range accepted {
		s.queue = append(s.queue, pending{seq: r.rec.Seq, atMs: now, size: r.rec.size})
		s.pendingB += r.rec.size
	}
	s.full = false
	close(s.changed)
	s.changed = make(chan struct{})
}

// writeFrames appends buf to the active segment (starting one, named after firstSeq, when there is
// none) and fsyncs. On a failed write it cuts the segment back to where it was.
func (s *Spool) writeFrames(buf []byte, firstSeq uint64) error {
	if s.active == nil {
		name := segName(firstSeq)
		f, err := os.OpenFile(filepath.Join(s.dir, name), os.O_CREATE|os.O_EXCL|os.O_WRONLY|os.O_APPEND, 0o600)
		if err != nil {
			return fmt.Errorf("create spool segment: %w", err)
		}
		if err := syncDir(s.dir); err != nil {
			f.Close()
			os.Remove(filepath.Join(s.dir, name))
			return err
		}
		s.mu.Lock()
		s.active = f
		s.segs = append(s.segs, &segInfo{id: firstSeq, name: name})
		s.mu.Unlock()
	}
	s.mu.Lock()
	f, size := s.active, s.segs[len(s.segs)-1].size
	s.mu.Unlock()
	if _, err := f.Write(buf); err != nil {
		if terr := f.Truncate(size); terr != nil {
			return fmt.Errorf("spool write: %w (and cutting the segment back: %w)", err, terr)
		}
		return fmt.Errorf("spool write: %w", err)
	}
	if err := f.Sync(); err != nil {
		return fmt.Errorf("spool fsync: %w", err)
	}
	return nil
}

// Ack records that every record up to and including seq was forwarded: the checkpoint is written and
// segments holding only forwarded records are deleted. Records are forwarded in order, so Ack is
// called with increasing seq. The error is the checkpoint's; the records are acknowledged anyway (a
// restart re-sends them, which is allowed).
func (s *Spool) Ack(seq uint64) error {
	s.ackMu.Lock()
	defer s.ackMu.Unlock()
	s.mu.Lock()
	if seq <= s.acked {
		s.mu.Unlock()
		return nil
	}
	s.mu.Unlock()
	cerr := writeCheckpoint(s.dir, seq)

	s.mu.Lock()
	defer s.mu.Unlock()
	s.acked = seq
	n := 0
	for n < len(s.queue) && s.queue[n].seq <= seq {
		s.pendingB -= s.queue[n].size
		n++
	}
	s.queue = slices.Delete(s.queue, 0, n)
	keep := s.segs[:0]
	for i, seg := range s.segs {
		activeSeg := s.active != nil && i == len(s.segs)-1
		if !activeSeg && seg.last <= seq {
			if err := os.Remove(filepath.Join(s.dir, seg.name)); err != nil && !errors.Is(err, fs.ErrNotExist) {
				s.log.Warn("spool: cannot remove a forwarded segment", "segment", seg.name, "err", err)
				keep = append(keep, seg)
				continue
			}
			s.diskB -= seg.size
			s.full = false
			continue
		}
		keep = append(keep, seg)
	}
	clear(s.segs[len(keep):])
	s.segs = keep
	return cerr
}

// Stats returns the spool's state.
func (s *Spool) Stats() Stats {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := Stats{Records: len(s.queue), Bytes: s.pendingB, DiskBytes: s.diskB, MaxBytes: s.opts.MaxBytes,
		Full: s.full, Forwarded: s.acked, Broken: s.broken}
	if len(s.queue) > 0 {
		st.Oldest = time.UnixMilli(s.queue[0].atMs)
	}
	return st
}

// Pending reports whether records wait to be forwarded.
func (s *Spool) Pending() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.queue) > 0
}

// Dir is the spool's directory.
func (s *Spool) Dir() string { return s.dir }

// Close stops appends (queued ones fail with ErrClosed), closes the files, deletes the active segment
// when everything in it was forwarded, and releases the directory.
func (s *Spool) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	s.mu.Unlock()
	close(s.quit)
	<-s.done
	s.mu.Lock()
	defer s.mu.Unlock()
	var errs []error
	if s.active != nil {
		errs = append(errs, s.active.Close())
		s.active = nil
		if seg := s.segs[len(s.segs)-1]; len(s.queue) == 0 || s.queue[len(s.queue)-1].seq < seg.id {
			if err := os.Remove(filepath.Join(s.dir, seg.name)); err != nil {
				errs = append(errs, fmt.Errorf("remove forwarded spool segment: %w", err))
			}
			s.segs = s.segs[:len(s.segs)-1]
			s.diskB -= seg.size
		}
	}
	close(s.changed)
	s.changed = make(chan struct{})
	errs = append(errs, unlockDir(s.lock))
	return errors.Join(errs...)
}

// SetAside copies a record the forwarder cannot deliver (Kafka refuses it for good, or it does not
// decode) into the damaged directory as record-<seq>.rejected, with the reason beside it in
// record-<seq>.reason, and syncs both; the caller then acknowledges it. It is kept, never forwarded.
func (s *Spool) SetAside(rec Record, reason string) error {
	base := filepath.Join(s.dir, DamagedDir, fmt.Sprintf("record-%020d", rec.Seq))
	for _, f := range []struct {
		path string
		data []byte
	}{{base + ".rejected", rec.Payload}, {base + ".reason", []byte(reason + "\n")}} {
		if err := writeSynced(f.path, f.data); err != nil {
			return fmt.Errorf("set aside spool record %d: %w", rec.Seq, err)
		}
	}
	return syncDir(filepath.Join(s.dir, DamagedDir))
}

func writeSynced(path string, data []byte) error {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o600)
	if err != nil {
		return err
	}
	_, werr := f.Write(data)
	serr := f.Sync()
	return errors.Join(werr, serr, f.Close())
}
