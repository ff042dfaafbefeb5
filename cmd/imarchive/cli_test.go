package main

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/imarchive/imarchive/internal/testenv"
	"github.com/imarchive/imarchive/schema"
)

// TestGroupCommandsHelp: every group command lists its subcommands, one line each, on --help (and -h,
// and after a cli.Subcommand), and exits 0; without a cli.Subcommand it asks which one and exits 2.
func TestGroupCommandsHelp(t *testing.T) {
	groups := map[string][]string{
		"audit": {"verify"}, "config": {"check"}, "hold": {"add", "release", "list"}, "retention": {"apply"},
		"ilink": {"register", "unregister", "status", "sync", "subscribe", "unsubscribe"}, "maxim": {"sync"}, "access": {"sql", "apply"},
		"spool":  {"status", "inspect"},
		"export": {"verify"},
	}
	for name, subs := range groups {
		for _, args := range [][]string{{name, "--help"}, {name, "-h"}, {name, subs[0], "--help"}, {"help", name}} {
			code, out, errOut := runCLI(t, args...)
			if code != 0 || errOut != "" {
				t.Errorf("%v: exit %d, stderr %q; want 0 and nothing", args, code, errOut)
			}
			if !strings.Contains(out, "Commands:\n") {
				t.Errorf("%v: no Commands: section in\n%s", args, out)
			}
			for _, s := range subs {
				if !regexpLine(out, "  "+s+" ") {
					t.Errorf("%v: cli.Subcommand %s not listed in\n%s", args, s, out)
				}
			}
		}
		if name == "export" {
			continue // export without a cli.Subcommand makes an export
		}
		code, _, errOut := runCLI(t, name)
		if code != 2 || !strings.Contains(errOut, "which command?") || !strings.Contains(errOut, "  "+subs[0]+" ") {
			t.Errorf("%s alone: exit %d\n%s\nwant 2 and the subcommands", name, code, errOut)
		}
	}
	for _, args := range [][]string{{"--help"}, {"help"}, {"-h"}} {
		if code, out, _ := runCLI(t, args...); code != 0 || !strings.Contains(out, "Commands:") {
			t.Errorf("%v: exit %d", args, code)
		}
	}
}

func regexpLine(out, prefix string) bool {
	for _, l := range strings.Split(out, "\n") {
		if strings.HasPrefix(l, prefix) {
			return true
		}
	}
	return false
}

// TestDidYouMean: a misspelled command, cli.Subcommand, flag, query or parameter is answered with what it
// was probably meant to be.
func TestDidYouMean(t *testing.T) {
	t.Setenv("IMARCHIVE_CLICKHOUSE_DSN", "http://127.0.0.1:1/none") // nothing may be asked of it
	for _, tc := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"qurey", "--list"}, 2, `unknown command "qurey" (did you mean query?)`},
		{[]string{"hold", "relase"}, 2, `unknown command "relase" (did you mean release?)`},
		{[]string{"audit", "verify", "--form", "today"}, 2, "unknown flag --form (did you mean --from or --format?)"},
		{[]string{"query", "mesage_volume"}, 1, `unknown query "mesage_volume" (did you mean message_volume?)`},
		{[]string{"query", "--describe", "volume"}, 1, "(did you mean message_volume?)"},
		{[]string{"query", "message_volume", "--param", "by=app", "--param", "step_seconds=60", "--param", "from=today", "--param", "to=now", "--param", "chanel=1"},
			1, "--param chanel: message_volume has no such parameter (did you mean channel_id?)"},
		{[]string{"ilink", "statsu"}, 2, `unknown command "statsu" (did you mean status?)`},
	} {
		code, _, errOut := runCLI(t, tc.args...)
		if code != tc.code || !strings.Contains(errOut, tc.want) {
			t.Errorf("%v: exit %d\n%s\nwant exit %d saying %q", tc.args, code, errOut, tc.code, tc.want)
		}
	}
}

// TestErrorsPointAtWhatHelps: a flag mistake points at --help (GNU style, exit 2); a bad query parameter at
// query --describe, before any server is asked; a server that does not answer, or a DSN of an unknown
// scheme, at config check — not always at --help.
func TestErrorsPointAtWhatHelps(t *testing.T) {
	for _, tc := range []struct {
		dsn  string
		args []string
		code int
		want []string
		not  string
	}{
		{"", []string{"loadgen", "--rate", "fast"}, 2, []string{`--rate "fast": want a number`, "(imarchive loadgen --help lists the flags)"}, "-rate:"},
		{"", []string{"query", "--param"}, 2, []string{"--param needs a value", "(imarchive query --help lists the flags)"}, ""},
		{"http://127.0.0.1:1/none", []string{"query", "message_volume", "--param", "by=app", "--param", "step_seconds=hour", "--param", "from=2026-01-01", "--param", "to=2026-01-02"}, 1,
			[]string{"--param step_seconds=hour: not a UInt32: want a whole number", "(imarchive query --describe message_volume lists its parameters)"}, "--help"},
		{"http://127.0.0.1:1/none", []string{"query", "message_volume", "--param", "by=app", "--param", "step_seconds=60", "--param", "from=today", "--param", "to=now"}, 1,
			[]string{"(is the server running? imarchive config check --commands query shows the addresses in use)"}, "--help"},
		{"postgres://u:p@db:5432/imarchive", []string{"query", "app_list"}, 1, []string{`unknown scheme "postgres"`, "imarchive config check --commands query"}, "--help"},
	} {
		t.Setenv("IMARCHIVE_CLICKHOUSE_DSN", tc.dsn)
		code, _, errOut := runCLI(t, tc.args...)
		for _, w := range tc.want {
			if code != tc.code || !strings.Contains(errOut, w) {
				t.Errorf("%v: exit %d\n%s\nwant exit %d saying %q", tc.args, code, errOut, tc.code, w)
			}
		}
		if tc.not != "" && strings.Contains(errOut, tc.not) {
			t.Errorf("%v: the error says %q:\n%s", tc.args, tc.not, errOut)
		}
	}
}

// TestQueryOptionalParamsAndEmptyCSV runs imarchive query on the real engine: the "empty for all" filters
// left out, relative times, and a result of no rows as CSV (its header) and as a table ("(0 rows)").
func TestQueryOptionalParamsAndEmptyCSV(t *testing.T) {
	dsn, conn := testenv.Database(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	if _, err := schema.Migrate(ctx, conn, slog.New(slog.NewTextHandler(io.Discard, nil))); err != nil {
		t.Fatal(err)
	}
	t.Setenv("IMARCHIVE_CLICKHOUSE_DSN", dsn)
	args := []string{"query", "top_channels", "--param", "from=-7d", "--param", "to=now", "--param", "limit=10"}
	code, out, errOut := runCLI(t, append(args, "--format", "csv")...)
	if code != 0 || out != "source,app,server_id,channel_id,channel_name,messages,senders,last_message_at\n" {
		t.Errorf("top_channels without its optional filters, as CSV: exit %d, %q\n%s", code, out, errOut)
	}
	code, out, errOut = runCLI(t, args...)
	if code != 0 || !strings.HasPrefix(out, "source  app  server_id  channel_id") || !strings.HasSuffix(out, "\n(0 rows)\n") {
		t.Errorf("as a table: exit %d\n%s%s", code, out, errOut)
	}
}

// TestLoadgenExitCodes: loadgen exits 1 when callbacks are refused or unanswered beyond
// --max-failure-share, saying why by status; 0 when the receiver accepts them (or the share allows it).
func TestLoadgenExitCodes(t *testing.T) {
	status := http.StatusOK
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(status) }))
	defer srv.Close()
	base := []string{"loadgen", "--target", srv.URL, "--netease-apps", "a=s", "--count", "30", "--rate", "0", "--duration", "20s"}
	for _, tc := range []struct {
		status int
		extra  []string
		code   int
		want   string
	}{
		{http.StatusOK, nil, 0, "the archive should hold each of the 30 delivered callbacks once"},
		{http.StatusUnauthorized, nil, 1, "30 of 30 callbacks (100.0%) were never accepted"},
		{http.StatusUnauthorized, []string{"--max-failure-share", "1"}, 0, "answers: 401 ×30"},
		{http.StatusServiceUnavailable, []string{"--max-failure-share", "0.5"}, 1, "503: serve could not reach Kafka"},
		{http.StatusOK, []string{"--max-failure-share", "2"}, 2, "--max-failure-share 2: want a share from 0 to 1"},
	} {
		status = tc.status
		code, out, errOut := runCLI(t, append(base, tc.extra...)...)
		if code != tc.code || !strings.Contains(out+errOut, tc.want) {
			t.Errorf("answer %d %v: exit %d, want %d saying %q\n%s%s", tc.status, tc.extra, code, tc.code, tc.want, out, errOut)
		}
	}
	srv.Close()
	code, out, errOut := runCLI(t, base...)
	if code != 1 || !strings.Contains(out+errOut, "no answer") || !strings.Contains(out+errOut, "is serve running at the target") || strings.Contains(out, "map[") {
		t.Errorf("nobody listening: exit %d\n%s%s", code, out, errOut)
	}
}
