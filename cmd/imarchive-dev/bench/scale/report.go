package scale

import (
	"fmt"
	"io"
	"os"
	"runtime"
	"strings"
	"text/tabwriter"
	"time"
)

// machine is the CPU model, its count and the memory, as /proc says.
func machine() string {
	model, mem := "unknown CPU", ""
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, l := range strings.Split(string(b), "\n") {
			if k, v, ok := strings.Cut(l, ":"); ok && strings.TrimSpace(k) == "model name" {
				model = strings.TrimSpace(v)
				break
			}
		}
	}
	if b, err := os.ReadFile("/proc/meminfo"); err == nil {
		var kb int64
		if _, err := fmt.Sscanf(string(b), "MemTotal: %d kB", &kb); err == nil {
			mem = fmt.Sprintf(", %d GB", (kb+512*1024)/(1024*1024))
		}
	}
	return fmt.Sprintf("%s, %d cores%s, %s/%s", model, runtime.NumCPU(), mem, runtime.GOOS, runtime.GOARCH)
}

func ms(d time.Duration) string {
	switch {
	case d >= 10*time.Second:
		return fmt.Sprintf("%.1f s", d.Seconds())
	case d >= time.Second:
		return fmt.Sprintf("%.2f s", d.Seconds())
	}
	return fmt.Sprintf("%d ms", d.Milliseconds())
}

// Budget is the time a case should take: 2 s over 90 days, 1 s otherwise (issue 21's aim).
func (c Case) Budget() time.Duration {
	if c.Range > 7*24*time.Hour {
		return 2 * time.Second
	}
	return time.Second
}

// cells returns the header and the rows of the table.
func (r *Report) cells() ([]string, [][]string) {
	head := []string{"query or panel", "range"}
	for _, n := range r.Scales {
		head = append(head, FormatCount(n))
	}
	if len(r.Scales) > 1 {
		head = append(head, fmt.Sprintf("× from %s", FormatCount(r.Scales[0])))
	}
	head = append(head, fmt.Sprintf("rows at %s", FormatCount(r.Scales[len(r.Scales)-1])))
	var rows [][]string
	for _, res := range r.Results {
		row := []string{res.Case.Name, rangeName(res.Case.Range)}
		for _, n := range r.Scales {
			t, ok := res.Timing[n]
			switch {
			case !ok:
				row = append(row, "")
			case t.Err != "":
				row = append(row, "error: "+clip(t.Err, 120))
			default:
				cell := ms(t.Median)
				if t.Median > res.Case.Budget() {
					cell = "**" + cell + "**"
				}
				row = append(row, cell)
			}
		}
		if len(r.Scales) > 1 {
			first, last := res.Timing[r.Scales[0]], res.Timing[r.Scales[len(r.Scales)-1]]
			g := ""
			if first.Err == "" && last.Err == "" && first.Median > 0 && last.Median > 0 {
				g = fmt.Sprintf("%.1f×", last.Median.Seconds()/first.Median.Seconds())
			}
			row = append(row, g)
		}
		last := res.Timing[r.Scales[len(r.Scales)-1]]
		row = append(row, fmt.Sprint(last.Rows))
		rows = append(rows, row)
	}
	return head, rows
}

// Over counts the cases over their budget at a scale, and the worst of them.
func (r *Report) Over(n int64) (timed, over int, worst Result) {
	for _, res := range r.Results {
		t, ok := res.Timing[n]
		if !ok {
			continue
		}
		timed++
		if t.Err != "" || t.Median > res.Case.Budget() {
			over++
		}
		if w, ok := worst.Timing[n]; !ok || t.Median > w.Median {
			worst = res
		}
	}
	return timed, over, worst
}

func clip(s string, n int) string {
	s = strings.Join(strings.Fields(s), " ")
	if len(s) > n {
		return s[:n] + "…"
	}
	return s
}

func (r *Report) summary(w io.Writer, md bool) {
	nl := "\n"
	if md {
		nl = "  \n"
	}
	fmt.Fprintf(w, "machine: %s%s", r.Machine, nl)
	fmt.Fprintf(w, "engine: %s%s", r.Engine, nl)
	fmt.Fprintf(w, "load average (1, 5, 15 min): %s at the start, %s at the end; took %s%s", r.LoadAvg[0], r.LoadAvg[1], r.Took, nl)
	for _, n := range r.Scales {
		timed, over, worst := r.Over(n)
		fmt.Fprintf(w, "%s messages: generated in %s; %d timed, %d over budget (1 s, 2 s for 90 days)", FormatCount(n), r.Generate[n], timed, over)
		if t, ok := worst.Timing[n]; ok {
			fmt.Fprintf(w, "; worst %s %s: %s", worst.Case.Name, rangeName(worst.Case.Range), ms(t.Median))
		}
		fmt.Fprint(w, nl)
	}
}

// WriteText writes the report as aligned columns.
func (r *Report) WriteText(w io.Writer) error {
	r.summary(w, false)
	fmt.Fprintln(w)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	head, rows := r.cells()
	fmt.Fprintln(tw, strings.Join(head, "\t"))
	for _, row := range rows {
		fmt.Fprintln(tw, strings.ReplaceAll(strings.Join(row, "\t"), "**", ""))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintln(w)
	return r.writeStorage(w, false)
}

// WriteMarkdown writes the report as Markdown tables; cases over budget are bold.
func (r *Report) WriteMarkdown(w io.Writer) error {
	r.summary(w, true)
	fmt.Fprintln(w)
	head, rows := r.cells()
	fmt.Fprintf(w, "| %s |\n|%s\n", strings.Join(head, " | "), strings.Repeat("---|", len(head)))
	for _, row := range rows {
		fmt.Fprintf(w, "| %s |\n", strings.Join(row, " | "))
	}
	fmt.Fprintln(w)
	return r.writeStorage(w, true)
}

func (r *Report) writeStorage(w io.Writer, md bool) error {
	for _, n := range r.Scales {
		st := r.Storage[n]
		if len(st) == 0 {
			continue
		}
		if md {
			fmt.Fprintf(w, "Storage at %s messages:\n\n| table | rows | on disk | bytes/row | parts |\n|---|---|---|---|---|\n", FormatCount(n))
		} else {
			fmt.Fprintf(w, "storage at %s messages:\n", FormatCount(n))
		}
		for _, s := range st {
			if s.Rows == 0 {
				continue
			}
			line := []string{s.Table, fmt.Sprint(s.Rows), fmt.Sprintf("%.1f MiB", float64(s.Bytes)/(1<<20)),
				fmt.Sprintf("%.0f", float64(s.Bytes)/float64(s.Rows)), fmt.Sprint(s.Parts)}
			if md {
				fmt.Fprintf(w, "| %s |\n", strings.Join(line, " | "))
			} else {
				fmt.Fprintf(w, "  %s\n", strings.Join(line, "  "))
			}
		}
		fmt.Fprintln(w)
	}
	return nil
}
