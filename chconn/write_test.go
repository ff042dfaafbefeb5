package chconn_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"syscall"
	"testing"

	"github.com/ClickHouse/clickhouse-go/v2"

	"github.com/imarchive/imarchive/chconn"
)

// TestIsDataError: only a refusal of the rows themselves is a data error; every outage, overload,
// schema or permission problem, and anything unknown, is to be retried.
func TestIsDataError(t *testing.T) {
	ex := func(code int32, name string) error {
		return fmt.Errorf("insert 3 rows into messages_data: %w", &clickhouse.Exception{Code: code, CodeName: name, Message: "…"})
	}
	for name, tc := range map[string]struct {
		err  error
		data bool
	}{
		"constraint":                 {ex(469, "VIOLATED_CONSTRAINT"), true},
		"cannot parse":               {ex(6, "CANNOT_PARSE_TEXT"), true},
		"value out of range":         {ex(321, "VALUE_IS_OUT_OF_RANGE_OF_DATA_TYPE"), true},
		"throwIf in a view":          {ex(395, "FUNCTION_THROW_IF_VALUE_IS_NON_ZERO"), true},
		"over HTTP":                  {&clickhouse.HTTPError{StatusCode: 500, Err: &clickhouse.Exception{Code: 469}}, true},
		"client could not encode":    {fmt.Errorf("append row 2: %w: %w", chconn.ErrRowRefused, errors.New("converting")), true},
		"too many parts":             {ex(252, "TOO_MANY_PARTS"), false},
		"memory limit":               {ex(241, "MEMORY_LIMIT_EXCEEDED"), false},
		"timeout exceeded":           {ex(159, "TIMEOUT_EXCEEDED"), false},
		"read-only replica":          {ex(242, "TABLE_IS_READ_ONLY"), false},
		"unknown table":              {ex(60, "UNKNOWN_TABLE"), false},
		"no such column":             {ex(16, "NO_SUCH_COLUMN_IN_TABLE"), false},
		"access denied":              {ex(497, "ACCESS_DENIED"), false},
		"unknown code":               {ex(99999, ""), false},
		"HTTP 502 from a proxy":      {&clickhouse.HTTPError{StatusCode: 502, Err: errors.New("Bad Gateway")}, false},
		"connection refused":         {&net.OpError{Op: "dial", Net: "tcp", Err: syscall.ECONNREFUSED}, false},
		"connection reset mid-write": {fmt.Errorf("send: %w", io.ErrUnexpectedEOF), false},
		"deadline":                   {fmt.Errorf("insert: %w", context.DeadlineExceeded), false},
		"nil":                        {nil, false},
	} {
		if got := chconn.IsDataError(tc.err); got != tc.data {
			t.Errorf("%s: IsDataError = %v, want %v (%v)", name, got, tc.data, tc.err)
		}
	}
}

func TestCheckProtocol(t *testing.T) {
	for dsn, untested := range map[string]bool{
		"":                                      false,
		"http://u:p@ch:8123/db":                 false,
		"https://ch:8443/db?secure=true":        false,
		"HTTPS://ch:8443/db?secure=true":        false,
		"clickhouse://u:p@ch:9000/db":           true,
		"tcp://ch:9000/db":                      true,
		"clickhouse://ch:9440/db?secure=true":   true,
		"not a url at all \x7f":                 true,
		"http://ch:8123/db?password_file=/x/pw": false,
	} {
		if err := chconn.CheckProtocol(dsn); (err != nil) != untested || (err != nil && !errors.Is(err, chconn.ErrUntestedProtocol)) {
			t.Errorf("CheckProtocol(%q) = %v, want untested %v", dsn, err, untested)
		}
	}
}

// TestInsertSettingsStateTheGuarantee: an insert says what it relies on, whatever the server's
// defaults; the token only when there is one.
func TestInsertSettingsStateTheGuarantee(t *testing.T) {
	s := chconn.InsertSettings("tok")
	for k, want := range map[string]any{"async_insert": 0, "wait_for_async_insert": 1, "insert_deduplicate": 1, "insert_deduplication_token": "tok", "distributed_foreground_insert": 1} {
		if s[k] != want {
			t.Errorf("%s = %v, want %v", k, s[k], want)
		}
	}
	if _, ok := chconn.InsertSettings("")["insert_deduplication_token"]; ok {
		t.Error("an empty token was set")
	}
	d := chconn.DDLSettings()
	if d["alter_sync"] != 2 || d["mutations_sync"] != 2 || d["async_insert"] != 0 {
		t.Errorf("DDL settings %v", d)
	}
}
