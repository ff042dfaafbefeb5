package pipeline

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/imarchive/imarchive/chconn"
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
// The insert states the settings this relies on (chconn.InsertSettings): synchronous
// (async_insert = 0), so the acknowledgement means the rows are in parts, and deduplicated.
//
// A value the client cannot encode into its column fails the insert with chconn.ErrRowRefused
// (wrapped), a data error like ClickHouse's own refusals: the consumer sets the row aside.
func (in *inserter) insert(ctx context.Context, table string, columns []string, rows [][]any, token string) error {
	if len(rows) == 0 {
		return nil
	}
	start := time.Now()
	ctx = chconn.InsertContext(ctx, token)
	b, err := in.conn.PrepareBatch(ctx, "INSERT INTO "+table+" ("+strings.Join(columns, ", ")+")")
	if err != nil {
		return fmt.Errorf("prepare insert into %s: %w", table, err)
	}
	defer b.Abort()
	for i, r := range rows {
		if err := b.Append(r...); err != nil {
			return fmt.Errorf("append row %d of %d to the %s batch: %w: %w", i+1, len(rows), table, chconn.ErrRowRefused, err)
		}
	}
	if err := b.Send(); err != nil {
		return fmt.Errorf("insert %d rows into %s: %w", len(rows), table, err)
	}
	in.latency.WithLabelValues(table).Observe(time.Since(start).Seconds())
	return nil
}
