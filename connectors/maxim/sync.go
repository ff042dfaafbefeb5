package maxim

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sort"
	"time"

	"github.com/imarchive/imarchive/connectors"
)

// Summary is what a sync did.
type Summary struct {
	RunID    string
	Resumed  bool
	Groups   int // group member lists completed by this invocation
	Pages    int // member_list pages fetched
	Members  int // member rows
	Gone     int // groups the platform reports gone (20001): an empty snapshot
	Accounts int // rosters completed
	Contacts int // roster rows
	Fresh    int // items skipped: their last complete snapshot is younger than RefreshAfter
	Done     int // items skipped: already complete in the resumed run
	Skipped  int // items skipped: not readable (permission)
	Took     time.Duration
}

// ErrCursorLoop is returned when member_list keeps answering a cursor it answered before.
var ErrCursorLoop = errors.New("maxim: member_list cursor repeats")

// Sync takes snapshots of groups' members (GET /group/member_list, every page) and of accounts'
// rosters (GET /user/rosters) into ClickHouse. Groups: cfg.Groups, and with cfg.FromArchive those seen
// in the archive and in earlier snapshots. Accounts: cfg.Users, the members just read, and with
// cfg.FromArchive the accounts seen in the archive.
//
// Incremental: an item whose last complete snapshot (in a complete run) is younger than
// cfg.RefreshAfter is skipped. Resumable: with cfg.Resume, a run that did not complete is continued —
// its complete items are skipped, a group stopped part-way continues from its saved cursor under the
// same snapshot. Only when every item is written is the run recorded complete; the queries use
// nothing else. prog may be nil.
func Sync(ctx context.Context, c *Client, st *connectors.Store, cfg SyncConfig, prog *connectors.Progress, log *slog.Logger) (Summary, error) {
	if st == nil {
		return Summary{}, connectors.ErrNoStore
	}
	if err := cfg.Validate(); err != nil {
		return Summary{}, err
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	start := time.Now()
	run, err := st.Begin(ctx, cfg.Resume)
	if err != nil {
		return Summary{}, err
	}
	s := &syncer{c: c, st: st, cfg: cfg, prog: prog, run: run, log: log.With("source", "maxim", "app", st.App(), "run_id", run.ID)}
	s.sum.RunID, s.sum.Resumed = run.ID, run.Resumed
	if run.Resumed {
		prog.Printf("resuming run %s (resume %d, started %s)", run.ID, run.Resumes, run.StartedAt.Format(time.RFC3339))
	} else {
		prog.Printf("run %s started", run.ID)
	}
	err = s.sync(ctx)
	s.sum.Took = time.Since(start)
	return s.sum, s.finish(ctx, err)
}

type syncer struct {
	c       *Client
	st      *connectors.Store
	cfg     SyncConfig
	prog    *connectors.Progress
	log     *slog.Logger
	run     *connectors.Run
	batch   connectors.Batch
	partial *connectors.Item // the group being paged, as far as the batch goes
	sum     Summary
	members map[string]bool // accounts listed in this invocation
}

func (s *syncer) now() time.Time { return s.st.Now().UTC().Truncate(time.Millisecond) }

// flush writes the batch, with the group being paged recorded partial at the cursor after its last
// buffered page, so that a resumed run continues from there.
func (s *syncer) flush(ctx context.Context) error {
	if s.partial != nil {
		s.batch.Items = append(s.batch.Items, *s.partial)
	}
	return s.st.Flush(ctx, &s.batch)
}

func (s *syncer) flushIfFull(ctx context.Context) error {
	if s.batch.Rows()+len(s.batch.Items) < s.cfg.FlushRows {
		return nil
	}
	return s.flush(ctx)
}

func (s *syncer) sync(ctx context.Context) error {
	s.members = map[string]bool{}
	groups, err := s.groups(ctx)
	if err != nil {
		return err
	}
	fresh, err := s.freshness(ctx, connectors.KindGroupMembers)
	if err != nil {
		return err
	}
	for i, g := range groups {
		if err := s.group(ctx, g, fmt.Sprintf("[%d/%d]", i+1, len(groups)), fresh); err != nil {
			return err
		}
	}
	if err := s.flush(ctx); err != nil {
		return err
	}
	if !s.cfg.Rosters {
		return nil
	}
	accounts, err := s.accounts(ctx)
	if err != nil {
		return err
	}
	fresh, err = s.freshness(ctx, connectors.KindRosters)
	if err != nil {
		return err
	}
	for i, a := range accounts {
		if err := s.roster(ctx, a, fmt.Sprintf("[%d/%d]", i+1, len(accounts)), fresh); err != nil {
			return err
		}
	}
	return s.flush(ctx)
}

// groups lists the groups to sync, sorted by id, each with its acting user.
func (s *syncer) groups(ctx context.Context) ([]GroupRef, error) {
	actor := map[string]string{}
	for _, id := range s.run.ResumedItems(connectors.KindGroupMembers) {
		actor[id] = ""
	}
	if s.cfg.FromArchive {
		seen, err := s.st.GroupsSeen(ctx)
		if err != nil {
			return nil, fmt.Errorf("groups seen: %w", err)
		}
		for _, id := range seen {
			if numeric(id) {
				actor[id] = ""
			} else {
				s.log.Warn("group id seen in the archive is not a Maxim group id, ignored", "group_id", id)
			}
		}
	}
	for _, g := range s.cfg.Groups {
		actor[g.ID] = g.Actor
	}
	var out []GroupRef
	var missing []string
	for id, a := range actor {
		if a == "" {
			a = s.c.UserID()
		}
		if a == "" {
			missing = append(missing, id)
		}
		out = append(out, GroupRef{ID: id, Actor: a})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	if len(missing) > 0 {
		sort.Strings(missing)
		return nil, fmt.Errorf("groups %v: member_list acts as a user (the user_id header) and none is given: set --user-id, or GROUP:USER in --groups", missing)
	}
	s.prog.Printf("%d groups to sync", len(out))
	return out, nil
}

func (s *syncer) accounts(ctx context.Context) ([]string, error) {
	set := map[string]bool{}
	for a := range s.members {
		set[a] = true
	}
	for _, a := range s.run.ResumedItems(connectors.KindRosters) {
		set[a] = true
	}
	if s.run.Resumed { // members listed before the run was resumed
		listed, err := s.st.RunAccounts(ctx, s.run.ID)
		if err != nil {
			return nil, fmt.Errorf("accounts listed by run %s: %w", s.run.ID, err)
		}
		for _, a := range listed {
			set[a] = true
		}
	}
	for _, a := range s.cfg.Users {
		set[a] = true
	}
	if s.cfg.FromArchive {
		seen, err := s.st.AccountsSeen(ctx)
		if err != nil {
			return nil, fmt.Errorf("accounts seen: %w", err)
		}
		for _, a := range seen {
			if numeric(a) {
				set[a] = true
			}
		}
	}
	out := make([]string, 0, len(set))
	for a := range set {
		out = append(out, a)
	}
	sort.Strings(out)
	s.prog.Printf("%d accounts to take rosters of", len(out))
	return out, nil
}

func (s *syncer) freshness(ctx context.Context, kind string) (map[string]time.Time, error) {
	if s.cfg.RefreshAfter <= 0 {
		return nil, nil
	}
	last, err := s.st.LastComplete(ctx, kind)
	if err != nil {
		return nil, fmt.Errorf("last complete snapshots: %w", err)
	}
	return last, nil
}

// skip says whether an item needs no work in this run: already complete or skipped in the resumed
// run, or fresh enough.
func (s *syncer) skip(kind, id, pos string, fresh map[string]time.Time) (connectors.Item, bool) {
	it, had := s.run.Item(kind, id)
	if had && (it.Status == connectors.ItemComplete || it.Status == connectors.ItemSkipped) {
		s.sum.Done++
		s.prog.Printf("%s %s %s: already %s in this run", kind, id, pos, it.Status)
		return it, true
	}
	if had {
		return it, false // partial: continue it, whatever its age
	}
	if at, ok := fresh[id]; ok && s.now().Sub(at) < s.cfg.RefreshAfter {
		s.sum.Fresh++
		s.run.Counts.Skipped++
		s.prog.Printf("%s %s %s: fresh (snapshot at %s), skipped", kind, id, pos, at.Format(time.RFC3339))
		return it, true
	}
	return connectors.Item{}, false
}

// group pages through one group's members into a snapshot.
func (s *syncer) group(ctx context.Context, g GroupRef, pos string, fresh map[string]time.Time) error {
	prev, skip := s.skip(connectors.KindGroupMembers, g.ID, pos, fresh)
	if skip {
		return nil
	}
	item := connectors.Item{Kind: connectors.KindGroupMembers, ID: g.ID, RunID: s.run.ID, SnapshotID: connectors.NewID("s"),
		Status: connectors.ItemPartial, StartedAt: s.now()}
	restartable := false
	if prev.Status == connectors.ItemPartial && prev.Cursor != "" {
		item = prev
		restartable = true
		s.prog.Printf("group %s %s: resuming at page %d (%d members written)", g.ID, pos, prev.Pages+1, prev.Rows)
	}
	seen := map[string]bool{}
	for {
		page, err := s.c.MemberPage(ctx, g.ID, g.Actor, item.Cursor, s.c.cfg.PageLimit)
		var ae *APIError
		switch {
		case err == nil:
		case restartable && errors.As(err, &ae) && ae.Code == CodeBadParams:
			// The saved cursor is no longer accepted: take the group again from its first page, as
			// a new snapshot (the rows written under the old one are never used).
			s.log.Warn("saved cursor refused, taking the group from its first page", "group_id", g.ID, "err", err)
			s.prog.Printf("group %s %s: saved cursor refused, starting again from page 1", g.ID, pos)
			item = connectors.Item{Kind: connectors.KindGroupMembers, ID: g.ID, RunID: s.run.ID, SnapshotID: connectors.NewID("s"),
				Status: connectors.ItemPartial, StartedAt: s.now()}
			restartable = false
			s.partial = nil
			continue
		case errors.As(err, &ae) && ae.Code == CodeGroupNotExist:
			return s.groupGone(g, pos, ae)
		case errors.As(err, &ae) && ae.Code.permission():
			item.Status, item.Detail, item.SyncedAt = connectors.ItemSkipped, ae.Error(), s.now()
			s.partial = nil
			s.batch.Items = append(s.batch.Items, item)
			s.sum.Skipped++
			s.run.Counts.Skipped++
			s.log.Warn("group members not readable, skipped", "group_id", g.ID, "user_id", g.Actor, "err", err)
			s.prog.Printf("group %s %s: skipped: %v", g.ID, pos, err)
			return nil
		default:
			return fmt.Errorf("members of group %s (page %d): %w", g.ID, item.Pages+1, err)
		}
		restartable = false
		fetched := s.now()
		snap := connectors.Snap{RunID: s.run.ID, SnapshotID: item.SnapshotID, SyncedAt: fetched}
		for _, m := range page.Members {
			s.batch.Members = append(s.batch.Members, connectors.MemberRow{Snap: snap, GroupID: g.ID, Account: m.UserID, JoinedAt: m.JoinTime, Attrs: m.Attrs})
			s.members[m.UserID] = true
		}
		item.Pages++
		item.Rows += uint64(len(page.Members))
		item.SyncedAt = fetched
		item.Version = page.Version
		s.sum.Pages++
		s.sum.Members += len(page.Members)
		s.run.Counts.Members += uint64(len(page.Members))
		if page.Cursor == "" {
			s.prog.Printf("group %s %s page %d: +%d members, %d in all, complete", g.ID, pos, item.Pages, len(page.Members), item.Rows)
			item.Status, item.Cursor = connectors.ItemComplete, ""
			s.partial = nil
			s.batch.Items = append(s.batch.Items, item)
			s.batch.Groups = append(s.batch.Groups, connectors.GroupRow{Snap: snap, GroupID: g.ID, Status: connectors.GroupPresent,
				MemberCount: item.Rows, Version: page.Version, Attrs: map[string]string{"user_id": g.Actor, "version": page.Version}})
			s.sum.Groups++
			s.run.Counts.Groups++
			return s.flushIfFull(ctx)
		}
		s.prog.Printf("group %s %s page %d: +%d members, %d so far", g.ID, pos, item.Pages, len(page.Members), item.Rows)
		if seen[page.Cursor] || page.Cursor == item.Cursor {
			return fmt.Errorf("%w: group %s page %d answered cursor %q again", ErrCursorLoop, g.ID, item.Pages, page.Cursor)
		}
		if int(item.Pages) >= s.cfg.MaxPages {
			return fmt.Errorf("group %s: still more members after %d pages (--max-pages)", g.ID, item.Pages)
		}
		seen[page.Cursor] = true
		item.Cursor = page.Cursor
		partial := item
		s.partial = &partial
		if err := s.flushIfFull(ctx); err != nil {
			return err
		}
	}
}

// groupGone records an empty snapshot (a new one: pages written earlier under another snapshot are
// not part of it) with the group marked gone.
func (s *syncer) groupGone(g GroupRef, pos string, ae *APIError) error {
	now := s.now()
	snap := connectors.Snap{RunID: s.run.ID, SnapshotID: connectors.NewID("s"), SyncedAt: now}
	s.partial = nil
	s.batch.Items = append(s.batch.Items, connectors.Item{Kind: connectors.KindGroupMembers, ID: g.ID, RunID: s.run.ID,
		SnapshotID: snap.SnapshotID, Status: connectors.ItemComplete, StartedAt: now, SyncedAt: now, Pages: 1, Detail: ae.Error()})
	s.batch.Groups = append(s.batch.Groups, connectors.GroupRow{Snap: snap, GroupID: g.ID, Status: connectors.GroupGone,
		Attrs: map[string]string{"code": fmt.Sprint(int(ae.Code))}})
	s.sum.Gone++
	s.sum.Groups++
	s.run.Counts.Groups++
	s.prog.Printf("group %s %s: gone (%d %s)", g.ID, pos, int(ae.Code), ae.Code.Meaning())
	return nil
}

func (s *syncer) roster(ctx context.Context, account, pos string, fresh map[string]time.Time) error {
	if _, skip := s.skip(connectors.KindRosters, account, pos, fresh); skip {
		return nil
	}
	started := s.now()
	contacts, err := s.c.Rosters(ctx, account)
	now := s.now()
	item := connectors.Item{Kind: connectors.KindRosters, ID: account, RunID: s.run.ID, SnapshotID: connectors.NewID("s"),
		Status: connectors.ItemComplete, StartedAt: started, SyncedAt: now, Pages: 1}
	var ae *APIError
	switch {
	case err == nil:
	case errors.As(err, &ae) && ae.Code == CodeUserNotExist:
		item.Detail = ae.Error()
		s.prog.Printf("roster of %s %s: the user no longer exists, empty", account, pos)
	case errors.As(err, &ae) && ae.Code.permission():
		item.Status, item.Detail = connectors.ItemSkipped, ae.Error()
		s.batch.Items = append(s.batch.Items, item)
		s.sum.Skipped++
		s.run.Counts.Skipped++
		s.prog.Printf("roster of %s %s: skipped: %v", account, pos, err)
		return s.flushIfFull(ctx)
	default:
		return fmt.Errorf("roster of %s: %w", account, err)
	}
	snap := connectors.Snap{RunID: s.run.ID, SnapshotID: item.SnapshotID, SyncedAt: now}
	for _, c := range contacts {
		s.batch.Rosters = append(s.batch.Rosters, connectors.RosterRow{Snap: snap, Account: account, Contact: c.UserID, ContactName: c.Name, Attrs: c.Attrs})
	}
	item.Rows = uint64(len(contacts))
	s.batch.Items = append(s.batch.Items, item)
	s.sum.Accounts++
	s.sum.Contacts += len(contacts)
	s.run.Counts.Accounts++
	s.run.Counts.Contacts += uint64(len(contacts))
	if err == nil {
		s.prog.Printf("roster of %s %s: %d contacts", account, pos, len(contacts))
	}
	return s.flushIfFull(ctx)
}

// finish writes what is buffered — complete items, and the group being paged as partial at its
// cursor — so that a resumed run continues where this one stopped, then records the run.
func (s *syncer) finish(ctx context.Context, runErr error) error {
	return s.st.FinishRun(ctx, s.run, runErr, connectors.RunEnd{
		Flush:      s.flush,
		Unwritten:  "could not write what the failed run read; a resumed run reads it again",
		Failed:     " (resume it by running the sync again)",
		Unrecorded: "it stays 'running': the queries ignore it, the next sync resumes it",
		Incomplete: "the queries do not use it yet; run the sync again to resume and complete it",
		Complete: fmt.Sprintf("%d groups (%d pages, %d members, %d gone), %d rosters (%d contacts); skipped %d fresh, %d done before, %d unreadable; %s",
			s.sum.Groups, s.sum.Pages, s.sum.Members, s.sum.Gone, s.sum.Accounts, s.sum.Contacts, s.sum.Fresh, s.sum.Done, s.sum.Skipped, s.sum.Took.Round(time.Millisecond)),
	}, s.prog, s.log)
}
