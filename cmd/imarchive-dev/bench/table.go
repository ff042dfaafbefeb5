package bench

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"strings"
	"text/tabwriter"
	"time"
)

// Row is one line of the table. Latencies are in milliseconds; NaN means not applicable.
type Row struct {
	Area    string  `json:"area"`
	Name    string  `json:"name"`
	Value   float64 `json:"value"`
	Unit    string  `json:"unit"`
	P50     float64 `json:"p50_ms"`
	P99     float64 `json:"p99_ms"`
	P999    float64 `json:"p999_ms"`
	Compare string  `json:"compare,omitempty"` // ratios to ceilings, peers or aims
	Note    string  `json:"note,omitempty"`
	Err     string  `json:"error,omitempty"`   // why it could not be measured
	Skipped bool    `json:"skipped,omitempty"` // Err says why it was left out on purpose
}

// Machine describes where the run happened.
type Machine struct {
	CPU        string    `json:"cpu"`
	Cores      int       `json:"cores"`
	GOOS       string    `json:"goos"`
	GOARCH     string    `json:"goarch"`
	GoVersion  string    `json:"go_version"`
	Kafka      string    `json:"kafka"`
	ClickHouse string    `json:"clickhouse"`
	LoadBefore string    `json:"load_before"` // /proc/loadavg at the start
	LoadAfter  string    `json:"load_after"`
	Started    time.Time `json:"started"`
	Elapsed    string    `json:"elapsed"`
}

// Report is a run's table.
type Report struct {
	Machine Machine `json:"machine"`
	Rows    []Row   `json:"rows"`
}

// MarshalJSON writes a latency that does not apply (NaN) as null.
func (r Row) MarshalJSON() ([]byte, error) {
	type plain Row
	opt := func(v float64) *float64 {
		if math.IsNaN(v) {
			return nil
		}
		return &v
	}
	return json.Marshal(struct {
		plain
		P50  *float64 `json:"p50_ms"`
		P99  *float64 `json:"p99_ms"`
		P999 *float64 `json:"p999_ms"`
	}{plain(r), opt(r.P50), opt(r.P99), opt(r.P999)})
}

// Failures are the rows that should have been measured and were not.
func (rep *Report) Failures() []Row {
	var out []Row
	for _, r := range rep.Rows {
		if r.Err != "" && !r.Skipped {
			out = append(out, r)
		}
	}
	return out
}

func noLatency(r Row) Row {
	r.P50, r.P99, r.P999 = math.NaN(), math.NaN(), math.NaN()
	return r
}

func ms(v float64) string {
	switch {
	case math.IsNaN(v):
		return "-"
	case v >= 100:
		return fmt.Sprintf("%.0f", v)
	case v >= 10:
		return fmt.Sprintf("%.1f", v)
	}
	return fmt.Sprintf("%.2f", v)
}

func value(v float64, unit string) string {
	switch {
	case math.IsNaN(v):
		return "-"
	case v >= 100 || v == math.Trunc(v):
		return fmt.Sprintf("%.0f %s", v, unit)
	case v >= 10:
		return fmt.Sprintf("%.1f %s", v, unit)
	}
	return fmt.Sprintf("%.2f %s", v, unit)
}

var columns = []string{"area", "measurement", "result", "p50 ms", "p99 ms", "p99.9 ms", "compared", "notes"}

func (r Row) cells() []string {
	if r.Err != "" {
		return []string{r.Area, r.Name, "not measured", "-", "-", "-", "", r.Err}
	}
	return []string{r.Area, r.Name, value(r.Value, r.Unit), ms(r.P50), ms(r.P99), ms(r.P999), r.Compare, r.Note}
}

func (m Machine) lines() []string {
	return []string{
		fmt.Sprintf("machine: %s, %d cores, %s/%s, %s", m.CPU, m.Cores, m.GOOS, m.GOARCH, m.GoVersion),
		fmt.Sprintf("kafka: %s; clickhouse: %s", m.Kafka, m.ClickHouse),
		fmt.Sprintf("load average (1, 5, 15 min): %s at the start, %s at the end; started %s, took %s",
			m.LoadBefore, m.LoadAfter, m.Started.UTC().Format(time.RFC3339), m.Elapsed),
	}
}

// WriteText prints the table with aligned columns.
func (rep *Report) WriteText(w io.Writer) error {
	for _, l := range rep.Machine.lines() {
		fmt.Fprintln(w, l)
	}
	fmt.Fprintln(w)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, strings.Join(columns, "\t"))
	for _, r := range rep.Rows {
		fmt.Fprintln(tw, strings.Join(r.cells(), "\t"))
	}
	return tw.Flush()
}

// WriteMarkdown prints the table as a Markdown table, for BENCHMARKS.md.
func (rep *Report) WriteMarkdown(w io.Writer) error {
	for _, l := range rep.Machine.lines() {
		fmt.Fprintf(w, "%s  \n", l)
	}
	fmt.Fprintln(w)
	fmt.Fprintf(w, "| %s |\n", strings.Join(columns, " | "))
	fmt.Fprintf(w, "|%s\n", strings.Repeat("---|", len(columns)))
	for _, r := range rep.Rows {
		cs := r.cells()
		for i, c := range cs {
			cs[i] = strings.ReplaceAll(c, "|", `\|`)
		}
		_, err := fmt.Fprintf(w, "| %s |\n", strings.Join(cs, " | "))
		if err != nil {
			return err
		}
	}
	return nil
}
