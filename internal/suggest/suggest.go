// Package suggest finds the names a mistyped one was probably meant to be ("did you mean …?") for the
// CLI's commands, subcommands, flags, query names and query parameters.
//
// Written here rather than taken from a library: it is one edit distance and a substring test, about
// forty lines, and the candidates are a few dozen short names.
package suggest

import (
	"sort"
	"strings"
)

// Closest returns the candidates the input was probably meant to be, best first: those within a small
// edit distance (a third of the input's length, at least 1, at most 3), and those that contain the input
// or that it contains (message_volume for "volume"). At most three.
func Closest(input string, candidates []string) []string {
	in := strings.ToLower(strings.TrimSpace(input))
	if in == "" {
		return nil
	}
	limit := min(max(len(in)/3, 1), 3)
	type scored struct {
		name string
		d    int
	}
	var out []scored
	for _, c := range candidates {
		lc := strings.ToLower(c)
		d := distance(in, lc)
		switch {
		case d == 0:
			continue // the same name is no suggestion
		case d <= limit:
		case len(in) >= 3 && (strings.Contains(lc, in) || strings.Contains(in, lc) || nearPart(in, lc, limit)):
			d = limit + 1 // after the near misses
		default:
			continue
		}
		out = append(out, scored{c, d})
	}
	sort.SliceStable(out, func(i, j int) bool {
		if out[i].d != out[j].d {
			return out[i].d < out[j].d
		}
		return out[i].name < out[j].name
	})
	names := make([]string, 0, 3)
	for _, s := range out[:min(len(out), 3)] {
		names = append(names, s.name)
	}
	return names
}

// Phrase is " (did you mean a or b?)" for Closest's answer, or "" when it has none.
func Phrase(input string, candidates []string) string {
	c := Closest(input, candidates)
	switch len(c) {
	case 0:
		return ""
	case 1:
		return " (did you mean " + c[0] + "?)"
	}
	return " (did you mean " + strings.Join(c[:len(c)-1], ", ") + " or " + c[len(c)-1] + "?)"
}

// nearPart reports whether the input is a near miss of one part of the name ("chanel" of channel_id).
func nearPart(in, name string, limit int) bool {
	for _, p := range strings.FieldsFunc(name, func(r rune) bool { return r == '_' || r == '-' }) {
		if len(p) >= 3 && distance(in, p) <= limit {
			return true
		}
	}
	return false
}

// distance is the optimal string alignment distance (Levenshtein plus adjacent transpositions) over
// bytes: names are ASCII.
func distance(a, b string) int {
	prev2 := make([]int, len(b)+1)
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
			if i > 1 && j > 1 && a[i-1] == b[j-2] && a[i-2] == b[j-1] {
				cur[j] = min(cur[j], prev2[j-2]+1)
			}
		}
		prev2, prev, cur = prev, cur, prev2
	}
	return prev[len(b)]
}
