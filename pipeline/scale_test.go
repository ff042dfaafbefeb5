package pipeline_test

// The flush policy and the partition-stall signal against franz-go's in-process Kafka (kfake), with
// fake sinks that record when they were asked to write: when batches are written (caught up, the
// insert interval shared by the group's writers) and when a partition is reported stalled.

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/imarchive/imarchive/pipeline"
)

// timedSink is a fakeSink that also records when each Write began.
type timedSink struct {
	*fakeSink
	mu sync.Mutex
	at []time.Time
}

func newTimedSink() *timedSink { return &timedSink{fakeSink: &fakeSink{}} }

func (s *timedSink) Write(ctx context.Context, items []pipeline.Item[string], token string) error {
	s.mu.Lock()
	s.at = append(s.at, time.Now())
	s.mu.Unlock()
	return s.fakeSink.Write(ctx, items, token)
}

func (s *timedSink) times() []time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]time.Time(nil), s.at...)
}

// gauge reads a gauge of reg (the sum over its series whose labels include the given ones).
func gauge(reg *prometheus.Registry, name string, labels map[string]string) (float64, bool) {
	mfs, _ := reg.Gather()
	sum, found := 0.0, false
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
	series:
		for _, m := range mf.GetMetric() {
			for k, v := range labels {
				ok := false
				for _, l := range m.GetLabel() {
					ok = ok || (l.GetName() == k && l.GetValue() == v)
				}
				if !ok {
					continue series
				}
			}
			sum += m.GetGauge().GetValue()
			found = true
		}
	}
	return sum, found
}

// TestFlushWhenCaughtUp: a record that arrives when nothing else waits is written at once, not after
// BatchWait (a minute here); the next one waits for the insert interval since that write, not
// longer.
func TestFlushWhenCaughtUp(t *testing.T) {
	r := newCommitRig(t, 1)
	cfg := r.cfg
	cfg.BatchWait = time.Minute
	cfg.InsertInterval = 2 * time.Second
	s := newTimedSink()
	r.startSink(s, cfg)
	eventually(t, "the member to hold the partition", func() bool { return r.members(cfg.Group) == 1 })

	r.produce(0, "first")
	eventually(t, "the first record written, long before BatchWait", func() bool { return len(s.times()) == 1 })
	r.produce(0, "second")
	eventually(t, "the second record written", func() bool { return len(s.times()) == 2 })
	at := s.times()
	if gap := at[1].Sub(at[0]); gap < cfg.InsertInterval-50*time.Millisecond {
		t.Errorf("the second batch followed the first after %s: the insert interval is %s", gap, cfg.InsertInterval)
	}
	_, written := s.snapshot()
	if fmt.Sprint(written) != "[first second]" {
		t.Errorf("written %v", written)
	}
}

// TestInsertIntervalSharedByWriters: with two members holding partitions, each writes at most one
// batch per twice the insert interval, so the group writes each table about once per interval; the
// members learn the group's size from Kafka. A steady flow of records meanwhile never shows a
// partition as stalled.
func TestInsertIntervalSharedByWriters(t *testing.T) {
	r := newCommitRig(t, 4)
	cfg := r.cfg
	cfg.InsertInterval = 400 * time.Millisecond
	cfg.BatchWait = 50 * time.Millisecond
	cfg.StallAfter = 3 * time.Second
	a, b := newTimedSink(), newTimedSink()
	ca := r.startSink(a, cfg)
	cb := r.startSink(b, cfg)
	eventually(t, "both members holding partitions", func() bool { return r.members(cfg.Group) == 2 })
	for _, c := range []*consumer{ca, cb} {
		eventually(t, "each member to count two writers", func() bool {
			v, _ := gauge(c.reg, "imarchive_pipeline_group_writers", nil)
			return v == 2
		})
	}
	from := time.Now()
	ctx, stop := context.WithTimeout(context.Background(), 4*time.Second)
	defer stop()
	stalls := 0
	for i := 0; ctx.Err() == nil; i++ {
		for p := range int32(4) {
			r.produce(p, fmt.Sprintf("v%d-%d", p, i))
		}
		stalls += len(ca.c.Stalled()) + len(cb.c.Stalled())
		time.Sleep(20 * time.Millisecond)
	}
	for name, s := range map[string]*timedSink{"a": a, "b": b} {
		var steady []time.Time
		for _, at := range s.times() {
			if at.After(from) {
				steady = append(steady, at)
			}
		}
		if len(steady) < 3 {
			t.Fatalf("member %s wrote %d batches in 4 s of steady records", name, len(steady))
		}
		for i := 1; i < len(steady); i++ {
			if gap := steady[i].Sub(steady[i-1]); gap < 2*cfg.InsertInterval-50*time.Millisecond {
				t.Errorf("member %s wrote two batches %s apart: two writers share an interval of %s, so each waits %s",
					name, gap.Round(time.Millisecond), cfg.InsertInterval, 2*cfg.InsertInterval)
			}
		}
		t.Logf("member %s: %d batches in the steady part", name, len(steady))
	}
	if stalls > 0 {
		t.Errorf("%d stalled partitions reported while every partition was being written", stalls)
	}
}

// TestPartitionStallReported: a member whose writes never return holds its partitions' lag; once
// their committed offsets have not moved for StallAfter (and not before) they are reported stalled
// — Stalled, with the member's name, and the gauges — and the report clears once writes go through.
func TestPartitionStallReported(t *testing.T) {
	r := newCommitRig(t, 2)
	cfg := r.cfg
	cfg.StallAfter = 3 * time.Second
	cfg.InsertInterval = 0
	s := &fakeSink{entered: make(chan struct{}, 100), block: make(chan struct{})}
	c := r.start(s, cfg)
	eventually(t, "the member to hold both partitions", func() bool { return r.members(cfg.Group) == 1 })
	r.produce(0, values("a", 3)...)
	r.produce(1, values("b", 2)...)
	<-s.entered
	blockedAt := time.Now()
	eventually(t, "the lag and its age to be read", func() bool {
		v, _ := gauge(c.reg, "imarchive_pipeline_partition_commit_age_seconds", map[string]string{"partition": "0"})
		return v > 0
	})
	if since := time.Since(blockedAt); since < cfg.StallAfter-500*time.Millisecond {
		if st := c.c.Stalled(); len(st) > 0 {
			t.Errorf("%v reported stalled %s after the writes stopped: StallAfter is %s", st, since.Round(time.Millisecond), cfg.StallAfter)
		}
	} else {
		t.Logf("the lag was first read %s after the writes stopped: the early check is skipped", since)
	}
	eventually(t, "both partitions reported stalled", func() bool { return len(c.c.Stalled()) == 2 })
	// (the lag may have been read a moment before the write began: half a second of slack)
	if since := time.Since(blockedAt); since < cfg.StallAfter-500*time.Millisecond {
		t.Errorf("reported stalled after %s: StallAfter is %s", since, cfg.StallAfter)
	}
	st := c.c.Stalled()
	if st[0].Partition != 0 || st[0].Lag != 3 || st[1].Partition != 1 || st[1].Lag != 2 || st[0].Member == "" || st[0].Topic != r.tc.Events() {
		t.Errorf("stalls %+v: want partitions 0 (lag 3) and 1 (lag 2) of %s with their member", st, r.tc.Events())
	}
	if v, _ := gauge(c.reg, "imarchive_pipeline_partition_stalled", nil); v != 2 {
		t.Errorf("imarchive_pipeline_partition_stalled sums to %v, want 2", v)
	}
	s.mu.Lock()
	close(s.block)
	s.block = nil
	s.mu.Unlock()
	go func() {
		for range s.entered {
		}
	}()
	eventually(t, "the stall to clear once written", func() bool { return len(c.c.Stalled()) == 0 })
	if v, _ := gauge(c.reg, "imarchive_pipeline_partition_stalled", nil); v != 0 {
		t.Errorf("imarchive_pipeline_partition_stalled sums to %v after the writes went through", v)
	}
}
