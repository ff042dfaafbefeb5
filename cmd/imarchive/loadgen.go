package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/imarchive/imarchive/ingest"
	"github.com/imarchive/imarchive/internal/cli"
	"github.com/imarchive/imarchive/internal/loadgen"
)

func loadgenCommand(stdout, stderr io.Writer) *cli.Command {
	c := cli.New("loadgen", "send realistic, correctly signed synthetic callbacks of all three platforms to a running serve",
		`Uses the same app variables as serve (IMARCHIVE_NETEASE_APPS, IMARCHIVE_ILINK_APPS, IMARCHIVE_MAXIM_APPS), so
one configuration drives both (make stack's: --config .testenv/stack.env). Kinds for --mix:
`+strings.Join(loadgen.AllKinds, ", ")+`.
Updates, recalls, deletions, quick comments and Maxim edits are about messages the run sent before.
A progress line each second goes to stderr; the summary to stdout: per kind the callbacks made and
delivered (what the archive should then hold, each once), the deliberate re-sends (--duplicates) and
the retries of failed sends (--failed-retries) on top, the answers by HTTP status, latency
percentiles, transport errors. It stops by itself after --duration or --count, and exits 1 when more
than --max-failure-share of the callbacks were never accepted.`)
	var (
		cfg                     loadgen.Config
		netease, ilink, maxim   string
		mix, acceptedLog, jsonF string
		seed                    int
		maxFail                 float64
	)
	c.Str(&cfg.Target, "target", "IMARCHIVE_LOADGEN_TARGET", "http://127.0.0.1:8080", "base URL of imarchive serve")
	c.FS.Float64Var(&cfg.Rate, "rate", 100, "callbacks per second (first sends; retries come on top); 0 = as fast as --concurrency allows")
	c.Duration(&cfg.Duration, "duration", "IMARCHIVE_LOADGEN_DURATION", 10*time.Second, "stop after this long")
	c.Integer(&cfg.Count, "count", "IMARCHIVE_LOADGEN_COUNT", 0, "stop after this many first sends (0: no limit)")
	c.Integer(&cfg.Concurrency, "concurrency", "IMARCHIVE_LOADGEN_CONCURRENCY", 16, "requests in flight at most")
	c.Integer(&cfg.Accounts, "accounts", "IMARCHIVE_LOADGEN_ACCOUNTS", 200, "distinct accounts")
	c.Integer(&cfg.Channels, "channels", "IMARCHIVE_LOADGEN_CHANNELS", 20, "distinct channels and groups")
	c.Str(&mix, "mix", "IMARCHIVE_LOADGEN_MIX", "", "kind=weight,… (default: "+loadgen.DefaultMix+", limited to platforms with apps)")
	c.FS.Float64Var(&cfg.Duplicates, "duplicates", 0.05, "share of accepted callbacks sent again as a platform retry, re-signed (0-1)")
	c.FS.Float64Var(&cfg.OutOfOrder, "out-of-order", 0.1, "share of presence events sent late with an older time (0-1)")
	c.FS.IntVar(&cfg.FailedRetries, "failed-retries", 0, "send a callback that failed (5xx, 429, no answer) again up to this many times, as the platforms retry")
	c.FS.IntVar(&seed, "seed", 0, "random seed (0: random); the same seed makes the same traffic")
	c.FS.Float64Var(&maxFail, "max-failure-share", 0, "exit 1 when more than this share (0-1) of the callbacks was never accepted (0: any)")
	c.Str(&netease, "netease-apps", "IMARCHIVE_NETEASE_APPS", "", "NetEase apps as appkey=secret[,…]")
	c.Str(&ilink, "ilink-apps", "IMARCHIVE_ILINK_APPS", "", "iLink apps as appkey=token:secret[,…]")
	c.Str(&maxim, "maxim-apps", "IMARCHIVE_MAXIM_APPS", "", "Maxim apps as app_id=secret[,…]")
	c.FS.StringVar(&acceptedLog, "accepted-log", "", "write one JSON line per accepted callback to this file (kind, platform, app, id, event_id, …)")
	c.FS.StringVar(&jsonF, "report-json", "", "write the report as JSON to this file")
	c.Run = func(args []string) error {
		if err := c.Parse(args); err != nil {
			return err
		}
		if maxFail < 0 || maxFail > 1 {
			return cli.Usagef("--max-failure-share %v: want a share from 0 to 1", maxFail)
		}
		var err error
		if cfg.NeteaseApps, err = ingest.ParseApps(netease); err != nil {
			return fmt.Errorf("netease apps: %w", err)
		}
		il, err := ingest.ParseILinkApps(ilink)
		if err != nil {
			return fmt.Errorf("ilink apps: %w", err)
		}
		cfg.ILinkApps = map[string]loadgen.ILinkApp{}
		for k, a := range il {
			cfg.ILinkApps[k] = loadgen.ILinkApp{Token: a.Token, PathSecret: a.Secret}
		}
		if cfg.MaximApps, err = ingest.ParseApps(maxim); err != nil {
			return fmt.Errorf("maxim apps: %w", err)
		}
		if len(cfg.NeteaseApps)+len(cfg.ILinkApps)+len(cfg.MaximApps) == 0 {
			return cli.ConfigError{Err: errors.New("no apps to sign callbacks with: give loadgen the apps serve has (--netease-apps, --ilink-apps, --maxim-apps or their IMARCHIVE_* variables; for make stack: --config .testenv/stack.env)")}
		}
		if mix != "" {
			if cfg.Mix, err = loadgen.ParseMix(mix); err != nil {
				return err
			}
		}
		cfg.Seed = uint64(seed)
		cfg.Progress = stderr
		if acceptedLog != "" {
			f, err := os.Create(acceptedLog)
			if err != nil {
				return err
			}
			defer f.Close()
			cfg.AcceptedLog = f
		}
		ctx, stop := cli.SignalContext()
		defer stop()
		rep, err := loadgen.Run(ctx, cfg)
		if rep != nil {
			rep.WriteSummary(stdout)
			if jsonF != "" {
				b, _ := json.MarshalIndent(rep, "", "  ")
				if werr := os.WriteFile(jsonF, b, 0o644); werr != nil {
					return werr
				}
			}
		}
		if err != nil {
			return err
		}
		return rep.Check(maxFail)
	}
	return c
}
