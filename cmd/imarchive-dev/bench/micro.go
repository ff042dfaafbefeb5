package bench

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// microBenchmarks are the go test benchmarks the table reports, by package, with what each measures.
// Their names are anchored so that no other benchmark of the package runs.
var microBenchmarks = []struct {
	pkg, pattern string
	rows         []microRow
}{
	{"./ingest", "^BenchmarkHotPath$|^BenchmarkDedupeWindowMemory$", []microRow{
		{"BenchmarkHotPath/decode", areaHotPath, "decode: a NetEase 48 body into its fields"},
		{"BenchmarkHotPath/verify", areaHotPath, "verify: MD5 of the body, CheckSum, CurTime"},
		{"BenchmarkHotPath/normalize", areaHotPath, "normalize: decode + canonical event + event_id"},
		{"BenchmarkHotPath/encode", areaHotPath, "encode: the event's JSON and Kafka key"},
		{"BenchmarkHotPath/raw_record", areaHotPath, "raw record: body and headers as received"},
		{"BenchmarkHotPath/dedupe", areaHotPath, "dedupe: check and remember an event_id, window full"},
		{"BenchmarkDedupeWindowMemory", areaMemory, "dedupe window: memory of 100k remembered event_ids"},
	}},
	{"./pipeline", "^BenchmarkBatchBuild$", []microRow{
		{"BenchmarkBatchBuild/decode_and_row", areaHotPath, "consumer: decode an event record and build its row"},
		{"BenchmarkBatchBuild/token", areaHotPath, "consumer: deduplication token of a 5000-record batch"},
	}},
}

type microRow struct{ bench, area, name string }

// benchResult is one result line of go test -bench: the name without its -GOMAXPROCS suffix, the
// iterations, and each metric by unit.
type benchResult struct {
	name    string
	n       int64
	metrics map[string]float64
}

var procSuffix = regexp.MustCompile(`-\d+$`)

// parseBench reads go test -bench output.
func parseBench(out []byte) []benchResult {
	var res []benchResult
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) < 4 || !strings.HasPrefix(f[0], "Benchmark") || len(f)%2 != 0 {
			continue
		}
		n, err := strconv.ParseInt(f[1], 10, 64)
		if err != nil {
			continue
		}
		r := benchResult{name: procSuffix.ReplaceAllString(f[0], ""), n: n, metrics: map[string]float64{}}
		ok := true
		for i := 2; i+1 < len(f); i += 2 {
			v, err := strconv.ParseFloat(f[i], 64)
			if err != nil {
				ok = false
				break
			}
			r.metrics[f[i+1]] = v
		}
		if ok {
			res = append(res, r)
		}
	}
	return res
}

// microRowFor turns a result into its table row.
func microRowFor(m microRow, r benchResult) Row {
	row := noLatency(Row{Area: m.area, Name: m.name})
	if r.name == "BenchmarkDedupeWindowMemory" {
		row.Value, row.Unit = r.metrics["MiB/100k"], "MiB"
		row.Note = fmt.Sprintf("%.0f B per entry (heap after GC, 100k entries)", r.metrics["B/entry"])
		return row
	}
	row.Value, row.Unit = r.metrics["ns/op"], "ns/op"
	if v, ok := r.metrics["ns/record"]; ok {
		row.Value, row.Unit = v, "ns/record"
	}
	row.Note = fmt.Sprintf("%.0f B/op, %.0f allocs/op", r.metrics["B/op"], r.metrics["allocs/op"])
	if v, ok := r.metrics["allocs/record"]; ok {
		row.Note = fmt.Sprintf("%.0f B/record, %.1f allocs/record", r.metrics["B/record"], v)
	}
	return row
}

// microPhase runs the go test benchmarks from the source tree and adds their rows.
func (b *run) microPhase(ctx context.Context) error {
	var all []microRow
	for _, mb := range microBenchmarks {
		all = append(all, mb.rows...)
	}
	skip := func(reason string) error {
		for _, m := range all {
			b.add(failed(m.area, m.name, errors.New(reason))).Skipped = true
		}
		return nil
	}
	if !b.cfg.Micro {
		return skip("not run (--micro=false)")
	}
	if b.src == "" {
		return skip("not run: needs the source tree (make bench)")
	}
	goCmd, err := exec.LookPath("go")
	if err != nil {
		return skip("not run: the go command is not on PATH")
	}
	var errs []error
	for _, mb := range microBenchmarks {
		cctx, cancel := context.WithTimeout(ctx, 5*time.Minute)
		cmd := exec.CommandContext(cctx, goCmd, "test", "-run", "^$", "-bench", mb.pattern, "-benchmem",
			"-benchtime", b.cfg.MicroTime, "-count", "1", mb.pkg)
		cmd.Dir = b.src
		out, err := cmd.CombinedOutput()
		cancel()
		results := map[string]benchResult{}
		for _, r := range parseBench(out) {
			results[r.name] = r
		}
		for _, m := range mb.rows {
			r, ok := results[m.bench]
			switch {
			case ok:
				b.add(microRowFor(m, r))
			case err != nil:
				b.add(failed(m.area, m.name, fmt.Errorf("go test %s: %w: %s", mb.pkg, err, tail(string(out), 300))))
			default:
				b.add(failed(m.area, m.name, fmt.Errorf("go test %s printed no result for %s", mb.pkg, m.bench)))
			}
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("go test %s: %w", mb.pkg, err))
		}
	}
	return errors.Join(errs...)
}
