package spool_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/imarchive/imarchive/ingest/spool"
)

func quiet() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

func open(t *testing.T, dir string, opts spool.Options) (*spool.Spool, spool.Recovery) {
	t.Helper()
	s, rec, err := spool.Open(dir, opts, quiet())
	if err != nil {
		t.Fatal(err)
	}
	return s, rec
}

func payload(i int) []byte {
	return fmt.Appendf(nil, "record %04d %s", i, bytes.Repeat([]byte{'x'}, i%50))
}

// appendN appends payload(from) … payload(to-1), concurrently, and fails the test on an error.
func appendN(t *testing.T, s *spool.Spool, from, to int) {
	t.Helper()
	var wg sync.WaitGroup
	errs := make(chan error, to-from)
	for i := from; i < to; i++ {
		wg.Go(func() {
			if _, err := s.Append(context.Background(), payload(i)); err != nil {
				errs <- err
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
}

// readAll reads n records and returns their payloads in order.
func readAll(t *testing.T, r *spool.Reader, n int) []spool.Record {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	var out []spool.Record
	for range n {
		rec, err := r.Next(ctx)
		if err != nil {
			t.Fatalf("after %d of %d records: %v", len(out), n, err)
		}
		if len(out) > 0 && rec.Seq <= out[len(out)-1].Seq {
			t.Fatalf("record %d after %d: out of order", rec.Seq, out[len(out)-1].Seq)
		}
		out = append(out, rec)
	}
	return out
}

func payloadSet(recs []spool.Record) map[string]bool {
	m := map[string]bool{}
	for _, r := range recs {
		m[string(r.Payload)] = true
	}
	return m
}

func TestAppendReadAckAcrossSegments(t *testing.T) {
	dir := t.TempDir()
	s, _ := open(t, dir, spool.Options{MaxBytes: 1 << 20, SegmentBytes: 2 << 10})
	for i := range 300 { // one at a time, so that segments fill one batch at a time
		if _, err := s.Append(context.Background(), payload(i)); err != nil {
			t.Fatal(err)
		}
	}
	st := s.Stats()
	if st.Records != 300 || st.Oldest.IsZero() || st.Bytes <= 0 {
		t.Fatalf("stats after 300 appends: %+v", st)
	}
	r := s.NewReader()
	recs := readAll(t, r, 300)
	got := payloadSet(recs)
	for i := range 300 {
		if !got[string(payload(i))] {
			t.Fatalf("record %d not read", i)
		}
	}
	segsBefore := countSegments(t, dir)
	if segsBefore < 5 {
		t.Fatalf("%d segments for 300 records in 2 KiB segments", segsBefore)
	}
	if err := s.Ack(recs[149].Seq); err != nil {
		t.Fatal(err)
	}
	if st := s.Stats(); st.Records != 150 || st.Forwarded != recs[149].Seq {
		t.Fatalf("after acking 150: %+v", st)
	}
	if n := countSegments(t, dir); n >= segsBefore {
		t.Errorf("%d segments after acking half, %d before: forwarded segments not deleted", n, segsBefore)
	}
	// More appends are seen by the same reader.
	appendN(t, s, 300, 310)
	more := readAll(t, r, 10)
	if !payloadSet(more)[string(payload(305))] {
		t.Error("records appended after the reader caught up not read")
	}
	if err := s.Ack(more[9].Seq); err != nil {
		t.Fatal(err)
	}
	if st := s.Stats(); st.Records != 0 || st.Bytes != 0 || !st.Oldest.IsZero() {
		t.Fatalf("after acking everything: %+v", st)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if n := countSegments(t, dir); n != 0 {
		t.Errorf("%d segments left after everything was forwarded and the spool closed", n)
	}
	s2, rec := open(t, dir, spool.DefaultOptions())
	defer s2.Close()
	if rec.Records != 0 || len(rec.Damaged) != 0 {
		t.Errorf("reopened after everything was forwarded: %+v", rec)
	}
}

func countSegments(t *testing.T, dir string) int {
	t.Helper()
	m, err := filepath.Glob(filepath.Join(dir, "*.seg"))
	if err != nil {
		t.Fatal(err)
	}
	return len(m)
}

// TestCrashKeepsSyncedRecords: a crash (no Close) after appends and a partial ack: reopened, the
// spool holds exactly the records not acknowledged, readable in order.
func TestCrashKeepsSyncedRecords(t *testing.T) {
	dir := t.TempDir()
	opts := spool.Options{MaxBytes: 1 << 20, SegmentBytes: 4 << 10}
	s, _ := open(t, dir, opts)
	appendN(t, s, 0, 100)
	recs := readAll(t, s.NewReader(), 100)
	if err := s.Ack(recs[39].Seq); err != nil {
		t.Fatal(err)
	}
	s.Crash()

	s2, rec := open(t, dir, opts)
	if rec.Records != 60 || len(rec.Damaged) != 0 || rec.Forwarded != recs[39].Seq {
		t.Fatalf("recovery: %+v", rec)
	}
	again := readAll(t, s2.NewReader(), 60)
	for i, r := range again {
		if !bytes.Equal(r.Payload, recs[40+i].Payload) || r.Seq != recs[40+i].Seq {
			t.Fatalf("record %d after recovery: seq %d %q, want seq %d %q", i, r.Seq, r.Payload, recs[40+i].Seq, recs[40+i].Payload)
		}
	}
	// New records follow the recovered ones, in a new segment.
	rec2, err := s2.Append(context.Background(), []byte("after restart"))
	if err != nil {
		t.Fatal(err)
	}
	if rec2.Seq <= recs[99].Seq {
		t.Errorf("sequence %d after restart, not above %d", rec2.Seq, recs[99].Seq)
	}
	s2.Close()
}

// damage appends five records, crashes, and lets mangle change the segment file; it returns the
// recovery of the reopened spool, the records then readable, and the five originals.
func damage(t *testing.T, mangle func(t *testing.T, path string, recs []spool.Record)) (spool.Recovery, []spool.Record, []spool.Record, string) {
	t.Helper()
	dir := t.TempDir()
	s, _ := open(t, dir, spool.DefaultOptions())
	var recs []spool.Record
	for i := range 5 {
		r, err := s.Append(context.Background(), payload(i))
		if err != nil {
			t.Fatal(err)
		}
		recs = append(recs, r)
	}
	s.Crash()
	segs, _ := filepath.Glob(filepath.Join(dir, "*.seg"))
	if len(segs) != 1 {
		t.Fatalf("%d segments", len(segs))
	}
	mangle(t, segs[0], recs)
	s2, rec := open(t, dir, spool.DefaultOptions())
	defer s2.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
	defer cancel()
	var got []spool.Record
	r := s2.NewReader()
	for {
		x, err := r.Next(ctx)
		if err != nil {
			break
		}
		got = append(got, x)
	}
	return rec, got, recs, dir
}

// offsetOf returns where record i starts in the segment (records are written one after another).
func offsetOf(recs []spool.Record, i int) int64 {
	var off int64
	for _, r := range recs[:i] {
		off += r.Size()
	}
	return off
}

func wantKept(t *testing.T, got, recs []spool.Record, lost int) {
	t.Helper()
	var want []spool.Record
	for i, r := range recs {
		if i != lost {
			want = append(want, r)
		}
	}
	if len(got) != len(want) {
		t.Fatalf("%d records after recovery, want %d", len(got), len(want))
	}
	for i := range want {
		if got[i].Seq != want[i].Seq || !bytes.Equal(got[i].Payload, want[i].Payload) {
			t.Fatalf("record %d after recovery: %d %q, want %d %q", i, got[i].Seq, got[i].Payload, want[i].Seq, want[i].Payload)
		}
	}
}

func wantSetAside(t *testing.T, dir string, d spool.Damage, want []byte) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, spool.DamagedDir, fmt.Sprintf("%s.%d.damaged", d.Segment, d.Offset)))
	if err != nil {
		t.Fatalf("damaged bytes not set aside: %v", err)
	}
	if !bytes.Equal(b, want) {
		t.Fatalf("set aside %d bytes, want the %d damaged ones", len(b), len(want))
	}
}

func TestRecoveryTornTail(t *testing.T) {
	var orig []byte
	rec, got, recs, dir := damage(t, func(t *testing.T, path string, recs []spool.Record) {
		b, _ := os.ReadFile(path)
		orig = b
		cut := offsetOf(recs, 4) + recs[4].Size()/2
		if err := os.Truncate(path, cut); err != nil {
			t.Fatal(err)
		}
	})
	wantKept(t, got, recs, 4)
	if len(rec.Damaged) != 1 || !rec.Damaged[0].Tail || rec.Damaged[0].Offset != offsetOf(recs, 4) {
		t.Fatalf("damage reported: %+v", rec.Damaged)
	}
	d := rec.Damaged[0]
	wantSetAside(t, dir, d, orig[d.Offset:d.Offset+d.Length])
	rep, err := spool.Inspect(dir, nil)
	if err != nil || rep.Records != 4 || len(rep.SetAside) != 1 || len(rep.Damaged) != 1 {
		t.Errorf("inspect after recovery: %+v %v", rep, err)
	}
}

func TestRecoveryFlippedByte(t *testing.T) {
	for _, tc := range []struct {
		name string
		at   func(recs []spool.Record) int64
	}{
		{"payload", func(recs []spool.Record) int64 { return offsetOf(recs, 2) + spool.FrameHeaderSize + 3 }},
		{"length field", func(recs []spool.Record) int64 { return offsetOf(recs, 2) + 5 }},
		{"magic", func(recs []spool.Record) int64 { return offsetOf(recs, 2) }},
		{"sequence number", func(recs []spool.Record) int64 { return offsetOf(recs, 2) + 12 }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var mangled []byte
			rec, got, recs, dir := damage(t, func(t *testing.T, path string, recs []spool.Record) {
				b, _ := os.ReadFile(path)
				b[tc.at(recs)] ^= 0x40
				mangled = b
				if err := os.WriteFile(path, b, 0o600); err != nil {
					t.Fatal(err)
				}
			})
			wantKept(t, got, recs, 2)
			if len(rec.Damaged) != 1 || rec.Damaged[0].Tail || rec.Damaged[0].Offset != offsetOf(recs, 2) || rec.Damaged[0].Length != recs[2].Size() {
				t.Fatalf("damage reported: %+v (record 2 at %d, %d bytes)", rec.Damaged, offsetOf(recs, 2), recs[2].Size())
			}
			d := rec.Damaged[0]
			wantSetAside(t, dir, d, mangled[d.Offset:d.Offset+d.Length])
		})
	}
}

func TestFullRefusesUntilForwarded(t *testing.T) {
	dir := t.TempDir()
	s, _ := open(t, dir, spool.Options{MaxBytes: 4 << 10, SegmentBytes: 1 << 10})
	defer s.Close()
	big := bytes.Repeat([]byte{'b'}, 200)
	var kept []spool.Record
	for {
		r, err := s.Append(context.Background(), big)
		if errors.Is(err, spool.ErrFull) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		kept = append(kept, r)
		if len(kept) > 100 {
			t.Fatal("never full")
		}
	}
	if st := s.Stats(); !st.Full || st.DiskBytes > 4<<10 {
		t.Fatalf("stats when full: %+v", st)
	}
	recs := readAll(t, s.NewReader(), len(kept))
	if err := s.Ack(recs[len(recs)/2].Seq); err != nil {
		t.Fatal(err)
	}
	if st := s.Stats(); st.Full {
		t.Fatalf("still full after forwarding half: %+v", st)
	}
	if _, err := s.Append(context.Background(), big); err != nil {
		t.Fatalf("append after space was freed: %v", err)
	}
}

func TestSecondOpenRefused(t *testing.T) {
	dir := t.TempDir()
	s, _ := open(t, dir, spool.DefaultOptions())
	defer s.Close()
	if _, _, err := spool.Open(dir, spool.DefaultOptions(), quiet()); !errors.Is(err, spool.ErrLocked) {
		t.Fatalf("second open of a spool in use: %v, want ErrLocked", err)
	}
}

// FuzzScan: whatever the bytes of a segment, the scanner never panics, every frame it returns carries
// a matching checksum (it re-encodes to the same bytes) with increasing sequence numbers, and the
// frames and the damage cover the data exactly, without overlap.
func FuzzScan(f *testing.F) {
	var good []byte
	for i := range 4 {
		good = spool.AppendFrame(good, uint64(i+1), int64(1000*i), payload(i))
	}
	f.Add(good)
	f.Add(good[:len(good)-7])
	flipped := bytes.Clone(good)
	flipped[40] ^= 1
	f.Add(flipped)
	f.Add([]byte("ISP1ISP1ISP1"))
	f.Fuzz(func(t *testing.T, data []byte) {
		type span struct{ off, n int64 }
		var spans []span
		var last uint64
		dmg := spool.Scan(data, func(off int64, seq uint64, p []byte) {
			if len(spans) > 0 && seq <= last {
				t.Fatalf("sequence %d after %d", seq, last)
			}
			last = seq
			n := int64(spool.FrameHeaderSize + len(p))
			re := spool.AppendFrame(nil, seq, 0, p)
			if !bytes.Equal(data[off+4:off+8], re[4:8]) || !bytes.Equal(data[off+spool.FrameHeaderSize:off+n], p) {
				t.Fatalf("frame at %d does not match its bytes", off)
			}
			spans = append(spans, span{off, n})
		})
		for _, d := range dmg {
			spans = append(spans, span{d.Offset, d.Length})
		}
		covered := make([]bool, len(data))
		for _, s := range spans {
			for i := s.off; i < s.off+s.n; i++ {
				if covered[i] {
					t.Fatalf("byte %d covered twice", i)
				}
				covered[i] = true
			}
		}
		for i, c := range covered {
			if !c {
				t.Fatalf("byte %d neither in a frame nor in damage", i)
			}
		}
	})
}

func BenchmarkAppendParallel(b *testing.B) {
	s, _, err := spool.Open(b.TempDir(), spool.Options{MaxBytes: 8 << 30, SegmentBytes: 64 << 20}, quiet())
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	p := bytes.Repeat([]byte{'p'}, 1500)
	b.SetBytes(int64(len(p)))
	b.SetParallelism(16)
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := s.Append(context.Background(), p); err != nil {
				b.Fatal(err)
			}
		}
	})
}
