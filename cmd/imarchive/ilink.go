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
	"github.com/imarchive/imarchive/internal/cli"
	"github.com/imarchive/imarchive/internal/suggest"
)

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

// secret defines a string flag whose value is shown as *** (--help, config check).
func secret(c *cli.Command, p *string, name, envName, help string) {
	c.Var(maskedValue{p: p}, name, envName, help)
}

// secretURL defines a URL flag whose secrets are masked (--help, config check).
func secretURL(c *cli.Command, p *string, name, envName, help string) {
	c.Var(maskedValue{p: p, url: true}, name, envName, help)
}

// connectorFlags are shared by imarchive ilink and imarchive maxim.
type connectorFlags struct {
	policy    connectors.Policy
	progress  bool
	dsn       string
	flushRows int
}

func (f *connectorFlags) register(c *cli.Command) {
	f.policy = connectors.DefaultPolicy()
	c.Duration(&f.policy.Timeout, "timeout", "IMARCHIVE_CONNECTOR_TIMEOUT", f.policy.Timeout, "longest wait for one answer of the platform's API")
	c.Integer(&f.policy.Attempts, "attempts", "IMARCHIVE_CONNECTOR_ATTEMPTS", f.policy.Attempts, "requests in all for one call, the first included, while failures are retryable (timeouts, HTTP 5xx, the platform's transient codes)")
	c.Duration(&f.policy.MinBackoff, "retry-min", "IMARCHIVE_CONNECTOR_RETRY_MIN", f.policy.MinBackoff, "first wait before a retry; it doubles, with jitter")
	c.Duration(&f.policy.MaxBackoff, "retry-max", "IMARCHIVE_CONNECTOR_RETRY_MAX", f.policy.MaxBackoff, "longest wait before a retry")
	c.Bool(&f.progress, "progress", "IMARCHIVE_CONNECTOR_PROGRESS", true, "print a line per page, group or account to stderr during a sync")
	c.Str(&f.dsn, "clickhouse-dsn", "IMARCHIVE_CLICKHOUSE_DSN", "", "ClickHouse DSN the snapshots are written to; sync needs it (run imarchive migrate first)")
	c.Integer(&f.flushRows, "flush-rows", "IMARCHIVE_CONNECTOR_FLUSH_ROWS", 5000, "snapshot rows buffered before one ClickHouse insert")
}

func (f *connectorFlags) progressTo(stderr io.Writer, prefix string, r *connectors.Redactor) *connectors.Progress {
	if !f.progress {
		return nil
	}
	return connectors.NewProgress(stderr, prefix, r)
}

// action splits "ACTION [flags]" (the action may also follow the flags).
func action(c *cli.Command, args []string, actions ...string) (string, error) {
	var name string
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		name, args = args[0], args[1:]
	}
	if err := c.Parse(args); err != nil {
		return "", err
	}
	if rest := c.FS.Args(); len(rest) > 0 {
		if name != "" || len(rest) > 1 {
			return "", cli.Usagef("unexpected arguments %q", rest)
		}
		name = rest[0]
	}
	for _, a := range actions {
		if a == name {
			return name, nil
		}
	}
	if name == "" {
		return "", cli.Usagef("no action: want one of %s", strings.Join(actions, ", "))
	}
	return "", cli.Usagef("unknown action %q%s: want one of %s", name, suggest.Phrase(name, actions), strings.Join(actions, ", "))
}

func ilinkCommand(stdout, stderr io.Writer) *cli.Command {
	c := cli.New("ilink", "ET-iLink's own API: register our callback URL, check it, subscribe to users' status and topics, sync groups, members and online states",
		`Actions:
  imarchive ilink register     check that serve answers the GET handshake at the callback URL, then
                               set_config action_type 0; prints the platform's code and its meaning
  imarchive ilink unregister   set_config action_type 1
  imarchive ilink status       set_config action_type 2 (query)
  imarchive ilink sync         groups (ham_group 3), members (6) and online states (ham_user 1) into
                               ClickHouse snapshots; queries group_members_at, account_groups_at…
  imarchive ilink subscribe    --users UID,… : the platform pushes those users' online/offline changes
                               (msg_type 4, §4.3) to the callback (ham_user, §5.11); --topic T [--qos N]:
                               it pushes topic T's messages (msg_type 4 with group_id, §4.4; ham_topic,
                               §5.13). Without a subscription no msg_type 4 push ever comes.
  imarchive ilink unsubscribe  --users UID,… or --topic T: cancel (type 0)
The callback URL is --callback-url, or --public-url + /v1/ilink/{appkey}/{path-secret} with the token
and path secret of the appkey's entry in IMARCHIVE_ILINK_APPS (serve's own setting). The API is the
manual's HTTPS endpoint by default; its plain-HTTP one is http://hs.kaifakuai.com:8184.
Exit status 1 when the platform answers a code other than 0.`)
	var (
		lf           cli.LogFlags
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
		subUsers     string
		subTopics    string
		qos          int
	)
	c.Group(
		cli.Subcommand{Name: "register", Summary: "check that serve answers the handshake at the callback URL, then register it (set_config 0)"},
		cli.Subcommand{Name: "unregister", Summary: "remove the callback URL (set_config 1)"},
		cli.Subcommand{Name: "status", Summary: "ask the platform what is registered (set_config 2)"},
		cli.Subcommand{Name: "sync", Summary: "groups, members and online states into ClickHouse snapshots"},
		cli.Subcommand{Name: "subscribe", Summary: "have the platform push users' online/offline changes (--users) or a topic's messages (--topic)"},
		cli.Subcommand{Name: "unsubscribe", Summary: "cancel those pushes"},
	)
	lf.Register(c)
	cf.register(c)
	c.Str(&cfg.BaseURL, "api-url", "IMARCHIVE_ILINK_API_URL", cfg.BaseURL, "the iLink API's base URL")
	c.Str(&cfg.AppKey, "appkey", "IMARCHIVE_ILINK_APPKEY", "", "the application's appkey (required)")
	secret(c, &secretKey, "secretkey", "IMARCHIVE_ILINK_SECRETKEY", "the application's secretkey, 32 lower-case characters (required)")
	c.Str(&cfg.UID, "uid", "IMARCHIVE_ILINK_UID", "", "the business platform's UID used with set_config and as send_uid (required)")
	secretURL(c, &callbackURL, "callback-url", "IMARCHIVE_ILINK_CALLBACK_URL", "the callback URL to register: serve's https://HOST/v1/ilink/{appkey}/{path-secret} (or give --public-url)")
	c.Str(&publicURL, "public-url", "IMARCHIVE_PUBLIC_URL", "", "where the platforms reach serve, e.g. https://archive.example.com: the callback URL is built from it and IMARCHIVE_ILINK_APPS")
	secret(c, &token, "token", "IMARCHIVE_ILINK_TOKEN", "the handshake token to register, 3-32 letters or digits (default: the appkey's token in IMARCHIVE_ILINK_APPS)")
	secret(c, &apps, "ilink-apps", "IMARCHIVE_ILINK_APPS", "serve's iLink apps, appkey=token:path-secret[,…]: the token and path secret of --appkey are used when --token or --callback-url are not given")
	c.Bool(&skipCheck, "skip-callback-check", "IMARCHIVE_ILINK_SKIP_CALLBACK_CHECK", false, "register without first checking that serve answers the handshake")
	c.Bool(&states, "states", "IMARCHIVE_ILINK_SYNC_STATES", true, "sync: poll the online state of every account seen")
	c.Str(&uids, "uids", "IMARCHIVE_ILINK_SYNC_UIDS", "", "sync: more UIDs whose online state to poll, comma-separated")
	c.Integer(&stateBatch, "state-batch", "IMARCHIVE_ILINK_STATE_BATCH", 100, "sync: UIDs per ham_user request")
	c.Str(&subUsers, "users", "IMARCHIVE_ILINK_SUBSCRIBE_UIDS", "", "subscribe/unsubscribe: UIDs whose online/offline status to (un)subscribe, comma-separated")
	c.Str(&subTopics, "topic", "IMARCHIVE_ILINK_SUBSCRIBE_TOPICS", "", "subscribe/unsubscribe: topics to (un)subscribe, comma-separated (no # or +)")
	c.Integer(&qos, "qos", "IMARCHIVE_ILINK_TOPIC_QOS", 1, "subscribe: the topics' QoS level, 0-2 (the manual's \"Qos 级别: (0-2)\")")
	c.Duration(&tokenRefresh, "token-refresh-before", "IMARCHIVE_ILINK_TOKEN_REFRESH_BEFORE", cfg.TokenRefreshBefore, "replace the cached access_token when less than this is left of its lifetime")
	c.Run = func(args []string) error {
		act, err := action(c, args, "register", "unregister", "status", "sync", "subscribe", "unsubscribe")
		if err != nil {
			return err
		}
		log, err := lf.Logger(stderr)
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
		case "subscribe", "unsubscribe":
			errs = append(errs, subscriptionProblems(cli.SplitList(subUsers), cli.SplitList(subTopics), qos, act == "subscribe"))
		case "sync":
			if cf.dsn == "" {
				errs = append(errs, chconn.ErrNoDSN)
			}
			scfg := ilink.SyncConfig{States: states, UIDs: cli.SplitList(uids), StateBatch: stateBatch, FlushRows: cf.flushRows}
			errs = append(errs, scfg.Validate())
		}
		if err := errors.Join(errs...); err != nil {
			return err
		}
		ctx, stop := cli.SignalContext()
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
		case "subscribe", "unsubscribe":
			return ilinkSubscribe(ctx, stdout, client, cli.SplitList(subUsers), cli.SplitList(subTopics), qos, act == "subscribe")
		}
		conn, err := chconn.Open(ctx, cf.dsn)
		if err != nil {
			return err
		}
		defer conn.Close()
		st := connectors.NewStore(conn, "ilink", cfg.AppKey, metrics)
		scfg := ilink.SyncConfig{States: states, UIDs: cli.SplitList(uids), StateBatch: stateBatch, FlushRows: cf.flushRows}
		sum, err := ilink.Sync(ctx, client, st, scfg, cf.progressTo(stderr, "ilink sync: ", client.Redactor()), log)
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "ilink sync run %s complete: %d groups (%d gone, %d skipped, %d failed), %d members, %d online states (%d online, %d accounts without one), %s\n",
			sum.RunID, sum.Groups, sum.Gone, sum.Skipped, sum.Failed, sum.Members, sum.Accounts, sum.Online, sum.NoState, sum.Took.Round(time.Millisecond))
		for _, p := range sum.Problems {
			fmt.Fprintf(stdout, "  failed alone: %s\n", client.Redactor().String(p))
		}
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

// subscriptionProblems checks the subscribe/unsubscribe flags, every problem at once.
func subscriptionProblems(users, topics []string, qos int, on bool) error {
	var errs []error
	if len(users) == 0 && len(topics) == 0 {
		errs = append(errs, errors.New("nothing to (un)subscribe: give --users UID,… and/or --topic TOPIC,…"))
	}
	for _, t := range topics {
		if err := ilink.ValidTopic(t); err != nil {
			errs = append(errs, err)
		}
	}
	if on && len(topics) > 0 && (qos < 0 || qos > ilink.MaxQoS) {
		errs = append(errs, fmt.Errorf("--qos %d: the manual allows 0-%d", qos, ilink.MaxQoS))
	}
	return errors.Join(errs...)
}

// ilinkSubscribe (un)subscribes the users (one ham_user call) and each topic (one ham_topic call
// each), printing every answer; it fails when any call does.
func ilinkSubscribe(ctx context.Context, stdout io.Writer, client *ilink.Client, users, topics []string, qos int, on bool) error {
	verb, typ := "subscribe", 1
	if !on {
		verb, typ = "unsubscribe", 0
	}
	var errs []error
	if len(users) > 0 {
		sub, err := client.SubscribeUsers(ctx, users, on)
		for _, a := range sub.Refused {
			fmt.Fprintf(stdout, "ham_user %s (action_type %d, §5.11's table): code %d — %s; trying its example's action_type %d\n",
				verb, a, int(ilink.CodeBadOperation), ilink.CodeBadOperation.Meaning(), ilink.ActionSubscribeUsersExample)
		}
		op := fmt.Sprintf("ham_user %s %s (action_type %d, type %d)", verb, strings.Join(users, ","), sub.ActionType, typ)
		if err := printAnswer(stdout, client.Redactor(), op, sub.Answer, err); err != nil {
			errs = append(errs, err)
		} else if on {
			fmt.Fprintf(stdout, "  the platform now pushes these users' online/offline changes (msg_type 4) to the registered callback\n")
		}
	}
	for _, topic := range topics {
		sub, err := client.SubscribeTopic(ctx, topic, qos, on)
		op := fmt.Sprintf("ham_topic %s %q (action_type 1, type %d", verb, topic, typ)
		if on {
			op += fmt.Sprintf(", qos %d", qos)
		}
		op += ")"
		if err := printAnswer(stdout, client.Redactor(), op, sub.Answer, err); err != nil {
			errs = append(errs, err)
		} else if on {
			fmt.Fprintf(stdout, "  the platform now pushes this topic's messages (msg_type 4 with group_id %q) to the registered callback\n", topic)
		}
	}
	return errors.Join(errs...)
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
