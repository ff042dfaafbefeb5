package export_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/imarchive/imarchive/compliance/audit"
	"github.com/imarchive/imarchive/compliance/export"
	"github.com/imarchive/imarchive/internal/testenv/archivetest"
)

var wide = export.Selection{From: archivetest.T0.Add(-24 * time.Hour), To: archivetest.T0.Add(24 * time.Hour)}

func run(t *testing.T, conn driver.Conn, sel export.Selection, format string) (string, export.Result, string) {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "export")
	var progress bytes.Buffer
	res, err := export.Export(context.Background(), conn, export.Config{Dir: dir, Format: format, Selection: sel,
		Tool: "imarchive test", Now: archivetest.T0.Add(48 * time.Hour), Progress: &progress})
	if err != nil {
		t.Fatal(err)
	}
	return dir, res, progress.String()
}

func rowsOf(t *testing.T, m export.Manifest) map[string]int {
	out := map[string]int{}
	for _, f := range m.Files {
		out[f.View] = f.Rows
	}
	return out
}

// readJSONL reads a JSON-lines data file.
func readJSONL(t *testing.T, path string) []map[string]any {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var out []map[string]any
	for _, line := range strings.Split(strings.TrimSuffix(string(b), "\n"), "\n") {
		if line == "" {
			continue
		}
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		out = append(out, m)
	}
	return out
}

// TestExportRoundTrip exports one account's history in both formats: the files hold the expected
// rows and raw payloads, the manifest says so, Verify and sha256sum accept the export.
func TestExportRoundTrip(t *testing.T) {
	_, conn := archivetest.Migrated(t)
	seeded := archivetest.Seed(t, conn)
	sel := wide
	sel.App, sel.Account = archivetest.NeteaseApp, "alice"
	for _, format := range []string{export.FormatJSONL, export.FormatCSV} {
		t.Run(format, func(t *testing.T) {
			dir, res, progress := run(t, conn, sel, format)
			m := res.Manifest
			wantRows := map[string]int{"messages": 2, "message_updates": 2, "notifications": 1, "presence_events": 2,
				"community_events": 9, "quick_comments": 1, "raw_callbacks": 18}
			if got := rowsOf(t, m); !reflect.DeepEqual(got, wantRows) {
				t.Errorf("rows per file %v, want %v", got, wantRows)
			}
			if m.TimeSpan.First != archivetest.T0.Add(-time.Hour).Format("2006-01-02 15:04:05.000") ||
				m.TimeSpan.Last != archivetest.T0.Add(10*time.Minute).Format("2006-01-02 15:04:05.000") {
				t.Errorf("time span %+v", m.TimeSpan)
			}
			if len(m.EventsWithoutRaw) != 0 || len(m.ChainHeads) != archivetest.Partitions {
				t.Errorf("events without raw %v, %d chain heads", m.EventsWithoutRaw, len(m.ChainHeads))
			}
			if m.Selection.Account != "alice" || m.Selection.From != "2026-02-28 10:00:00.000" || m.Format != format {
				t.Errorf("manifest selection %+v format %s", m.Selection, m.Format)
			}
			// Every raw payload is the body as sent, hashed.
			for _, p := range m.RawPayloads {
				e, ok := seeded.EventByID(p.EventID)
				if !ok {
					t.Fatalf("payload of unknown event %s", p.EventID)
				}
				if p.SHA256 != audit.PayloadDigest(archivetest.Body(e)) || len(p.ChainHash) != 64 {
					t.Errorf("payload %s: sha %s chain %q", p.EventID, p.SHA256, p.ChainHash)
				}
			}
			if !strings.Contains(progress, "messages."+format+": 2 events selected") || !strings.Contains(progress, "export done: 17 events, 18 raw payloads") {
				t.Errorf("progress output:\n%s", progress)
			}
			rep, err := export.Verify(dir, res.ManifestSHA256)
			if err != nil {
				t.Fatal(err)
			}
			if !rep.OK() || rep.Payloads != 18 || rep.Chained != 18 || rep.Files != 7 {
				t.Fatalf("verify: %d files, %d payloads, %d chained, problems %v", rep.Files, rep.Payloads, rep.Chained, rep.Problems)
			}
			if sha, err := exec.LookPath("sha256sum"); err == nil {
				cmd := exec.Command(sha, "--check", "--strict", export.SumsName)
				cmd.Dir = dir
				if out, err := cmd.CombinedOutput(); err != nil {
					t.Errorf("sha256sum --check: %v\n%s", err, out)
				}
			} else {
				t.Log("sha256sum not installed: the standard-tool check of SHA256SUMS was not run")
			}
		})
	}

	// The values: alice's edited message as it reads now and as sent; her raw payload decodes to the
	// bytes she sent.
	dir, _, _ := run(t, conn, sel, export.FormatJSONL)
	msgs := readJSONL(t, filepath.Join(dir, "messages.jsonl"))
	if len(msgs) != 2 || msgs[0]["event_id"] != archivetest.M1 || msgs[0]["body"] != "Hello 世界 team (edited: 加油)" ||
		msgs[0]["original_body"] != "Hello 世界 team" || msgs[0]["status"] != "updated" || msgs[1]["status"] != "recalled" {
		t.Errorf("messages.jsonl: %v", msgs)
	}
	if attrs, ok := msgs[0]["attrs"].(map[string]any); !ok || attrs["msgIdServer"] != "1001" {
		t.Errorf("attrs are not kept as an object: %v", msgs[0]["attrs"])
	}
	m1, _ := seeded.EventByID(archivetest.M1)
	for _, r := range readJSONL(t, filepath.Join(dir, "raw_callbacks.jsonl")) {
		if r["event_id"] != archivetest.M1 {
			continue
		}
		body, err := base64.StdEncoding.DecodeString(r["body_base64"].(string))
		if err != nil || !bytes.Equal(body, archivetest.Body(m1)) {
			t.Errorf("M1's raw body %q, want %q", body, archivetest.Body(m1))
		}
	}
}

// TestExportSelections: a channel, a group, a time window.
func TestExportSelections(t *testing.T) {
	_, conn := archivetest.Migrated(t)
	archivetest.Seed(t, conn)
	for _, tc := range []struct {
		name string
		sel  func(s *export.Selection)
		want []string
	}{
		{"channel c2", func(s *export.Selection) { s.App, s.ChannelID = archivetest.NeteaseApp, archivetest.C2 }, []string{archivetest.M5, archivetest.U3}},
		{"group g1", func(s *export.Selection) { s.App, s.GroupID = archivetest.ILinkApp, archivetest.G1 }, []string{archivetest.I1, archivetest.I2}},
		{"account u1 in group g1", func(s *export.Selection) { s.Account, s.GroupID = "u1", archivetest.G1 }, []string{archivetest.I1}},
		{"server s1 between 5 and 8 minutes", func(s *export.Selection) {
			s.ServerID, s.From, s.To = archivetest.S1, archivetest.T0.Add(5*time.Minute), archivetest.T0.Add(8*time.Minute)
		}, []string{archivetest.M5, archivetest.U1, archivetest.U3}},
		{"every app, 10 minutes after T0 only", func(s *export.Selection) {
			s.From, s.To = archivetest.T0.Add(10*time.Minute), archivetest.T0.Add(11*time.Minute)
		}, []string{archivetest.P2}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sel := wide
			tc.sel(&sel)
			dir, res, _ := run(t, conn, sel, export.FormatJSONL)
			var got []string
			for _, f := range res.Manifest.Files {
				if f.View == "raw_callbacks" {
					continue
				}
				for _, r := range readJSONL(t, filepath.Join(dir, f.Name)) {
					got = append(got, r["event_id"].(string))
				}
			}
			// The same selection as CSV: the same rows per file, empty files with their header.
			csvDir, csvRes, _ := run(t, conn, sel, export.FormatCSV)
			for i, f := range csvRes.Manifest.Files {
				if f.Rows != res.Manifest.Files[i].Rows {
					t.Errorf("%s: %d rows as CSV, %d as JSON lines", f.Name, f.Rows, res.Manifest.Files[i].Rows)
				}
				b, _ := os.ReadFile(filepath.Join(csvDir, f.Name))
				if !strings.HasPrefix(string(b), "event_id,") && !strings.HasPrefix(string(b), "raw_partition,") {
					t.Errorf("%s starts with %.40q, want its header", f.Name, b)
				}
			}
			if rep, err := export.Verify(csvDir, csvRes.ManifestSHA256); err != nil || !rep.OK() {
				t.Errorf("verify CSV: %v %v", err, rep.Problems)
			}
			sort.Strings(got)
			want := append([]string{}, tc.want...)
			sort.Strings(want)
			if !reflect.DeepEqual(got, want) {
				t.Errorf("exported %v, want %v", got, want)
			}
			if len(res.Manifest.RawPayloads) != len(want) {
				t.Errorf("%d raw payloads for %d events", len(res.Manifest.RawPayloads), len(want))
			}
			if rep, err := export.Verify(dir, ""); err != nil || !rep.OK() {
				t.Errorf("verify: %v %v", err, rep.Problems)
			}
		})
	}
}

// TestExportVerifyFindsTampering: changed, truncated, added and removed files, a rewritten raw payload
// whose file hashes were fixed up, and a replaced manifest are all found.
func TestExportVerifyFindsTampering(t *testing.T) {
	_, conn := archivetest.Migrated(t)
	archivetest.Seed(t, conn)
	sel := wide
	sel.App = archivetest.NeteaseApp
	master, res, _ := run(t, conn, sel, export.FormatJSONL)
	if rep, err := export.Verify(master, res.ManifestSHA256); err != nil || !rep.OK() {
		t.Fatalf("untouched export: %v %v", err, rep.Problems)
	}
	copyDir := func(t *testing.T) string {
		dst := filepath.Join(t.TempDir(), "copy")
		if err := os.CopyFS(dst, os.DirFS(master)); err != nil {
			t.Fatal(err)
		}
		return dst
	}
	edit := func(t *testing.T, path string, fn func(string) string) {
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(fn(string(b))), 0o640); err != nil {
			t.Fatal(err)
		}
	}
	// fixHashes rewrites the manifest's and SHA256SUMS' hashes of every file, as a forger would.
	fixHashes := func(t *testing.T, dir string) {
		var m export.Manifest
		b, _ := os.ReadFile(filepath.Join(dir, export.ManifestName))
		if err := json.Unmarshal(b, &m); err != nil {
			t.Fatal(err)
		}
		var sums strings.Builder
		for i, f := range m.Files {
			data, _ := os.ReadFile(filepath.Join(dir, f.Name))
			sum := sha256.Sum256(data)
			m.Files[i].SHA256, m.Files[i].Bytes = hex.EncodeToString(sum[:]), int64(len(data))
			m.Files[i].Rows = strings.Count(string(data), "\n")
			sums.WriteString(m.Files[i].SHA256 + "  " + f.Name + "\n")
		}
		mb, _ := json.MarshalIndent(m, "", "  ")
		mb = append(mb, '\n')
		os.WriteFile(filepath.Join(dir, export.ManifestName), mb, 0o640)
		msum := sha256.Sum256(mb)
		sums.WriteString(hex.EncodeToString(msum[:]) + "  " + export.ManifestName + "\n")
		os.WriteFile(filepath.Join(dir, export.SumsName), []byte(sums.String()), 0o640)
	}
	for _, tc := range []struct {
		name   string
		tamper func(t *testing.T, dir string)
		want   []string // substrings of the problems
	}{
		{"a message edited", func(t *testing.T, dir string) {
			edit(t, filepath.Join(dir, "messages.jsonl"), func(s string) string { return strings.Replace(s, "budget numbers FINAL", "budget numbers final", 1) })
		}, []string{"messages.jsonl: SHA-256 is", "the file was changed"}},
		{"a row removed", func(t *testing.T, dir string) {
			edit(t, filepath.Join(dir, "presence_events.jsonl"), func(s string) string { return s[strings.Index(s, "\n")+1:] })
		}, []string{"presence_events.jsonl: SHA-256 is", "presence_events.jsonl: 1 rows, the manifest says 2"}},
		{"truncated", func(t *testing.T, dir string) {
			edit(t, filepath.Join(dir, "community_events.jsonl"), func(s string) string { return s[:len(s)-10] })
		}, []string{"community_events.jsonl: SHA-256 is", "truncated"}},
		{"a file added", func(t *testing.T, dir string) {
			os.WriteFile(filepath.Join(dir, "notes.txt"), []byte("x"), 0o640)
		}, []string{"notes.txt: not listed in the manifest"}},
		{"a file removed", func(t *testing.T, dir string) {
			os.Remove(filepath.Join(dir, "quick_comments.jsonl"))
		}, []string{"quick_comments.jsonl: open"}},
		{"a raw payload rewritten and every file hash fixed up", func(t *testing.T, dir string) {
			edit(t, filepath.Join(dir, "raw_callbacks.jsonl"), func(s string) string {
				lines := strings.Split(s, "\n")
				var r map[string]any
				json.Unmarshal([]byte(lines[0]), &r)
				body := []byte(`{"body":"something else"}`)
				sum := sha256.Sum256(body)
				r["body_base64"], r["body_sha256"], r["body"] = base64.StdEncoding.EncodeToString(body), hex.EncodeToString(sum[:]), string(body)
				b, _ := json.Marshal(r)
				lines[0] = string(b)
				return strings.Join(lines, "\n")
			})
			fixHashes(t, dir)
		}, []string{"payload and headers give chain hash", "the export was issued with"}},
		{"a manifest entry that leads out of the export", func(t *testing.T, dir string) {
			// The manifest names ../outside.jsonl instead of messages.jsonl: Verify must not follow it.
			os.Rename(filepath.Join(dir, "messages.jsonl"), filepath.Join(dir, "..", "outside.jsonl"))
			edit(t, filepath.Join(dir, export.ManifestName), func(s string) string {
				return strings.Replace(s, `"messages.jsonl"`, `"../outside.jsonl"`, 1)
			})
			fixHashes(t, dir)
		}, []string{`"../outside.jsonl": not a file name of the export`}},
		{"a message removed and the manifest rewritten", func(t *testing.T, dir string) {
			edit(t, filepath.Join(dir, "messages.jsonl"), func(s string) string { return s[strings.Index(s, "\n")+1:] })
			fixHashes(t, dir)
		}, []string{"manifest.json: SHA-256 is", "the manifest was replaced", "which no data file holds"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := copyDir(t)
			tc.tamper(t, dir)
			rep, err := export.Verify(dir, res.ManifestSHA256)
			if err != nil {
				t.Fatal(err)
			}
			all := strings.Join(rep.Problems, "\n")
			for _, w := range tc.want {
				if !strings.Contains(all, w) {
					t.Errorf("problems do not say %q:\n%s", w, all)
				}
			}
			if rep.OK() {
				t.Error("tampered export verified")
			}
		})
	}
	if _, err := export.Verify(t.TempDir(), ""); !errors.Is(err, export.ErrNoManifest) {
		t.Errorf("an empty directory: want ErrNoManifest, got %v", err)
	}
	// An export never writes into a directory that holds files.
	_, err := export.Export(context.Background(), conn, export.Config{Dir: master, Format: export.FormatJSONL, Selection: sel, Now: time.Now()})
	if !errors.Is(err, export.ErrNotEmpty) {
		t.Errorf("export into a full directory: want ErrNotEmpty, got %v", err)
	}
}
