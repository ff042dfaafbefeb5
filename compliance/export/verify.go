package export

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/imarchive/imarchive/compliance/audit"
	"github.com/imarchive/imarchive/pipeline"
)

// VerifyReport is what Verify found. OK is true when there is no problem.
type VerifyReport struct {
	Manifest       Manifest
	ManifestSHA256 string
	Files          int // data files checked
	Rows           int // data rows read
	Payloads       int // raw payloads re-hashed
	Chained        int // raw payloads whose chain hash re-computed
	Problems       []string
}

// OK says whether the export is complete and unaltered.
func (r VerifyReport) OK() bool { return len(r.Problems) == 0 }

// ErrNoManifest is returned when DIR has no readable manifest (not an export, or an unfinished one).
var ErrNoManifest = errors.New("no export manifest")

// Verify re-checks the export in dir without a database (see the package documentation). When
// wantManifestSHA256 is given (the hash Export printed, kept apart from the export), the manifest
// must have it: only then is a manifest rewritten together with the files found. An error means the
// export could not be checked at all; what is wrong with it is in the report's Problems.
func Verify(dir, wantManifestSHA256 string) (VerifyReport, error) {
	v := &verifier{dir: dir, exported: map[string]bool{}, rawEvents: map[string]bool{}}
	if err := v.readManifest(); err != nil {
		return v.rep, err
	}
	m := v.rep.Manifest
	if want := strings.ToLower(strings.TrimSpace(wantManifestSHA256)); want != "" && want != v.rep.ManifestSHA256 {
		v.problem("%s: SHA-256 is %s, the export was issued with %s: the manifest was replaced", ManifestName, v.rep.ManifestSHA256, want)
	}
	if m.FormatVersion != ManifestVersion {
		v.problem("manifest format_version %d: this build reads %d", m.FormatVersion, ManifestVersion)
		return v.rep, nil
	}
	if m.Format != FormatJSONL && m.Format != FormatCSV {
		v.problem("manifest format %q: unknown", m.Format)
		return v.rep, nil
	}
	v.checkSums()
	if err := v.checkListing(); err != nil {
		return v.rep, err
	}
	for _, f := range m.Files {
		v.checkFile(f)
	}
	if !v.sawRaw {
		v.problem("the manifest lists no %s file", fileName(rawView, m.Format))
	}
	v.checkRawCoverage()
	return v.rep, nil
}

// verifier is one run of Verify: the report, and the event_ids seen in the data files and the raw file.
type verifier struct {
	dir       string
	rep       VerifyReport
	exported  map[string]bool // event_ids of the data files' rows
	rawEvents map[string]bool // event_ids of the raw file's payloads
	sawRaw    bool
}

func (v *verifier) problem(format string, args ...any) {
	v.rep.Problems = append(v.rep.Problems, fmt.Sprintf(format, args...))
}

// readManifest reads and hashes the manifest (ErrNoManifest when it cannot).
func (v *verifier) readManifest() error {
	mb, err := os.ReadFile(filepath.Join(v.dir, ManifestName))
	if err != nil {
		return fmt.Errorf("%w in %s: %w", ErrNoManifest, v.dir, err)
	}
	msum := sha256.Sum256(mb)
	v.rep.ManifestSHA256 = hex.EncodeToString(msum[:])
	dec := json.NewDecoder(bytes.NewReader(mb))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&v.rep.Manifest); err != nil {
		return fmt.Errorf("%w: %s: %w", ErrNoManifest, ManifestName, err)
	}
	return nil
}

// checkSums: SHA256SUMS agrees with the manifest and the manifest's own hash.
func (v *verifier) checkSums() {
	m := v.rep.Manifest
	sums, err := readSums(filepath.Join(v.dir, SumsName))
	if err != nil {
		v.problem("%s: %v", SumsName, err)
		return
	}
	if sums[ManifestName] != v.rep.ManifestSHA256 {
		v.problem("%s: %s is listed with %s, its SHA-256 is %s", SumsName, ManifestName, short(sums[ManifestName]), short(v.rep.ManifestSHA256))
	}
	for _, f := range m.Files {
		if sums[f.Name] != f.SHA256 {
			v.problem("%s: %s is listed with %s, the manifest says %s", SumsName, f.Name, short(sums[f.Name]), short(f.SHA256))
		}
	}
	if len(sums) != len(m.Files)+1 {
		v.problem("%s lists %d files, the manifest %d", SumsName, len(sums), len(m.Files)+1)
	}
}

// checkListing: nothing in the directory the manifest does not list.
func (v *verifier) checkListing() error {
	listed := map[string]bool{ManifestName: true, SumsName: true}
	for _, f := range v.rep.Manifest.Files {
		listed[f.Name] = true
	}
	entries, err := os.ReadDir(v.dir)
	if err != nil {
		return err
	}
	for _, e := range entries {
		if !listed[e.Name()] {
			v.problem("%s: not listed in the manifest", e.Name())
		}
	}
	return nil
}

// checkFile checks one listed file: its hash and size, then every row (raw payloads re-hashed and
// their chain hashes re-computed, against the manifest's list).
func (v *verifier) checkFile(f File) {
	m := v.rep.Manifest
	if !isExportFile(f.Name) {
		v.problem("%q: not a file name of the export (a path that leads out of it?); not read", f.Name)
		return
	}
	path := filepath.Join(v.dir, f.Name)
	sum, n, err := fileSHA256(path)
	if err != nil {
		v.problem("%s: %v", f.Name, err)
		return
	}
	v.rep.Files++
	if sum != f.SHA256 {
		v.problem("%s: SHA-256 is %s, the manifest says %s: the file was changed", f.Name, short(sum), short(f.SHA256))
	}
	if n != f.Bytes {
		v.problem("%s: %d bytes, the manifest says %d", f.Name, n, f.Bytes)
	}
	isRaw := f.View == rawView
	v.sawRaw = v.sawRaw || isRaw
	var payloads []Payload
	rows, err := eachRow(path, m.Format, m.CSVEscaping, func(_ int, row map[string]string) error {
		if !isRaw {
			if row["event_id"] == "" {
				return errors.New("a row without event_id")
			}
			v.exported[row["event_id"]] = true
			return nil
		}
		p, err := payloadOf(row)
		if err != nil {
			return err
		}
		payloads = append(payloads, p)
		v.rawEvents[p.EventID] = true
		if row["chain_hash"] != "" {
			if err := checkChain(row, p); err != nil {
				return err
			}
			v.rep.Chained++
		}
		return nil
	})
	v.rep.Rows += rows
	if err != nil {
		v.problem("%s: %v", f.Name, err)
	}
	if rows != f.Rows {
		v.problem("%s: %d rows, the manifest says %d", f.Name, rows, f.Rows)
	}
	if isRaw {
		v.rep.Payloads += len(payloads)
		comparePayloads(payloads, m.RawPayloads, v.problem)
	}
}

// checkRawCoverage: every exported event has its raw payload or is listed as having none, every raw
// payload's event is exported, and the list of events without one is true.
func (v *verifier) checkRawCoverage() {
	without := map[string]bool{}
	for _, id := range v.rep.Manifest.EventsWithoutRaw {
		without[id] = true
	}
	var missing []string
	for id := range v.exported {
		if !v.rawEvents[id] && !without[id] {
			missing = append(missing, id)
		}
	}
	sort.Strings(missing)
	for _, id := range missing {
		v.problem("event %s: no raw payload in the export, and the manifest does not list it as having none", id)
	}
	var orphans []string
	for id := range v.rawEvents {
		if !v.exported[id] {
			orphans = append(orphans, id)
		}
	}
	sort.Strings(orphans)
	for _, id := range orphans {
		v.problem("raw payload of event %s, which no data file holds: its row was removed", id)
	}
	for id := range without {
		if v.rawEvents[id] {
			v.problem("event %s: listed as without a raw record, but its raw payload is exported", id)
		}
		if !v.exported[id] {
			v.problem("event %s: listed as without a raw record, but it is not exported", id)
		}
	}
}

// comparePayloads checks the raw file's payloads against the manifest's list, one to one.
func comparePayloads(got, want []Payload, problem func(string, ...any)) {
	key := func(p Payload) string { return fmt.Sprintf("%d/%d", p.Partition, p.Offset) }
	byKey := map[string]Payload{}
	for _, p := range want {
		byKey[key(p)] = p
	}
	seen := map[string]bool{}
	for _, p := range got {
		k := key(p)
		w, ok := byKey[k]
		switch {
		case !ok:
			problem("raw payload %s (event %s): in the raw file, not in the manifest", k, p.EventID)
		case seen[k]:
			problem("raw payload %s: twice in the raw file", k)
		case w.SHA256 != p.SHA256 || w.EventID != p.EventID || w.ChainHash != p.ChainHash || w.ReceivedAt != p.ReceivedAt:
			problem("raw payload %s (event %s): SHA-256 %s in the file, %s in the manifest", k, p.EventID, short(p.SHA256), short(w.SHA256))
		}
		seen[k] = true
	}
	for _, p := range want {
		if !seen[key(p)] {
			problem("raw payload %s (event %s): in the manifest, missing from the raw file", key(p), p.EventID)
		}
	}
}

// checkChain re-computes a raw record's chain hash from its payload and headers.
func checkChain(row map[string]string, p Payload) error {
	received, err := time.Parse(paramTime, row["received_at"])
	if err != nil {
		return fmt.Errorf("raw record %d/%d: received_at: %w", p.Partition, p.Offset, err)
	}
	r := pipeline.RawRow{Source: row["source"], App: row["app"], ReceivedAtMs: received.UnixMilli(), EventID: row["event_id"],
		RawKey: row["raw_key"], Path: row["path"], RemoteAddr: row["remote_addr"]}
	if err := json.Unmarshal([]byte(row["http_headers"]), &r.HTTPHeaders); err != nil {
		return fmt.Errorf("raw record %d/%d: http_headers: %w", p.Partition, p.Offset, err)
	}
	if err := json.Unmarshal([]byte(row["meta"]), &r.Meta); err != nil {
		return fmt.Errorf("raw record %d/%d: meta: %w", p.Partition, p.Offset, err)
	}
	if h := audit.HeadersDigest(r); h != row["headers_sha256"] {
		return fmt.Errorf("raw record %d/%d: its headers hash to %s, chained as %s", p.Partition, p.Offset, short(h), short(row["headers_sha256"]))
	}
	h, err := audit.Link(row["prev_hash"], p.Partition, p.Offset, p.SHA256, row["headers_sha256"])
	if err != nil {
		return fmt.Errorf("raw record %d/%d: %w", p.Partition, p.Offset, err)
	}
	if h != row["chain_hash"] {
		return fmt.Errorf("raw record %d/%d: payload and headers give chain hash %s, the row says %s", p.Partition, p.Offset, short(h), short(row["chain_hash"]))
	}
	return nil
}

func fileSHA256(path string) (string, int64, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", 0, err
	}
	defer f.Close()
	h := sha256.New()
	n, err := io.Copy(h, f)
	if err != nil {
		return "", n, err
	}
	return hex.EncodeToString(h.Sum(nil)), n, nil
}

// readSums reads sha256sum's format: "<hex>  <name>" per line.
func readSums(path string) (map[string]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	out := map[string]string{}
	sc := bufio.NewScanner(f)
	line := 0
	for sc.Scan() {
		line++
		sum, name, ok := strings.Cut(sc.Text(), "  ")
		if !ok || len(sum) != 64 || name == "" {
			return out, fmt.Errorf("line %d: want \"SHA256  NAME\"", line)
		}
		if _, dup := out[name]; dup {
			return out, fmt.Errorf("line %d: %s listed twice", line, name)
		}
		out[name] = sum
	}
	return out, sc.Err()
}

func short(h string) string {
	if len(h) > 16 {
		return h[:16] + "…"
	}
	if h == "" {
		return "(none)"
	}
	return h
}

// isExportFile reports whether name is a plain file name in the export's directory: no separator,
// not "." or "..", so that a manifest cannot make Verify read outside the export.
func isExportFile(name string) bool {
	return name != "" && filepath.IsLocal(name) && !strings.ContainsAny(name, `/\`) && name != ManifestName && name != SumsName
}
