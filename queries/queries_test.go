package queries_test

import (
	"errors"
	"regexp"
	"strings"
	"testing"

	"github.com/imarchive/imarchive/queries"
)

var placeholder = regexp.MustCompile(`\{([A-Za-z_][A-Za-z0-9_]*):([^}]+)\}`)

// TestHeadersMatchSQL: every query's header declares exactly the parameters its SQL uses, with the
// same types, so --describe and the dashboards never disagree with what ClickHouse binds.
func TestHeadersMatchSQL(t *testing.T) {
	all, err := queries.All()
	if err != nil {
		t.Fatal(err)
	}
	if len(all) == 0 {
		t.Fatal("no queries embedded")
	}
	for _, q := range all {
		t.Run(q.Name, func(t *testing.T) {
			declared := map[string]string{}
			for _, p := range q.Params {
				if _, dup := declared[p.Name]; dup {
					t.Errorf("param %s declared twice", p.Name)
				}
				declared[p.Name] = p.Type
				if p.Description == "" {
					t.Errorf("param %s has no description", p.Name)
				}
			}
			used := map[string]bool{}
			for _, m := range placeholder.FindAllStringSubmatch(q.SQL, -1) {
				name, typ := m[1], strings.TrimSpace(m[2])
				used[name] = true
				want, ok := declared[name]
				if !ok {
					t.Errorf("SQL uses {%s:%s}, not declared in the header", name, typ)
				} else if want != typ {
					t.Errorf("SQL uses {%s:%s}, header says %s", name, typ, want)
				}
			}
			for name := range declared {
				if !used[name] {
					t.Errorf("header declares %s, the SQL never uses it", name)
				}
			}
			for _, c := range q.Columns {
				if c.Description == "" {
					t.Errorf("column %s has no description", c.Name)
				}
			}
		})
	}
}

func TestParseRejectsBadHeaders(t *testing.T) {
	for name, text := range map[string]string{
		"no name":    "-- summary: s\n-- column: a String  d\nSELECT 1",
		"wrong name": "-- name: other\n-- summary: s\n-- column: a String  d\nSELECT 1",
		"no summary": "-- name: q\n-- column: a String  d\nSELECT 1",
		"no columns": "-- name: q\n-- summary: s\nSELECT 1",
		"bad param":  "-- name: q\n-- summary: s\n-- param: !!\n-- column: a String  d\nSELECT 1",
	} {
		if _, err := queries.Parse("q.sql", text); err == nil {
			t.Errorf("%s: want an error", name)
		}
	}
	q, err := queries.Parse("q.sql", "-- name: q\n-- summary: s\n-- param: from DateTime64(3, 'UTC')  start, inclusive\n-- column: a String  d\nSELECT {from:DateTime64(3, 'UTC')}")
	if err != nil {
		t.Fatal(err)
	}
	if p := q.Params[0]; p.Name != "from" || p.Type != "DateTime64(3, 'UTC')" || p.Description != "start, inclusive" {
		t.Errorf("param parsed as %+v", p)
	}
}

func TestBind(t *testing.T) {
	q, err := queries.Get("message_history")
	if err != nil {
		t.Fatal(err)
	}
	got, err := q.Bind(map[string]string{"app": "a", "channel_id": "c", "from": "2022-03-08T12:58:00Z", "to": "1646744400000"})
	if err != nil {
		t.Fatal(err)
	}
	if got["from"] != "2022-03-08 12:58:00.000" || got["to"] != "2022-03-08 13:00:00.000" || got["app"] != "a" {
		t.Errorf("bound %v", got)
	}
	if got, _ := q.Bind(map[string]string{"app": "a", "channel_id": "c", "from": "2022-03-08 12:58:00", "to": "2022-03-09"}); got["from"] != "2022-03-08 12:58:00" {
		t.Errorf("ClickHouse's own spelling must pass unchanged, got %q", got["from"])
	}
	_, err = q.Bind(map[string]string{"app": "a", "bogus": "x"})
	if !errors.Is(err, queries.ErrParams) {
		t.Fatalf("want ErrParams, got %v", err)
	}
	for _, want := range []string{"missing channel_id", "missing from", "missing to", "unknown parameter bogus"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not say %q", err, want)
		}
	}
	if _, err := queries.Get("nope"); !errors.Is(err, queries.ErrUnknownQuery) {
		t.Errorf("want ErrUnknownQuery, got %v", err)
	}
}
