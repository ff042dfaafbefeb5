// Package chdbserver holds the ClickHouse HTTP-interface test server built on
// chDB (chdb_http.py, started by scripts/chdb.sh) and compat_test.go, an
// integration test proving that clickhouse-go v2 over Protocol: HTTP works
// against it exactly as the product uses ClickHouse: DDL, batch inserts,
// queries with parameters, per-query settings such as
// insert_deduplication_token, typed server exceptions and persistence across
// a restart.
//
// This machine has no ClickHouse server; chDB is the real ClickHouse engine
// in-process, and chdb_http.py only speaks the HTTP wire protocol. See
// README.md in this directory.
//
// The package has no Go code of its own: only the test.
package chdbserver
