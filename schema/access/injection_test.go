package access_test

import (
	"context"
	"io"
	"strings"
	"testing"

	"github.com/imarchive/imarchive/queries"
)

// TestQueryParametersAreNotSQL: named queries take their parameters as ClickHouse query parameters
// ({name:Type}, sent apart from the SQL text), never spliced into it. With hostile values — quotes,
// comments, a second statement — every query either runs with the value as a plain literal (so a
// filter matches nothing) or refuses it as a value of the wrong type; no table is dropped; and the
// filter that should match still does.
func TestQueryParametersAreNotSQL(t *testing.T) {
	_, conn := migrated(t)
	ctx := context.Background()
	if err := conn.Exec(ctx, `INSERT INTO messages_data (event_id, source, app, conversation, msg_time, occurred_at, received_at, channel_id, body)
		VALUES ('e1', 'netease_qchat', 'app1', 'channel:s/c1', '2026-01-01 10:00:00', '2026-01-01 10:00:00', '2026-01-01 10:00:01', 'c1', 'hello')`); err != nil {
		t.Fatal(err)
	}
	history, err := queries.Get("message_history")
	if err != nil {
		t.Fatal(err)
	}
	run := func(q queries.Query, p map[string]string) (int, error) {
		bound, err := q.Bind(p)
		if err != nil {
			return 0, err
		}
		return queries.Run(ctx, conn, q, bound, "json", io.Discard)
	}
	base := map[string]string{"app": "app1", "channel_id": "c1", "from": "2026-01-01 00:00:00", "to": "2026-01-02 00:00:00"}
	if n, err := run(history, base); err != nil || n != 1 {
		t.Fatalf("message_history with plain values: %d rows, %v; want the one message", n, err)
	}
	hostile := []string{
		"app1' OR '1'='1",
		"app1' OR 1=1 --",
		"'; DROP TABLE messages_data; --",
		`app1\' OR 1=1 --`,
		"app1'), ('x",
		"{app:String}",
	}
	for _, v := range hostile {
		p := map[string]string{}
		for k, x := range base {
			p[k] = x
		}
		p["app"] = v
		if n, err := run(history, p); err != nil || n != 0 {
			t.Errorf("app = %q: %d rows, %v; want none (a literal that matches no app)", v, n, err)
		}
	}
	// Every named query, every String parameter hostile at once: none may fail other than by refusing
	// a value, and none may change the database.
	all, err := queries.All()
	if err != nil {
		t.Fatal(err)
	}
	for _, q := range all {
		for _, v := range []string{"'; DROP TABLE messages_data; --", `x\' OR 1=1 --`} {
			p := map[string]string{}
			for _, f := range q.Params {
				p[f.Name] = sampleParam(f.Type)
				if f.Type == "String" {
					p[f.Name] = v
				}
			}
			if _, err := run(q, p); err != nil && !strings.Contains(err.Error(), "must be") && !strings.Contains(err.Error(), "BAD_ARGUMENTS") &&
				!strings.Contains(err.Error(), "CANNOT_PARSE") && !strings.Contains(err.Error(), "FUNCTION_THROW_IF_VALUE_IS_NON_ZERO") {
				t.Errorf("%s with %q: %v", q.Name, v, err)
			}
		}
	}
	if n, err := run(history, base); err != nil || n != 1 {
		t.Fatalf("after the hostile runs: %d rows, %v; the message (and its table) must still be there", n, err)
	}
}
