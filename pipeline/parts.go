package pipeline

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
	"github.com/prometheus/client_golang/prometheus"
)

// TableParts is what ClickHouse holds of one table: its active data parts, and the parts its inserts
// have created so far.
type TableParts struct {
	Active uint64
	// Created counts the block numbers the table has handed out, which every insert takes one of per
	// part it writes: the greatest block number in a table of this server, the sum over partitions of
	// each one's greatest in a Replicated table (numbered per partition). Merges keep the numbers of
	// the parts they merge, so it counts every writer's parts since the table was created (mutations
	// take numbers too, dropped partitions give theirs back).
	Created uint64
}

// ReadTableParts reads system.parts for the tables of the connection's database.
func ReadTableParts(ctx context.Context, conn driver.Conn) (map[string]TableParts, error) {
	rows, err := conn.Query(ctx, `SELECT p.table, sum(p.active), if(startsWith(any(t.engine), 'Replicated'), sum(p.blocks), max(p.blocks))
FROM (SELECT table, partition_id, countIf(active) AS active, max(max_block_number) AS blocks
      FROM system.parts WHERE database = currentDatabase() GROUP BY table, partition_id) AS p
LEFT JOIN (SELECT name, engine FROM system.tables WHERE database = currentDatabase()) AS t ON t.name = p.table
GROUP BY p.table`)
	if err != nil {
		return nil, fmt.Errorf("read system.parts: %w", err)
	}
	defer rows.Close()
	out := map[string]TableParts{}
	for rows.Next() {
		var table string
		var active uint64
		var created int64
		if err := rows.Scan(&table, &active, &created); err != nil {
			return nil, fmt.Errorf("scan system.parts: %w", err)
		}
		out[table] = TableParts{Active: active, Created: uint64(max(created, 0))}
	}
	return out, rows.Err()
}

// PartsReporter keeps imarchive_pipeline_table_active_parts and imarchive_pipeline_table_created_parts
// from system.parts. Every consume process reports the same tables: read them with max().
type PartsReporter struct {
	conn            driver.Conn
	log             *slog.Logger
	active, created *prometheus.GaugeVec
}

// NewPartsReporter registers the parts metrics on reg.
func NewPartsReporter(conn driver.Conn, log *slog.Logger, reg prometheus.Registerer) *PartsReporter {
	r := &PartsReporter{conn: conn, log: log,
		active: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "imarchive_pipeline_table_active_parts", Help: "Active data parts of each table of the database (system.parts, on the server consume writes to).",
		}, []string{"table"}),
		created: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "imarchive_pipeline_table_created_parts", Help: "Data parts the table's inserts have created, by every writer, since it was created: its block numbers (system.parts); its increase per minute is parts per minute.",
		}, []string{"table"}),
	}
	reg.MustRegister(r.active, r.created)
	return r
}

// Run reads system.parts every interval until ctx ends.
func (r *PartsReporter) Run(ctx context.Context, every time.Duration) {
	warned := false
	for {
		qctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		parts, err := ReadTableParts(qctx, r.conn)
		cancel()
		switch {
		case err != nil && ctx.Err() == nil && !warned:
			warned = true
			r.log.Warn("cannot read system.parts: no parts metrics until it answers", "err", err)
		case err == nil:
			warned = false
			r.active.Reset()
			r.created.Reset()
			for t, p := range parts {
				r.active.WithLabelValues(t).Set(float64(p.Active))
				r.created.WithLabelValues(t).Set(float64(p.Created))
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(every):
		}
	}
}
