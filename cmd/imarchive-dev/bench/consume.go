package bench

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"reflect"
	"slices"
	"sync"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2"
	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/imarchive/imarchive/kafka"
	"github.com/imarchive/imarchive/pipeline"
	"github.com/imarchive/imarchive/queries"
)

// endOffsets sums the end offsets of a topic's partitions: the records in it.
func endOffsets(ctx context.Context, tc kafka.Config, topic string) (int64, error) {
	cl, err := kgo.NewClient(tc.ClientOptions(discard)...)
	if err != nil {
		return 0, fmt.Errorf("kafka client: %w", err)
	}
	defer cl.Close()
	lo, err := kadm.NewClient(cl).ListEndOffsets(ctx, topic)
	if err == nil {
		err = lo.Error()
	}
	if err != nil {
		return 0, fmt.Errorf("end offsets of %s: %w", topic, err)
	}
	var n int64
	lo.Each(func(o kadm.ListedOffset) { n += o.Offset })
	return n, nil
}

// counter reads a counter of reg with the given consumer label, 0 when absent.
func counter(reg *prometheus.Registry, name, consumer string) float64 {
	mfs, err := reg.Gather()
	if err != nil {
		return 0
	}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		for _, m := range mf.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == "consumer" && l.GetValue() == consumer {
					return m.GetCounter().GetValue()
				}
			}
		}
	}
	return 0
}

const rowsWritten = "imarchive_pipeline_rows_written_total"

// consumers runs the pipeline's consumers as imarchive consume builds them: the events consumer and,
// with raw, the raw archive's, in groups of their own.
type consumers struct {
	reg    *prometheus.Registry
	cancel context.CancelFunc
	done   chan error
	closes []func()
}

func startConsumers(ctx context.Context, tc kafka.Config, conn driver.Conn, group string, raw bool, pcfg pipeline.Config, extra ...kgo.Opt) (*consumers, error) {
	pcfg.Group = group
	reg := prometheus.NewRegistry()
	c := &consumers{reg: reg}
	ev, err := pipeline.NewEventConsumer(pcfg, tc, conn, discard, reg, extra...)
	if err != nil {
		return nil, err
	}
	c.closes = append(c.closes, ev.Close)
	runs := []func(context.Context) error{ev.Run}
	if raw {
		rc, err := pipeline.NewRawConsumer(pcfg, tc, conn, discard, reg, extra...)
		if err != nil {
			ev.Close()
			return nil, err
		}
		c.closes = append(c.closes, rc.Close)
		runs = append(runs, rc.Run)
	}
	rctx, cancel := context.WithCancel(ctx)
	c.cancel = cancel
	c.done = make(chan error, 1)
	go func() {
		errs := make([]error, len(runs))
		var wg sync.WaitGroup
		for i, run := range runs {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if errs[i] = run(rctx); errs[i] != nil {
					cancel()
				}
			}()
		}
		wg.Wait()
		c.done <- errors.Join(errs...)
	}()
	return c, nil
}

func (c *consumers) written(consumer string) float64 { return counter(c.reg, rowsWritten, consumer) }

const insertLatency = "imarchive_pipeline_insert_latency_seconds"

// inserts snapshots the consumers' insert latency histogram.
func (c *consumers) inserts() histogram {
	return readHistogram([]*prometheus.Registry{c.reg}, insertLatency)
}

// insertNote says how long ClickHouse took to acknowledge the inserts of h.
func insertNote(h histogram) string {
	if h.n == 0 {
		return "no insert"
	}
	p50, p99 := h.quantiles()
	return fmt.Sprintf("%d inserts (one per table and batch), p50 ≤ %s ms, p99 ≤ %s ms (histogram buckets)", h.n, ms(p50), ms(p99))
}

// stop ends the consumers after their batch in hand and returns what they failed with.
func (c *consumers) stop() error {
	c.cancel()
	err := <-c.done
	for _, cl := range c.closes {
		cl()
	}
	return err
}

// throughput is a catch-up run's figures.
type throughput struct {
	rows          float64       // rows written and committed
	first, last   time.Duration // from the start until the first and the last batch was committed
	rowsFirst     float64       // rows committed with the first batch(es), at first
	steadyPerSec  float64       // (rows - rowsFirst) / (last - first)
	overallPerSec float64       // rows / last: including joining the group and the first batch
}

// catchUp waits until each named consumer has committed its wanted rows, sampling every 10 ms, for
// at most limit.
func (c *consumers) catchUp(ctx context.Context, want map[string]float64, limit time.Duration) (throughput, error) {
	start := time.Now()
	var t throughput
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for {
		// Rows past a consumer's want are not counted: a run is done when the slowest is.
		n, done := 0.0, true
		for name, w := range want {
			got := c.written(name)
			n += min(got, w)
			done = done && got >= w
		}
		el := time.Since(start)
		if n > 0 && t.first == 0 {
			t.first, t.rowsFirst = el, n
		}
		if done {
			t.rows, t.last = n, el
			t.overallPerSec = n / t.last.Seconds()
			t.steadyPerSec = t.overallPerSec // all in the first commit: no steady state to tell apart
			if t.last > t.first && n > t.rowsFirst {
				t.steadyPerSec = (n - t.rowsFirst) / (t.last - t.first).Seconds()
			}
			return t, nil
		}
		select {
		case <-ctx.Done():
			return t, ctx.Err()
		case err := <-c.done:
			c.done <- err
			return t, fmt.Errorf("consumers stopped after %.0f rows of %v: %w", n, want, err)
		case <-tick.C:
		}
		if el > limit {
			return t, fmt.Errorf("consumers wrote %.0f rows of %v in %s", n, want, limit)
		}
	}
}

// e2eResult is the end-to-end run's figures: ms from a callback's acknowledgement (the load
// generator's receipt of the 200) to its message showing in message_history.
type e2eResult struct {
	acked, seen int
	lat         []float64 // sorted
	polls       int
	pollMs      []float64 // sorted durations of the queries
}

// visibility polls the named query message_history for the messages the load generator logs as
// accepted (in acceptedLog, while it grows) and records when each one first shows. It ends when ctx
// ends; then it keeps going until every acknowledged message was seen or drain passed.
type visibility struct {
	conn     driver.Conn
	query    queries.Query
	app      string
	channel  string
	poll     time.Duration
	logPath  string
	ackedAt  map[string]time.Time // msg id → acknowledgement
	sentMs   map[string]int64     // msg id → the message's own time (msg_time)
	seenAt   map[string]time.Time
	pollDurs []float64
	offset   int64
	partial  []byte
}

func newVisibility(conn driver.Conn, app, channel, logPath string, poll time.Duration) (*visibility, error) {
	q, err := queries.Get("message_history")
	if err != nil {
		return nil, err
	}
	return &visibility{conn: conn, query: q, app: app, channel: channel, poll: poll, logPath: logPath,
		ackedAt: map[string]time.Time{}, sentMs: map[string]int64{}, seenAt: map[string]time.Time{}}, nil
}

// readLog takes the complete lines added to the accepted log since the last read.
func (v *visibility) readLog() error {
	f, err := os.Open(v.logPath)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	defer f.Close()
	if _, err := f.Seek(v.offset, io.SeekStart); err != nil {
		return err
	}
	b, err := io.ReadAll(f)
	if err != nil {
		return err
	}
	v.offset += int64(len(b))
	b = append(v.partial, b...)
	last := bytes.LastIndexByte(b, '\n')
	if last < 0 {
		v.partial = b
		return nil
	}
	v.partial = append([]byte(nil), b[last+1:]...)
	sc := bufio.NewScanner(bytes.NewReader(b[:last+1]))
	for sc.Scan() {
		at, rec, err := parseStamped(sc.Bytes())
		if err != nil {
			return err
		}
		if rec.Retry {
			continue
		}
		v.ackedAt[rec.ID] = at
		v.sentMs[rec.ID] = rec.TimeMs
	}
	return sc.Err()
}

// pollOnce queries the messages sent since the oldest acknowledged one not seen yet.
func (v *visibility) pollOnce(ctx context.Context) error {
	if err := v.readLog(); err != nil {
		return fmt.Errorf("accepted log: %w", err)
	}
	from := int64(-1)
	for id, ms := range v.sentMs {
		if _, ok := v.seenAt[id]; !ok && (from < 0 || ms < from) {
			from = ms
		}
	}
	if from < 0 {
		return nil // nothing acknowledged and unseen
	}
	params, err := v.query.Bind(map[string]string{
		"app": v.app, "channel_id": v.channel,
		"from": fmt.Sprint(from - 1000), "to": fmt.Sprint(time.Now().Add(time.Hour).UnixMilli()),
	})
	if err != nil {
		return err
	}
	t0 := time.Now()
	rows, err := v.conn.Query(clickhouse.Context(ctx, clickhouse.WithParameters(params)), v.query.SQL)
	if err != nil {
		return fmt.Errorf("query message_history: %w", err)
	}
	defer rows.Close()
	var dest []any
	idCol := -1
	for rows.Next() {
		if dest == nil { // the column types are known once the first block arrived
			cols := rows.Columns()
			if idCol = slices.Index(cols, "msg_id"); idCol < 0 {
				return fmt.Errorf("message_history has no msg_id column (has %v)", cols)
			}
			for _, ct := range rows.ColumnTypes() {
				dest = append(dest, newScan(ct.ScanType()))
			}
		}
		if err := rows.Scan(dest...); err != nil {
			return fmt.Errorf("scan message_history: %w", err)
		}
		id := *(dest[idCol].(*string))
		if _, ok := v.seenAt[id]; !ok {
			v.seenAt[id] = t0
		}
	}
	v.pollDurs = append(v.pollDurs, float64(time.Since(t0).Microseconds())/1000)
	return rows.Err()
}

func (v *visibility) unseen() int {
	n := 0
	for id := range v.ackedAt {
		if _, ok := v.seenAt[id]; !ok {
			n++
		}
	}
	return n
}

// run polls until ctx ends, then until every acknowledged message was seen or drain passed.
func (v *visibility) run(ctx context.Context, drain time.Duration) error {
	tick := time.NewTicker(v.poll)
	defer tick.Stop()
	var deadline time.Time
	qctx := context.WithoutCancel(ctx)
	for {
		if err := v.pollOnce(qctx); err != nil {
			return err
		}
		if ctx.Err() != nil {
			if deadline.IsZero() {
				deadline = time.Now().Add(drain)
				if err := v.readLog(); err != nil { // the generator's last lines
					return err
				}
				continue
			}
			if v.unseen() == 0 {
				return nil
			}
			if time.Now().After(deadline) {
				return fmt.Errorf("%d of %d acknowledged messages not visible %s after the load ended", v.unseen(), len(v.ackedAt), drain)
			}
		}
		<-tick.C
	}
}

func (v *visibility) result() e2eResult {
	r := e2eResult{acked: len(v.ackedAt), polls: len(v.pollDurs), pollMs: slices.Sorted(slices.Values(v.pollDurs))}
	for id, at := range v.ackedAt {
		if s, ok := v.seenAt[id]; ok {
			r.seen++
			r.lat = append(r.lat, float64(s.Sub(at).Microseconds())/1000)
		}
	}
	slices.Sort(r.lat)
	return r
}

func newScan(t reflect.Type) any { return reflect.New(t).Interface() }
