package audit

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2"
	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/imarchive/imarchive/pipeline"
	"github.com/imarchive/imarchive/queries"
)

// Kinds of Break.
const (
	BreakAltered    = "altered"     // a raw record's payload or headers differ from what was chained
	BreakReordered  = "reordered"   // the payload found at this offset was chained at another offset
	BreakRemoved    = "removed"     // a chained record is not in the raw archive (and no retention pass explains it)
	BreakUnchained  = "unchained"   // a raw record inside the chained span has no chain row
	BreakLink       = "broken_link" // a chain row does not follow the one before it
	BreakHash       = "bad_hash"    // a chain row's hash does not re-compute
	BreakForked     = "forked"      // two different chain rows for one offset
	BreakAnchor     = "anchor"      // a head recorded earlier is no longer in the chain
	defaultWindow   = 20000
	timeParamLayout = "2006-01-02 15:04:05.000"
)

// Anchor is a chain head recorded outside the database (verify's output, query chain_heads, an
// export's manifest): the chain row at (Partition, Offset) must still have Hash.
type Anchor struct {
	Partition int32
	Offset    int64
	Hash      string
}

// ParseAnchor reads PARTITION:OFFSET:HASH.
func ParseAnchor(s string) (Anchor, error) {
	parts := strings.Split(s, ":")
	if len(parts) != 3 {
		return Anchor{}, fmt.Errorf("anchor %q: want PARTITION:OFFSET:HASH", s)
	}
	p, err1 := strconv.ParseInt(parts[0], 10, 32)
	o, err2 := strconv.ParseInt(parts[1], 10, 64)
	if err := errors.Join(err1, err2); err != nil {
		return Anchor{}, fmt.Errorf("anchor %q: %w", s, err)
	}
	if _, err := Link(parts[2], 0, 0, GenesisHash, GenesisHash); err != nil {
		return Anchor{}, fmt.Errorf("anchor %q: %w", s, err)
	}
	return Anchor{Partition: int32(p), Offset: o, Hash: strings.ToLower(parts[2])}, nil
}

func (a Anchor) String() string { return fmt.Sprintf("%d:%d:%s", a.Partition, a.Offset, a.Hash) }

// Range is what Verify checks: the raw records received in [From, To), in every partition or in
// Partitions only, and the anchors.
type Range struct {
	From, To   time.Time
	Partitions []int32
	Anchors    []Anchor
	// Window is how many offsets are read at once (default 20000).
	Window int64
}

// Validate reports every problem at once.
func (r Range) Validate() error {
	var errs []error
	if r.From.IsZero() || r.To.IsZero() {
		errs = append(errs, errors.New("range: --from and --to are required"))
	} else if !r.From.Before(r.To) {
		errs = append(errs, fmt.Errorf("range: from %s is not before to %s", r.From.Format(time.RFC3339), r.To.Format(time.RFC3339)))
	}
	if r.Window < 0 {
		errs = append(errs, fmt.Errorf("window %d: must be positive", r.Window))
	}
	return errors.Join(errs...)
}

// Break is one place where the archive does not match its chain.
type Break struct {
	Partition int32  `json:"raw_partition"`
	Offset    int64  `json:"raw_offset"`
	Kind      string `json:"kind"`
	Detail    string `json:"detail"`
}

func (b Break) String() string {
	return fmt.Sprintf("partition %d offset %d: %s: %s", b.Partition, b.Offset, b.Kind, b.Detail)
}

// Head is the last chained record of a chain segment (a partition of one Kafka topic ID).
type Head struct {
	Partition int32  `json:"raw_partition"`
	TopicID   string `json:"raw_topic_id"` // Kafka topic ID ("" before schema 0070)
	Offset    int64  `json:"raw_offset"`
	Hash      string `json:"hash"`
}

// Boundary is where a partition's chain goes from one segment to the next: the raw topic's ID changed
// (the topic was deleted and created again, or the pipeline read another Kafka cluster) and offsets
// started again. The new segment's first row links to the old segment's last row.
type Boundary struct {
	Partition     int32  `json:"raw_partition"`
	FromTopicID   string `json:"from_topic_id"`   // the segment that ended ("" before schema 0070)
	FromClusterID string `json:"from_cluster_id"` // its Kafka cluster
	FromOffset    int64  `json:"from_offset"`     // its last chained offset
	TopicID       string `json:"topic_id"`        // the segment that began
	ClusterID     string `json:"cluster_id"`
	Offset        int64  `json:"offset"` // its first chained offset
	Reason        string `json:"reason"`
}

func (b Boundary) String() string {
	return fmt.Sprintf("partition %d: topic id %s (cluster %s) from offset %d follows topic id %s (cluster %s) at offset %d: %s",
		b.Partition, orNone(b.TopicID), orNone(b.ClusterID), b.Offset, orNone(b.FromTopicID), orNone(b.FromClusterID), b.FromOffset, b.Reason)
}

// PartitionReport is what Verify found in one partition.
type PartitionReport struct {
	Partition int32   `json:"raw_partition"`
	First     int64   `json:"first_offset"` // the offset span checked
	Last      int64   `json:"last_offset"`
	Chained   int     `json:"chained"` // chain rows checked
	Matched   int     `json:"matched"` // raw record versions that matched their chain row
	Expired   int     `json:"expired"` // chained records removed by a recorded retention pass
	Pending   int     `json:"pending"` // records the raw archive or the chain has not reached yet
	Breaks    []Break `json:"breaks"`
}

// Report is Verify's result. OK is true when there is no break.
type Report struct {
	From       time.Time         `json:"from"`
	To         time.Time         `json:"to"`
	Partitions []PartitionReport `json:"partitions"`
	Breaks     []Break           `json:"breaks"` // every break, by partition and offset
	Heads      []Head            `json:"heads"`  // every chain segment's head now, for anchoring
	// Boundaries are the segment boundaries met in the range: where the raw topic's ID changed.
	Boundaries []Boundary `json:"boundaries"`
	// RetentionCutoff: raw records received before it may have been deleted by retention pass
	// RetentionRun (by RetentionActor); zero when no pass deleted from the raw archive.
	RetentionCutoff time.Time `json:"retention_cutoff"`
	RetentionRun    string    `json:"retention_run"`
	RetentionActor  string    `json:"retention_actor"`
}

// OK says whether the range verified without a break.
func (r Report) OK() bool { return len(r.Breaks) == 0 }

// First is the first break, by partition then offset; ok is false when there is none.
func (r Report) First() (Break, bool) {
	if len(r.Breaks) == 0 {
		return Break{}, false
	}
	return r.Breaks[0], true
}

// Checked counts the chain rows checked.
func (r Report) Checked() int {
	n := 0
	for _, p := range r.Partitions {
		n += p.Chained
	}
	return n
}

var (
	stmtSpan      = queries.MustStatement("audit_span")
	stmtSegments  = queries.MustStatement("audit_segments")
	stmtChainRows = queries.MustStatement("audit_chain_rows")
	stmtChainPrev = queries.MustStatement("audit_chain_prev")
	stmtChainLink = queries.MustStatement("audit_chain_link")
	stmtRawRows   = queries.MustStatement("audit_raw_rows")
	stmtCutoff    = queries.MustStatement("audit_retention_cutoff")
)

// Progress is told how far Verify is: partition, offsets done of the partition's span.
type Progress func(partition int32, done, total int64)

// Verify checks the range (see the package documentation) and returns what it found. An error means
// the check could not be done (ClickHouse failed), not that the archive is broken: breaks are in the
// Report.
func Verify(ctx context.Context, conn driver.Conn, r Range, progress Progress) (Report, error) {
	if err := r.Validate(); err != nil {
		return Report{}, err
	}
	if r.Window == 0 {
		r.Window = defaultWindow
	}
	rep := Report{From: r.From.UTC(), To: r.To.UTC(), Breaks: []Break{}, Boundaries: []Boundary{}}
	segs, err := readSegments(ctx, conn)
	if err != nil {
		return rep, err
	}
	for _, p := range sortedSegmentPartitions(segs) {
		for _, sg := range segs[p] {
			if sg.head >= 0 {
				rep.Heads = append(rep.Heads, Head{Partition: p, TopicID: sg.topicID, Offset: sg.head, Hash: sg.headHash})
			}
		}
	}
	if err := conn.QueryRow(ctx, stmtCutoff.SQL).Scan(&rep.RetentionCutoff, &rep.RetentionRun, &rep.RetentionActor); err != nil {
		return rep, fmt.Errorf("read retention passes: %w", err)
	}
	if rep.RetentionCutoff.UnixMilli() <= 0 {
		rep.RetentionCutoff = time.Time{}
	}

	spans, err := readSpans(ctx, conn, r)
	if err != nil {
		return rep, err
	}
	want := map[int32]bool{}
	for _, p := range r.Partitions {
		want[p] = true
	}
	// An anchor's offset is checked with the span that leads to it.
	for _, a := range r.Anchors {
		if len(want) > 0 && !want[a.Partition] {
			continue
		}
		s, ok := spans[a.Partition]
		if !ok {
			s = span{first: a.Offset, last: a.Offset}
		}
		s.first, s.last = min(s.first, a.Offset), max(s.last, a.Offset)
		spans[a.Partition] = s
	}
	for _, p := range sortedSpanPartitions(spans) {
		if len(want) > 0 && !want[p] {
			continue
		}
		pr, bounds, err := verifyPartition(ctx, conn, r, p, spans[p], newPartitionSegments(segs[p]), rep.RetentionCutoff, progress)
		if err != nil {
			return rep, err
		}
		rep.Partitions = append(rep.Partitions, pr)
		rep.Breaks = append(rep.Breaks, pr.Breaks...)
		rep.Boundaries = append(rep.Boundaries, bounds...)
	}
	for _, a := range r.Anchors {
		if len(want) > 0 && !want[a.Partition] {
			continue
		}
		if b, ok := checkAnchor(ctx, conn, a); !ok {
			rep.Breaks = append(rep.Breaks, b)
		}
	}
	sort.SliceStable(rep.Breaks, func(i, j int) bool {
		if rep.Breaks[i].Partition != rep.Breaks[j].Partition {
			return rep.Breaks[i].Partition < rep.Breaks[j].Partition
		}
		return rep.Breaks[i].Offset < rep.Breaks[j].Offset
	})
	return rep, nil
}

type span struct{ first, last int64 }

// segmentInfo is one chain segment — a partition of one Kafka topic ID — as ClickHouse holds it.
type segmentInfo struct {
	topicID   string
	first     int64 // first chained offset, -1 when nothing is chained
	head      int64 // last chained offset, -1 when nothing is chained
	headHash  string
	firstPrev string // prev_hash of the first chained row
	clusterID string
	chainedAt time.Time // when its first row was chained
	rawLast   int64     // last offset of the topic ID in the raw archive, -1 when none
}

func readSegments(ctx context.Context, conn driver.Conn) (map[int32][]segmentInfo, error) {
	rows, err := conn.Query(ctx, stmtSegments.SQL)
	if err != nil {
		return nil, fmt.Errorf("read chain segments: %w", err)
	}
	defer rows.Close()
	out := map[int32][]segmentInfo{}
	for rows.Next() {
		var p int32
		var sg segmentInfo
		if err := rows.Scan(&p, &sg.topicID, &sg.first, &sg.head, &sg.headHash, &sg.firstPrev, &sg.clusterID, &sg.chainedAt, &sg.rawLast); err != nil {
			return nil, fmt.Errorf("scan chain segments: %w", err)
		}
		out[p] = append(out[p], sg)
	}
	return out, rows.Err()
}

// partitionSegments are a partition's segments, and the classes of topic IDs whose records are
// matched together. A record's topic ID is its segment, with one exception: rows written before
// schema 0070 have no topic ID (""), and the records around the upgrade may be chained on one side and
// archived on the other; so "" and the segment that continues it (whose first row links to its head)
// are one class.
type partitionSegments struct {
	byTopic map[string]segmentInfo
	class   map[string]string
}

func newPartitionSegments(list []segmentInfo) partitionSegments {
	ps := partitionSegments{byTopic: map[string]segmentInfo{}, class: map[string]string{}}
	for _, sg := range list {
		ps.byTopic[sg.topicID] = sg
	}
	if legacy, ok := ps.byTopic[""]; ok && legacy.head >= 0 {
		for _, sg := range list {
			if sg.topicID != "" && sg.first >= 0 && sg.firstPrev == legacy.headHash {
				ps.class[""] = sg.topicID
			}
		}
	}
	return ps
}

func (ps partitionSegments) classOf(topicID string) string {
	if c, ok := ps.class[topicID]; ok {
		return c
	}
	return topicID
}

// chainedUpTo is the greatest chained offset of a class, -1 when nothing of it is chained.
func (ps partitionSegments) chainedUpTo(class string) int64 {
	return ps.upTo(class, func(sg segmentInfo) int64 { return sg.head })
}

// rawUpTo is the greatest offset of a class in the raw archive, -1 when none.
func (ps partitionSegments) rawUpTo(class string) int64 {
	return ps.upTo(class, func(sg segmentInfo) int64 { return sg.rawLast })
}

func (ps partitionSegments) upTo(class string, offset func(segmentInfo) int64) int64 {
	n := int64(-1)
	for t, sg := range ps.byTopic {
		if ps.classOf(t) == class {
			n = max(n, offset(sg))
		}
	}
	return n
}

func readSpans(ctx context.Context, conn driver.Conn, r Range) (map[int32]span, error) {
	qctx := clickhouse.Context(ctx, clickhouse.WithParameters(clickhouse.Parameters{
		"from": r.From.UTC().Format(timeParamLayout), "to": r.To.UTC().Format(timeParamLayout)}))
	rows, err := conn.Query(qctx, stmtSpan.SQL)
	if err != nil {
		return nil, fmt.Errorf("read offsets of the range: %w", err)
	}
	defer rows.Close()
	out := map[int32]span{}
	for rows.Next() {
		var p int32
		var s span
		if err := rows.Scan(&p, &s.first, &s.last); err != nil {
			return nil, fmt.Errorf("scan offsets of the range: %w", err)
		}
		out[p] = s
	}
	return out, rows.Err()
}

type chainEntry struct {
	offset                       int64
	topicID, clusterID           string
	eventID                      string
	receivedAt                   time.Time
	payload, headers, prev, hash string
}

type rawEntry struct {
	offset           int64
	topicID          string
	payload, headers string
	row              pipeline.RawRow
}

// verifyPartition walks one partition's span in windows of offsets, every segment of it at once: the
// links of each segment (a Kafka topic ID) in offset order, and the raw records at each offset
// against the chain rows there.
func verifyPartition(ctx context.Context, conn driver.Conn, r Range, p int32, s span, ps partitionSegments, cutoff time.Time, progress Progress) (PartitionReport, []Boundary, error) {
	w := &partitionWalk{conn: conn, p: p, ps: ps, cutoff: cutoff,
		pr: PartitionReport{Partition: p, First: s.first, Last: s.last}, prev: map[string]chainLink{}}
	for lo := s.first; lo <= s.last; lo += r.Window {
		hi := min(lo+r.Window-1, s.last)
		if err := w.window(ctx, lo, hi); err != nil {
			return w.pr, nil, err
		}
		if progress != nil {
			progress(p, hi-s.first+1, s.last-s.first+1)
		}
	}
	sort.SliceStable(w.pr.Breaks, func(i, j int) bool { return w.pr.Breaks[i].Offset < w.pr.Breaks[j].Offset })
	return w.pr, w.bounds, nil
}

// partitionWalk is verifyPartition's state: the report so far, the segment boundaries met, and per
// segment the chain row the walk is at.
type partitionWalk struct {
	conn   driver.Conn
	p      int32
	ps     partitionSegments
	cutoff time.Time

	pr     PartitionReport
	bounds []Boundary
	prev   map[string]chainLink
}

func (w *partitionWalk) add(off int64, kind, format string, args ...any) {
	w.pr.Breaks = append(w.pr.Breaks, Break{Partition: w.p, Offset: off, Kind: kind, Detail: fmt.Sprintf(format, args...)})
}

// window checks the offsets lo..hi: the chain's links segment by segment, then the records at each
// offset against the chain rows there.
func (w *partitionWalk) window(ctx context.Context, lo, hi int64) error {
	chain, err := readChain(ctx, w.conn, w.p, lo, hi)
	if err != nil {
		return err
	}
	raws, err := readRaw(ctx, w.conn, w.p, lo, hi)
	if err != nil {
		return err
	}
	// Where each chained payload is, to name a record moved to another offset.
	chainedAt := map[string]int64{}
	for _, c := range chain {
		chainedAt[c.payload] = c.offset
	}
	rawAt := map[int64][]rawEntry{}
	for _, re := range raws {
		rawAt[re.offset] = append(rawAt[re.offset], re)
	}
	// The links, segment by segment: rows come by offset, then topic ID.
	chosenAt := map[int64][]chainEntry{}
	for i := 0; i < len(chain); {
		// The chain rows of one offset and segment: one, or a forged one beside the original.
		j := i + 1
		for j < len(chain) && chain[j].offset == chain[i].offset && chain[j].topicID == chain[i].topicID {
			j++
		}
		c, err := w.link(ctx, chain[i:j])
		if err != nil {
			return err
		}
		i = j
		chosenAt[c.offset] = append(chosenAt[c.offset], c)
	}
	// The records at each offset against the chain rows there.
	offsets := make([]int64, 0, len(chosenAt)+len(rawAt))
	for o := range chosenAt {
		offsets = append(offsets, o)
	}
	for o := range rawAt {
		if _, ok := chosenAt[o]; !ok {
			offsets = append(offsets, o)
		}
	}
	sort.Slice(offsets, func(i, j int) bool { return offsets[i] < offsets[j] })
	for _, o := range offsets {
		matchOffset(&w.pr, w.add, w.ps, chainedAt, o, chosenAt[o], rawAt[o], w.cutoff)
	}
	return nil
}

// link checks the chain rows of one offset and segment (group: one, or a forged one beside the
// original) against the row before in the segment, or the segment's start, and returns the row that
// belongs.
func (w *partitionWalk) link(ctx context.Context, group []chainEntry) (chainEntry, error) {
	c := group[0]
	t := c.topicID
	pl, walking := w.prev[t]
	if !walking {
		// The first row of the segment in the span: the row before it, or the segment's start.
		var err error
		if pl, walking, err = chainPrev(ctx, w.conn, w.p, t, c.offset); err != nil {
			return c, err
		}
	}
	if distinct := distinctHashes(group); len(distinct) > 1 {
		w.add(c.offset, BreakForked, "%d different chain rows for this offset (hashes %s): a chain row was forged beside the original", len(distinct), strings.Join(distinct, ", "))
		// Go on with the one that belongs: it follows the row before and re-computes.
		for _, g := range group {
			if h, err := Link(g.prev, w.p, g.offset, g.payload, g.headers); err == nil && h == g.hash && (!walking || g.prev == pl.hash) {
				c = g
				break
			}
		}
	}
	w.pr.Chained++
	switch {
	case walking && c.prev != pl.hash:
		w.add(c.offset, BreakLink, "prev_hash %s does not match the hash %s of the chain row at offset %d: a record between them was removed, or a chain row was rewritten", short(c.prev), short(pl.hash), pl.offset)
	case !walking:
		b, brk, err := segmentStart(ctx, w.conn, w.p, c, w.ps)
		if err != nil {
			return c, err
		}
		if brk != nil {
			w.pr.Breaks = append(w.pr.Breaks, *brk)
		} else if b != nil {
			w.bounds = append(w.bounds, *b)
		}
	}
	if want, err := Link(c.prev, w.p, c.offset, c.payload, c.headers); err != nil || want != c.hash {
		w.add(c.offset, BreakHash, "the chain row's hash does not re-compute from its fields: the chain row was rewritten")
	}
	w.prev[t] = chainLink{c.offset, c.hash}
	return c, nil
}

// matchOffset checks the raw record versions at offset o against the chain rows there. A version
// matches a chain row with the same payload and headers digests (of any segment: the same record
// read again under a new topic ID was not chained twice). A chain row no version matches is
// altered (a version of its class is there, different), expired, pending or removed; a version that
// matches nothing is altered (a chain row of its class is there), pending, or unchained.
func matchOffset(pr *PartitionReport, add func(int64, string, string, ...any), ps partitionSegments, chainedAt map[string]int64,
	o int64, cs []chainEntry, rs []rawEntry, cutoff time.Time) {
	matched := make([]bool, len(cs))
	explained := make([]bool, len(rs))
	for ri, re := range rs {
		best := -1
		for ci, c := range cs {
			if c.payload == re.payload && c.headers == re.headers && (best < 0 || ps.classOf(c.topicID) == ps.classOf(re.topicID)) {
				best = ci
			}
		}
		if best >= 0 {
			matched[best], explained[ri] = true, true
			pr.Matched++
		}
	}
	for ri, re := range rs {
		if explained[ri] {
			continue
		}
		cls := ps.classOf(re.topicID)
		var c *chainEntry
		for ci := range cs {
			if ps.classOf(cs[ci].topicID) == cls {
				c = &cs[ci]
				matched[ci] = true // explained by this version's break
				break
			}
		}
		switch {
		case c != nil && re.payload != c.payload:
			if other, ok := chainedAt[re.payload]; ok && other != o {
				add(o, BreakReordered, "the payload stored here was chained at offset %d", other)
			} else {
				add(o, BreakAltered, "payload SHA-256 is %s now, %s when chained", short(re.payload), short(c.payload))
			}
		case c != nil:
			add(o, BreakAltered, "headers (source, app, time, event_id, key, path, address or HTTP headers) differ from when chained")
		case o > ps.chainedUpTo(cls):
			pr.Pending++ // the chain has not reached it yet
		default:
			add(o, BreakUnchained, "raw record (event %s, topic id %s) has no chain row: it was inserted, or its chain row removed", orNone(re.row.EventID), orNone(re.topicID))
		}
	}
	for ci, c := range cs {
		if matched[ci] {
			continue
		}
		switch {
		case !cutoff.IsZero() && c.receivedAt.Before(cutoff):
			pr.Expired++
		case o > ps.rawUpTo(ps.classOf(c.topicID)):
			pr.Pending++
		default:
			add(o, BreakRemoved, "chained record (event %s, received %s) is missing from raw_callbacks_data", orNone(c.eventID), c.receivedAt.UTC().Format(timeParamLayout))
		}
	}
}

// chainLink is a chain row's place and hash: what the next row of its segment links to.
type chainLink struct {
	offset int64
	hash   string
}

// chainPrev is the chain row of segment topicID before offset, if there is one.
func chainPrev(ctx context.Context, conn driver.Conn, p int32, topicID string, before int64) (l chainLink, ok bool, err error) {
	qctx := clickhouse.Context(ctx, clickhouse.WithParameters(clickhouse.Parameters{
		"partition": strconv.Itoa(int(p)), "topic_id": topicID, "before": strconv.FormatInt(before, 10)}))
	err = conn.QueryRow(qctx, stmtChainPrev.SQL).Scan(&l.offset, &l.hash)
	if errors.Is(err, sql.ErrNoRows) {
		return l, false, nil
	}
	if err != nil {
		return l, false, fmt.Errorf("partition %d: read the chain row before offset %d: %w", p, before, err)
	}
	return l, true, nil
}

// segmentStart checks the first row of a segment: it starts the partition's chain (the genesis, for
// the first segment only) or links to the last row of another segment — a boundary, returned with
// its reason — and otherwise is a break.
func segmentStart(ctx context.Context, conn driver.Conn, p int32, c chainEntry, ps partitionSegments) (*Boundary, *Break, error) {
	brk := func(kind, format string, args ...any) (*Boundary, *Break, error) {
		return nil, &Break{Partition: p, Offset: c.offset, Kind: kind, Detail: fmt.Sprintf(format, args...)}, nil
	}
	if c.prev == GenesisHash {
		for _, other := range ps.byTopic {
			if other.topicID != c.topicID && other.first >= 0 && other.firstPrev == GenesisHash && other.chainedAt.Before(ps.byTopic[c.topicID].chainedAt) {
				return brk(BreakLink, "a second chain starts from the genesis in this partition (topic id %s; the first was topic id %s): a new segment must link to the one before it, which was removed", orNone(c.topicID), orNone(other.topicID))
			}
		}
		return nil, nil, nil
	}
	var from struct {
		topicID, clusterID string
		offset             int64
	}
	qctx := clickhouse.Context(ctx, clickhouse.WithParameters(clickhouse.Parameters{"partition": strconv.Itoa(int(p)), "hash": c.prev}))
	err := conn.QueryRow(qctx, stmtChainLink.SQL).Scan(&from.topicID, &from.offset, &from.clusterID)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return brk(BreakLink, "prev_hash %s, but no chain row precedes it and it is not the genesis: the records before it were removed", short(c.prev))
	case err != nil:
		return nil, nil, fmt.Errorf("partition %d: find the chain row with hash %s: %w", p, short(c.prev), err)
	case from.topicID == c.topicID:
		return brk(BreakLink, "prev_hash %s is the hash of offset %d of the same segment, after this row: the chain was reordered", short(c.prev), from.offset)
	case from.offset != ps.byTopic[from.topicID].head:
		return brk(BreakForked, "the segment of topic id %s starts here after offset %d of topic id %s, but that segment goes on to offset %d: it forks", orNone(c.topicID), from.offset, orNone(from.topicID), ps.byTopic[from.topicID].head)
	}
	b := &Boundary{Partition: p, FromTopicID: from.topicID, FromClusterID: from.clusterID, FromOffset: from.offset,
		TopicID: c.topicID, ClusterID: c.clusterID, Offset: c.offset}
	switch {
	case from.topicID == "":
		b.Reason = "records chained before schema 0070 recorded the raw topic's ID; from here it is recorded"
	case from.clusterID != c.clusterID:
		b.Reason = "the pipeline read another Kafka cluster (its offsets start again)"
	default:
		b.Reason = "the raw topic was deleted and created again in the same Kafka cluster (its offsets start again)"
	}
	return b, nil, nil
}

func readChain(ctx context.Context, conn driver.Conn, p int32, lo, hi int64) ([]chainEntry, error) {
	qctx := clickhouse.Context(ctx, clickhouse.WithParameters(clickhouse.Parameters{
		"partition": strconv.Itoa(int(p)), "first": strconv.FormatInt(lo, 10), "last": strconv.FormatInt(hi, 10)}))
	rows, err := conn.Query(qctx, stmtChainRows.SQL)
	if err != nil {
		return nil, fmt.Errorf("partition %d: read chain rows %d-%d: %w", p, lo, hi, err)
	}
	defer rows.Close()
	var out []chainEntry
	for rows.Next() {
		var c chainEntry
		if err := rows.Scan(&c.offset, &c.topicID, &c.clusterID, &c.eventID, &c.receivedAt, &c.payload, &c.headers, &c.prev, &c.hash); err != nil {
			return nil, fmt.Errorf("partition %d: scan chain row: %w", p, err)
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

func readRaw(ctx context.Context, conn driver.Conn, p int32, lo, hi int64) ([]rawEntry, error) {
	qctx := clickhouse.Context(ctx, clickhouse.WithParameters(clickhouse.Parameters{
		"partition": strconv.Itoa(int(p)), "first": strconv.FormatInt(lo, 10), "last": strconv.FormatInt(hi, 10)}))
	rows, err := conn.Query(qctx, stmtRawRows.SQL)
	if err != nil {
		return nil, fmt.Errorf("partition %d: read raw records %d-%d: %w", p, lo, hi, err)
	}
	defer rows.Close()
	var out []rawEntry
	for rows.Next() {
		var e rawEntry
		var received time.Time
		if err := rows.Scan(&e.offset, &e.topicID, &e.payload, &e.row.Source, &e.row.App, &received, &e.row.EventID, &e.row.RawKey,
			&e.row.Path, &e.row.RemoteAddr, &e.row.HTTPHeaders, &e.row.Meta); err != nil {
			return nil, fmt.Errorf("partition %d: scan raw record: %w", p, err)
		}
		e.row.ReceivedAtMs = received.UnixMilli()
		e.headers = HeadersDigest(e.row)
		out = append(out, e)
	}
	return out, rows.Err()
}

func checkAnchor(ctx context.Context, conn driver.Conn, a Anchor) (Break, bool) {
	chain, err := readChain(ctx, conn, a.Partition, a.Offset, a.Offset)
	if err != nil {
		return Break{Partition: a.Partition, Offset: a.Offset, Kind: BreakAnchor, Detail: err.Error()}, false
	}
	if len(chain) == 0 {
		return Break{Partition: a.Partition, Offset: a.Offset, Kind: BreakAnchor, Detail: fmt.Sprintf("anchor %s: no chain row at this offset any more", short(a.Hash))}, false
	}
	var found []string
	for _, c := range chain {
		if c.hash == a.Hash {
			return Break{}, true
		}
		found = append(found, short(c.hash))
	}
	return Break{Partition: a.Partition, Offset: a.Offset, Kind: BreakAnchor,
		Detail: fmt.Sprintf("anchor %s, but the chain rows here have hash %s: the chain up to it was rewritten", short(a.Hash), strings.Join(found, ", "))}, false
}

func sortedSegmentPartitions(m map[int32][]segmentInfo) []int32 {
	out := make([]int32, 0, len(m))
	for p := range m {
		out = append(out, p)
	}
	sort.Slice(out, func(i, j int) bool { return out[i] < out[j] })
	return out
}

func sortedSpanPartitions(m map[int32]span) []int32 {
	out := make([]int32, 0, len(m))
	for p := range m {
		out = append(out, p)
	}
	sort.Slice(out, func(i, j int) bool { return out[i] < out[j] })
	return out
}

func distinctHashes(group []chainEntry) []string {
	var out []string
	for _, g := range group {
		if len(out) == 0 || out[len(out)-1] != short(g.hash) {
			out = append(out, short(g.hash))
		}
	}
	return out
}

func short(h string) string {
	if len(h) > 16 {
		return h[:16] + "…"
	}
	return h
}

func orNone(s string) string {
	if s == "" {
		return "(none)"
	}
	return s
}
