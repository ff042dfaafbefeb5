package chconn

import (
	"context"
	"errors"
	"net/url"
	"strings"

	"github.com/ClickHouse/clickhouse-go/v2"
)

// Every write states the settings its guarantee depends on instead of relying on the server's
// defaults, which differ between releases (ClickHouse turned async_insert on by default in 26.3) and
// between a server and the chDB engine the tests run.

// InsertSettings are the settings of an INSERT whose acknowledgement must mean "durably in a part,
// visible to the next query, and dropped when repeated with the same token":
//
//   - async_insert = 0: the server writes the rows into a part before it answers (an asynchronous
//     insert is acknowledged from a buffer, and its deduplication follows other rules);
//   - wait_for_async_insert = 1: should a server force asynchronous inserts anyway, the answer still
//     waits for the flush;
//   - insert_deduplicate = 1: a block repeated within the table's deduplication window
//     (non_replicated_deduplication_window on MergeTree, replicated_deduplication_window on
//     Replicated tables: the schema sets it on every table written this way) is dropped;
//   - insert_deduplication_token = token (when not empty): the repeat is recognised by the token
//     rather than by the rows' bytes, so a retry of the same batch is dropped even when the rows
//     were re-encoded;
//   - distributed_foreground_insert = 1: into a Distributed table (the cluster schema, imarchive
//     migrate --cluster), the answer waits until every shard wrote its rows, with the same token,
//     instead of coming from a local queue the server sends on later.
func InsertSettings(token string) clickhouse.Settings {
	s := clickhouse.Settings{
		"async_insert":                  0,
		"wait_for_async_insert":         1,
		"insert_deduplicate":            1,
		"distributed_foreground_insert": 1,
	}
	if token != "" {
		s["insert_deduplication_token"] = token
	}
	return s
}

// InsertContext returns ctx carrying InsertSettings(token).
func InsertContext(ctx context.Context, token string) context.Context {
	return clickhouse.Context(ctx, clickhouse.WithSettings(InsertSettings(token)))
}

// DDLSettings are the settings of a schema change (imarchive migrate) whose result the next
// statement, or the next run of a consumer, depends on:
//
//   - alter_sync = 2: an ALTER returns once every replica applied it (on one server: once it is done);
//   - mutations_sync = 2: a mutation (MATERIALIZE INDEX, ALTER … UPDATE/DELETE) returns once it ran
//     on every replica, so "migration applied" means its effect is complete;
//   - async_insert = 0, insert_deduplicate = 1: INSERT … SELECT copies are written before the
//     migration is recorded, and a repeated copy of the same block is dropped.
func DDLSettings() clickhouse.Settings {
	return clickhouse.Settings{
		"alter_sync":         2,
		"mutations_sync":     2,
		"async_insert":       0,
		"insert_deduplicate": 1,
	}
}

// Tested protocols. imarchive's tests talk to ClickHouse over its HTTP interface through
// clickhouse-go (the only interface of the chDB engine CI runs); the native protocol goes through
// other clickhouse-go code that no test here exercises.
const (
	ProtocolHTTP   = "http"
	ProtocolNative = "native"
)

// ErrUntestedProtocol is returned by CheckProtocol for a DSN of the native protocol.
var ErrUntestedProtocol = errors.New("the native protocol (clickhouse://, tcp://) is not what imarchive's tests exercise: use ClickHouse's HTTP interface, http://HOST:8123/DB or https://HOST:8443/DB?secure=true")

// Protocol names the protocol a DSN selects: ProtocolHTTP for http:// and https://, else
// ProtocolNative (clickhouse-go's rule).
func Protocol(dsn string) string {
	u, err := url.Parse(dsn)
	if err != nil {
		return ProtocolNative
	}
	switch strings.ToLower(u.Scheme) {
	case "http", "https":
		return ProtocolHTTP
	}
	return ProtocolNative
}

// CheckProtocol returns ErrUntestedProtocol for a DSN that does not use the tested HTTP interface,
// and nil for an empty DSN or an HTTP one. It is a warning, not a refusal: the native protocol works,
// it is only not what the tests prove.
func CheckProtocol(dsn string) error {
	if dsn == "" || Protocol(dsn) == ProtocolHTTP {
		return nil
	}
	return ErrUntestedProtocol
}
