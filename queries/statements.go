package queries

import (
	"embed"
	"fmt"
	"io/fs"
	"sort"
	"strings"
)

// Statements are the SQL the compliance commands run (imarchive export, audit verify, retention
// apply): embedded from statements/*.sql with the same header as a named query, but not named queries —
// imarchive query neither lists nor runs them (some delete rows), and a statement may have no columns.
//
//go:embed statements/*.sql
var statementFiles embed.FS

// Statement returns one embedded statement by name, or an error wrapping ErrUnknownQuery.
func Statement(name string) (Query, error) {
	b, err := fs.ReadFile(statementFiles, "statements/"+name+".sql")
	if err != nil {
		return Query{}, fmt.Errorf("%w: no statement %q", ErrUnknownQuery, name)
	}
	return parseStatement(name+".sql", string(b))
}

// Statements returns every embedded statement, by name.
func Statements() ([]Query, error) {
	names, err := fs.Glob(statementFiles, "statements/*.sql")
	if err != nil {
		return nil, err
	}
	var out []Query
	for _, n := range names {
		q, err := Statement(strings.TrimSuffix(strings.TrimPrefix(n, "statements/"), ".sql"))
		if err != nil {
			return nil, err
		}
		out = append(out, q)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

// MustStatement is Statement for the callers' package-level variables: the statements are embedded,
// so a missing or malformed one is a build defect (and a test fails on it).
func MustStatement(name string) Query {
	q, err := Statement(name)
	if err != nil {
		panic(err)
	}
	return q
}

// parseStatement reads a statement's header: as Parse, but columns are optional.
func parseStatement(fileName, text string) (Query, error) {
	q, err := Parse(fileName, text)
	if err == nil {
		return q, nil
	}
	if len(q.Columns) == 0 && q.Name != "" && q.Summary != "" && strings.Contains(err.Error(), "no '-- column:' lines") {
		return q, nil
	}
	return q, err
}
