package retention

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2"
	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/imarchive/imarchive/queries"
)

// Scopes a hold can have.
var Scopes = []string{"account", "channel", "group", "server"}

// Errors of the hold functions.
var (
	ErrHold   = errors.New("bad hold")              // a request misses something (wrapped with what)
	ErrNoHold = errors.New("no such hold in force") // Release of an unknown or released hold
)

// Hold asks for a legal hold: every event of App about Subject (an account, channel, group or server
// id, per Scope) is kept until the hold is released. Actor and Reason say who and why.
type Hold struct {
	App, Scope, Subject string
	Actor, Reason       string
}

// Validate reports every missing or wrong field at once.
func (h Hold) Validate() error {
	var errs []error
	if strings.TrimSpace(h.App) == "" {
		errs = append(errs, errors.New("app: required (the platform application the subject belongs to)"))
	}
	if !validScope(h.Scope) {
		errs = append(errs, fmt.Errorf("scope %q: want one of %s", h.Scope, strings.Join(Scopes, ", ")))
	}
	if strings.TrimSpace(h.Subject) == "" {
		errs = append(errs, errors.New("subject: required (the account, channel, group or server id)"))
	}
	errs = append(errs, whoWhy(h.Actor, h.Reason)...)
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("%w: %w", ErrHold, err)
	}
	return nil
}

func whoWhy(actor, reason string) []error {
	var errs []error
	if strings.TrimSpace(actor) == "" {
		errs = append(errs, errors.New("by: required (who places or releases the hold)"))
	}
	if strings.TrimSpace(reason) == "" {
		errs = append(errs, errors.New("reason: required (the case, matter or instruction)"))
	}
	return errs
}

func validScope(s string) bool {
	for _, x := range Scopes {
		if s == x {
			return true
		}
	}
	return false
}

var stmtHoldActive = queries.MustStatement("hold_active")

const holdColumns = "hold_id, action, app, scope, subject, actor, reason, at"

// Place records a hold and returns its id. It returns ErrHold (wrapped) for an incomplete request.
func Place(ctx context.Context, conn driver.Conn, h Hold, now time.Time) (string, error) {
	if err := h.Validate(); err != nil {
		return "", err
	}
	id := newID("h", now)
	if err := insertHold(ctx, conn, id, "add", h, now); err != nil {
		return "", err
	}
	return id, nil
}

// Release lifts the hold id, saying who and why. It returns ErrNoHold (wrapped) when no hold with that
// id is in force, ErrHold (wrapped) when actor or reason is missing.
func Release(ctx context.Context, conn driver.Conn, id, actor, reason string, now time.Time) error {
	if errs := whoWhy(actor, reason); len(errs) > 0 {
		return fmt.Errorf("%w: %w", ErrHold, errors.Join(errs...))
	}
	h, ok, err := Active(ctx, conn, id)
	if err != nil {
		return err
	}
	if !ok {
		return fmt.Errorf("%w: %q (imarchive hold list shows them)", ErrNoHold, id)
	}
	h.Actor, h.Reason = actor, reason
	return insertHold(ctx, conn, id, "release", h, now)
}

// Active returns the hold id when it is in force.
func Active(ctx context.Context, conn driver.Conn, id string) (Hold, bool, error) {
	qctx := clickhouse.Context(ctx, clickhouse.WithParameters(clickhouse.Parameters{"hold_id": id}))
	rows, err := conn.Query(qctx, stmtHoldActive.SQL)
	if err != nil {
		return Hold{}, false, fmt.Errorf("read hold %s: %w", id, err)
	}
	defer rows.Close()
	var h Hold
	found := false
	for rows.Next() {
		if err := rows.Scan(&h.App, &h.Scope, &h.Subject, &h.Actor, &h.Reason); err != nil {
			return Hold{}, false, fmt.Errorf("read hold %s: %w", id, err)
		}
		found = true
	}
	return h, found, rows.Err()
}

func insertHold(ctx context.Context, conn driver.Conn, id, action string, h Hold, now time.Time) error {
	ctx = clickhouse.Context(ctx, clickhouse.WithSettings(clickhouse.Settings{"async_insert": 0}))
	b, err := conn.PrepareBatch(ctx, "INSERT INTO legal_holds ("+holdColumns+")")
	if err != nil {
		return fmt.Errorf("record hold %s: %w", action, err)
	}
	defer b.Abort()
	if err := b.Append(id, action, h.App, h.Scope, h.Subject, h.Actor, h.Reason, now.UTC()); err != nil {
		return fmt.Errorf("record hold %s: %w", action, err)
	}
	if err := b.Send(); err != nil {
		return fmt.Errorf("record hold %s: %w", action, err)
	}
	return nil
}

// newID is prefix-<UTC time>-<8 hex digits>: sortable by time, unique.
func newID(prefix string, now time.Time) string {
	b := make([]byte, 4)
	rand.Read(b)
	return prefix + "-" + now.UTC().Format("20060102T150405Z") + "-" + hex.EncodeToString(b)
}
