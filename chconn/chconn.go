// Package chconn opens ClickHouse connections from a clickhouse-go DSN, the one way every component
// reaches ClickHouse.
//
// The DSN is clickhouse-go's: clickhouse://user:pass@host:9000/db for the native protocol, or
// http://user:pass@host:8123/db (https:// for TLS) for the HTTP interface.
package chconn

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2"
	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
)

// ErrNoDSN is returned when no DSN was configured.
var ErrNoDSN = errors.New("no ClickHouse DSN configured (IMARCHIVE_CLICKHOUSE_DSN)")

// Options parses a DSN into clickhouse-go options with the project's defaults.
func Options(dsn string) (*clickhouse.Options, error) {
	if dsn == "" {
		return nil, ErrNoDSN
	}
	opts, err := clickhouse.ParseDSN(dsn)
	if err != nil {
		return nil, fmt.Errorf("parse clickhouse DSN: %w", err)
	}
	if opts.DialTimeout == 0 {
		opts.DialTimeout = 5 * time.Second
	}
	if opts.ReadTimeout == 0 {
		opts.ReadTimeout = 60 * time.Second
	}
	return opts, nil
}

// Open connects and pings.
func Open(ctx context.Context, dsn string) (driver.Conn, error) {
	opts, err := Options(dsn)
	if err != nil {
		return nil, err
	}
	return OpenOptions(ctx, opts)
}

// OpenOptions connects with the given options and pings.
func OpenOptions(ctx context.Context, opts *clickhouse.Options) (driver.Conn, error) {
	conn, err := clickhouse.Open(opts)
	if err != nil {
		return nil, fmt.Errorf("open clickhouse: %w", err)
	}
	if err := conn.Ping(ctx); err != nil {
		conn.Close()
		return nil, fmt.Errorf("ping clickhouse at %v: %w", opts.Addr, err)
	}
	return conn, nil
}

// EnsureDatabase creates the DSN's database when it does not exist, connecting to the server's default
// database to do so.
func EnsureDatabase(ctx context.Context, opts *clickhouse.Options) error {
	db := opts.Auth.Database
	if db == "" || db == "default" {
		return nil
	}
	o := *opts
	o.Auth.Database = "default"
	conn, err := OpenOptions(ctx, &o)
	if err != nil {
		return err
	}
	defer conn.Close()
	if err := conn.Exec(ctx, "CREATE DATABASE IF NOT EXISTS "+quoteIdent(db)); err != nil {
		return fmt.Errorf("create database %s: %w", db, err)
	}
	return nil
}

func quoteIdent(s string) string {
	out := []byte{'`'}
	for i := 0; i < len(s); i++ {
		if s[i] == '`' || s[i] == '\\' {
			out = append(out, '\\')
		}
		out = append(out, s[i])
	}
	return string(append(out, '`'))
}
