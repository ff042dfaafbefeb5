package connectors

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"reflect"
	"sort"
	"sync"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2"
	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/imarchive/imarchive/chconn"
	"github.com/imarchive/imarchive/queries"
)

// Run statuses (sync_runs.status).
const (
	StatusRunning  = "running"
	StatusComplete = "complete"
	StatusFailed   = "failed"
)

// Item statuses (sync_items.status).
const (
	ItemPartial  = "partial"  // pages written so far; resumable from Cursor
	ItemComplete = "complete" // a snapshot
	ItemSkipped  = "skipped"  // unreadable (Detail says why): no snapshot
)

// Item kinds (sync_items.item_kind).
const (
	KindGroupMembers = "group_members"
	KindRosters      = "rosters"
	KindUserStates   = "user_states"
)

// Group statuses (group_snapshots.status).
const (
	GroupPresent = "present"
	GroupGone    = "gone"
)

// Store records sync runs and their snapshots for one source and app in ClickHouse (the tables of
// schema/0050–0053). It is safe for one sync at a time.
type Store struct {
	conn    driver.Conn
	source  string
	app     string
	metrics *Metrics
	// Now is the clock (tests set it); default time.Now.
	Now func() time.Time

	mu   sync.Mutex
	last time.Time // the last row version written: versions strictly increase
}

// NewStore returns a store for source ("ilink", "maxim") and app over conn. metrics may be nil.
func NewStore(conn driver.Conn, source, app string, metrics *Metrics) *Store {
	return &Store{conn: conn, source: source, app: app, metrics: metrics, Now: time.Now}
}

// Source and App name what the store records.
func (s *Store) Source() string { return s.source }
func (s *Store) App() string    { return s.app }

// now returns the clock in UTC at millisecond precision.
func (s *Store) now() time.Time { return s.Now().UTC().Truncate(time.Millisecond) }

// version returns a row version later than every one written before by this store, so that a later
// status row always replaces an earlier one, even within one millisecond.
func (s *Store) version() time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	v := s.now()
	if !v.After(s.last) {
		v = s.last.Add(time.Millisecond)
	}
	s.last = v
	return v
}

// Counts are a run's totals.
type Counts struct {
	Groups   uint64 // group member lists completed
	Members  uint64 // member rows
	Accounts uint64 // accounts whose roster or state was taken
	Contacts uint64 // roster rows
	Skipped  uint64 // items skipped (fresh, or unreadable)
}

// Run is one sync run.
type Run struct {
	ID        string
	StartedAt time.Time
	Resumes   uint32
	Resumed   bool // Begin resumed a run that had not completed
	Counts    Counts

	items map[itemKey]Item // the run's items when it was resumed
}

type itemKey struct{ kind, id string }

// Item is one snapshot item: a group's member list, an account's roster, a batch of states.
type Item struct {
	Kind       string
	ID         string
	RunID      string
	SnapshotID string
	Status     string
	StartedAt  time.Time
	SyncedAt   time.Time
	Pages      uint32
	Rows       uint64
	Cursor     string
	Version    string
	Detail     string
}

// Item returns the state the item had in this run when it was resumed: complete (skip it), partial
// (continue from its cursor under its snapshot id) or absent.
func (r *Run) Item(kind, id string) (Item, bool) {
	it, ok := r.items[itemKey{kind, id}]
	return it, ok
}

// ResumedItems returns the ids of the items of a kind the run had when it was resumed, sorted.
func (r *Run) ResumedItems(kind string) []string {
	var out []string
	for k := range r.items {
		if k.kind == kind {
			out = append(out, k.id)
		}
	}
	sort.Strings(out)
	return out
}

// NewID returns a random id with a prefix: "s" for snapshots.
func NewID(prefix string) string {
	b := make([]byte, 8)
	rand.Read(b)
	return prefix + hex.EncodeToString(b)
}

func newRunID(t time.Time) string {
	b := make([]byte, 4)
	rand.Read(b)
	return "r" + t.UTC().Format("20060102T150405.000Z") + "-" + hex.EncodeToString(b)
}

// Begin starts a run. With resume, the latest run of this source and app that did not complete
// (failed, or still running because it was killed) is resumed instead: its complete items are kept,
// its partial items continue.
func (s *Store) Begin(ctx context.Context, resume bool) (*Run, error) {
	if resume {
		last, ok, err := s.latestRun(ctx)
		if err != nil {
			return nil, err
		}
		if ok && last.status != StatusComplete {
			run := &Run{ID: last.id, StartedAt: last.started, Resumes: last.resumes + 1, Resumed: true, Counts: last.counts}
			if run.items, err = s.runItems(ctx, run.ID); err != nil {
				return nil, err
			}
			if err := s.writeRun(ctx, run, StatusRunning, nil, ""); err != nil {
				return nil, err
			}
			return run, nil
		}
	}
	now := s.now()
	run := &Run{ID: newRunID(now), StartedAt: now}
	if err := s.writeRun(ctx, run, StatusRunning, nil, ""); err != nil {
		return nil, err
	}
	return run, nil
}

// Finish records the run complete (runErr nil) or failed with runErr's message, and returns the
// recording error, if any.
func (s *Store) Finish(ctx context.Context, run *Run, runErr error) error {
	status, msg := StatusComplete, ""
	if runErr != nil {
		status, msg = StatusFailed, runErr.Error()
	}
	at := s.now()
	if err := s.writeRun(ctx, run, status, &at, msg); err != nil {
		return err
	}
	s.metrics.finished(s.source, s.app, status, at)
	return nil
}

const insertRun = `INSERT INTO sync_runs (source, app, run_id, status, started_at, finished_at, updated_at, resumes, error,
 ` + "`groups`" + `, members, accounts, contacts, skipped, host)`

func (s *Store) writeRun(ctx context.Context, run *Run, status string, finished *time.Time, msg string) error {
	host, _ := os.Hostname()
	b, err := s.conn.PrepareBatch(chconn.InsertContext(ctx, ""), insertRun)
	if err != nil {
		return fmt.Errorf("record sync run %s %s: %w", run.ID, status, err)
	}
	defer b.Abort()
	c := run.Counts
	if err := b.Append(s.source, s.app, run.ID, status, run.StartedAt, finished, s.version(), run.Resumes, msg,
		c.Groups, c.Members, c.Accounts, c.Contacts, c.Skipped, host); err != nil {
		return fmt.Errorf("record sync run %s %s: %w", run.ID, status, err)
	}
	if err := b.Send(); err != nil {
		return fmt.Errorf("record sync run %s %s: %w", run.ID, status, err)
	}
	return nil
}

type runRow struct {
	id, status string
	started    time.Time
	resumes    uint32
	counts     Counts
}

// named runs a named query from queries/ with the source and app bound.
func (s *Store) named(ctx context.Context, name string, params map[string]string) (driver.Rows, error) {
	q, err := queries.Get(name)
	if err != nil {
		return nil, err
	}
	all := map[string]string{"source": s.source, "app": s.app}
	for k, v := range params {
		all[k] = v
	}
	bound, err := q.Bind(all)
	if err != nil {
		return nil, err
	}
	rows, err := s.conn.Query(clickhouse.Context(ctx, clickhouse.WithParameters(bound)), q.SQL)
	if err != nil {
		return nil, fmt.Errorf("query %s: %w", name, err)
	}
	return rows, nil
}

func (s *Store) latestRun(ctx context.Context) (runRow, bool, error) {
	rows, err := s.named(ctx, "sync_runs", map[string]string{"since": "1970-01-01 00:00:00.000"})
	if err != nil {
		return runRow{}, false, err
	}
	defer rows.Close()
	if !rows.Next() {
		return runRow{}, false, rows.Err()
	}
	var (
		r        runRow
		finished *time.Time
		msg      string
		c        = &r.counts
	)
	if err := rows.Scan(&r.id, &r.status, &r.started, &finished, &r.resumes, &c.Groups, &c.Members, &c.Accounts, &c.Contacts, &c.Skipped, &msg); err != nil {
		return runRow{}, false, fmt.Errorf("scan sync_runs: %w", err)
	}
	return r, true, nil
}

func (s *Store) runItems(ctx context.Context, runID string) (map[itemKey]Item, error) {
	rows, err := s.named(ctx, "sync_run_items", map[string]string{"run_id": runID})
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[itemKey]Item{}
	for rows.Next() {
		it := Item{RunID: runID}
		if err := rows.Scan(&it.Kind, &it.ID, &it.SnapshotID, &it.Status, &it.StartedAt, &it.SyncedAt, &it.Pages, &it.Rows, &it.Cursor, &it.Version, &it.Detail); err != nil {
			return nil, fmt.Errorf("scan sync_items: %w", err)
		}
		k := itemKey{it.Kind, it.ID}
		prev, seen := out[k]
		// Complete beats partial; among equals, the latest.
		if !seen || rank(it.Status) > rank(prev.Status) || (rank(it.Status) == rank(prev.Status) && it.SyncedAt.After(prev.SyncedAt)) {
			out[k] = it
		}
	}
	return out, rows.Err()
}

func rank(status string) int {
	switch status {
	case ItemComplete:
		return 2
	case ItemSkipped:
		return 1
	}
	return 0
}

// LastComplete returns, for each item of a kind, the time of its latest complete snapshot in a
// complete run.
func (s *Store) LastComplete(ctx context.Context, kind string) (map[string]time.Time, error) {
	rows, err := s.named(ctx, "sync_items_last_complete", map[string]string{"item_kind": kind})
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[string]time.Time{}
	for rows.Next() {
		var id, run string
		var at time.Time
		if err := rows.Scan(&id, &at, &run); err != nil {
			return nil, fmt.Errorf("scan sync_items_last_complete: %w", err)
		}
		out[id] = at
	}
	return out, rows.Err()
}

// AccountsSeen returns the accounts of this source and app seen in the archive (messages) and in
// group snapshots (query accounts_seen).
func (s *Store) AccountsSeen(ctx context.Context) ([]string, error) {
	return s.column(ctx, "accounts_seen", nil)
}

// GroupsSeen returns the groups seen in the archive and earlier snapshots, without those the platform
// reported gone since (query groups_seen).
func (s *Store) GroupsSeen(ctx context.Context) ([]string, error) {
	return s.column(ctx, "groups_seen", nil)
}

// RunAccounts returns the accounts a run listed as group members, in all its invocations (query
// sync_run_accounts).
func (s *Store) RunAccounts(ctx context.Context, runID string) ([]string, error) {
	return s.column(ctx, "sync_run_accounts", map[string]string{"run_id": runID})
}

func (s *Store) column(ctx context.Context, name string, params map[string]string) ([]string, error) {
	rows, err := s.named(ctx, name, params)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []string
	types := rows.ColumnTypes()
	if len(types) == 0 { // an empty answer over HTTP may carry no block at all
		return nil, rows.Err()
	}
	dest := make([]any, len(types))
	var first string
	dest[0] = &first
	for i := 1; i < len(dest); i++ {
		dest[i] = reflect.New(types[i].ScanType()).Interface()
	}
	for rows.Next() {
		if err := rows.Scan(dest...); err != nil {
			return nil, fmt.Errorf("scan %s: %w", name, err)
		}
		out = append(out, first)
	}
	return out, rows.Err()
}

// Snap says which snapshot a row belongs to and when it was fetched.
type Snap struct {
	RunID      string
	SnapshotID string
	SyncedAt   time.Time
}

// GroupRow is a group_snapshots row.
type GroupRow struct {
	Snap
	GroupID     string
	Status      string // GroupPresent or GroupGone
	Name        string
	CreatedAt   *time.Time
	MemberCount uint64
	Version     string
	Attrs       map[string]string
}

// MemberRow is a group_member_snapshots row.
type MemberRow struct {
	Snap
	GroupID  string
	Account  string
	JoinedAt *time.Time
	Attrs    map[string]string
}

// RosterRow is a roster_snapshots row.
type RosterRow struct {
	Snap
	Account     string
	Contact     string
	ContactName string
	Attrs       map[string]string
}

// StateRow is a user_state_snapshots row.
type StateRow struct {
	Snap
	Account string
	Online  bool
	State   int32
	Attrs   map[string]string
}

// Batch collects rows and item states until Flush writes them.
type Batch struct {
	Groups  []GroupRow
	Members []MemberRow
	Rosters []RosterRow
	States  []StateRow
	Items   []Item
}

// Rows is the number of dimension rows waiting.
func (b *Batch) Rows() int { return len(b.Groups) + len(b.Members) + len(b.Rosters) + len(b.States) }

// Empty says whether nothing waits.
func (b *Batch) Empty() bool { return b.Rows() == 0 && len(b.Items) == 0 }

// Flush writes the batch: the dimension rows first, then the item states, each insert acknowledged by
// ClickHouse before the next, so an item is never recorded complete (or its cursor advanced) before
// its rows are written. On success the batch is emptied; on error it is kept.
func (s *Store) Flush(ctx context.Context, b *Batch) error {
	steps := []struct {
		table string
		n     int
		write func(context.Context, *Batch) error
	}{
		{"group_snapshots", len(b.Groups), s.writeGroups},
		{"group_member_snapshots", len(b.Members), s.writeMembers},
		{"roster_snapshots", len(b.Rosters), s.writeRosters},
		{"user_state_snapshots", len(b.States), s.writeStates},
		{"sync_items", len(b.Items), s.writeItems},
	}
	for _, st := range steps {
		if st.n == 0 {
			continue
		}
		if err := st.write(ctx, b); err != nil {
			return fmt.Errorf("write %d rows into %s: %w", st.n, st.table, err)
		}
		s.metrics.wrote(s.source, st.table, st.n)
	}
	*b = Batch{}
	return nil
}

// insert writes n rows synchronously (chconn.InsertSettings: never from an asynchronous-insert buffer,
// whatever the server's default).
func (s *Store) insert(ctx context.Context, stmt string, n int, row func(i int) []any) error {
	b, err := s.conn.PrepareBatch(chconn.InsertContext(ctx, ""), stmt)
	if err != nil {
		return err
	}
	defer b.Abort()
	for i := 0; i < n; i++ {
		if err := b.Append(row(i)...); err != nil {
			return err
		}
	}
	return b.Send()
}

func attrs(m map[string]string) map[string]string {
	if m == nil {
		return map[string]string{}
	}
	return m
}

func (s *Store) writeGroups(ctx context.Context, b *Batch) error {
	return s.insert(ctx, `INSERT INTO group_snapshots (source, app, group_id, run_id, snapshot_id, synced_at, status, name, created_at, member_count, version, attrs)`,
		len(b.Groups), func(i int) []any {
			g := b.Groups[i]
			return []any{s.source, s.app, g.GroupID, g.RunID, g.SnapshotID, g.SyncedAt, g.Status, g.Name, g.CreatedAt, g.MemberCount, g.Version, attrs(g.Attrs)}
		})
}

func (s *Store) writeMembers(ctx context.Context, b *Batch) error {
	return s.insert(ctx, `INSERT INTO group_member_snapshots (source, app, group_id, account, run_id, snapshot_id, synced_at, joined_at, attrs)`,
		len(b.Members), func(i int) []any {
			m := b.Members[i]
			return []any{s.source, s.app, m.GroupID, m.Account, m.RunID, m.SnapshotID, m.SyncedAt, m.JoinedAt, attrs(m.Attrs)}
		})
}

func (s *Store) writeRosters(ctx context.Context, b *Batch) error {
	return s.insert(ctx, `INSERT INTO roster_snapshots (source, app, account, contact, contact_name, run_id, snapshot_id, synced_at, attrs)`,
		len(b.Rosters), func(i int) []any {
			r := b.Rosters[i]
			return []any{s.source, s.app, r.Account, r.Contact, r.ContactName, r.RunID, r.SnapshotID, r.SyncedAt, attrs(r.Attrs)}
		})
}

func (s *Store) writeStates(ctx context.Context, b *Batch) error {
	return s.insert(ctx, `INSERT INTO user_state_snapshots (source, app, account, online, state, run_id, snapshot_id, synced_at, attrs)`,
		len(b.States), func(i int) []any {
			st := b.States[i]
			var online uint8
			if st.Online {
				online = 1
			}
			return []any{s.source, s.app, st.Account, online, st.State, st.RunID, st.SnapshotID, st.SyncedAt, attrs(st.Attrs)}
		})
}

func (s *Store) writeItems(ctx context.Context, b *Batch) error {
	return s.insert(ctx, "INSERT INTO sync_items (source, app, item_kind, item_id, run_id, snapshot_id, status, started_at, synced_at, pages, `rows`, cursor, version, detail, updated_at)",
		len(b.Items), func(i int) []any {
			it := b.Items[i]
			return []any{s.source, s.app, it.Kind, it.ID, it.RunID, it.SnapshotID, it.Status, it.StartedAt, it.SyncedAt, it.Pages, it.Rows, it.Cursor, it.Version, it.Detail, s.version()}
		})
}

// ErrNoStore is returned by syncs given no store.
var ErrNoStore = errors.New("no ClickHouse store configured")

// RunEnd says what a sync's end means to the operator: Flush writes what the run read (called on
// failure only, best effort; nil: nothing to write); Unwritten is logged when that fails; Failed,
// Unrecorded and Incomplete complete the messages of a failed run, of a failed run that could not be
// recorded, and of a successful run that could not be recorded complete; Complete is the summary line.
type RunEnd struct {
	Flush      func(ctx context.Context) error
	Unwritten  string
	Failed     string
	Unrecorded string
	Incomplete string
	Complete   string
}

// FinishRun records a sync run's outcome, within 30 s even when ctx was cancelled (Ctrl-C): on
// failure what the run read is written first (best effort), then the run's row (Finish). It returns
// runErr, joined with the failure to record it, or the failure to record a successful run.
func (s *Store) FinishRun(ctx context.Context, run *Run, runErr error, end RunEnd, prog *Progress, log *slog.Logger) error {
	fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer cancel()
	if runErr != nil && end.Flush != nil {
		if err := end.Flush(fctx); err != nil {
			log.Warn(end.Unwritten, "err", err)
		}
	}
	ferr := s.Finish(fctx, run, runErr)
	if runErr != nil {
		prog.Printf("run %s failed%s: %v", run.ID, end.Failed, runErr)
		if ferr != nil {
			return errors.Join(runErr, fmt.Errorf("record the run as failed (%s): %w", end.Unrecorded, ferr))
		}
		return runErr
	}
	if ferr != nil {
		return fmt.Errorf("everything was written but recording run %s complete failed (%s): %w", run.ID, end.Incomplete, ferr)
	}
	prog.Printf("run %s complete: %s", run.ID, end.Complete)
	return nil
}
