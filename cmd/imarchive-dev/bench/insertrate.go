package bench

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/imarchive/imarchive/pipeline"
)

// The flush policy, measured: the insert rate per table of 1 and 3 consumers catching up a backlog,
// and end-to-end latency at a light load, with today's policy (InsertInterval shared by the group's
// writers, a batch written at once when caught up) and the one before it (batches of at most 5000
// rows written when full or a second old, no interval), in the same run.

// flushMode is a flush policy the phase measures.
type flushMode struct {
	name string
	cfg  func() pipeline.Config
}

var flushModes = []flushMode{
	{"before", func() pipeline.Config {
		c := pipeline.DefaultConfig()
		c.BatchRows, c.InsertInterval, c.NoCaughtUpFlush = 5000, 0, true
		return c
	}},
	{"after", pipeline.DefaultConfig},
}

// policyNote describes a consumer configuration's flush policy.
func policyNote(c pipeline.Config) string {
	if c.InsertInterval == 0 && c.NoCaughtUpFlush {
		return fmt.Sprintf("the policy before issue 18: batches ≤ %d rows written when full or %s old, no insert interval", c.BatchRows, c.BatchWait)
	}
	return fmt.Sprintf("today's policy: ≤ %d rows / %d MiB a batch, written when full, caught up or %s old, at most one per %s × the group's writers", c.BatchRows, c.BatchBytes>>20, c.BatchWait, c.InsertInterval)
}

const (
	nameInsertRate = "inserts per second into the busiest table, records offered faster than consumed"
	nameLight      = "end to end at light load: acknowledged → visible in message_history"
)

// insertRatePhase measures each flush mode: the insert rate of 1 and 3 consumers catching up, then
// end-to-end latency at the light rate.
func (b *run) insertRatePhase(ctx context.Context) error {
	var errs []error
	for _, m := range flushModes {
		for _, n := range []int{1, 3} {
			name := fmt.Sprintf("%s, %d consumer%s, %s", nameInsertRate, n, map[bool]string{true: "s"}[n > 1], m.name)
			row := b.add(failed(areaInsert, name, errors.New("not run")))
			if err := b.insertRateRun(ctx, m, n, name, row); err != nil {
				*row = failed(areaInsert, name, err)
				errs = append(errs, err)
			}
		}
	}
	for _, m := range flushModes {
		title := nameLight + ", " + m.name
		row := b.add(failed(areaInsert, title, errors.New("not run")))
		// Long enough for a few dozen callbacks at the light rate.
		d := max(3*b.cfg.Duration, time.Duration(40/b.cfg.LightRate*float64(time.Second)))
		if err := b.e2eRun(ctx, row, title, m.cfg(), b.cfg.LightRate, d, true); err != nil {
			*row = failed(areaInsert, title, err)
			errs = append(errs, err)
			continue
		}
		row.Area = areaInsert
	}
	return errors.Join(errs...)
}

// tableCounts reads the insert latency histogram's count per table from registries.
func tableCounts(regs []*prometheus.Registry) map[string]uint64 {
	out := map[string]uint64{}
	for _, reg := range regs {
		mfs, err := reg.Gather()
		if err != nil {
			continue
		}
		for _, mf := range mfs {
			if mf.GetName() != insertLatency {
				continue
			}
			for _, m := range mf.GetMetric() {
				for _, l := range m.GetLabel() {
					if l.GetName() == "table" {
						out[l.GetValue()] += m.GetHistogram().GetSampleCount()
					}
				}
			}
		}
	}
	return out
}

// insertRateRun starts n consumers of mode in one new group at the end of the rate topics, then
// produces copies of ingest's records to them at full speed for a window (more than the consumers
// write: a heavy load), and fills row with the inserts per second into the table that received most
// during the window, and the data parts created meanwhile (system.parts' block numbers).
func (b *run) insertRateRun(ctx context.Context, m flushMode, n int, name string, row *Row) error {
	if len(b.pairs) == 0 {
		return errors.New("no records: the ingest run failed")
	}
	b.groups++
	group := fmt.Sprintf("imarchive-bench-%s-%d", b.id, b.groups)
	var cs []*consumers
	defer func() {
		for _, c := range cs {
			if err := c.stop(); err != nil {
				b.log.Error("insert rate consumers", "err", err)
			}
		}
	}()
	atEnd := kgo.ConsumeResetOffset(kgo.NewOffset().AtEnd())
	for range n {
		c, err := startConsumers(ctx, b.rateTopics, b.conn, group, false, m.cfg(), atEnd)
		if err != nil {
			return err
		}
		cs = append(cs, c)
	}
	if err := b.waitAssigned(ctx, group, n); err != nil {
		return err
	}
	regs := make([]*prometheus.Registry, len(cs))
	for i, c := range cs {
		regs[i] = c.reg
	}
	written := func() float64 {
		w := 0.0
		for _, c := range cs {
			w += c.written("events")
		}
		return w
	}
	p, err := franzProducer(b.rateTopics, true)
	if err != nil {
		return err
	}
	defer p.close()
	partsBefore, err := pipeline.ReadTableParts(ctx, b.conn)
	if err != nil {
		return err
	}
	countsBefore, writtenBefore := tableCounts(regs), written()
	window := max(2*b.cfg.Duration, 10*time.Second)
	t0 := time.Now()
	sent := closedLoop(ctx, b.cfg.Concurrency, window, func(ctx context.Context, i int) error { return p.send(ctx, b.pairs[i%len(b.pairs)]) })
	elapsed := time.Since(t0).Seconds()
	counts, rows := tableCounts(regs), written()-writtenBefore
	partsAfter, err := pipeline.ReadTableParts(ctx, b.conn)
	if err != nil {
		return err
	}
	if sent.errs > 0 {
		return fmt.Errorf("%d sends failed, first: %w", sent.errs, sent.firstE)
	}
	var busiest string
	for t, c := range counts {
		d := c - countsBefore[t]
		if busiest == "" || d > counts[busiest]-countsBefore[busiest] || (d == counts[busiest]-countsBefore[busiest] && t < busiest) {
			busiest = t
		}
	}
	if busiest == "" {
		return errors.New("no insert during the window")
	}
	inserts := counts[busiest] - countsBefore[busiest]
	perSec := float64(inserts) / elapsed
	parts := partsAfter[busiest].Created - partsBefore[busiest].Created
	var others []string
	for _, t := range slices.Sorted(maps.Keys(counts)) {
		if t != busiest {
			others = append(others, fmt.Sprintf("%s %d", t, counts[t]-countsBefore[t]))
		}
	}
	if len(others) == 0 {
		others = []string{"none"}
	}
	*row = noLatency(Row{Area: areaInsert, Name: name, Value: perSec, Unit: "inserts/s",
		Compare: fmt.Sprintf("%.0f parts/min; ClickHouse's guidance ~1 insert/s per table: %s", float64(parts)/elapsed*60, verdict(perSec <= 1.2)),
		Note: fmt.Sprintf("%s; %.0f s of records offered at full speed (%.0f/s), %.0f rows written meanwhile (%.0f rows/s, %.0f rows an insert); %s: %d inserts, %d parts created (system.parts block numbers); other tables: %s",
			policyNote(m.cfg()), elapsed, sent.rate(), rows, rows/elapsed, rows/max(float64(inserts), 1), busiest, inserts, parts, strings.Join(others, ", "))})
	return nil
}

// waitAssigned waits until group is stable with every member holding partitions: a group that starts
// at the topics' ends reads only what is produced after that.
func (b *run) waitAssigned(ctx context.Context, group string, members int) error {
	adm := kadm.NewClient(b.admin)
	deadline := time.Now().Add(time.Minute)
	for {
		gs, err := adm.DescribeGroups(ctx, group)
		if err == nil && gs[group].State == "Stable" && len(gs[group].Members) == members {
			ok := true
			for _, m := range gs[group].Members {
				c, isConsumer := m.Assigned.AsConsumer()
				ok = ok && isConsumer && len(c.Topics) > 0
			}
			if ok {
				// The members fetch from the end once assigned: give them a moment to list it.
				time.Sleep(500 * time.Millisecond)
				return nil
			}
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("group %s not assigned within a minute (last error %v)", group, err)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
}
