package chconn_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/imarchive/imarchive/chconn"
)

// TestOptionsRejectsUnknownScheme: clickhouse-go would speak its native protocol to a postgres:// or
// mysql:// address; Options names the scheme instead, and never repeats a scheme-less DSN (it may be a
// password).
func TestOptionsRejectsUnknownScheme(t *testing.T) {
	for _, tc := range []struct{ dsn, want string }{
		{"postgres://u:p@db:5432/imarchive", `unknown scheme "postgres"`},
		{"clickhous://h:9000/x", `unknown scheme "clickhous"`},
		{"u:secret@h:9000/x", "no scheme"},
	} {
		_, err := chconn.Options(tc.dsn)
		if !errors.Is(err, chconn.ErrBadDSN) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Options(%q) = %v, want ErrBadDSN naming %s", tc.dsn, err, tc.want)
		}
		if err != nil && strings.Contains(err.Error(), "secret") {
			t.Errorf("Options(%q): error repeats the password: %v", tc.dsn, err)
		}
	}
	for _, dsn := range []string{"clickhouse://h:9000/x", "tcp://h:9000/x", "http://h:8123/x", "HTTP://h:8123/x", "https://h:8443/x?secure=true"} {
		if _, err := chconn.Options(dsn); err != nil {
			t.Errorf("Options(%q) = %v, want it accepted", dsn, err)
		}
	}
}
