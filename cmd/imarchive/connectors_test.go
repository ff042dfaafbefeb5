package main

import (
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/imarchive/imarchive/connectors/ilink/ilinktest"
	"github.com/imarchive/imarchive/connectors/maxim/maximtest"
	"github.com/imarchive/imarchive/ingest"
	"github.com/imarchive/imarchive/internal/testenv/connectorstest"
	"github.com/imarchive/imarchive/kafka"
)

const (
	cliAppKey    = "4cdad356-85b4-008627"
	cliSecretKey = "c7147f6fea0daf6cbd36ed65b037b4c9"
	cliUID       = "100"
)

// serveHandshake runs the real ingest receiver's routes (serve's iLink GET handshake) with one iLink
// app; the handshake produces nothing, so no Kafka is needed.
func serveHandshake(t *testing.T, token, pathSecret string) *httptest.Server {
	t.Helper()
	cfg := ingest.DefaultConfig()
	cfg.ILinkApps = map[string]ingest.ILinkApp{cliAppKey: {Token: token, Secret: pathSecret}}
	r, err := ingest.New(cfg, kafka.DefaultConfig(), nil, slog.New(slog.NewTextHandler(io.Discard, nil)), prometheus.NewRegistry())
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	r.Register(mux)
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv
}

func ilinkEnv(t *testing.T, apiURL string) {
	t.Setenv("IMARCHIVE_ILINK_API_URL", apiURL)
	t.Setenv("IMARCHIVE_ILINK_APPKEY", cliAppKey)
	t.Setenv("IMARCHIVE_ILINK_SECRETKEY", cliSecretKey)
	t.Setenv("IMARCHIVE_ILINK_UID", cliUID)
	t.Setenv("IMARCHIVE_CONNECTOR_ATTEMPTS", "2")
	t.Setenv("IMARCHIVE_CONNECTOR_RETRY_MIN", "1ms")
	t.Setenv("IMARCHIVE_CONNECTOR_RETRY_MAX", "2ms")
	t.Setenv("IMARCHIVE_LOG_LEVEL", "error")
}

func noSecrets(t *testing.T, texts ...string) {
	t.Helper()
	for _, text := range texts {
		for _, s := range []string{cliSecretKey, "tok123", "pathsecret9-abcdefg"} {
			if strings.Contains(text, s) {
				t.Errorf("output shows a secret (%s):\n%s", s, text)
			}
		}
	}
}

// TestILinkRegisterChecksServeFirst: imarchive ilink register first does the platform's GET handshake
// against our own serve (the real ingest handler), then set_config; a serve that does not answer stops
// it before the platform is asked; the platform's codes are printed with their meaning.
func TestILinkRegisterChecksServeFirst(t *testing.T) {
	platform := ilinktest.New(cliAppKey, cliSecretKey, cliUID)
	defer platform.Close()
	ilinkEnv(t, platform.URL)
	serve := serveHandshake(t, "tok123", "pathsecret9-abcdefg")
	t.Setenv("IMARCHIVE_ILINK_APPS", cliAppKey+"=tok123:pathsecret9-abcdefg")
	t.Setenv("IMARCHIVE_PUBLIC_URL", serve.URL)

	code, out, errOut := runCLI(t, "ilink", "register")
	if code != 0 {
		t.Fatalf("register: exit %d\n%s%s", code, out, errOut)
	}
	for _, want := range []string{"sorted (the manual's table): echostr returned", "token+timestamp+echostr (the manual's samples): echostr returned",
		"callback check passed", "set_config register (action_type 0): code 0 — 正确返回: success", "/v1/ilink/" + cliAppKey + "/***"} {
		if !strings.Contains(out, want) {
			t.Errorf("register output lacks %q:\n%s", want, out)
		}
	}
	reg, ok := platform.Registration(cliUID)
	if !ok || reg.URL != serve.URL+"/v1/ilink/"+cliAppKey+"/pathsecret9-abcdefg" || reg.Token != "tok123" {
		t.Errorf("the platform registered %+v", reg)
	}
	noSecrets(t, out, errOut)

	code, out, _ = runCLI(t, "ilink", "status")
	if code != 0 || !strings.Contains(out, "code 0") {
		t.Errorf("status: exit %d\n%s", code, out)
	}

	// serve knows another token: the check fails and the platform is not asked.
	other := serveHandshake(t, "othertoken", "pathsecret9-abcdefg")
	t.Setenv("IMARCHIVE_PUBLIC_URL", other.URL)
	before := platform.Count(ilinktest.SetConfig)
	code, out, errOut = runCLI(t, "ilink", "register")
	if code != 1 || !strings.Contains(errOut, "callback check failed") || !strings.Contains(out, "HTTP 401") {
		t.Errorf("register against a serve with another token: exit %d\n%s%s", code, out, errOut)
	}
	if platform.Count(ilinktest.SetConfig) != before {
		t.Error("set_config was called although serve failed the handshake")
	}
	noSecrets(t, out, errOut)

	// Skipping the check, the platform's own handshake fails: 1006 with its meaning and what to do.
	code, out, errOut = runCLI(t, "ilink", "register", "--skip-callback-check")
	if code != 1 || !strings.Contains(out, "code 1006 — Http 回调验证失败") || !strings.Contains(out, "what to do:") || !strings.Contains(errOut, "1006") {
		t.Errorf("register with a failing handshake: exit %d\n%s%s", code, out, errOut)
	}

	code, out, _ = runCLI(t, "ilink", "unregister")
	if code != 0 || !strings.Contains(out, "set_config unregister (action_type 1): code 0") {
		t.Errorf("unregister: exit %d\n%s", code, out)
	}
	code, out, errOut = runCLI(t, "ilink", "status")
	if code != 1 || !strings.Contains(out, "code 1007 — UID 没有 SetConfig") {
		t.Errorf("status after unregister: exit %d\n%s%s", code, out, errOut)
	}
	noSecrets(t, out, errOut)
}

// TestConnectorConfigErrors: every missing or bad setting is reported at once, secrets masked; config
// check masks the connectors' secrets too.
func TestConnectorConfigErrors(t *testing.T) {
	t.Setenv("IMARCHIVE_ILINK_SECRETKEY", "SHORT-"+cliSecretKey)
	code, _, errOut := runCLI(t, "ilink", "sync")
	for _, want := range []string{"appkey: empty", "32 lower-case", "uid: empty", "no ClickHouse DSN"} {
		if code != 1 || !strings.Contains(errOut, want) {
			t.Errorf("ilink sync without configuration: exit %d, want %q in\n%s", code, want, errOut)
		}
	}
	noSecrets(t, errOut)
	code, _, errOut = runCLI(t, "maxim", "sync", "--groups", "g1,2:x", "--users", "u")
	for _, want := range []string{"app_id: empty", "access-token: none", `group "g1"`, `group "2:x"`, `user "u"`, "no ClickHouse DSN"} {
		if code != 1 || !strings.Contains(errOut, want) {
			t.Errorf("maxim sync without configuration: exit %d, want %q in\n%s", code, want, errOut)
		}
	}
	if code, _, errOut := runCLI(t, "ilink", "bogus"); code != 2 || !strings.Contains(errOut, `unknown command "bogus"`) || !strings.Contains(errOut, "  register ") {
		t.Errorf("unknown action: %d %s", code, errOut)
	}

	t.Setenv("IMARCHIVE_ILINK_SECRETKEY", cliSecretKey)
	t.Setenv("IMARCHIVE_ILINK_TOKEN", "tok123")
	t.Setenv("IMARCHIVE_ILINK_CALLBACK_URL", "https://archive.example.com/v1/ilink/app/pathsecret9-abcdefg")
	t.Setenv("IMARCHIVE_MAXIM_ACCESS_TOKEN", "tok123")
	_, out, errOut := runCLI(t, "config", "check", "--commands", "ilink,maxim")
	if !strings.Contains(out, "IMARCHIVE_ILINK_CALLBACK_URL") || !strings.Contains(out, "https://archive.example.com/v1/ilink/app/***") {
		t.Errorf("config check output:\n%s", out)
	}
	noSecrets(t, out, errOut)
}

// TestILinkSyncCommand: imarchive ilink sync writes snapshots the named queries read, with progress
// on stderr and a summary on stdout.
func TestILinkSyncCommand(t *testing.T) {
	dsn, _ := connectorstest.Database(t)
	platform := ilinktest.New(cliAppKey, cliSecretKey, cliUID, "414", "415")
	defer platform.Close()
	platform.Register(cliUID, "http://x/cb", "tok123")
	platform.SetGroups(ilinktest.Group{ID: "g1", Name: "聊天群", CreateTime: "2014-12-13 13:13:13", Members: []string{cliUID, "414", "415"}})
	platform.SetState("414", 1)
	ilinkEnv(t, platform.URL)
	t.Setenv("IMARCHIVE_CLICKHOUSE_DSN", dsn)
	code, out, errOut := runCLI(t, "ilink", "sync")
	if code != 0 || !strings.Contains(out, "complete: 1 groups (0 gone, 0 skipped, 0 failed), 2 members, 2 online states (1 online, 0 accounts without one)") {
		t.Fatalf("sync: exit %d\n%s%s", code, out, errOut)
	}
	if !strings.Contains(errOut, `ilink sync: group 1/1 g1 "聊天群": 2 members`) {
		t.Errorf("progress:\n%s", errOut)
	}
	noSecrets(t, out, errOut)
	code, out, errOut = runCLI(t, "query", "group_members_at", "--param", "source=ilink", "--param", "app="+cliAppKey,
		"--param", "group_id=g1", "--param", "at=2100-01-01T00:00:00Z", "--format", "csv")
	lines := strings.Split(strings.TrimSpace(out), "\n")
	var accounts []string
	for _, l := range lines[1:] {
		accounts = append(accounts, strings.SplitN(l, ",", 2)[0])
	}
	if code != 0 || !reflect.DeepEqual(accounts, []string{"414", "415"}) {
		t.Errorf("query: exit %d %v\n%s%s", code, accounts, out, errOut)
	}
}

// TestMaximSyncCommand: imarchive maxim sync over the fake, with the token from a file.
func TestMaximSyncCommand(t *testing.T) {
	dsn, _ := connectorstest.Database(t)
	platform := maximtest.New("welovemaxim", "tok123")
	defer platform.Close()
	platform.SetGroup(2306414607729, 1, maximtest.Member{UserID: 2302128618880, JoinTime: 1569615417000}, maximtest.Member{UserID: 2199040544848, JoinTime: 1569615490000})
	platform.SetRoster(2302128618880, maximtest.Contact{UserID: 2199040544848, Name: "a"})
	t.Setenv("IMARCHIVE_CLICKHOUSE_DSN", dsn)
	t.Setenv("IMARCHIVE_MAXIM_API_URL", platform.URL)
	t.Setenv("IMARCHIVE_MAXIM_APP_ID", "welovemaxim")
	t.Setenv("IMARCHIVE_MAXIM_ACCESS_TOKEN_FILE", writeFile(t, "tok123\n"))
	t.Setenv("IMARCHIVE_LOG_LEVEL", "error")
	code, out, errOut := runCLI(t, "maxim", "sync", "--groups", "2306414607729:2302128618880", "--page-limit", "1")
	if code != 0 || !strings.Contains(out, "complete: 1 groups (2 pages, 2 members, 0 gone), 2 rosters (1 contacts)") {
		t.Fatalf("sync: exit %d\n%s%s", code, out, errOut)
	}
	for _, want := range []string{"page 1: +1 members, 1 so far", "page 2: +1 members, 2 in all, complete", "roster of 2302128618880 [2/2]: 1 contacts"} {
		if !strings.Contains(errOut, want) {
			t.Errorf("progress lacks %q:\n%s", want, errOut)
		}
	}
	noSecrets(t, out, errOut)
	code, out, errOut = runCLI(t, "query", "roster_at", "--param", "source=maxim", "--param", "app=welovemaxim",
		"--param", "account=2302128618880", "--param", "at=2100-01-01T00:00:00Z", "--format", "csv")
	if code != 0 || !strings.Contains(out, "2199040544848,a,") {
		t.Errorf("roster query: exit %d\n%s%s", code, out, errOut)
	}
}
