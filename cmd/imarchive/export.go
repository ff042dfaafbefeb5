package main

import (
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/imarchive/imarchive/chconn"
	"github.com/imarchive/imarchive/compliance/export"
	"github.com/imarchive/imarchive/internal/cli"
)

func exportCommand(stdout, stderr io.Writer) *cli.Command {
	c := cli.New("export", "export an account, channel, group, server or time range with raw payloads and a manifest (export verify DIR re-checks one)",
		`  imarchive export --out DIR [--app A] [--account X] [--channel C] [--group G] [--server S] [--from T] [--to T] [--format jsonl|csv]
  imarchive export verify DIR [--manifest-sha256 HEX]
An export holds one file per archive view (messages, message_updates, notifications, presence_events,
community_events, quick_comments) with the selected events, raw_callbacks with every raw payload
behind them (Base64 of the exact bytes, SHA-256, hash-chain link), manifest.json (selection, rows,
time span, SHA-256 of every file and of every raw payload, the hash chain's heads) and SHA256SUMS
(sha256sum --check works on it). The selection's criteria must all hold; none given selects every
event in [from, to). --from defaults to the beginning, --to to now. Progress goes to stderr; the
manifest's SHA-256 is printed last: keep it apart from the export — export verify --manifest-sha256
then proves the manifest itself was not replaced. export verify needs no database; it exits 1 when
anything is missing, added or changed. TIME: RFC 3339, '2026-03-01 10:00:00' (UTC) or Unix ms.`)
	var (
		lf       cli.LogFlags
		dsn      string
		out      string
		format   string
		from, to string
		sel      export.Selection
		wantSHA  string
	)
	c.Group(cli.Subcommand{Name: "verify", Summary: "re-check an export directory offline: every file, row and raw payload (--manifest-sha256)"})
	c.SubsOptional = true // imarchive export --out DIR … makes one
	lf.Register(c)
	c.Str(&dsn, "clickhouse-dsn", "IMARCHIVE_CLICKHOUSE_DSN", "", "ClickHouse DSN (required to export)")
	c.Str(&format, "format", "IMARCHIVE_EXPORT_FORMAT", export.FormatJSONL, "file format: jsonl (one JSON object per line) or csv (with a header row)")
	c.FS.StringVar(&out, "out", "", "directory to write (created; must not exist or be empty)")
	c.FS.StringVar(&sel.App, "app", "", "platform application (NetEase appkey, iLink appkey, Maxim app_id); empty: every one")
	c.FS.StringVar(&sel.Account, "account", "", "events about this account")
	c.FS.StringVar(&sel.ChannelID, "channel", "", "events in this QChat channel")
	c.FS.StringVar(&sel.GroupID, "group", "", "events in this iLink or Maxim group")
	c.FS.StringVar(&sel.ServerID, "server", "", "events in this QChat server")
	c.FS.StringVar(&from, "from", "", "events at or after this time (default: the beginning)")
	c.FS.StringVar(&to, "to", "", "events before this time (default: now)")
	c.FS.StringVar(&wantSHA, "manifest-sha256", "", "export verify: the manifest's SHA-256 as printed when the export was made")
	c.Run = func(args []string) error {
		if len(args) > 0 && args[0] == "verify" {
			return exportVerify(c, args[1:], stdout, stderr, &wantSHA)
		}
		if err := c.Parse(args); err != nil {
			return err
		}
		if rest := c.FS.Args(); len(rest) > 0 {
			return cli.Usagef("unexpected arguments %q (imarchive export verify DIR checks an export)", rest)
		}
		now := time.Now().UTC()
		var errs []error
		if out == "" {
			errs = append(errs, cli.Usagef("--out: required (the directory to write)"))
		}
		sel.From, sel.To = time.Unix(0, 0).UTC(), now
		if from != "" {
			t, err := parseTime("from", from)
			errs = append(errs, err)
			sel.From = t
		}
		if to != "" {
			t, err := parseTime("to", to)
			errs = append(errs, err)
			sel.To = t
		}
		cfg := export.Config{Dir: out, Format: format, Selection: sel, Tool: "imarchive " + buildVersion(), Now: now, Progress: stderr}
		if err := errors.Join(append(errs, cfg.Validate())...); err != nil {
			return err
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
		res, err := export.Export(ctx, conn, cfg)
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "%s: %d files, %d raw payloads\nmanifest SHA-256 %s\n", out, len(res.Manifest.Files), len(res.Manifest.RawPayloads), res.ManifestSHA256)
		return nil
	}
	return c
}

func exportVerify(c *cli.Command, args []string, stdout, stderr io.Writer, wantSHA *string) error {
	// The directory may stand before or after the flags.
	var dir string
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		dir, args = args[0], args[1:]
	}
	if err := c.Parse(args); err != nil {
		return err
	}
	if rest := c.FS.Args(); len(rest) > 0 {
		if dir != "" || len(rest) > 1 {
			return cli.Usagef("unexpected arguments %q", rest)
		}
		dir = rest[0]
	}
	if dir == "" {
		return cli.Usagef("usage: imarchive export verify DIR [--manifest-sha256 HEX]")
	}
	rep, err := export.Verify(dir, *wantSHA)
	if err != nil {
		return err
	}
	m := rep.Manifest
	fmt.Fprintf(stdout, "export of %s (%s, created %s by %s)\n", describeSelection(m.Selection), m.Format, m.CreatedAt, m.Tool)
	fmt.Fprintf(stdout, "events from %s to %s; %d files, %d rows, %d raw payloads re-hashed (%d chain links re-computed), %d events without a raw record\n",
		orDash(m.TimeSpan.First), orDash(m.TimeSpan.Last), rep.Files, rep.Rows, rep.Payloads, rep.Chained, len(m.EventsWithoutRaw))
	fmt.Fprintf(stdout, "manifest SHA-256 %s\n", rep.ManifestSHA256)
	if *wantSHA == "" {
		fmt.Fprintln(stdout, "(no --manifest-sha256 given: a manifest rewritten together with the files would not be noticed)")
	}
	if rep.OK() {
		fmt.Fprintln(stdout, "OK: every file and payload is as exported")
		return nil
	}
	for _, p := range rep.Problems {
		fmt.Fprintf(stdout, "PROBLEM: %s\n", p)
	}
	return fmt.Errorf("export %s does not verify: %d problems", dir, len(rep.Problems))
}

func describeSelection(s export.ManifestSelection) string {
	var parts []string
	for _, kv := range [][2]string{{"app", s.App}, {"account", s.Account}, {"channel", s.ChannelID}, {"group", s.GroupID}, {"server", s.ServerID}} {
		if kv[1] != "" {
			parts = append(parts, kv[0]+" "+kv[1])
		}
	}
	parts = append(parts, "from "+s.From, "to "+s.To)
	return strings.Join(parts, ", ")
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
