package deploy_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestSecurityDocNamesRealTests: every test or fuzz target SECURITY.md cites exists, in the package the
// line names, so the threat model cannot point at a test that was renamed or removed.
func TestSecurityDocNamesRealTests(t *testing.T) {
	doc, err := os.ReadFile(filepath.Join(root, "SECURITY.md"))
	if err != nil {
		t.Fatal(err)
	}
	// Every Go test function in the repository, by package directory.
	out, err := exec.Command("git", "-C", root, "ls-files", "*_test.go").Output()
	if err != nil {
		t.Fatal(err)
	}
	funcs := map[string]map[string]bool{} // package dir → names
	decl := regexp.MustCompile(`(?m)^func ((?:Test|Fuzz)[A-Za-z0-9_]+)\(`)
	for _, f := range strings.Fields(string(out)) {
		b, err := os.ReadFile(filepath.Join(root, f))
		if err != nil {
			t.Fatal(err)
		}
		dir := filepath.Dir(f)
		if funcs[dir] == nil {
			funcs[dir] = map[string]bool{}
		}
		for _, m := range decl.FindAllStringSubmatch(string(b), -1) {
			funcs[dir][m[1]] = true
		}
	}
	// In the table, a cell names tests as "`pkg`: Name, Name; `pkg2`: Name".
	cited := 0
	group := regexp.MustCompile("`([a-z/]+)`: ([^`|]+)")
	name := regexp.MustCompile(`\b((?:Test|Fuzz)[A-Za-z0-9_]+)\b`)
	for _, line := range strings.Split(string(doc), "\n") {
		for _, g := range group.FindAllStringSubmatch(line, -1) {
			pkg := g[1]
			if _, ok := funcs[pkg]; !ok {
				continue // a path in prose, not a package's tests
			}
			for _, n := range name.FindAllString(g[2], -1) {
				cited++
				if !funcs[pkg][n] {
					t.Errorf("SECURITY.md cites %s in %s, which has no such test", n, pkg)
				}
			}
		}
	}
	t.Logf("%d test names cited", cited)
	if cited < 30 {
		t.Errorf("only %d tests cited: the table's format changed and this test no longer reads it", cited)
	}
}
