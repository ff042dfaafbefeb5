package queries

import (
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/imarchive/imarchive/internal/suggest"
)

//go:embed *.sql
var files embed.FS

// Query is one named query.
type Query struct {
	Name    string
	Summary string
	Params  []Field
	Columns []Field
	SQL     string // the whole file, header included (comments are harmless to ClickHouse)
}

// Field is a parameter or a result column.
type Field struct {
	Name        string
	Type        string
	Description string
}

// Errors of Get and Bind.
var (
	ErrUnknownQuery = errors.New("unknown query")
	ErrParams       = errors.New("bad parameters")
)

var headerLine = regexp.MustCompile(`^--\s*(name|summary|param|column):\s*(.*)$`)

// fieldSpec is "NAME TYPE  description": the type runs until two spaces (types contain single spaces,
// as in DateTime64(3, 'UTC')).
var fieldSpec = regexp.MustCompile(`^([A-Za-z_][A-Za-z0-9_]*)\s+(.+?)(?:\s{2,}(.*))?$`)

// Parse reads a query file.
func Parse(fileName, text string) (Query, error) {
	q := Query{SQL: text}
	for i, line := range strings.Split(text, "\n") {
		line = strings.TrimSpace(line)
		if !strings.HasPrefix(line, "--") {
			break
		}
		m := headerLine.FindStringSubmatch(line)
		if m == nil {
			continue // a free comment line in the header
		}
		val := strings.TrimSpace(m[2])
		switch m[1] {
		case "name":
			q.Name = val
		case "summary":
			q.Summary = val
		case "param", "column":
			fm := fieldSpec.FindStringSubmatch(val)
			if fm == nil {
				return q, fmt.Errorf("%s:%d: want %q", fileName, i+1, "-- "+m[1]+": NAME TYPE  description")
			}
			f := Field{Name: fm[1], Type: strings.TrimSpace(fm[2]), Description: strings.TrimSpace(fm[3])}
			if m[1] == "param" {
				q.Params = append(q.Params, f)
			} else {
				q.Columns = append(q.Columns, f)
			}
		}
	}
	want := strings.TrimSuffix(fileName, ".sql")
	switch {
	case q.Name == "":
		return q, fmt.Errorf("%s: header has no '-- name:' line", fileName)
	case q.Name != want:
		return q, fmt.Errorf("%s: header names it %q, want %q", fileName, q.Name, want)
	case q.Summary == "":
		return q, fmt.Errorf("%s: header has no '-- summary:' line", fileName)
	case len(q.Columns) == 0:
		return q, fmt.Errorf("%s: header lists no '-- column:' lines", fileName)
	}
	return q, nil
}

// All returns every embedded query, by name.
func All() ([]Query, error) {
	entries, err := fs.Glob(files, "*.sql")
	if err != nil {
		return nil, err
	}
	var out []Query
	for _, name := range entries {
		b, err := fs.ReadFile(files, name)
		if err != nil {
			return nil, err
		}
		q, err := Parse(name, string(b))
		if err != nil {
			return nil, err
		}
		out = append(out, q)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

// Get returns one query by name, or an error wrapping ErrUnknownQuery that suggests the names it was
// probably meant to be.
func Get(name string) (Query, error) {
	b, err := fs.ReadFile(files, name+".sql")
	if err != nil || name == "" || strings.ContainsAny(name, "/.") {
		names, _ := fs.Glob(files, "*.sql")
		for i, n := range names {
			names[i] = strings.TrimSuffix(n, ".sql")
		}
		return Query{}, fmt.Errorf("%w %q%s; imarchive query --list shows them", ErrUnknownQuery, name, suggest.Phrase(name, names))
	}
	return Parse(name+".sql", string(b))
}

// Bind checks the given parameters against the header — each value of its type, every declared one
// present unless it is optional (Field.Optional), no other — and returns them ready for
// clickhouse.WithParameters. Time parameters also take RFC 3339, Unix milliseconds, today, now and
// offsets like -24h (ParseTime), converted to ClickHouse's text form in UTC. The error, wrapping
// ErrParams, names each parameter with its problem and type.
func (q Query) Bind(given map[string]string) (map[string]string, error) {
	return q.BindAt(given, time.Now())
}

// BindAt is Bind with "now" given, for relative times.
func (q Query) BindAt(given map[string]string, now time.Time) (map[string]string, error) {
	out := make(map[string]string, len(q.Params))
	var problems []string
	for _, p := range q.Params {
		v, ok := given[p.Name]
		if !ok {
			if def, optional := p.Optional(); optional {
				out[p.Name] = def
				continue
			}
			problems = append(problems, fmt.Sprintf("--param %s: missing (%s: %s)", p.Name, p.Type, p.Description))
			continue
		}
		nv, err := bindValue(p.Type, v, now)
		if err != nil {
			problems = append(problems, fmt.Sprintf("--param %s=%s: not a %s: %v", p.Name, quoteIfNeeded(v), p.Type, err))
			continue
		}
		out[p.Name] = nv
	}
	names := make([]string, len(q.Params))
	for i, p := range q.Params {
		names[i] = p.Name
	}
	for k := range given {
		if !q.hasParam(k) {
			problems = append(problems, fmt.Sprintf("--param %s: %s has no such parameter%s", k, q.Name, suggest.Phrase(k, names)))
		}
	}
	switch len(problems) {
	case 0:
		return out, nil
	case 1:
		return nil, fmt.Errorf("%w for %s: %s", ErrParams, q.Name, problems[0])
	}
	sort.Strings(problems)
	return nil, fmt.Errorf("%w for %s:\n  %s", ErrParams, q.Name, strings.Join(problems, "\n  "))
}

// quoteIfNeeded quotes a value that is empty or has spaces, as a shell user would have to type it.
func quoteIfNeeded(v string) string {
	if v == "" || strings.ContainsAny(v, " \t'\"") {
		return strconv.Quote(v)
	}
	return v
}

func (q Query) hasParam(name string) bool {
	for _, p := range q.Params {
		if p.Name == name {
			return true
		}
	}
	return false
}
