package queries

import (
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"regexp"
	"sort"
	"strings"
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

// Get returns one query by name, or an error wrapping ErrUnknownQuery.
func Get(name string) (Query, error) {
	b, err := fs.ReadFile(files, name+".sql")
	if err != nil {
		return Query{}, fmt.Errorf("%w %q (imarchive query --list shows them)", ErrUnknownQuery, name)
	}
	return Parse(name+".sql", string(b))
}

// Bind checks the given parameters against the header — every declared one present, no other — and
// returns them ready for clickhouse.WithParameters. Date-time parameters also accept RFC 3339 and Unix
// milliseconds, converted to ClickHouse's text form in UTC.
func (q Query) Bind(given map[string]string) (map[string]string, error) {
	out := make(map[string]string, len(q.Params))
	var problems []string
	for _, p := range q.Params {
		v, ok := given[p.Name]
		if !ok {
			problems = append(problems, fmt.Sprintf("missing %s (%s: %s)", p.Name, p.Type, p.Description))
			continue
		}
		nv, err := normalizeParam(p.Type, v)
		if err != nil {
			problems = append(problems, fmt.Sprintf("%s: %v", p.Name, err))
			continue
		}
		out[p.Name] = nv
	}
	for k := range given {
		if !q.hasParam(k) {
			problems = append(problems, fmt.Sprintf("unknown parameter %s", k))
		}
	}
	if len(problems) > 0 {
		sort.Strings(problems)
		return nil, fmt.Errorf("%w for %s: %s", ErrParams, q.Name, strings.Join(problems, "; "))
	}
	return out, nil
}

func (q Query) hasParam(name string) bool {
	for _, p := range q.Params {
		if p.Name == name {
			return true
		}
	}
	return false
}
