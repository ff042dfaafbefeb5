package export

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/imarchive/imarchive/internal/csvcell"
)

func TestEachRow(t *testing.T) {
	dir := t.TempDir()
	jsonl := filepath.Join(dir, "a.jsonl")
	os.WriteFile(jsonl, []byte(`{"event_id":"e1","n":3,"attrs":{"k":"v"},"ok":true}`+"\n"+`{"event_id":"e2","n":4,"attrs":{},"ok":false}`+"\n"), 0o600)
	csvPath := filepath.Join(dir, "a.csv")
	os.WriteFile(csvPath, []byte("event_id,n,attrs,ok\ne1,3,\"{\"\"k\"\":\"\"v\"\"}\",true\ne2,4,{},false\n"), 0o600)
	for path, format := range map[string]string{jsonl: FormatJSONL, csvPath: FormatCSV} {
		var got []string
		n, err := eachRow(path, format, "", func(_ int, row map[string]string) error {
			got = append(got, row["event_id"]+" "+row["n"]+" "+row["attrs"]+" "+row["ok"])
			return nil
		})
		if err != nil || n != 2 {
			t.Fatalf("%s: %d rows, %v", format, n, err)
		}
		if want := `e1 3 {"k":"v"} true|e2 4 {} false`; strings.Join(got, "|") != want {
			t.Errorf("%s: %q, want %q", format, strings.Join(got, "|"), want)
		}
	}
}

// FuzzEachRow: the readers of export files, which an auditor may receive from anywhere, never panic
// and never report more rows than lines.
func FuzzEachRow(f *testing.F) {
	for _, s := range []string{"", "{}\n", `{"a":"b"}` + "\n", "a,b\n1,2\n", "a\n\"unterminated\n", "{\n", "\x00\xff\n"} {
		f.Add([]byte(s))
	}
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, data []byte) {
		path := filepath.Join(dir, "f")
		if err := os.WriteFile(path, data, 0o600); err != nil {
			t.Fatal(err)
		}
		for _, format := range []string{FormatJSONL, FormatCSV} {
			n, _ := eachRow(path, format, csvcell.Rule, func(int, map[string]string) error { return nil })
			if lines := bytes.Count(data, []byte("\n")) + 1; n > lines {
				t.Fatalf("%s: %d rows from %d lines", format, n, lines)
			}
		}
	})
}
