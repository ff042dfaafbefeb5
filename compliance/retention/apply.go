package retention

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2"
	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/imarchive/imarchive/queries"
)

// Pass is one retention pass to run.
type Pass struct {
	Policy Policy
	Actor  string    // who runs it (recorded)
	DryRun bool      // count only
	Now    time.Time // the pass's "now"; cutoffs are Now minus each table's days
}

// Validate reports every problem at once.
func (p Pass) Validate() error {
	var errs []error
	if err := p.Policy.Validate(); err != nil {
		errs = append(errs, err)
	}
	if strings.TrimSpace(p.Actor) == "" {
		errs = append(errs, errors.New("by: required (who runs the retention pass; it is recorded)"))
	}
	if p.Now.IsZero() {
		errs = append(errs, errors.New("now: not set"))
	}
	return errors.Join(errs...)
}

// TableResult is what a pass did to one table.
type TableResult struct {
	Table      string
	Days       int // 0: off, nothing done
	Cutoff     time.Time
	Candidates uint64 // rows received before the cutoff, before the pass
	Held       uint64 // of those, kept under a legal hold
	Deleted    uint64 // rows deleted (0 on a dry run)
	Remaining  uint64 // rows before the cutoff after the pass: the held ones (and, on a dry run, all)
}

// Result is what a pass did.
type Result struct {
	RunID  string
	DryRun bool
	Tables []TableResult
}

var (
	stmtCandidates = queries.MustStatement("retention_candidates")
	stmtDelete     = queries.MustStatement("retention_delete")
)

const paramTime = "2006-01-02 15:04:05.000"

// Apply runs a pass: for every table of Tables with days in the policy, it counts the rows older than
// the cutoff and the held ones, deletes the others (unless DryRun), counts again, and records the pass
// in retention_runs and the policy in schema_retention. It stops at the first ClickHouse error; the
// tables done before it are recorded.
func Apply(ctx context.Context, conn driver.Conn, p Pass, log *slog.Logger) (Result, error) {
	if err := p.Validate(); err != nil {
		return Result{}, err
	}
	res := Result{RunID: newID("r", p.Now), DryRun: p.DryRun}
	for _, table := range Tables {
		days := p.Policy[table]
		if days <= 0 {
			res.Tables = append(res.Tables, TableResult{Table: table})
			continue
		}
		start := time.Now()
		tr := TableResult{Table: table, Days: days, Cutoff: p.Now.Add(-time.Duration(days) * 24 * time.Hour).UTC().Truncate(time.Millisecond)}
		params := clickhouse.Parameters{"table": table, "cutoff": tr.Cutoff.Format(paramTime)}
		qctx := clickhouse.Context(ctx, clickhouse.WithParameters(params))
		if err := conn.QueryRow(qctx, stmtCandidates.SQL).Scan(&tr.Candidates, &tr.Held); err != nil {
			return res, fmt.Errorf("retention %s: count rows before %s: %w", table, tr.Cutoff.Format(time.RFC3339), err)
		}
		tr.Remaining = tr.Candidates
		if !p.DryRun && tr.Candidates > tr.Held {
			dctx := clickhouse.Context(ctx, clickhouse.WithParameters(params),
				clickhouse.WithSettings(clickhouse.Settings{"lightweight_deletes_sync": 2, "mutations_sync": 2}))
			if err := conn.Exec(dctx, stmtDelete.SQL); err != nil {
				return res, fmt.Errorf("retention %s: delete rows before %s: %w", table, tr.Cutoff.Format(time.RFC3339), err)
			}
			var held uint64
			if err := conn.QueryRow(qctx, stmtCandidates.SQL).Scan(&tr.Remaining, &held); err != nil {
				return res, fmt.Errorf("retention %s: count rows after the delete: %w", table, err)
			}
			tr.Deleted = tr.Candidates - min(tr.Remaining, tr.Candidates)
		}
		if err := recordRun(ctx, conn, res.RunID, tr, p, start); err != nil {
			return res, err
		}
		log.Info("retention pass", "run", res.RunID, "table", table, "days", days, "cutoff", tr.Cutoff,
			"candidates", tr.Candidates, "held", tr.Held, "deleted", tr.Deleted, "dry_run", p.DryRun)
		res.Tables = append(res.Tables, tr)
	}
	if !p.DryRun {
		if err := recordPolicy(ctx, conn, p); err != nil {
			return res, err
		}
	}
	return res, nil
}

func recordRun(ctx context.Context, conn driver.Conn, runID string, tr TableResult, p Pass, start time.Time) error {
	ctx = clickhouse.Context(ctx, clickhouse.WithSettings(clickhouse.Settings{"async_insert": 0}))
	b, err := conn.PrepareBatch(ctx, "INSERT INTO retention_runs (run_id, table_name, time_column, days, cutoff, candidates, held, deleted, dry_run, actor, started_at, finished_at)")
	if err != nil {
		return fmt.Errorf("record retention pass: %w", err)
	}
	defer b.Abort()
	if err := b.Append(runID, tr.Table, TimeColumn, uint32(tr.Days), tr.Cutoff, tr.Candidates, tr.Held, tr.Deleted, p.DryRun,
		p.Actor, start.UTC(), time.Now().UTC()); err != nil {
		return fmt.Errorf("record retention pass: %w", err)
	}
	if err := b.Send(); err != nil {
		return fmt.Errorf("record retention pass: %w", err)
	}
	return nil
}

func recordPolicy(ctx context.Context, conn driver.Conn, p Pass) error {
	ctx = clickhouse.Context(ctx, clickhouse.WithSettings(clickhouse.Settings{"async_insert": 0}))
	b, err := conn.PrepareBatch(ctx, "INSERT INTO schema_retention (table_name, column, seconds, applied_at)")
	if err != nil {
		return fmt.Errorf("record retention policy: %w", err)
	}
	defer b.Abort()
	for _, t := range Tables {
		if err := b.Append(t, TimeColumn, uint64(p.Policy[t])*86400, p.Now.UTC()); err != nil {
			return fmt.Errorf("record retention policy: %w", err)
		}
	}
	if err := b.Send(); err != nil {
		return fmt.Errorf("record retention policy: %w", err)
	}
	return nil
}
