package ilink

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
	Groups   int // group member lists completed
	Gone     int // groups listed, then reported gone (1013) before their members were read
	Skipped  int // groups whose members the UID may not read (1014)
	Members  int // member rows
	Accounts int // accounts whose online state was polled
	Online   int // of those, online
	Took     time.Duration
}

// Sync takes one snapshot of the application's directory into ClickHouse: the group list (ham_group
// action 3), each group's members (action 6), and, with cfg.States, the online state of every account
// seen (ham_user action 1: group members, accounts in the archive, cfg.UIDs). The run is recorded
// complete only when everything was written; on any error it is recorded failed (the membership
// queries ignore it) and the error returned. prog may be nil.
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
	for i, g := range groups {
		members, err := s.group(ctx, g)
		if err != nil {
			return err
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
		states, err := s.c.UserStates(ctx, batch)
		if err != nil {
			return fmt.Errorf("online states of accounts %d–%d: %w", i+1, end, err)
		}
		snap := connectors.Snap{RunID: s.run.ID, SnapshotID: connectors.NewID("s"), SyncedAt: s.now()}
		online := 0
		for _, u := range states {
			s.batch.States = append(s.batch.States, connectors.StateRow{Snap: snap, Account: u.UID, Online: u.Online, State: u.State, Attrs: u.Attrs})
			if u.Online {
				online++
			}
		}
		s.batch.Items = append(s.batch.Items, connectors.Item{Kind: connectors.KindUserStates, ID: fmt.Sprintf("%s/%04d", s.run.ID, n),
			RunID: s.run.ID, SnapshotID: snap.SnapshotID, Status: connectors.ItemComplete, StartedAt: started, SyncedAt: snap.SyncedAt,
			Pages: 1, Rows: uint64(len(states))})
		s.sum.Accounts += len(states)
		s.sum.Online += online
		s.run.Counts.Accounts += uint64(len(states))
		s.prog.Printf("online states %d–%d of %d: %d answered, %d online", i+1, end, len(accounts), len(states), online)
		if err := s.flushIfFull(ctx); err != nil {
			return err
		}
	}
	return s.st.Flush(ctx, &s.batch)
}

// finish records the run. On failure, what was read is still written first (best effort): the
// history query shows it, and no membership query uses it, as its run is not complete.
func (s *syncer) finish(ctx context.Context, runErr error) error {
	// Record the outcome even when ctx was cancelled (Ctrl-C), within a short deadline.
	fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer cancel()
	if runErr != nil && !s.batch.Empty() {
		if err := s.st.Flush(fctx, &s.batch); err != nil {
			s.log.Warn("could not write what the failed run read", "err", err)
		}
	}
	ferr := s.st.Finish(fctx, s.run, runErr)
	if runErr != nil {
		s.prog.Printf("run %s failed: %v", s.run.ID, runErr)
		if ferr != nil {
			return errors.Join(runErr, fmt.Errorf("record the run as failed (it stays 'running', which the queries ignore too): %w", ferr))
		}
		return runErr
	}
	if ferr != nil {
		return fmt.Errorf("everything was written but recording run %s complete failed (the queries will not use it; run the sync again): %w", s.run.ID, ferr)
	}
	s.prog.Printf("run %s complete: %d groups (%d gone, %d skipped), %d members, %d online states (%d online) in %s",
		s.run.ID, s.sum.Groups, s.sum.Gone, s.sum.Skipped, s.sum.Members, s.sum.Accounts, s.sum.Online, s.sum.Took.Round(time.Millisecond))
	return nil
}
