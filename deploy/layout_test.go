package deploy_test

import (
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// TestReadmeNamesEveryFolder: the README's "How it fits together" has one line for each top-level
// folder of the repository, and names no folder that is not there.
func TestReadmeNamesEveryFolder(t *testing.T) {
	readme, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	text := string(readme)
	start := strings.Index(text, "## How it fits together")
	if start < 0 {
		t.Fatal(`README has no "## How it fits together"`)
	}
	section := text[start+3:]
	if end := strings.Index(section, "\n## "); end >= 0 {
		section = section[:end]
	}
	var named []string
	for _, m := range regexp.MustCompile("(?m)^- `([a-z0-9_-]+)/`").FindAllStringSubmatch(section, -1) {
		named = append(named, m[1])
	}
	entries, err := os.ReadDir("..")
	if err != nil {
		t.Fatal(err)
	}
	var folders []string
	for _, e := range entries {
		if e.IsDir() && !strings.HasPrefix(e.Name(), ".") && e.Name() != "bin" {
			folders = append(folders, e.Name())
		}
	}
	for _, f := range folders {
		n := 0
		for _, x := range named {
			if x == f {
				n++
			}
		}
		if n != 1 {
			t.Errorf("folder %s/: named %d times in the README's \"How it fits together\", want once", f, n)
		}
	}
	for _, n := range named {
		if !slices.Contains(folders, n) {
			t.Errorf("the README names %s/, which is not a top-level folder", n)
		}
	}
}
