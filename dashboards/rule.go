package dashboards

import (
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/imarchive/imarchive/queries"
)

// Macro is what a ClickHouse query parameter of a given name and type becomes in a panel.
type Macro struct {
	Type    string // the parameter's ClickHouse type
	Grafana string // the Grafana macro or variable written in its place
}

// Macros is the rule's table, by parameter name. The time range and the interval are the ClickHouse
// plugin's macros (expanded by its backend); the filters are dashboard variables, quoted by Grafana's
// sqlstring format.
var Macros = map[string]Macro{
	"from":         {"DateTime64(3, 'UTC')", "$__fromTime_ms"},
	"to":           {"DateTime64(3, 'UTC')", "$__toTime_ms"},
	"step_seconds": {"UInt32", "$__interval_s"},
	"source":       {"String", "${platform:sqlstring}"},
	"app":          {"String", "${app:sqlstring}"},
	"server_id":    {"String", "${server:sqlstring}"},
	"channel_id":   {"String", "${channel:sqlstring}"},
}

// AllValue is the custom "All" value of the variables: the empty SQL string literal, which the queries
// read as "every one". Grafana writes a custom all value as it is, unformatted.
const AllValue = "''"

// HeaderPrefix starts the line PanelSQL puts above the query file in a panel's SQL.
const HeaderPrefix = "-- imarchive: queries/"

var (
	headerLine  = regexp.MustCompile(`^-- imarchive: queries/([A-Za-z0-9_]+)\.sql(?: with (.*))?$`)
	constantRe  = regexp.MustCompile(`([A-Za-z_][A-Za-z0-9_]*) = ('(?:[^'\\]|\\.)*'|[0-9]+)`)
	stringLit   = regexp.MustCompile(`^'(?:[^'\\]|\\.)*'$`)
	digits      = regexp.MustCompile(`^[0-9]+$`)
	integerType = regexp.MustCompile(`^U?Int(8|16|32|64)$`)
	placeholder = regexp.MustCompile(`(^|[^$])(\{[A-Za-z_][A-Za-z0-9_]*:[^}]+\})`)
)

// Str is the SQL literal of a String constant: quoted, with backslashes and quotes escaped by a
// backslash (ClickHouse's string escapes).
func Str(s string) string {
	return "'" + strings.NewReplacer(`\`, `\\`, `'`, `\'`).Replace(s) + "'"
}

// literal is the SQL literal of value as a parameter of type typ.
func literal(typ, value string) string {
	switch {
	case typ == "String":
		return Str(value)
	case integerType.MatchString(typ) && digits.MatchString(value):
		return value
	}
	return "CAST(" + Str(value) + " AS " + typ + ")"
}

// Int is the SQL literal of an integer constant.
func Int(n uint64) string { return strconv.FormatUint(n, 10) }

// PanelSQL applies the rule to q and returns a panel's SQL:
//
//  1. The whole file, header included, after one first line naming the file and the panel's
//     constants: "-- imarchive: queries/NAME.sql" [" with k = v, …"].
//  2. Each parameter {name:Type} of the file becomes the constant the panel gives it (a SQL literal:
//     Str for a String, Int for an integer type), or else its entry in Macros, which must have the
//     same type, or else the value the query gives it when left out (queries.Field.Optional: a page
//     size or cursor's declared default), written as a literal of its type. Any other parameter is an
//     error.
func PanelSQL(q queries.Query, constants map[string]string) (string, error) {
	sql := q.SQL
	names := slices.Sorted(maps.Keys(constants))
	declared := map[string]bool{}
	for _, p := range q.Params {
		declared[p.Name] = true
		ph := "{" + p.Name + ":" + p.Type + "}"
		repl, ok := constants[p.Name]
		switch {
		case ok && p.Type == "String" && !stringLit.MatchString(repl),
			ok && integerType.MatchString(p.Type) && !digits.MatchString(repl),
			ok && p.Type != "String" && !integerType.MatchString(p.Type):
			return "", fmt.Errorf("queries/%s.sql: constant %s = %s is not a literal of its type %s", q.Name, p.Name, repl, p.Type)
		case !ok:
			m, known := Macros[p.Name]
			def, optional := p.Optional()
			switch {
			case !known && optional:
				m = Macro{Type: p.Type, Grafana: literal(p.Type, def)}
			case !known:
				return "", fmt.Errorf("queries/%s.sql: parameter %s has no Grafana macro or variable and no constant", q.Name, p.Name)
			case m.Type != p.Type:
				return "", fmt.Errorf("queries/%s.sql: parameter %s is %s, the rule maps %s of type %s", q.Name, p.Name, p.Type, p.Name, m.Type)
			}
			repl = m.Grafana
		}
		sql = strings.ReplaceAll(sql, ph, repl)
	}
	for _, k := range names {
		if !declared[k] {
			return "", fmt.Errorf("queries/%s.sql has no parameter %s", q.Name, k)
		}
	}
	if m := placeholder.FindStringSubmatch(sql); m != nil {
		return "", fmt.Errorf("queries/%s.sql: %s is not declared in its header", q.Name, m[2])
	}
	head := HeaderPrefix + q.Name + ".sql"
	if len(names) > 0 {
		parts := make([]string, len(names))
		for i, k := range names {
			parts[i] = k + " = " + constants[k]
		}
		head += " with " + strings.Join(parts, ", ")
	}
	return head + "\n" + sql, nil
}

// ParseHeader reads the first line PanelSQL writes: the query's name and the constants.
func ParseHeader(panelSQL string) (name string, constants map[string]string, err error) {
	first, _, _ := strings.Cut(panelSQL, "\n")
	m := headerLine.FindStringSubmatch(first)
	if m == nil {
		return "", nil, fmt.Errorf("first line %q does not name a queries/ file (want %q)", first, HeaderPrefix+"NAME.sql [with k = v, …]")
	}
	constants = map[string]string{}
	if m[2] != "" {
		found := constantRe.FindAllStringSubmatch(m[2], -1)
		var back []string
		for _, c := range found {
			constants[c[1]] = c[2]
			back = append(back, c[0])
		}
		if strings.Join(back, ", ") != m[2] {
			return "", nil, fmt.Errorf("constants %q: want k = 'text' or k = digits, separated by \", \"", m[2])
		}
	}
	return m[1], constants, nil
}
