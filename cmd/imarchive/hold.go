package main

import (
	"errors"
	"fmt"
	"io"
	"os/user"
	"strings"
	"time"

	"github.com/imarchive/imarchive/chconn"
	"github.com/imarchive/imarchive/compliance/retention"
	"github.com/imarchive/imarchive/internal/cli"
	"github.com/imarchive/imarchive/queries"
)

func holdCommand(stdout, stderr io.Writer) *cli.Command {
	c := cli.New("hold", "place, release and list legal holds: held accounts, channels, groups and servers are exempt from retention",
		`  imarchive hold add --app A --scope account|channel|group|server --subject ID --by WHO --reason WHY
  imarchive hold release --id HOLD --by WHO --reason WHY
  imarchive hold list [--all] [--format table|csv|json]
A hold keeps every archived event of the application about the subject (for an account: what it sent,
received, edited, did and had done to it; for a channel, group or server: everything in it) and the
raw records behind them, until released; imarchive retention apply never deletes them. Holds and
releases are recorded with who and why — the --by text and the ClickHouse user, which the server
records and no one can write — and never deleted (list --all shows released ones too). Only the
auditor (IMARCHIVE_ACCESS_AUDITOR_*) and the administrator may add and release holds.`)
	var (
		lf     cli.LogFlags
		dsn    string
		h      retention.Hold
		id     string
		all    bool
		format string
	)
	c.Group(
		cli.Subcommand{Name: "add", Summary: "place a hold on an account, channel, group or server of an app (--app --scope --subject --by --reason)"},
		cli.Subcommand{Name: "release", Summary: "release a hold (--id --by --reason); it stays on record"},
		cli.Subcommand{Name: "list", Summary: "the holds in force (--all: released ones too)"},
	)
	lf.Register(c)
	c.Str(&dsn, "clickhouse-dsn", "IMARCHIVE_CLICKHOUSE_DSN", "", "ClickHouse DSN (required)")
	c.Str(&h.Actor, "by", "IMARCHIVE_ACTOR", osUser(), "who places or releases the hold, as recorded beside the ClickHouse user of the DSN (which the server records itself); default: the OS user")
	c.FS.StringVar(&h.App, "app", "", "add: the platform application")
	c.FS.StringVar(&h.Scope, "scope", "", "add: "+strings.Join(retention.Scopes, ", "))
	c.FS.StringVar(&h.Subject, "subject", "", "add: the account, channel, group or server id")
	c.FS.StringVar(&h.Reason, "reason", "", "add, release: why (the case, matter or instruction), recorded")
	c.FS.StringVar(&id, "id", "", "release: the hold id (hold list shows them)")
	c.FS.BoolVar(&all, "all", false, "list: released holds too")
	c.FS.StringVar(&format, "format", "table", "list: table, csv or json")
	c.Run = func(args []string) error {
		if len(args) == 0 || strings.HasPrefix(args[0], "-") {
			return cli.Usagef("usage: imarchive hold add|release|list [flags]")
		}
		sub := args[0]
		if err := c.Parse(args[1:]); err != nil {
			return err
		}
		if rest := c.FS.Args(); len(rest) > 0 {
			return cli.Usagef("unexpected arguments %q", rest)
		}
		switch sub {
		case "add":
			if err := h.Validate(); err != nil {
				return err
			}
		case "release":
			var errs []error
			if id == "" {
				errs = append(errs, cli.Usagef("--id: required"))
			}
			if h.Actor == "" {
				errs = append(errs, errors.New("--by: required (who releases the hold)"))
			}
			if h.Reason == "" {
				errs = append(errs, errors.New("--reason: required (why it is released)"))
			}
			if err := errors.Join(errs...); err != nil {
				return err
			}
		case "list":
		default:
			return cli.Usagef("unknown hold command %q: want add, release or list", sub)
		}
		if _, err := lf.Logger(stderr); err != nil {
			return err
		}
		ctx, stop := cli.SignalContext()
		defer stop()
		conn, err := chconn.Open(ctx, dsn)
		if err != nil {
			return err
		}
		defer conn.Close()
		switch sub {
		case "add":
			hid, err := retention.Place(ctx, conn, h, time.Now())
			if err != nil {
				return err
			}
			fmt.Fprintf(stdout, "hold %s placed: %s %s in %s, by %s: %s\n", hid, h.Scope, h.Subject, h.App, h.Actor, h.Reason)
			return nil
		case "release":
			if err := retention.Release(ctx, conn, id, h.Actor, h.Reason, time.Now()); err != nil {
				return err
			}
			fmt.Fprintf(stdout, "hold %s released by %s: %s\n", id, h.Actor, h.Reason)
			return nil
		}
		q, err := queries.Get("legal_holds")
		if err != nil {
			return err
		}
		include := "0"
		if all {
			include = "1"
		}
		_, err = queries.Run(ctx, conn, q, map[string]string{"include_released": include}, format, stdout)
		return err
	}
	return c
}

// osUser is the name of the user running the command, "" when unknown.
func osUser() string {
	if u, err := user.Current(); err == nil {
		return u.Username
	}
	return ""
}
