package main

import (
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/imarchive/imarchive/chconn"
	"github.com/imarchive/imarchive/connectors"
	"github.com/imarchive/imarchive/connectors/maxim"
	"github.com/imarchive/imarchive/internal/cli"
)

func maximCommand(stdout, stderr io.Writer) *cli.Command {
	c := cli.New("maxim", "Maxim's server API: sync groups, their members and accounts' rosters into ClickHouse snapshots",
		`Actions:
  imarchive maxim sync   members of every group (GET /group/member_list, page by page) and the roster
                         of every account (GET /user/rosters) into ClickHouse snapshots; queries
                         group_members_at, account_groups_at, roster_at, group_snapshot_history
Groups: --groups, and those seen in the archive or earlier snapshots (--from-archive). Accounts:
--users, the members read, and those seen in the archive. Incremental: an item whose last complete
snapshot is younger than --refresh-after is skipped. Resumable: a sync that failed or was killed is
continued by the next one (--resume), from the saved cursor of the group it stopped in. A run counts
for the queries only once it is complete.`)
	var (
		lf          cli.LogFlags
		cf          connectorFlags
		cfg         = maxim.DefaultConfig()
		sc          = maxim.DefaultSyncConfig()
		accessToken string
		groups      string
		users       string
	)
	c.Group(cli.Subcommand{Name: "sync", Summary: "group members and account rosters into ClickHouse snapshots (incremental, resumable)"})
	lf.Register(c)
	cf.register(c)
	c.Str(&cfg.Endpoint, "api-url", "IMARCHIVE_MAXIM_API_URL", cfg.Endpoint, "the app's api_endpoint (console, 应用信息)")
	c.Str(&cfg.AppID, "app-id", "IMARCHIVE_MAXIM_APP_ID", "", "the app's app_id (required)")
	secret(c, &accessToken, "access-token", "IMARCHIVE_MAXIM_ACCESS_TOKEN", "an access-token from the console's Token management page (this or --access-token-file is needed)")
	c.Str(&cfg.AccessTokenFile, "access-token-file", "IMARCHIVE_MAXIM_ACCESS_TOKEN_FILE", "", "a file holding the access-token, read again when the platform refuses it (10008): rotate it without stopping a sync")
	c.Str(&cfg.UserID, "user-id", "IMARCHIVE_MAXIM_USER_ID", "", "the user_id member_list acts as (the manual: the group owner), for groups without GROUP:USER")
	c.Integer(&cfg.PageLimit, "page-limit", "IMARCHIVE_MAXIM_PAGE_LIMIT", cfg.PageLimit, "members per member_list page (limit)")
	c.Str(&groups, "groups", "IMARCHIVE_MAXIM_SYNC_GROUPS", "", "groups to sync besides those seen: GROUP_ID[:USER_ID],…")
	c.Str(&users, "users", "IMARCHIVE_MAXIM_SYNC_USERS", "", "accounts whose roster to take besides those seen: USER_ID,…")
	c.Bool(&sc.FromArchive, "from-archive", "IMARCHIVE_MAXIM_SYNC_FROM_ARCHIVE", sc.FromArchive, "also sync the groups and accounts seen in the archive (messages, presence) and earlier snapshots")
	c.Bool(&sc.Rosters, "rosters", "IMARCHIVE_MAXIM_SYNC_ROSTERS", sc.Rosters, "take the accounts' rosters")
	c.Duration(&sc.RefreshAfter, "refresh-after", "IMARCHIVE_MAXIM_REFRESH_AFTER", sc.RefreshAfter, "skip a group or roster whose last complete snapshot is younger than this (0: take everything)")
	c.Bool(&sc.Resume, "resume", "IMARCHIVE_MAXIM_SYNC_RESUME", sc.Resume, "continue the last run if it did not complete")
	c.Integer(&sc.MaxPages, "max-pages", "IMARCHIVE_MAXIM_MAX_PAGES", sc.MaxPages, "most member_list pages of one group (a guard against a cursor that never ends)")
	c.Run = func(args []string) error {
		if _, err := action(c, args, "sync"); err != nil {
			return err
		}
		log, err := lf.Logger(stderr)
		if err != nil {
			return err
		}
		cfg.AccessToken, cfg.Policy, sc.FlushRows = connectors.Secret(accessToken), cf.policy, cf.flushRows
		var gerr error
		sc.Groups, gerr = maxim.ParseGroups(groups)
		sc.Users = cli.SplitList(users)
		var dsnErr error
		if cf.dsn == "" {
			dsnErr = chconn.ErrNoDSN
		}
		if err := errors.Join(cfg.Validate(), sc.Validate(), gerr, dsnErr); err != nil {
			return err
		}
		ctx, stop := cli.SignalContext()
		defer stop()
		metrics := connectors.NewMetrics(newRegistry())
		client, err := maxim.NewClient(cfg, log, maxim.WithMetrics(metrics))
		if err != nil {
			return err
		}
		conn, err := chconn.Open(ctx, cf.dsn)
		if err != nil {
			return err
		}
		defer conn.Close()
		st := connectors.NewStore(conn, "maxim", cfg.AppID, metrics)
		sum, err := maxim.Sync(ctx, client, st, sc, cf.progressTo(stderr, "maxim sync: ", client.Redactor()), log)
		if err != nil {
			return err
		}
		resumed := ""
		if sum.Resumed {
			resumed = " (resumed)"
		}
		fmt.Fprintf(stdout, "maxim sync run %s%s complete: %d groups (%d pages, %d members, %d gone), %d rosters (%d contacts); skipped %d fresh, %d done before, %d unreadable; %s\n",
			sum.RunID, resumed, sum.Groups, sum.Pages, sum.Members, sum.Gone, sum.Accounts, sum.Contacts, sum.Fresh, sum.Done, sum.Skipped, sum.Took.Round(time.Millisecond))
		return nil
	}
	return c
}
