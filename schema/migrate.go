package schema

import (
	"context"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2"
	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/imarchive/imarchive/chconn"
)

//go:embed *.sql
var files embed.FS

// Migration is one numbered DDL file.
type Migration struct {
	Version    uint32
	Name       string
	Checksum   string // hex SHA-256 of the file
	Statements []string
}

// ErrChanged is returned when an applied migration's file no longer matches what was applied.
var ErrChanged = errors.New("migration changed after it was applied")

var fileName = regexp.MustCompile(`^(\d{4})_([a-z0-9_]+)\.sql$`)

// Migrations returns the embedded migrations in version order.
func Migrations() ([]Migration, error) {
	return load(files)
}

func load(fsys fs.FS) ([]Migration, error) {
	entries, err := fs.ReadDir(fsys, ".")
	if err != nil {
		return nil, fmt.Errorf("read migrations: %w", err)
	}
	var out []Migration
	seen := map[uint32]string{}
	for _, e := range entries {
		m := fileName.FindStringSubmatch(e.Name())
		if m == nil {
			return nil, fmt.Errorf("migration file %q: name must be NNNN_name.sql", e.Name())
		}
		v, _ := strconv.ParseUint(m[1], 10, 32)
		if prev, dup := seen[uint32(v)]; dup {
			return nil, fmt.Errorf("migration version %d used by %s and %s", v, prev, e.Name())
		}
		seen[uint32(v)] = e.Name()
		text, err := fs.ReadFile(fsys, e.Name())
		if err != nil {
			return nil, fmt.Errorf("read %s: %w", e.Name(), err)
		}
		sum := sha256.Sum256(text)
		stmts := Split(string(text))
		if len(stmts) == 0 {
			return nil, fmt.Errorf("migration %s has no statements", e.Name())
		}
		out = append(out, Migration{Version: uint32(v), Name: m[2], Checksum: hex.EncodeToString(sum[:]), Statements: stmts})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Version < out[j].Version })
	return out, nil
}

// Split cuts a file into statements: a statement ends with ';' at the end of a line. Comment-only
// lines are dropped.
func Split(text string) []string {
	var stmts []string
	var cur strings.Builder
	for _, line := range strings.Split(text, "\n") {
		trimmed := strings.TrimSpace(line)
		if strings.HasPrefix(trimmed, "--") || (trimmed == "" && cur.Len() == 0) {
			continue
		}
		cur.WriteString(line)
		cur.WriteByte('\n')
		if strings.HasSuffix(trimmed, ";") {
			stmts = append(stmts, strings.TrimSuffix(strings.TrimSpace(cur.String()), ";"))
			cur.Reset()
		}
	}
	if s := strings.TrimSpace(cur.String()); s != "" {
		stmts = append(stmts, s)
	}
	return stmts
}

const migrationsTable = `CREATE TABLE IF NOT EXISTS schema_migrations
(
    version    UInt32 COMMENT 'Migration number (the NNNN of schema/NNNN_name.sql)',
    name       String COMMENT 'Migration name',
    checksum   String COMMENT 'SHA-256 of the migration file as applied',
    applied_at DateTime64(3, 'UTC') COMMENT 'When it was applied'
)
ENGINE = ReplacingMergeTree(applied_at)
ORDER BY version
COMMENT 'Applied schema migrations; max(version) is the schema version'`

// Result says what Migrate did.
type Result struct {
	Applied []Migration // applied by this run
	Version uint32      // schema version after the run
}

// Migrate applies every embedded migration not yet applied, in order, each statement with
// chconn.DDLSettings (it waits for ALTERs and mutations to complete: give the connection a read
// timeout long enough to materialize an index over the largest table). It returns ErrChanged
// (wrapped) when an applied file has changed, and the first DDL error met.
func Migrate(ctx context.Context, conn driver.Conn, log *slog.Logger) (Result, error) {
	ms, err := Migrations()
	if err != nil {
		return Result{}, err
	}
	return apply(ctx, conn, ms, log)
}

func apply(ctx context.Context, conn driver.Conn, ms []Migration, log *slog.Logger) (Result, error) {
	// Every statement states what it relies on (chconn.DDLSettings): an ALTER or a mutation (MATERIALIZE
	// INDEX) is complete before the next statement runs and before the migration is recorded; a copy
	// (INSERT … SELECT) is written synchronously.
	return applyWith(clickhouse.Context(ctx, clickhouse.WithSettings(chconn.DDLSettings())), conn, []string{migrationsTable}, ms, log)
}

// applyWith creates the migrations table with its statements, then applies ms.
func applyWith(ctx context.Context, conn driver.Conn, table []string, ms []Migration, log *slog.Logger) (Result, error) {
	var res Result
	for _, stmt := range table {
		if err := conn.Exec(ctx, stmt); err != nil {
			return res, fmt.Errorf("create schema_migrations: %w", err)
		}
	}
	applied, err := Applied(ctx, conn)
	if err != nil {
		return res, err
	}
	for _, m := range ms {
		if sum, ok := applied[m.Version]; ok {
			if sum != m.Checksum {
				return res, fmt.Errorf("%w: %04d_%s (forward-only: add a new migration file instead)", ErrChanged, m.Version, m.Name)
			}
			res.Version = m.Version
			continue
		}
		start := time.Now()
		for i, stmt := range m.Statements {
			if err := conn.Exec(ctx, stmt); err != nil {
				return res, fmt.Errorf("migration %04d_%s statement %d: %w", m.Version, m.Name, i+1, err)
			}
		}
		if err := conn.Exec(ctx, `INSERT INTO schema_migrations (version, name, checksum, applied_at) VALUES (?, ?, ?, ?)`,
			m.Version, m.Name, m.Checksum, time.Now().UTC()); err != nil {
			return res, fmt.Errorf("record migration %04d_%s: %w", m.Version, m.Name, err)
		}
		log.Info("migration applied", "version", m.Version, "name", m.Name, "statements", len(m.Statements), "took", time.Since(start).Round(time.Millisecond))
		res.Applied = append(res.Applied, m)
		res.Version = m.Version
	}
	return res, nil
}

// Applied returns the applied versions and their checksums.
func Applied(ctx context.Context, conn driver.Conn) (map[uint32]string, error) {
	rows, err := conn.Query(ctx, `SELECT version, argMax(checksum, applied_at) FROM schema_migrations GROUP BY version`)
	if err != nil {
		return nil, fmt.Errorf("read schema_migrations: %w", err)
	}
	defer rows.Close()
	out := map[uint32]string{}
	for rows.Next() {
		var v uint32
		var sum string
		if err := rows.Scan(&v, &sum); err != nil {
			return nil, fmt.Errorf("scan schema_migrations: %w", err)
		}
		out[v] = sum
	}
	return out, rows.Err()
}

// ClusterDDLSettings are DDLSettings for a cluster (MigrateCluster): an ON CLUSTER statement returns
// once every host ran it, and fails when one has not within timeout (distributed_ddl_output_mode =
// throw); ALTERs and mutations wait for every replica (alter_sync, mutations_sync = 2); an INSERT …
// SELECT through a Distributed table returns once its shards wrote it.
func ClusterDDLSettings(timeout time.Duration) clickhouse.Settings {
	s := chconn.DDLSettings()
	s["distributed_ddl_task_timeout"] = int(timeout.Seconds())
	s["distributed_ddl_output_mode"] = "throw"
	s["distributed_foreground_insert"] = 1
	return s
}

// RenderCluster renders migrations (in order, each statement as Cluster.Render does) for cluster
// name, with db the database the Distributed tables read. The first migration returned is not a
// file: version 0, the statements that create the database on every host and schema_migrations.
func RenderCluster(ms []Migration, name, db string) ([]Migration, error) {
	c, err := NewCluster(name, db)
	if err != nil {
		return nil, err
	}
	table, err := c.Render(migrationsTable)
	if err != nil {
		return nil, err
	}
	head := Migration{Name: "cluster", Statements: append([]string{"CREATE DATABASE IF NOT EXISTS `" + db + "`" + c.on()}, table...)}
	out := []Migration{head}
	for _, m := range ms {
		r := m
		r.Statements = nil
		for i, stmt := range m.Statements {
			rs, err := c.Render(stmt)
			if err != nil {
				return nil, fmt.Errorf("migration %04d_%s statement %d: %w", m.Version, m.Name, i+1, err)
			}
			r.Statements = append(r.Statements, rs...)
		}
		out = append(out, r)
	}
	return out, nil
}

// MigrateCluster applies the embedded migrations, rendered for cluster name (RenderCluster), to
// conn's database on every host of the cluster, with ClusterDDLSettings(timeout). It records them
// in schema_migrations (replicated, read through its Distributed table) with the files' checksums,
// so it is idempotent as Migrate is.
func MigrateCluster(ctx context.Context, conn driver.Conn, name string, timeout time.Duration, log *slog.Logger) (Result, error) {
	var db string
	if err := conn.QueryRow(ctx, "SELECT currentDatabase()").Scan(&db); err != nil {
		return Result{}, fmt.Errorf("read the current database: %w", err)
	}
	ms, err := Migrations()
	if err != nil {
		return Result{}, err
	}
	rs, err := RenderCluster(ms, name, db)
	if err != nil {
		return Result{}, err
	}
	ctx = clickhouse.Context(ctx, clickhouse.WithSettings(ClusterDDLSettings(timeout)))
	return applyWith(ctx, conn, rs[0].Statements, rs[1:], log)
}
