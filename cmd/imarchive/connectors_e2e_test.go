package main_test

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/imarchive/imarchive/connectors/maxim/maximtest"
	"github.com/imarchive/imarchive/internal/testenv/connectorstest"
)

// TestMaximSyncKilledThenResumed kills imarchive maxim sync with SIGKILL while it waits for page 2 of
// a group: the run stays 'running', the queries show no snapshot; the next sync resumes the run from
// the saved cursor (page 1 is not fetched again) and completes it.
func TestMaximSyncKilledThenResumed(t *testing.T) {
	dsn, conn := connectorstest.Database(t)
	bin := binary(t)
	const group = 2306414607729
	const owner = 2302128618880
	fake := maximtest.New("welovemaxim", "tok123")
	defer fake.Close()
	var members []maximtest.Member
	for i := 0; i < 30; i++ {
		members = append(members, maximtest.Member{UserID: owner + uint64(i), JoinTime: 1569615417000})
	}
	fake.SetGroup(group, 1, members...)
	fake.Fail(fmt.Sprintf("%s:%d", maximtest.MemberList, group), maximtest.Fault{}, maximtest.Fault{Delay: time.Minute})
	env := append(os.Environ(),
		"IMARCHIVE_CLICKHOUSE_DSN="+dsn,
		"IMARCHIVE_MAXIM_API_URL="+fake.URL,
		"IMARCHIVE_MAXIM_APP_ID=welovemaxim",
		"IMARCHIVE_MAXIM_ACCESS_TOKEN=tok123",
		"IMARCHIVE_MAXIM_SYNC_GROUPS="+fmt.Sprintf("%d:%d", group, owner),
		"IMARCHIVE_MAXIM_SYNC_ROSTERS=false",
		"IMARCHIVE_MAXIM_PAGE_LIMIT=10",
		"IMARCHIVE_CONNECTOR_FLUSH_ROWS=10",
		"IMARCHIVE_CONNECTOR_TIMEOUT=2m",
		"IMARCHIVE_LOG_LEVEL=error",
	)
	q := func(name string, params map[string]string) []map[string]any {
		p := map[string]string{"source": "maxim", "app": "welovemaxim"}
		for k, v := range params {
			p[k] = v
		}
		return connectorstest.Query(t, conn, name, p)
	}

	cmd := exec.Command(bin, "maxim", "sync")
	cmd.Env = env
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	lines := make(chan string, 100)
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
	}()
	deadline := time.After(30 * time.Second)
	var seen []string
wait:
	for {
		select {
		case l, ok := <-lines:
			if !ok {
				t.Fatalf("sync ended before page 2:\n%s", strings.Join(seen, "\n"))
			}
			seen = append(seen, l)
			if strings.Contains(l, "page 1: +10 members") {
				break wait
			}
		case <-deadline:
			t.Fatalf("no page 1 line in 30 s:\n%s", strings.Join(seen, "\n"))
		}
	}
	// Page 1 is flushed (with its cursor) right after its line; wait until ClickHouse has it.
	var runID string
	for i := 0; i < 100; i++ {
		runs := q("sync_runs", map[string]string{"since": "2000-01-01 00:00:00"})
		if len(runs) == 1 {
			runID = runs[0]["run_id"].(string)
			items := q("sync_run_items", map[string]string{"run_id": runID})
			if len(items) == 1 && items[0]["cursor"] != "" {
				break
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	if err := cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	cmd.Wait()

	runs := q("sync_runs", map[string]string{"since": "2000-01-01 00:00:00"})
	if len(runs) != 1 || runs[0]["status"] != "running" {
		t.Fatalf("after SIGKILL: runs %v", runs)
	}
	if got := q("group_members_at", map[string]string{"group_id": fmt.Sprint(group), "at": "2100-01-01 00:00:00"}); len(got) != 0 {
		t.Fatalf("a killed run's partial snapshot is visible: %d members", len(got))
	}
	items := q("sync_run_items", map[string]string{"run_id": runID})
	if len(items) != 1 || items[0]["status"] != "partial" || fmt.Sprint(items[0]["rows"]) != "10" {
		t.Fatalf("items of the killed run: %v", items)
	}

	before := fake.Count(maximtest.MemberList)
	again := exec.Command(bin, "maxim", "sync")
	again.Env = env
	out, err := again.CombinedOutput()
	if err != nil {
		t.Fatalf("resumed sync: %v\n%s", err, out)
	}
	for _, want := range []string{"resuming run " + runID, "resuming at page 2 (10 members written)", "(resumed) complete: 1 groups (2 pages, 20 members"} {
		if !strings.Contains(string(out), want) {
			t.Errorf("resumed sync output lacks %q:\n%s", want, out)
		}
	}
	if n := fake.Count(maximtest.MemberList) - before; n != 2 {
		t.Errorf("the resumed sync fetched %d pages, want 2 (pages 2 and 3)", n)
	}
	got := q("group_members_at", map[string]string{"group_id": fmt.Sprint(group), "at": "2100-01-01 00:00:00"})
	if len(got) != 30 {
		t.Errorf("after the resumed run: %d members, want 30", len(got))
	}
	if runs := q("sync_runs", map[string]string{"since": "2000-01-01 00:00:00"}); len(runs) != 1 || runs[0]["status"] != "complete" {
		t.Errorf("runs %v", runs)
	}
}
