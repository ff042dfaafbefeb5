package pipeline

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2"
	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
	"github.com/prometheus/client_golang/prometheus"
)

// inserter writes rows into ClickHouse tables, one INSERT per table and batch.
type inserter struct {
	conn    driver.Conn
	latency *prometheus.HistogramVec
}

func newInserter(conn driver.Conn, reg prometheus.Registerer) *inserter {
	lat := prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name: "imarchive_pipeline_insert_latency_seconds", Help: "Time for ClickHouse to acknowledge one insert, per table.",
		Buckets: prometheus.ExponentialBuckets(0.001, 2.5, 12),
	}, []string{"table"})
	reg.MustRegister(lat)
	return &inserter{conn: conn, latency: lat}
}

// insert writes rows into table and returns when ClickHouse acknowledged them. token is the insert
// deduplication token: the same token again (a retry of the same batch) is a no-op in ClickHouse.
// Inserts are synchronous (async_insert = 0), so the acknowledgement means the rows are in parts.
func (in *inserter) insert(ctx context.Context, table string, columns []string, rows [][]any, token string) error {
	if len(rows) == 0 {
		return nil
	}
	start := time.Now()
	ctx = clickhouse.Context(ctx, clickhouse.WithSettings(clickhouse.Settings{
		"insert_deduplication_token": token,
		"async_insert":               0,
	}))
	b, err := in.conn.PrepareBatch(ctx, "INSERT INTO "+table+" ("+strings.Join(columns, ", ")+")")
	if err != nil {
		return fmt.Errorf("prepare insert into %s: %w", table, err)
	}
	defer b.Abort()
	for _, r := range rows {
		if err := b.Append(r...); err != nil {
			return fmt.Errorf("append row to %s batch: %w", table, err)
		}
	}
	if err := b.Send(); err != nil {
		return fmt.Errorf("insert %d rows into %s: %w", len(rows), table, err)
	}
	in.latency.WithLabelValues(table).Observe(time.Since(start).Seconds())
	return nil
}
