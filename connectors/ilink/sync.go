package ilink

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sort"
	"strings"
	"time"

	"github.com/imarchive/imarchive/connectors"
)

// Summary is what a sync did.
type Summary struct {
	RunID    string
	Groups   int // group member lists completed
	Gone     int // groups listed, then reported gone (1013) before their members were read
	Skipped  int // groups whose members the UID may not read (1014)
	Failed   int // groups whose members could not be read (an error of their own); the run went on
	Members  int // member rows
	Accounts int // accounts whose online state was polled
	Online   int // of those, online
	// NoState counts the accounts asked about whose state the run did not get: a call that failed for
	// them, or an answer entry that could not be read (Problems says which).
	NoState int
	// Problems lists what failed alone while the run went on: one line per group or account.
	Problems []string
	Took     time.Duration
}

// Sync takes one snapshot of the application's directory into ClickHouse: the group list (ham_group
// action 3), each group's members (action 6), and, with cfg.States, the online state of every account
// seen (ham_user action 1: group members, accounts in the archive, cfg.UIDs).
//
// One bad group or account fails alone: a group whose members cannot be read (after the retries) is
// an item skipped with the error as its detail, and the run goes on; a state request the platform
// refuses for its content (1001, 1010) is split until the accounts it refuses are found, each then
// without a state; an answer entry that cannot be read costs only that account. These are counted and
// listed in the Summary (Failed, NoState, Problems) and in the run's items. The run fails, and the
// error is returned, when it cannot go on at all: the group list cannot be read, every group failed,
// the credentials, registration or token are refused, the context ends, or ClickHouse refuses a
// write; a failed run is recorded so (the membership queries ignore it). prog may be nil.
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
	run, err := st.Begin(ctx, false)
	if err != nil {
		return Summary{}, err
	}
	s := &syncer{c: c, st: st, cfg: cfg, prog: prog, log: log.With("source", "ilink", "app", st.App(), "run_id", run.ID), run: run}
	s.sum.RunID = run.ID
	prog.Printf("run %s started", run.ID)
	err = s.sync(ctx)
	s.sum.Took = time.Since(start)
	return s.sum, s.finish(ctx, err)
}

type syncer struct {
	c     *Client
	st    *connectors.Store
	cfg   SyncConfig
	prog  *connectors.Progress
	log   *slog.Logger
	run   *connectors.Run
	batch connectors.Batch
	sum   Summary
}

func (s *syncer) now() time.Time { return s.st.Now().UTC().Truncate(time.Millisecond) }

func (s *syncer) flushIfFull(ctx context.Context) error {
	if s.batch.Rows() < s.cfg.FlushRows {
		return nil
	}
	return s.st.Flush(ctx, &s.batch)
}

func (s *syncer) sync(ctx context.Context) error {
	groups, err := s.c.Groups(ctx)
	if err != nil {
		return fmt.Errorf("group list: %w", err)
	}
	s.prog.Printf("group list: %d groups", len(groups))
	seen := map[string]bool{}
	var firstFailure error
	for i, g := range groups {
		members, err := s.group(ctx, g)
		if err != nil {
			if fatal(ctx, err) {
				return err
			}
			firstFailure = cmp.Or(firstFailure, err)
			s.fail(g, err)
			s.prog.Printf("group %d/%d %s %q: failed, the run goes on: %v", i+1, len(groups), g.ID, g.Name, err)
			if err := s.flushIfFull(ctx); err != nil {
				return err
			}
			continue
		}
		for _, m := range members {
			seen[m] = true
		}
		s.prog.Printf("group %d/%d %s %q: %d members", i+1, len(groups), g.ID, g.Name, len(members))
		if err := s.flushIfFull(ctx); err != nil {
			return err
		}
	}
	if err := s.st.Flush(ctx, &s.batch); err != nil {
		return err
	}
	if len(groups) > 0 && s.sum.Failed == len(groups) {
		return fmt.Errorf("every group failed; the first: %w", firstFailure)
	}
	if !s.cfg.States {
		return nil
	}
	archived, err := s.st.AccountsSeen(ctx)
	if err != nil {
		return fmt.Errorf("accounts seen: %w", err)
	}
	for _, a := range append(archived, s.cfg.UIDs...) {
		seen[a] = true
	}
	accounts := make([]string, 0, len(seen))
	for a := range seen {
		accounts = append(accounts, a)
	}
	sort.Strings(accounts)
	return s.states(ctx, accounts)
}

// group reads one group's members into the batch, as a complete item; 1013 (gone since the list was
// read) is an empty snapshot with the group marked gone; 1014 (not readable) is a skipped item.
func (s *syncer) group(ctx context.Context, g Group) ([]string, error) {
	started := s.now()
	members, err := s.c.GroupMembers(ctx, g.ID)
	snap := connectors.Snap{RunID: s.run.ID, SnapshotID: connectors.NewID("s"), SyncedAt: s.now()}
	item := connectors.Item{Kind: connectors.KindGroupMembers, ID: g.ID, RunID: s.run.ID, SnapshotID: snap.SnapshotID,
		Status: connectors.ItemComplete, StartedAt: started, SyncedAt: snap.SyncedAt, Pages: 1}
	status := connectors.GroupPresent
	var ae *APIError
	switch {
	case errors.As(err, &ae) && ae.Code == CodeNoGroup:
		status, item.Detail = connectors.GroupGone, ae.Error()
		s.sum.Gone++
		s.log.Info("group gone since the group list was read", "group_id", g.ID)
	case errors.As(err, &ae) && ae.Code == CodePermission:
		item.Status, item.Detail = connectors.ItemSkipped, ae.Error()
		s.batch.Items = append(s.batch.Items, item)
		s.sum.Skipped++
		s.run.Counts.Skipped++
		s.log.Warn("group members not readable, skipped", "group_id", g.ID, "err", err)
		return nil, nil
	case err != nil:
		return nil, fmt.Errorf("members of group %s: %w", g.ID, err)
	}
	for _, m := range members {
		s.batch.Members = append(s.batch.Members, connectors.MemberRow{Snap: snap, GroupID: g.ID, Account: m})
	}
	s.batch.Groups = append(s.batch.Groups, connectors.GroupRow{Snap: snap, GroupID: g.ID, Status: status, Name: g.Name,
		CreatedAt: g.CreatedAt, MemberCount: uint64(len(members)), Attrs: g.Attrs})
	item.Rows = uint64(len(members))
	s.batch.Items = append(s.batch.Items, item)
	s.sum.Groups++
	s.sum.Members += len(members)
	s.run.Counts.Groups++
	s.run.Counts.Members += uint64(len(members))
	return members, nil
}

func (s *syncer) states(ctx context.Context, accounts []string) error {
	n := 0
	for i := 0; i < len(accounts); i += s.cfg.StateBatch {
		end := min(i+s.cfg.StateBatch, len(accounts))
		batch := accounts[i:end]
		n++
		started := s.now()
		var got stateResult
		if err := s.pollStates(ctx, batch, &got); err != nil {
			return fmt.Errorf("online states of accounts %d–%d: %w", i+1, end, err)
		}
		snap := connectors.Snap{RunID: s.run.ID, SnapshotID: connectors.NewID("s"), SyncedAt: s.now()}
		online := 0
		for _, u := range got.states {
			s.batch.States = append(s.batch.States, connectors.StateRow{Snap: snap, Account: u.UID, Online: u.Online, State: u.State, Attrs: u.Attrs})
			if u.Online {
				online++
			}
		}
		item := connectors.Item{Kind: connectors.KindUserStates, ID: fmt.Sprintf("%s/%04d", s.run.ID, n),
			RunID: s.run.ID, SnapshotID: snap.SnapshotID, Status: connectors.ItemComplete, StartedAt: started, SyncedAt: snap.SyncedAt,
			Pages: uint32(got.calls), Rows: uint64(len(got.states)), Detail: strings.Join(got.problems, "; ")}
		if len(got.states) == 0 && len(got.problems) > 0 {
			item.Status = connectors.ItemSkipped
			s.run.Counts.Skipped++
		}
		s.batch.Items = append(s.batch.Items, item)
		s.sum.Accounts += len(got.states)
		s.sum.Online += online
		s.sum.NoState += got.failed
		s.sum.Problems = append(s.sum.Problems, got.problems...)
		s.run.Counts.Accounts += uint64(len(got.states))
		line := fmt.Sprintf("online states %d–%d of %d: %d answered, %d online", i+1, end, len(accounts), len(got.states), online)
		if got.failed > 0 {
			line += fmt.Sprintf(", %d without a state (%s)", got.failed, strings.Join(got.problems, "; "))
			s.log.Warn("online states: some accounts got none, the run goes on", "accounts", fmt.Sprintf("%d–%d", i+1, end),
				"without_state", got.failed, "problems", got.problems)
		}
		s.prog.Printf("%s", line)
		if err := s.flushIfFull(ctx); err != nil {
			return err
		}
	}
	return s.st.Flush(ctx, &s.batch)
}

// stateResult gathers what the state requests of one batch gave.
type stateResult struct {
	states   []UserState
	problems []string
	failed   int // accounts asked about without a state
	calls    int
}

// pollStates asks for the states of uids. A request the platform refuses for what it holds (1001 UID
// 不存在, 1010 无效的参数) is split in two until the refused accounts stand alone; any other failure
// costs the accounts of that request. Only an error that stops the run (fatal) is returned.
func (s *syncer) pollStates(ctx context.Context, uids []string, out *stateResult) error {
	out.calls++
	list, err := s.c.UserStates(ctx, uids)
	if err == nil {
		out.states = append(out.states, list.States...)
		asked := make(map[string]bool, len(uids))
		for _, u := range uids {
			asked[u] = true
		}
		for _, u := range list.States {
			delete(asked, u.UID)
		}
		out.failed += len(asked) // not answered, or in an entry that could not be read
		out.problems = append(out.problems, list.Bad...)
		if len(asked) > len(list.Bad) {
			var missing []string
			for _, u := range uids {
				if asked[u] {
					missing = append(missing, u)
				}
			}
			out.problems = append(out.problems, "no state answered for "+strings.Join(missing, ", "))
		}
		return nil
	}
	if fatal(ctx, err) {
		return err
	}
	var ae *APIError
	if len(uids) > 1 && errors.As(err, &ae) && (ae.Code == CodeNoUID || ae.Code == CodeBadParams) {
		half := len(uids) / 2
		if err := s.pollStates(ctx, uids[:half], out); err != nil {
			return err
		}
		return s.pollStates(ctx, uids[half:], out)
	}
	who := uids[0]
	if len(uids) > 1 {
		who = fmt.Sprintf("%s … %s (%d accounts)", uids[0], uids[len(uids)-1], len(uids))
	}
	out.failed += len(uids)
	out.problems = append(out.problems, fmt.Sprintf("%s: %v", who, err))
	return nil
}

// fail records a group whose members could not be read: an item skipped, with the error.
func (s *syncer) fail(g Group, err error) {
	now := s.now()
	s.batch.Items = append(s.batch.Items, connectors.Item{Kind: connectors.KindGroupMembers, ID: g.ID, RunID: s.run.ID,
		SnapshotID: connectors.NewID("s"), Status: connectors.ItemSkipped, StartedAt: now, SyncedAt: now, Pages: 1,
		Detail: "failed: " + err.Error()})
	s.sum.Failed++
	s.sum.Problems = append(s.sum.Problems, fmt.Sprintf("group %s: %v", g.ID, err))
	s.run.Counts.Skipped++
	s.log.Warn("group members could not be read; the run goes on without this group", "group_id", g.ID, "err", err)
}

// fatal reports whether err stops the whole run rather than the one group or account it came from:
// the run was cancelled, or the platform refuses the credentials, the registration or the token
// (every call after would fail the same way).
func fatal(ctx context.Context, err error) bool {
	if ctx.Err() != nil {
		return true
	}
	var ae *APIError
	if errors.As(err, &ae) {
		return ae.Code == CodeBadAppKey || ae.Code == CodeNotConfigured || ae.Code.TokenProblem()
	}
	return false
}

// finish records the run. On failure, what was read is still written first (best effort): the
// history query shows it, and no membership query uses it, as its run is not complete.
func (s *syncer) finish(ctx context.Context, runErr error) error {
	flush := func(ctx context.Context) error {
		if s.batch.Empty() {
			return nil
		}
		return s.st.Flush(ctx, &s.batch)
	}
	return s.st.FinishRun(ctx, s.run, runErr, connectors.RunEnd{
		Flush:      flush,
		Unwritten:  "could not write what the failed run read",
		Unrecorded: "it stays 'running', which the queries ignore too",
		Incomplete: "the queries will not use it; run the sync again",
		Complete: fmt.Sprintf("%d groups (%d gone, %d skipped, %d failed), %d members, %d online states (%d online, %d accounts without one) in %s",
			s.sum.Groups, s.sum.Gone, s.sum.Skipped, s.sum.Failed, s.sum.Members, s.sum.Accounts, s.sum.Online, s.sum.NoState,
			s.sum.Took.Round(time.Millisecond)),
	}, s.prog, s.log)
}
