package queries

import (
	"bufio"
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"reflect"
	"regexp"
	"strings"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2"
	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
	"github.com/mattn/go-runewidth"

	"github.com/imarchive/imarchive/internal/csvcell"
)

// Formats Run can write.
var Formats = []string{"table", "csv", "json"}

// Run executes q with the bound parameters and writes the result to w in format (table: aligned
// columns; csv: with a header row; json: one JSON object per line). It returns the number of rows.
func Run(ctx context.Context, conn driver.Conn, q Query, params map[string]string, format string, w io.Writer) (int, error) {
	out, err := newWriter(format, w)
	if err != nil {
		return 0, err
	}
	ctx = clickhouse.Context(ctx, clickhouse.WithParameters(params))
	rows, err := conn.Query(ctx, q.SQL)
	if err != nil {
		return 0, fmt.Errorf("query %s: %w", q.Name, err)
	}
	defer rows.Close()
	cols := rows.Columns()
	types := rows.ColumnTypes()
	if len(cols) == 0 {
		// No block came back (zero rows over HTTP): the header's column list still names them, so a CSV
		// of nothing has its header row and a table its column names.
		for _, c := range q.Columns {
			cols = append(cols, c.Name)
		}
	}
	if err := out.header(cols); err != nil {
		return 0, err
	}
	dest := make([]any, len(types))
	layouts := make([]string, len(types))
	for i, t := range types {
		dest[i] = reflect.New(t.ScanType()).Interface()
		layouts[i] = timeLayout(t.DatabaseTypeName())
	}
	n := 0
	for rows.Next() {
		if err := rows.Scan(dest...); err != nil {
			return n, fmt.Errorf("query %s: scan row %d: %w", q.Name, n+1, err)
		}
		vals := make([]any, len(dest))
		for i, d := range dest {
			vals[i] = plain(reflect.ValueOf(d).Elem(), layouts[i])
		}
		if err := out.row(vals); err != nil {
			return n, err
		}
		n++
	}
	if err := rows.Err(); err != nil {
		return n, fmt.Errorf("query %s: %w", q.Name, err)
	}
	return n, out.close()
}

// TimeLayout is how DateTime64(3) values are printed: UTC, milliseconds.
const TimeLayout = "2006-01-02 15:04:05.000"

var precision = regexp.MustCompile(`DateTime64\((\d)`)

// timeLayout is how a column of the ClickHouse type is printed when it holds times: a Date as a date, a
// DateTime to the second, a DateTime64(p) with p digits of the second (UTC).
func timeLayout(typ string) string {
	t := baseType(typ)
	switch {
	case t == "Date" || t == "Date32":
		return "2006-01-02"
	case strings.HasPrefix(t, "DateTime64"):
		if m := precision.FindStringSubmatch(t); m != nil {
			if m[1] == "0" {
				return "2006-01-02 15:04:05"
			}
			return "2006-01-02 15:04:05." + strings.Repeat("0", int(m[1][0]-'0'))
		}
		return TimeLayout
	}
	return "2006-01-02 15:04:05"
}

// plain turns a scanned value into something every output format can print: times as UTC text in the
// column's layout, nil pointers (Nullable) as nil, everything else as it is.
func plain(v reflect.Value, layout string) any {
	for v.Kind() == reflect.Pointer {
		if v.IsNil() {
			return nil
		}
		v = v.Elem()
	}
	if t, ok := v.Interface().(time.Time); ok {
		return t.UTC().Format(layout)
	}
	return v.Interface()
}

func text(v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case string:
		return x
	case fmt.Stringer:
		return x.String()
	}
	rv := reflect.ValueOf(v)
	switch rv.Kind() {
	case reflect.Map, reflect.Slice, reflect.Array, reflect.Struct:
		b, err := json.Marshal(v)
		if err == nil {
			return string(b)
		}
	}
	return fmt.Sprint(v)
}

type rowWriter interface {
	header(cols []string) error
	row(vals []any) error
	close() error
}

func newWriter(format string, w io.Writer) (rowWriter, error) {
	switch format {
	case "table", "":
		return &tableWriter{w: w}, nil
	case "csv":
		return &csvWriter{w: csv.NewWriter(w)}, nil
	case "json":
		return &jsonWriter{enc: json.NewEncoder(w)}, nil
	}
	return nil, fmt.Errorf("unknown format %q (want %s)", format, strings.Join(Formats, ", "))
}

type tableWriter struct {
	w    io.Writer
	cols []string
	rows [][]string
}

func (t *tableWriter) header(cols []string) error { t.cols = cols; return nil }
func (t *tableWriter) row(vals []any) error {
	r := make([]string, len(vals))
	for i, v := range vals {
		// Keep one row on one line.
		r[i] = strings.NewReplacer("\n", `\n`, "\t", `\t`).Replace(text(v))
	}
	t.rows = append(t.rows, r)
	return nil
}
func (t *tableWriter) close() error {
	// Aligned by display width, not bytes or runes: a CJK character or an emoji takes two columns of a
	// terminal (tabwriter counts runes, so Chinese text would push every column after it).
	widths := make([]int, len(t.cols))
	for i, c := range t.cols {
		widths[i] = runewidth.StringWidth(c)
	}
	for _, r := range t.rows {
		for i, v := range r {
			widths[i] = max(widths[i], runewidth.StringWidth(v))
		}
	}
	bw := bufio.NewWriter(t.w)
	line := func(cells []string) {
		for i, c := range cells {
			if i > 0 {
				bw.WriteString("  ")
			}
			bw.WriteString(c)
			if i < len(cells)-1 {
				bw.WriteString(strings.Repeat(" ", widths[i]-runewidth.StringWidth(c)))
			}
		}
		bw.WriteByte('\n')
	}
	if len(t.cols) > 0 {
		line(t.cols)
		dash := make([]string, len(t.cols))
		for i := range t.cols {
			dash[i] = strings.Repeat("-", widths[i])
		}
		line(dash)
	}
	for _, r := range t.rows {
		line(r)
	}
	if len(t.rows) == 1 {
		bw.WriteString("(1 row)\n")
	} else {
		fmt.Fprintf(bw, "(%d rows)\n", len(t.rows))
	}
	return bw.Flush()
}

type csvWriter struct{ w *csv.Writer }

func (c *csvWriter) header(cols []string) error { return c.w.Write(cols) }
func (c *csvWriter) row(vals []any) error {
	r := make([]string, len(vals))
	for i, v := range vals {
		r[i] = csvcell.Neutralize(text(v)) // a chat user's "=HYPERLINK(…)" opens as text in a spreadsheet
	}
	return c.w.Write(r)
}
func (c *csvWriter) close() error { c.w.Flush(); return c.w.Error() }

type jsonWriter struct {
	enc  *json.Encoder
	cols []string
}

func (j *jsonWriter) header(cols []string) error { j.cols = cols; return nil }
func (j *jsonWriter) row(vals []any) error {
	// An ordered object: columns in the query's order.
	var b strings.Builder
	b.WriteByte('{')
	for i, c := range j.cols {
		if i > 0 {
			b.WriteByte(',')
		}
		k, _ := json.Marshal(c)
		b.Write(k)
		b.WriteByte(':')
		v, err := json.Marshal(vals[i])
		if err != nil {
			return fmt.Errorf("encode column %s: %w", c, err)
		}
		b.Write(v)
	}
	b.WriteByte('}')
	return j.enc.Encode(json.RawMessage(b.String()))
}
func (j *jsonWriter) close() error { return nil }
