package audit

import (
	"context"
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

// Head is a partition's last chained record.
type Head struct {
	Partition int32  `json:"raw_partition"`
	Offset    int64  `json:"raw_offset"`
	Hash      string `json:"hash"`
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
	Heads      []Head            `json:"heads"`  // every partition's head now, for anchoring
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
	stmtHeads     = queries.MustStatement("audit_heads")
	stmtChainRows = queries.MustStatement("audit_chain_rows")
	stmtChainPrev = queries.MustStatement("audit_chain_prev")
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
	rep := Report{From: r.From.UTC(), To: r.To.UTC()}
	heads, rawLast, err := readHeads(ctx, conn)
	if err != nil {
		return rep, err
	}
	for _, p := range sortedPartitions(heads) {
		rep.Heads = append(rep.Heads, heads[p])
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
		h, ok := heads[p]
		if !ok {
			h = Head{Partition: p, Offset: -1}
		}
		pr, err := verifyPartition(ctx, conn, r, p, spans[p], h, rawLast[p], rep.RetentionCutoff, progress)
		if err != nil {
			return rep, err
		}
		rep.Partitions = append(rep.Partitions, pr)
		rep.Breaks = append(rep.Breaks, pr.Breaks...)
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

func readHeads(ctx context.Context, conn driver.Conn) (map[int32]Head, map[int32]int64, error) {
	rows, err := conn.Query(ctx, stmtHeads.SQL)
	if err != nil {
		return nil, nil, fmt.Errorf("read chain heads: %w", err)
	}
	defer rows.Close()
	heads, rawLast := map[int32]Head{}, map[int32]int64{}
	for rows.Next() {
		var h Head
		var last int64
		if err := rows.Scan(&h.Partition, &h.Offset, &h.Hash, &last); err != nil {
			return nil, nil, fmt.Errorf("scan chain heads: %w", err)
		}
		if h.Offset >= 0 {
			heads[h.Partition] = h
		}
		rawLast[h.Partition] = last
	}
	return heads, rawLast, rows.Err()
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
	eventID                      string
	receivedAt                   time.Time
	payload, headers, prev, hash string
}

type rawEntry struct {
	offset  int64
	payload string
	row     pipeline.RawRow
}

// verifyPartition walks one partition's span in windows of offsets.
func verifyPartition(ctx context.Context, conn driver.Conn, r Range, p int32, s span, h Head, rawLast int64, cutoff time.Time, progress Progress) (PartitionReport, error) {
	pr := PartitionReport{Partition: p, First: s.first, Last: s.last}
	add := func(off int64, kind, format string, args ...any) {
		pr.Breaks = append(pr.Breaks, Break{Partition: p, Offset: off, Kind: kind, Detail: fmt.Sprintf(format, args...)})
	}
	// The link into the span: the chain row before it, or the genesis.
	prevOffset, prevHash := int64(-1), GenesisHash
	qctx := clickhouse.Context(ctx, clickhouse.WithParameters(clickhouse.Parameters{
		"partition": strconv.Itoa(int(p)), "before": strconv.FormatInt(s.first, 10)}))
	rows, err := conn.Query(qctx, stmtChainPrev.SQL)
	if err != nil {
		return pr, fmt.Errorf("partition %d: read the chain row before offset %d: %w", p, s.first, err)
	}
	for rows.Next() {
		if err := rows.Scan(&prevOffset, &prevHash); err != nil {
			rows.Close()
			return pr, fmt.Errorf("partition %d: scan chain row: %w", p, err)
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return pr, fmt.Errorf("partition %d: read the chain row before offset %d: %w", p, s.first, err)
	}

	for lo := s.first; lo <= s.last; lo += r.Window {
		hi := min(lo+r.Window-1, s.last)
		chain, err := readChain(ctx, conn, p, lo, hi)
		if err != nil {
			return pr, err
		}
		raws, err := readRaw(ctx, conn, p, lo, hi)
		if err != nil {
			return pr, err
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
		seen := map[int64]bool{}
		for i := 0; i < len(chain); {
			// The chain rows of one offset: one, or a forged one beside the original.
			j := i + 1
			for j < len(chain) && chain[j].offset == chain[i].offset {
				j++
			}
			group := chain[i:j]
			i = j
			c := group[0]
			if distinct := distinctHashes(group); len(distinct) > 1 {
				add(c.offset, BreakForked, "%d different chain rows for this offset (hashes %s): a chain row was forged beside the original", len(distinct), strings.Join(distinct, ", "))
				// Go on with the one that belongs: it follows the row before and re-computes.
				for _, g := range group {
					if h, err := Link(g.prev, p, g.offset, g.payload, g.headers); err == nil && h == g.hash && g.prev == prevHash {
						c = g
						break
					}
				}
			}
			seen[c.offset] = true
			pr.Chained++
			if c.prev != prevHash {
				if prevOffset < 0 {
					add(c.offset, BreakLink, "prev_hash %s, but no chain row precedes it and it is not the genesis: the records before it were removed", short(c.prev))
				} else {
					add(c.offset, BreakLink, "prev_hash %s does not match the hash %s of the chain row at offset %d: a record between them was removed, or a chain row was rewritten", short(c.prev), short(prevHash), prevOffset)
				}
			}
			if want, err := Link(c.prev, p, c.offset, c.payload, c.headers); err != nil || want != c.hash {
				add(c.offset, BreakHash, "the chain row's hash does not re-compute from its fields: the chain row was rewritten")
			}
			prevOffset, prevHash = c.offset, c.hash
			versions := rawAt[c.offset]
			switch {
			case len(versions) == 0 && !cutoff.IsZero() && c.receivedAt.Before(cutoff):
				pr.Expired++
			case len(versions) == 0 && c.offset > rawLast:
				pr.Pending++
			case len(versions) == 0:
				add(c.offset, BreakRemoved, "chained record (event %s, received %s) is missing from raw_callbacks_data", orNone(c.eventID), c.receivedAt.UTC().Format(timeParamLayout))
			}
			for _, v := range versions {
				headers := HeadersDigest(v.row)
				switch {
				case v.payload != c.payload:
					if other, ok := chainedAt[v.payload]; ok && other != c.offset {
						add(c.offset, BreakReordered, "the payload stored here was chained at offset %d", other)
					} else {
						add(c.offset, BreakAltered, "payload SHA-256 is %s now, %s when chained", short(v.payload), short(c.payload))
					}
				case headers != c.headers:
					add(c.offset, BreakAltered, "headers (source, app, time, event_id, key, path, address or HTTP headers) differ from when chained")
				default:
					pr.Matched++
				}
			}
		}
		for _, re := range raws {
			if seen[re.offset] {
				continue
			}
			seen[re.offset] = true
			if re.offset > h.Offset {
				pr.Pending++ // the chain has not reached it yet
				continue
			}
			add(re.offset, BreakUnchained, "raw record (event %s) has no chain row: it was inserted, or its chain row removed", orNone(re.row.EventID))
		}
		if progress != nil {
			progress(p, hi-s.first+1, s.last-s.first+1)
		}
	}
	sort.SliceStable(pr.Breaks, func(i, j int) bool { return pr.Breaks[i].Offset < pr.Breaks[j].Offset })
	return pr, nil
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
		if err := rows.Scan(&c.offset, &c.eventID, &c.receivedAt, &c.payload, &c.headers, &c.prev, &c.hash); err != nil {
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
		if err := rows.Scan(&e.offset, &e.payload, &e.row.Source, &e.row.App, &received, &e.row.EventID, &e.row.RawKey,
			&e.row.Path, &e.row.RemoteAddr, &e.row.HTTPHeaders, &e.row.Meta); err != nil {
			return nil, fmt.Errorf("partition %d: scan raw record: %w", p, err)
		}
		e.row.ReceivedAtMs = received.UnixMilli()
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
	for _, c := range chain {
		if c.hash != a.Hash {
			return Break{Partition: a.Partition, Offset: a.Offset, Kind: BreakAnchor,
				Detail: fmt.Sprintf("anchor %s, but the chain row here has hash %s: the chain up to it was rewritten", short(a.Hash), short(c.hash))}, false
		}
	}
	return Break{}, true
}

func sortedPartitions(m map[int32]Head) []int32 {
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
