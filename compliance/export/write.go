package export

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/csv"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2"
	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/imarchive/imarchive/internal/csvcell"
	"github.com/imarchive/imarchive/queries"
)

// Config is one export.
type Config struct {
	Dir       string // created; must not exist or be empty
	Format    string // FormatJSONL or FormatCSV
	Selection Selection
	Tool      string    // recorded in the manifest (e.g. "imarchive v1.2.3")
	Now       time.Time // recorded as created_at
	// Progress receives a line per table and, while a table is written, one at most every
	// ProgressEvery (default 1 s). nil: quiet.
	Progress      io.Writer
	ProgressEvery time.Duration
}

// Validate reports every problem at once.
func (c Config) Validate() error {
	var errs []error
	if c.Dir == "" {
		errs = append(errs, errors.New("export directory: required"))
	}
	if c.Format != FormatJSONL && c.Format != FormatCSV {
		errs = append(errs, fmt.Errorf("format %q: want %s or %s", c.Format, FormatJSONL, FormatCSV))
	}
	if err := c.Selection.Validate(); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// ErrNotEmpty is returned when the export directory exists and holds files.
var ErrNotEmpty = errors.New("export directory is not empty")

// Result is what Export wrote.
type Result struct {
	Manifest       Manifest
	ManifestSHA256 string // hex SHA-256 of manifest.json: keep it apart to prove the manifest later
}

// Export writes the selection into cfg.Dir (see the package documentation). On an error the
// directory may hold a partial export without a manifest; Verify rejects it.
func Export(ctx context.Context, conn driver.Conn, cfg Config) (Result, error) {
	if err := cfg.Validate(); err != nil {
		return Result{}, err
	}
	if err := prepareDir(cfg.Dir); err != nil {
		return Result{}, err
	}
	if cfg.ProgressEvery <= 0 {
		cfg.ProgressEvery = time.Second
	}
	sel := cfg.Selection
	m := Manifest{
		FormatVersion: ManifestVersion, Tool: cfg.Tool, CreatedAt: cfg.Now.UTC().Format(time.RFC3339Nano), Format: cfg.Format,
		Selection: ManifestSelection{App: sel.App, Account: sel.Account, ChannelID: sel.ChannelID, GroupID: sel.GroupID,
			ServerID: sel.ServerID, From: sel.From.UTC().Format(paramTime), To: sel.To.UTC().Format(paramTime)},
		RawPayloads: []Payload{}, EventsWithoutRaw: []string{}, ChainHeads: []Head{},
	}
	if cfg.Format == FormatCSV {
		m.CSVEscaping = csvcell.Rule // queries.Run writes CSV cells through csvcell.Neutralize
	}
	params := sel.params()
	counts, err := selectionCounts(ctx, conn, params)
	if err != nil {
		return Result{}, err
	}
	progress(cfg.Progress, "export %s into %s (%s)", sel, cfg.Dir, cfg.Format)

	exported := map[string]bool{} // event ids of the data files
	for _, t := range tables {
		c := counts[t.storage]
		f, err := writeTable(ctx, conn, cfg, t.view, t.statement, params, c.rows)
		if err != nil {
			return Result{}, err
		}
		f.Span = c.span
		if c.rows != f.Rows {
			progress(cfg.Progress, "  note: %s: %d events were selected, %d written (events arrived or were deleted meanwhile); the manifest lists what was written", t.view, c.rows, f.Rows)
		}
		if _, err := eachRow(filepath.Join(cfg.Dir, f.Name), cfg.Format, m.CSVEscaping, func(_ int, row map[string]string) error {
			exported[row["event_id"]] = true
			return nil
		}); err != nil {
			return Result{}, fmt.Errorf("read back %s: %w", f.Name, err)
		}
		m.Files = append(m.Files, f)
		m.TimeSpan = widen(m.TimeSpan, f.Span)
	}

	raw, err := writeTable(ctx, conn, cfg, rawView, "export_raw_callbacks", params, -1)
	if err != nil {
		return Result{}, err
	}
	m.Files = append(m.Files, raw)
	withRaw := map[string]bool{}
	if _, err := eachRow(filepath.Join(cfg.Dir, raw.Name), cfg.Format, m.CSVEscaping, func(n int, row map[string]string) error {
		p, err := payloadOf(row)
		if err != nil {
			return err
		}
		m.RawPayloads = append(m.RawPayloads, p)
		withRaw[p.EventID] = true
		return nil
	}); err != nil {
		return Result{}, fmt.Errorf("read back %s: %w", raw.Name, err)
	}
	for id := range exported {
		if !withRaw[id] {
			m.EventsWithoutRaw = append(m.EventsWithoutRaw, id)
		}
	}
	sort.Strings(m.EventsWithoutRaw)
	if m.ChainHeads, err = chainHeads(ctx, conn); err != nil {
		return Result{}, err
	}

	b, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return Result{}, fmt.Errorf("encode manifest: %w", err)
	}
	b = append(b, '\n')
	if err := os.WriteFile(filepath.Join(cfg.Dir, ManifestName), b, 0o640); err != nil {
		return Result{}, fmt.Errorf("write manifest: %w", err)
	}
	msum := sha256.Sum256(b)
	res := Result{Manifest: m, ManifestSHA256: hex.EncodeToString(msum[:])}
	if err := writeSums(cfg.Dir, m, res.ManifestSHA256); err != nil {
		return Result{}, err
	}
	progress(cfg.Progress, "export done: %d events, %d raw payloads, %d without a raw record; manifest SHA-256 %s",
		len(exported), len(m.RawPayloads), len(m.EventsWithoutRaw), res.ManifestSHA256)
	return res, nil
}

func prepareDir(dir string) error {
	entries, err := os.ReadDir(dir)
	switch {
	case errors.Is(err, os.ErrNotExist):
		if err := os.MkdirAll(dir, 0o750); err != nil {
			return fmt.Errorf("create export directory: %w", err)
		}
		return nil
	case err != nil:
		return fmt.Errorf("export directory: %w", err)
	case len(entries) > 0:
		return fmt.Errorf("%w: %s (an export never overwrites or mixes with other files)", ErrNotEmpty, dir)
	}
	return nil
}

type count struct {
	rows int
	span Span
}

func selectionCounts(ctx context.Context, conn driver.Conn, params map[string]string) (map[string]count, error) {
	q, err := queries.Statement("export_counts")
	if err != nil {
		return nil, err
	}
	rows, err := conn.Query(clickhouse.Context(ctx, clickhouse.WithParameters(params)), q.SQL)
	if err != nil {
		return nil, fmt.Errorf("count the selection: %w", err)
	}
	defer rows.Close()
	out := map[string]count{}
	for rows.Next() {
		var table string
		var n uint64
		var first, last time.Time
		if err := rows.Scan(&table, &n, &first, &last); err != nil {
			return nil, fmt.Errorf("count the selection: %w", err)
		}
		out[table] = count{rows: int(n), span: Span{First: first.UTC().Format(paramTime), Last: last.UTC().Format(paramTime)}}
	}
	return out, rows.Err()
}

// writeTable runs one export statement into its file, hashing and counting as it goes.
func writeTable(ctx context.Context, conn driver.Conn, cfg Config, view, statement string, params map[string]string, selected int) (File, error) {
	q, err := queries.Statement(statement)
	if err != nil {
		return File{}, err
	}
	name := fileName(view, cfg.Format)
	f, err := os.OpenFile(filepath.Join(cfg.Dir, name), os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o640)
	if err != nil {
		return File{}, fmt.Errorf("create %s: %w", name, err)
	}
	defer f.Close()
	h := sha256.New()
	pw := &progressWriter{out: cfg.Progress, every: cfg.ProgressEvery, name: name, last: time.Now()}
	format := "json"
	if cfg.Format == FormatCSV {
		format = "csv"
	}
	if selected >= 0 {
		progress(cfg.Progress, "  %s: %d events selected", name, selected)
	}
	n, err := queries.Run(ctx, conn, q, params, format, io.MultiWriter(f, h, pw))
	if err != nil {
		return File{}, fmt.Errorf("export %s: %w", view, err)
	}
	if n == 0 && cfg.Format == FormatCSV {
		// An empty result carries no column names over HTTP: write the header from the statement's.
		if err := emptyCSV(f, q); err != nil {
			return File{}, fmt.Errorf("write %s: %w", name, err)
		}
		h.Reset()
		pw.bytes = 0
		if err := emptyCSV(io.MultiWriter(h, pw), q); err != nil {
			return File{}, err
		}
	}
	if err := f.Sync(); err != nil {
		return File{}, fmt.Errorf("write %s: %w", name, err)
	}
	if err := f.Close(); err != nil {
		return File{}, fmt.Errorf("write %s: %w", name, err)
	}
	out := File{Name: name, View: view, Rows: n, Bytes: pw.bytes, SHA256: hex.EncodeToString(h.Sum(nil))}
	progress(cfg.Progress, "  %s: %d rows, %s, sha256 %s", name, n, size(out.Bytes), out.SHA256)
	return out, nil
}

// emptyCSV writes only the header row (f is truncated first when it is a file).
func emptyCSV(w io.Writer, q queries.Query) error {
	if f, ok := w.(*os.File); ok {
		if err := f.Truncate(0); err != nil {
			return err
		}
		if _, err := f.Seek(0, io.SeekStart); err != nil {
			return err
		}
	}
	names := make([]string, len(q.Columns))
	for i, c := range q.Columns {
		names[i] = c.Name
	}
	cw := csv.NewWriter(w)
	if err := cw.Write(names); err != nil {
		return err
	}
	cw.Flush()
	return cw.Error()
}

// payloadOf reads a raw file row and checks its body against its own SHA-256.
func payloadOf(row map[string]string) (Payload, error) {
	body, err := base64.StdEncoding.DecodeString(row["body_base64"])
	if err != nil {
		return Payload{}, fmt.Errorf("body_base64: %w", err)
	}
	sum := sha256.Sum256(body)
	p := Payload{EventID: row["event_id"], ReceivedAt: row["received_at"], SHA256: hex.EncodeToString(sum[:]), ChainHash: row["chain_hash"]}
	if p.SHA256 != row["body_sha256"] {
		return p, fmt.Errorf("raw record %s/%s: body hashes to %s, the row says %s", row["raw_partition"], row["raw_offset"], p.SHA256, row["body_sha256"])
	}
	part, err1 := strconv.ParseInt(row["raw_partition"], 10, 32)
	off, err2 := strconv.ParseInt(row["raw_offset"], 10, 64)
	if err := errors.Join(err1, err2); err != nil {
		return p, fmt.Errorf("raw record position: %w", err)
	}
	p.Partition, p.Offset = int32(part), off
	return p, nil
}

func chainHeads(ctx context.Context, conn driver.Conn) ([]Head, error) {
	q, err := queries.Statement("audit_heads")
	if err != nil {
		return nil, err
	}
	rows, err := conn.Query(ctx, q.SQL)
	if err != nil {
		return nil, fmt.Errorf("read chain heads: %w", err)
	}
	defer rows.Close()
	out := []Head{}
	for rows.Next() {
		var h Head
		var rawLast int64
		if err := rows.Scan(&h.Partition, &h.Offset, &h.Hash, &rawLast); err != nil {
			return nil, fmt.Errorf("read chain heads: %w", err)
		}
		if h.Offset >= 0 {
			out = append(out, h)
		}
	}
	return out, rows.Err()
}

// writeSums writes SHA256SUMS: every data file and the manifest, in sha256sum's format.
func writeSums(dir string, m Manifest, manifestSHA string) error {
	var b []byte
	for _, f := range m.Files {
		b = append(b, f.SHA256+"  "+f.Name+"\n"...)
	}
	b = append(b, manifestSHA+"  "+ManifestName+"\n"...)
	if err := os.WriteFile(filepath.Join(dir, SumsName), b, 0o640); err != nil {
		return fmt.Errorf("write %s: %w", SumsName, err)
	}
	return nil
}

func widen(a, b Span) Span {
	if b.First == "" {
		return a
	}
	if a.First == "" || b.First < a.First {
		a.First = b.First
	}
	if b.Last > a.Last {
		a.Last = b.Last
	}
	return a
}

func progress(w io.Writer, format string, args ...any) {
	if w != nil {
		fmt.Fprintf(w, format+"\n", args...)
	}
}

// progressWriter counts bytes and reports them at most every `every`.
type progressWriter struct {
	out   io.Writer
	every time.Duration
	name  string
	bytes int64
	last  time.Time
}

func (p *progressWriter) Write(b []byte) (int, error) {
	p.bytes += int64(len(b))
	if p.out != nil && time.Since(p.last) >= p.every {
		p.last = time.Now()
		fmt.Fprintf(p.out, "  %s: %s written…\n", p.name, size(p.bytes))
	}
	return len(b), nil
}

func size(n int64) string {
	switch {
	case n >= 1<<30:
		return fmt.Sprintf("%.1f GiB", float64(n)/(1<<30))
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d B", n)
}
