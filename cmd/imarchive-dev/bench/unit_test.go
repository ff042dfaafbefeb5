package bench

import (
	"bytes"
	"errors"
	"flag"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/imarchive/imarchive/internal/loadgen"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (go test ./bench -run %s -update writes it)", err, t.Name())
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from what was printed:\n%s", path, got)
	}
}

func TestParseBench(t *testing.T) {
	out, err := os.ReadFile("testdata/gotest_bench.txt")
	if err != nil {
		t.Fatal(err)
	}
	res := parseBench(out)
	byName := map[string]benchResult{}
	for _, r := range res {
		byName[r.name] = r
	}
	if len(res) != 7 {
		t.Fatalf("parsed %d results, want the 7 result lines (not the log, the header or the broken line): %+v", len(res), res)
	}
	for name, want := range map[string]map[string]float64{
		"BenchmarkHotPath/decode":     {"ns/op": 39359, "MB/s": 12.02, "B/op": 5824, "allocs/op": 63},
		"BenchmarkHotPath/encode":     {"ns/op": 22543, "B/op": 2690, "allocs/op": 39},
		"BenchmarkDedupeWindowMemory": {"ns/op": 539008396, "B/entry": 195, "MiB/100k": 18.59, "B/op": 45909208, "allocs/op": 800437},
	} {
		r, ok := byName[name]
		if !ok {
			t.Errorf("%s not parsed", name)
			continue
		}
		for unit, v := range want {
			if r.metrics[unit] != v {
				t.Errorf("%s %s = %v, want %v", name, unit, r.metrics[unit], v)
			}
		}
	}
	mem := microRowFor(microRow{"BenchmarkDedupeWindowMemory", areaMemory, "dedupe"}, byName["BenchmarkDedupeWindowMemory"])
	if mem.Value != 18.59 || mem.Unit != "MiB" || !strings.Contains(mem.Note, "195 B per entry") {
		t.Errorf("memory row %+v", mem)
	}
	dec := microRowFor(microRow{"BenchmarkHotPath/decode", areaHotPath, "decode"}, byName["BenchmarkHotPath/decode"])
	if dec.Value != 39359 || dec.Unit != "ns/op" || dec.Note != "5824 B/op, 63 allocs/op" {
		t.Errorf("decode row %+v", dec)
	}
}

// TestMicroBenchmarksExist keeps the table's list in step with the benchmark functions it runs.
func TestMicroBenchmarksExist(t *testing.T) {
	for _, mb := range microBenchmarks {
		dir := filepath.Join("../../..", strings.TrimPrefix(mb.pkg, "./")) // the module root, from cmd/imarchive-dev/bench
		files, err := filepath.Glob(filepath.Join(dir, "*_test.go"))
		if err != nil {
			t.Fatal(err)
		}
		var src strings.Builder
		for _, f := range files {
			b, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			src.Write(b)
		}
		for _, r := range mb.rows {
			fn, sub, _ := strings.Cut(r.bench, "/")
			if !strings.Contains(src.String(), "func "+fn+"(b *testing.B)") {
				t.Errorf("%s: no func %s in %s", r.name, fn, dir)
			}
			if sub != "" && !strings.Contains(src.String(), `b.Run("`+sub+`"`) {
				t.Errorf("%s: no sub-benchmark %q in %s", r.name, sub, dir)
			}
		}
	}
}

func fixedReport() *Report {
	nan := math.NaN()
	return &Report{
		Machine: Machine{CPU: "Test CPU", Cores: 2, GOOS: "linux", GOARCH: "amd64", GoVersion: "go1.26",
			Kafka: "a broker", ClickHouse: "an engine", LoadBefore: "1.00, 2.00, 3.00", LoadAfter: "4.00, 5.00, 6.00",
			Started: time.Date(2026, 11, 22, 12, 0, 0, 0, time.UTC), Elapsed: "2m30s"},
		Rows: []Row{
			{Area: areaIngest, Name: nameBare, Value: 4310.4, Unit: "req/s", P50: 6.38, P99: 48.1, P999: 63.12},
			{Area: areaIngest, Name: nameIngest, Value: 1156, Unit: "callbacks/s", P50: 39.7, P99: 224.4, P999: 232, Compare: "0.27× bare | x"},
			{Area: areaConsumer, Name: nameEvents, Value: 16129, Unit: "events/s", P50: nan, P99: nan, P999: nan, Note: "20000 rows"},
			{Area: areaMemory, Name: "dedupe window", Value: 18.59, Unit: "MiB", P50: nan, P99: nan, P999: nan},
			failed(areaHotPath, "decode", errors.New("go test failed")),
		},
	}
}

func TestTable(t *testing.T) {
	var text, md bytes.Buffer
	if err := fixedReport().WriteText(&text); err != nil {
		t.Fatal(err)
	}
	golden(t, "table.txt", text.Bytes())
	if err := fixedReport().WriteMarkdown(&md); err != nil {
		t.Fatal(err)
	}
	golden(t, "table.md", md.Bytes())
	if f := fixedReport().Failures(); len(f) != 1 || f[0].Name != "decode" {
		t.Errorf("failures %+v, want the decode row", f)
	}
}

func TestRowJSON(t *testing.T) {
	b, err := fixedReport().Rows[2].MarshalJSON()
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`"p50_ms":null`, `"value":16129`, `"unit":"events/s"`} {
		if !strings.Contains(string(b), want) {
			t.Errorf("%s lacks %s", b, want)
		}
	}
}

func TestStampedLog(t *testing.T) {
	var buf bytes.Buffer
	w := &stampWriter{w: &buf}
	before := time.Now()
	rec := []byte(`{"kind":"netease_message","platform":"netease_qchat","app":"a","id":"m1","time_ms":5,"status":200}` + "\n")
	if n, err := w.Write(rec); err != nil || n != len(rec) {
		t.Fatalf("write: %d, %v", n, err)
	}
	at, got, err := parseStamped(bytes.TrimSuffix(buf.Bytes(), []byte("\n")))
	if err != nil {
		t.Fatal(err)
	}
	if at.Before(before) || at.After(time.Now()) {
		t.Errorf("stamp %s outside the write", at)
	}
	if (got != loadgen.AcceptedRecord{Kind: "netease_message", Platform: "netease_qchat", App: "a", ID: "m1", TimeMs: 5, Status: 200}) {
		t.Errorf("record %+v", got)
	}
	for _, bad := range []string{"", "notanumber {}", "12 {"} {
		if _, _, err := parseStamped([]byte(bad)); err == nil {
			t.Errorf("%q parsed", bad)
		}
	}
}

func TestConfigValidate(t *testing.T) {
	if err := DefaultConfig().Validate(); err != nil {
		t.Fatalf("defaults: %v", err)
	}
	c := DefaultConfig()
	c.Duration, c.Concurrency, c.Partitions, c.Scale, c.ConsumeRows, c.KafkaPort = 0, 0, 0, nil, 0, 70000
	err := c.Validate()
	if err == nil {
		t.Fatal("no error")
	}
	for _, want := range []string{"durations", "concurrency 0", "partitions 0", "scale: no steps", "consume rows 0", "kafka port 70000"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q lacks %q", err, want)
		}
	}
}

func TestScaleSteps(t *testing.T) {
	var got []string
	for _, s := range scaleSteps([]int{1, 2, 4}) {
		got = append(got, strings.Repeat("p", s.partitions)+"/"+strings.Repeat("w", s.workers))
	}
	want := "p/w pp/w pppp/w pppp/ww pppp/wwww"
	if strings.Join(got, " ") != want {
		t.Errorf("steps %v, want %s", got, want)
	}
}

func TestCheckLoad(t *testing.T) {
	ok := &loadgen.Report{Total: loadgen.Counts{Sent: 10, Accepted: 10}}
	if err := checkLoad(ok); err != nil {
		t.Errorf("all accepted: %v", err)
	}
	for _, bad := range []*loadgen.Report{
		{},
		{Total: loadgen.Counts{Sent: 10, Accepted: 9, Failed: 1}, Statuses: map[int]int{200: 9, 503: 1}},
	} {
		if err := checkLoad(bad); !errors.Is(err, errLoadFailed) {
			t.Errorf("%+v: %v", bad.Total, err)
		}
	}
}
