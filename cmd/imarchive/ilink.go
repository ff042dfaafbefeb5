package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"time"

	"github.com/imarchive/imarchive/chconn"
	"github.com/imarchive/imarchive/connectors"
	"github.com/imarchive/imarchive/connectors/ilink"
	"github.com/imarchive/imarchive/ingest"
	"github.com/imarchive/imarchive/internal/suggest"
)

// boolean defines a bool flag with its IMARCHIVE_* variable.
func (c *command) boolean(p *bool, name, envName string, def bool, help string) {
	c.fs.BoolVar(p, name, def, help)
	c.env(name, envName)
}

// maskedValue is a string flag whose printed value (--help defaults, imarchive config check) is
// masked: a URL with its secrets masked (connectors.MaskURL), or a secret shown as ***.
type maskedValue struct {
	p   *string
	url bool
}

func (m maskedValue) String() string {
	if m.p == nil || *m.p == "" {
		return ""
	}
	if m.url {
		return connectors.MaskURL(*m.p)
	}
	return connectors.Masked
}

func (m maskedValue) Set(s string) error { *m.p = s; return nil }

func (c *command) secret(p *string, name, envName, help string) {
	c.fs.Var(maskedValue{p: p}, name, help)
	c.env(name, envName)
}

func (c *command) secretURL(p *string, name, envName, help string) {
	c.fs.Var(maskedValue{p: p, url: true}, name, help)
	c.env(name, envName)
}

// connectorFlags are shared by imarchive ilink and imarchive maxim.
type connectorFlags struct {
	policy    connectors.Policy
	progress  bool
	dsn       string
	flushRows int
}

func (f *connectorFlags) register(c *command) {
	f.policy = connectors.DefaultPolicy()
	c.duration(&f.policy.Timeout, "timeout", "IMARCHIVE_CONNECTOR_TIMEOUT", f.policy.Timeout, "longest wait for one answer of the platform's API")
	c.integer(&f.policy.Attempts, "attempts", "IMARCHIVE_CONNECTOR_ATTEMPTS", f.policy.Attempts, "requests in all for one call, the first included, while failures are retryable (timeouts, HTTP 5xx, the platform's transient codes)")
	c.duration(&f.policy.MinBackoff, "retry-min", "IMARCHIVE_CONNECTOR_RETRY_MIN", f.policy.MinBackoff, "first wait before a retry; it doubles, with jitter")
	c.duration(&f.policy.MaxBackoff, "retry-max", "IMARCHIVE_CONNECTOR_RETRY_MAX", f.policy.MaxBackoff, "longest wait before a retry")
	c.boolean(&f.progress, "progress", "IMARCHIVE_CONNECTOR_PROGRESS", true, "print a line per page, group or account to stderr during a sync")
	c.str(&f.dsn, "clickhouse-dsn", "IMARCHIVE_CLICKHOUSE_DSN", "", "ClickHouse DSN the snapshots are written to; sync needs it (run imarchive migrate first)")
	c.integer(&f.flushRows, "flush-rows", "IMARCHIVE_CONNECTOR_FLUSH_ROWS", 5000, "snapshot rows buffered before one ClickHouse insert")
}

func (f *connectorFlags) progressTo(stderr io.Writer, prefix string, r *connectors.Redactor) *connectors.Progress {
	if !f.progress {
		return nil
	}
	return connectors.NewProgress(stderr, prefix, r)
}

// action splits "ACTION [flags]" (the action may also follow the flags).
func action(c *command, args []string, actions ...string) (string, error) {
	var name string
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		name, args = args[0], args[1:]
	}
	if err := c.parse(args); err != nil {
		return "", err
	}
	if rest := c.fs.Args(); len(rest) > 0 {
		if name != "" || len(rest) > 1 {
			return "", usagef("unexpected arguments %q", rest)
		}
		name = rest[0]
	}
	for _, a := range actions {
		if a == name {
			return name, nil
		}
	}
	if name == "" {
		return "", usagef("no action: want one of %s", strings.Join(actions, ", "))
	}
	return "", usagef("unknown action %q%s: want one of %s", name, suggest.Phrase(name, actions), strings.Join(actions, ", "))
}

func ilinkCommand(stdout, stderr io.Writer) *command {
	c := newCommand("ilink", "ET-iLink's own API: register our callback URL, check it, sync groups, members and online states",
		`Actions:
  imarchive ilink register     check that serve answers the GET handshake at the callback URL, then
                               set_config action_type 0; prints the platform's code and its meaning
  imarchive ilink unregister   set_config action_type 1
  imarchive ilink status       set_config action_type 2 (query)
  imarchive ilink sync         groups (ham_group 3), members (6) and online states (ham_user 1) into
                               ClickHouse snapshots; queries group_members_at, account_groups_at…
The callback URL is --callback-url, or --public-url + /v1/ilink/{appkey}/{path-secret} with the token
and path secret of the appkey's entry in IMARCHIVE_ILINK_APPS (serve's own setting). The API is the
manual's HTTPS endpoint by default; its plain-HTTP one is http://hs.kaifakuai.com:8184.
Exit status 1 when the platform answers a code other than 0.`)
	var (
		lf           logFlags
		cf           connectorFlags
		cfg          = ilink.DefaultConfig()
		secretKey    string
		callbackURL  string
		publicURL    string
		token        string
		apps         string
		skipCheck    bool
		states       bool
		uids         string
		stateBatch   int
		tokenRefresh time.Duration
	)
	c.group(
		subcommand{"register", "check that serve answers the handshake at the callback URL, then register it (set_config 0)"},
		subcommand{"unregister", "remove the callback URL (set_config 1)"},
		subcommand{"status", "ask the platform what is registered (set_config 2)"},
		subcommand{"sync", "groups, members and online states into ClickHouse snapshots"},
	)
	lf.register(c)
	cf.register(c)
	c.str(&cfg.BaseURL, "api-url", "IMARCHIVE_ILINK_API_URL", cfg.BaseURL, "the iLink API's base URL")
	c.str(&cfg.AppKey, "appkey", "IMARCHIVE_ILINK_APPKEY", "", "the application's appkey (required)")
	c.secret(&secretKey, "secretkey", "IMARCHIVE_ILINK_SECRETKEY", "the application's secretkey, 32 lower-case characters (required)")
	c.str(&cfg.UID, "uid", "IMARCHIVE_ILINK_UID", "", "the business platform's UID used with set_config and as send_uid (required)")
	c.secretURL(&callbackURL, "callback-url", "IMARCHIVE_ILINK_CALLBACK_URL", "the callback URL to register: serve's https://HOST/v1/ilink/{appkey}/{path-secret} (or give --public-url)")
	c.str(&publicURL, "public-url", "IMARCHIVE_PUBLIC_URL", "", "where the platforms reach serve, e.g. https://archive.example.com: the callback URL is built from it and IMARCHIVE_ILINK_APPS")
	c.secret(&token, "token", "IMARCHIVE_ILINK_TOKEN", "the handshake token to register, 3-32 letters or digits (default: the appkey's token in IMARCHIVE_ILINK_APPS)")
	c.secret(&apps, "ilink-apps", "IMARCHIVE_ILINK_APPS", "serve's iLink apps, appkey=token:path-secret[,…]: the token and path secret of --appkey are used when --token or --callback-url are not given")
	c.boolean(&skipCheck, "skip-callback-check", "IMARCHIVE_ILINK_SKIP_CALLBACK_CHECK", false, "register without first checking that serve answers the handshake")
	c.boolean(&states, "states", "IMARCHIVE_ILINK_SYNC_STATES", true, "sync: poll the online state of every account seen")
	c.str(&uids, "uids", "IMARCHIVE_ILINK_SYNC_UIDS", "", "sync: more UIDs whose online state to poll, comma-separated")
	c.integer(&stateBatch, "state-batch", "IMARCHIVE_ILINK_STATE_BATCH", 100, "sync: UIDs per ham_user request")
	c.duration(&tokenRefresh, "token-refresh-before", "IMARCHIVE_ILINK_TOKEN_REFRESH_BEFORE", cfg.TokenRefreshBefore, "replace the cached access_token when less than this is left of its lifetime")
	c.run = func(args []string) error {
		act, err := action(c, args, "register", "unregister", "status", "sync")
		if err != nil {
			return err
		}
		log, err := lf.logger(stderr)
		if err != nil {
			return err
		}
		cfg.SecretKey, cfg.Policy, cfg.TokenRefreshBefore = connectors.Secret(secretKey), cf.policy, tokenRefresh
		reg, problems := ilinkRegistration(cfg.AppKey, callbackURL, publicURL, token, apps)
		var errs []error
		errs = append(errs, cfg.Validate())
		switch act {
		case "register":
			errs = append(errs, problems, reg.Validate())
		case "sync":
			if cf.dsn == "" {
				errs = append(errs, chconn.ErrNoDSN)
			}
			scfg := ilink.SyncConfig{States: states, UIDs: splitList(uids), StateBatch: stateBatch, FlushRows: cf.flushRows}
			errs = append(errs, scfg.Validate())
		}
		if err := errors.Join(errs...); err != nil {
			return err
		}
		ctx, stop := signalContext()
		defer stop()
		metrics := connectors.NewMetrics(newRegistry())
		client, err := ilink.NewClient(cfg, log, ilink.WithMetrics(metrics))
		if err != nil {
			return err
		}
		switch act {
		case "register":
			return ilinkRegister(ctx, stdout, client, reg, cf.policy.Timeout, skipCheck)
		case "unregister":
			ans, err := client.Unregister(ctx)
			return printAnswer(stdout, client.Redactor(), "set_config unregister (action_type 1)", ans, err)
		case "status":
			ans, err := client.Query(ctx, reg.CallbackURL)
			return printAnswer(stdout, client.Redactor(), "set_config query (action_type 2)", ans, err)
		}
		conn, err := chconn.Open(ctx, cf.dsn)
		if err != nil {
			return err
		}
		defer conn.Close()
		st := connectors.NewStore(conn, "ilink", cfg.AppKey, metrics)
		scfg := ilink.SyncConfig{States: states, UIDs: splitList(uids), StateBatch: stateBatch, FlushRows: cf.flushRows}
		sum, err := ilink.Sync(ctx, client, st, scfg, cf.progressTo(stderr, "ilink sync: ", client.Redactor()), log)
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "ilink sync run %s complete: %d groups (%d gone, %d skipped), %d members, %d online states (%d online), %s\n",
			sum.RunID, sum.Groups, sum.Gone, sum.Skipped, sum.Members, sum.Accounts, sum.Online, sum.Took.Round(time.Millisecond))
		return nil
	}
	return c
}

// ilinkRegistration works out the callback URL and token: the explicit flags, else --public-url and the
// appkey's entry in IMARCHIVE_ILINK_APPS.
func ilinkRegistration(appKey, callbackURL, publicURL, token, apps string) (ilink.Registration, error) {
	reg := ilink.Registration{CallbackURL: callbackURL, Token: connectors.Secret(token)}
	if callbackURL != "" && token != "" {
		return reg, nil
	}
	var app ingest.ILinkApp
	var found bool
	if apps != "" {
		m, err := ingest.ParseILinkApps(apps)
		if err != nil {
			return reg, fmt.Errorf("IMARCHIVE_ILINK_APPS: %w", err)
		}
		app, found = m[appKey]
	}
	if !found {
		return reg, fmt.Errorf("no callback URL or token: give --callback-url and --token, or --public-url with an entry for appkey %q in IMARCHIVE_ILINK_APPS", appKey)
	}
	if reg.Token == "" {
		reg.Token = connectors.Secret(app.Token)
	}
	if reg.CallbackURL == "" {
		if publicURL == "" {
			return reg, errors.New("no callback URL: give --callback-url, or --public-url (where the platform reaches serve)")
		}
		reg.CallbackURL = strings.TrimRight(publicURL, "/") + "/v1/ilink/" + url.PathEscape(appKey) + "/" + url.PathEscape(app.Secret)
	}
	return reg, nil
}

func ilinkRegister(ctx context.Context, stdout io.Writer, client *ilink.Client, reg ilink.Registration, timeout time.Duration, skipCheck bool) error {
	fmt.Fprintf(stdout, "callback URL %s\n", connectors.MaskURL(reg.CallbackURL))
	if skipCheck {
		fmt.Fprintln(stdout, "callback check skipped (--skip-callback-check)")
	} else {
		res, err := ilink.CheckCallback(ctx, &http.Client{}, reg.CallbackURL, reg.Token, time.Now(), timeout)
		for _, a := range res.Answers {
			fmt.Fprintf(stdout, "  handshake, signature %s\n", a)
		}
		if err != nil {
			return fmt.Errorf("%w\nserve must answer GET %s with the echostr before the platform is asked to register it: is serve running there, reachable, and configured with this appkey's token and path secret (IMARCHIVE_ILINK_APPS)?",
				err, connectors.MaskURL(reg.CallbackURL))
		}
		if len(res.Accepted) == 1 {
			fmt.Fprintf(stdout, "  note: serve accepted only the %s reading; the platform may use the other one\n", res.Accepted[0])
		}
		fmt.Fprintln(stdout, "callback check passed: serve answers the handshake")
	}
	ans, err := client.Register(ctx, reg)
	return printAnswer(stdout, client.Redactor(), "set_config register (action_type 0)", ans, err)
}

// printAnswer prints the platform's code with its meaning (and every other field it sent), and
// returns an error for anything but code 0.
func printAnswer(w io.Writer, r *connectors.Redactor, op string, ans ilink.Answer, err error) error {
	var ae *ilink.APIError
	if err != nil && !errors.As(err, &ae) {
		return err
	}
	code := ans.Code
	if ae != nil {
		code = ae.Code
	}
	fmt.Fprintf(w, "%s: code %d — %s\n", op, int(code), code.Meaning())
	keys := make([]string, 0, len(ans.Fields))
	for k := range ans.Fields {
		if k != "code" {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	for _, k := range keys {
		fmt.Fprintf(w, "  %s: %s\n", k, r.String(string(ans.Fields[k])))
	}
	if ae != nil {
		if h := code.Hint(); h != "" {
			fmt.Fprintf(w, "  what to do: %s\n", h)
		}
		return fmt.Errorf("the platform answered code %d (%s)", int(code), code.Meaning())
	}
	return nil
}

var _ flag.Value = maskedValue{}
