// Package csvcell keeps CSV cells from being read as formulas by spreadsheets (CSV or formula
// injection): a chat user's "=HYPERLINK(…)", "@SUM(…)" or "+cmd|…" must open as text, not run.
//
// Neutralize prefixes a single quote to a cell that begins with = + - @ TAB or CR (OWASP's list),
// and to one that begins with a quote itself, so that the rule can be undone exactly: Restore drops
// one leading quote. Plain decimal numbers ("-12.5", "+3", "1e-5") are left alone. Spreadsheets show
// the quote-prefixed cell as the text after the quote. It is used by imarchive query --format csv
// and imarchive export --format csv (whose manifest records Rule); JSON output is never touched.
package csvcell

import "regexp"

// Rule is the escaping, as recorded in an export's manifest.
const Rule = "csv-formula-quote-v1: a cell beginning with = + - @ TAB CR or ' (but a plain decimal number) is written with a ' before it; drop one leading ' to read the value"

var number = regexp.MustCompile(`^[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?$`)

// Neutralize returns the cell as it is written.
func Neutralize(s string) string {
	if s == "" {
		return s
	}
	switch s[0] {
	case '=', '@', '\t', '\r', '\'':
		return "'" + s
	case '+', '-':
		if number.MatchString(s) {
			return s
		}
		return "'" + s
	}
	return s
}

// Restore returns the value of a cell Neutralize wrote.
func Restore(s string) string {
	if len(s) > 0 && s[0] == '\'' {
		return s[1:]
	}
	return s
}
