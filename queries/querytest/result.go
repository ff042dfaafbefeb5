package querytest

import (
	"context"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2"
	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
)

// Result is a query's answer as text: column names and ClickHouse types (as DESCRIBE tells them, so
// also for an empty result), and each row's values.
type Result struct {
	Columns []string
	Types   []string
	Rows    [][]string
}

// Run executes sql over conn with ClickHouse query parameters (nil for none) and returns the result as
// text: date-times as UTC "2006-01-02 15:04:05.000", NULL as "NULL", everything else as fmt prints it.
func Run(t testing.TB, conn driver.Conn, sql string, params map[string]string) Result {
	t.Helper()
	r, err := RunErr(conn, sql, params)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// RunErr is Run returning the error.
func RunErr(conn driver.Conn, sql string, params map[string]string) (Result, error) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if params != nil {
		ctx = clickhouse.Context(ctx, clickhouse.WithParameters(params))
	}
	rows, err := conn.Query(ctx, sql)
	if err != nil {
		return Result{}, err
	}
	defer rows.Close()
	var r Result
	cts := rows.ColumnTypes()
	dest := make([]any, len(cts))
	for i, ct := range cts {
		dest[i] = reflect.New(ct.ScanType()).Interface()
	}
	for rows.Next() {
		if err := rows.Scan(dest...); err != nil {
			return r, fmt.Errorf("scan row %d: %w", len(r.Rows)+1, err)
		}
		row := make([]string, len(dest))
		for i, d := range dest {
			row[i] = Text(reflect.ValueOf(d).Elem())
		}
		r.Rows = append(r.Rows, row)
	}
	if err := rows.Err(); err != nil {
		return r, err
	}
	// The result's own column list is empty when it has no rows (the engine sends no block), and
	// clickhouse-go reports DateTime('UTC') as DateTime: DESCRIBE gives the names and types as the
	// server sees them.
	desc, err := conn.Query(ctx, "DESCRIBE TABLE (\n"+sql+"\n)")
	if err != nil {
		return r, fmt.Errorf("describe: %w", err)
	}
	defer desc.Close()
	for desc.Next() {
		vals := make([]any, len(desc.ColumnTypes()))
		var name, typ string
		vals[0], vals[1] = &name, &typ
		for i := 2; i < len(vals); i++ {
			vals[i] = new(string)
		}
		if err := desc.Scan(vals...); err != nil {
			return r, fmt.Errorf("describe: %w", err)
		}
		r.Columns = append(r.Columns, name)
		r.Types = append(r.Types, typ)
	}
	if err := desc.Err(); err != nil {
		return r, fmt.Errorf("describe: %w", err)
	}
	if got := rows.Columns(); len(r.Rows) > 0 && strings.Join(got, ",") != strings.Join(r.Columns, ",") {
		return r, fmt.Errorf("result columns %v, DESCRIBE says %v", got, r.Columns)
	}
	return r, nil
}

// Text formats one scanned value.
func Text(v reflect.Value) string {
	for v.Kind() == reflect.Pointer {
		if v.IsNil() {
			return "NULL"
		}
		v = v.Elem()
	}
	if tm, ok := v.Interface().(time.Time); ok {
		return tm.UTC().Format("2006-01-02 15:04:05.000")
	}
	return fmt.Sprint(v.Interface())
}
