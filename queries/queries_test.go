package queries_test

import (
	"errors"
	"regexp"
	"strings"
	"testing"
	"time"

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
	if got, _ := q.Bind(map[string]string{"app": "a", "channel_id": "c", "from": "2022-03-08 12:58:00", "to": "2022-03-09"}); got["from"] != "2022-03-08 12:58:00.000" || got["to"] != "2022-03-09 00:00:00.000" {
		t.Errorf("ClickHouse's own spelling must mean the same time, got %q, %q", got["from"], got["to"])
	}
	_, err = q.Bind(map[string]string{"app": "a", "bogus": "x"})
	if !errors.Is(err, queries.ErrParams) {
		t.Fatalf("want ErrParams, got %v", err)
	}
	for _, want := range []string{"--param channel_id: missing", "--param from: missing", "--param to: missing", "--param bogus: message_history has no such parameter"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not say %q", err, want)
		}
	}
	if _, err := queries.Get("nope"); !errors.Is(err, queries.ErrUnknownQuery) {
		t.Errorf("want ErrUnknownQuery, got %v", err)
	}
}

// TestBindOptionalParams: a filter described "empty for all" may be left out and then means all; a
// parameter without that remark may not.
func TestBindOptionalParams(t *testing.T) {
	q, err := queries.Get("message_volume")
	if err != nil {
		t.Fatal(err)
	}
	got, err := q.Bind(map[string]string{"by": "platform", "step_seconds": "3600", "from": "today", "to": "now"})
	if err != nil {
		t.Fatalf("message_volume without its optional filters: %v", err)
	}
	for _, name := range []string{"source", "app", "server_id", "channel_id"} {
		if v, ok := got[name]; !ok || v != "" {
			t.Errorf("optional %s bound to %q (present %v), want the empty filter", name, v, ok)
		}
	}
	if _, err := q.Bind(map[string]string{"step_seconds": "3600", "from": "today", "to": "now"}); err == nil || !strings.Contains(err.Error(), "--param by: missing") {
		t.Errorf("by is not optional; got %v", err)
	}
	var optional []string
	for _, p := range q.Params {
		if _, ok := p.Optional(); ok {
			optional = append(optional, p.Name)
		}
	}
	if strings.Join(optional, ",") != "source,app,server_id,channel_id,series_limit" {
		t.Errorf("optional parameters of message_volume: %v", optional)
	}
}

// TestBindTypedErrors: a value of the wrong type is refused before the server sees it, with the
// parameter's name, the value and the type; an unknown name gets a suggestion.
func TestBindTypedErrors(t *testing.T) {
	q, err := queries.Get("message_volume")
	if err != nil {
		t.Fatal(err)
	}
	ok := map[string]string{"by": "platform", "step_seconds": "3600", "from": "2026-01-01", "to": "2026-01-02"}
	for _, tc := range []struct{ name, value, want string }{
		{"from", "2026-13-01", `--param from=2026-13-01: not a DateTime64(3, 'UTC'): want a date-time`},
		{"to", "next week", `--param to="next week": not a DateTime64(3, 'UTC')`},
		{"to", "2299-12-31", `--param to=2299-12-31: not a DateTime64(3, 'UTC'): want a date-time from 1970-01-01 to 2149-06-06 23:59:59`},
		{"from", "1969-12-31 23:59:59", `--param from="1969-12-31 23:59:59": not a DateTime64(3, 'UTC'): want a date-time from 1970-01-01`},
		{"step_seconds", "hour", "--param step_seconds=hour: not a UInt32: want a whole number from 0 to 4294967295"},
		{"step_seconds", "-1", "--param step_seconds=-1: not a UInt32"},
		{"step_seconds", "4294967296", "--param step_seconds=4294967296: not a UInt32"},
		{"chanel_id", "c", "--param chanel_id: message_volume has no such parameter (did you mean channel_id?)"},
	} {
		p := map[string]string{}
		for k, v := range ok {
			p[k] = v
		}
		p[tc.name] = tc.value
		_, err := q.Bind(p)
		if !errors.Is(err, queries.ErrParams) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s=%q: got %v, want ErrParams saying %q", tc.name, tc.value, err, tc.want)
		}
	}
	if _, err := queries.Get("mesage_volume"); !errors.Is(err, queries.ErrUnknownQuery) || !strings.Contains(err.Error(), "did you mean message_volume?") {
		t.Errorf("misspelled query name: %v", err)
	}
}

func TestParseTime(t *testing.T) {
	now := time.Date(2026, 5, 17, 15, 30, 45, 0, time.UTC)
	day := time.Date(2026, 5, 17, 0, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		in   string
		want time.Time
	}{
		{"now", now}, {"today", day}, {"yesterday", day.AddDate(0, 0, -1)}, {"tomorrow", day.AddDate(0, 0, 1)},
		{"-24h", now.Add(-24 * time.Hour)}, {"now-15m", now.Add(-15 * time.Minute)}, {"today-7d", day.AddDate(0, 0, -7)},
		{"+2w", now.AddDate(0, 0, 14)}, {"-30s", now.Add(-30 * time.Second)},
		{"2026-03-01", time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)},
		{"2026-03-01 10:00:00", time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)},
		{"2026-03-01 10:00:00.250", time.Date(2026, 3, 1, 10, 0, 0, 250e6, time.UTC)},
		{"2026-03-01T10:00:00+08:00", time.Date(2026, 3, 1, 2, 0, 0, 0, time.UTC)},
		{"1646744400000", time.UnixMilli(1646744400000).UTC()},
	} {
		got, err := queries.ParseTime(tc.in, now)
		if err != nil || !got.Equal(tc.want) {
			t.Errorf("ParseTime(%q) = %v, %v; want %v", tc.in, got, err, tc.want)
		}
	}
	for _, bad := range []string{"", "soon", "2026-02-30", "-5y", "now+"} {
		if _, err := queries.ParseTime(bad, now); !errors.Is(err, queries.ErrTime) {
			t.Errorf("ParseTime(%q): %v, want ErrTime", bad, err)
		}
	}
}
