package main

import (
	"bytes"
	"strings"
	"testing"
)

// TestHelp: the developer binary lists its tools, and each tool's --help exits 0 with its flags.
func TestHelp(t *testing.T) {
	for _, args := range [][]string{{"--help"}, {"bench", "--help"}, {"chaos", "--help"}, {"help", "bench"}} {
		var out, errs bytes.Buffer
		if code := run(args, &out, &errs); code != 0 {
			t.Errorf("%v: exit %d, stderr %s", args, code, errs.String())
		}
		if !strings.Contains(out.String(), "Usage: imarchive-dev") {
			t.Errorf("%v: no usage line in %q", args, out.String())
		}
	}
	var out, errs bytes.Buffer
	if code := run([]string{"serve"}, &out, &errs); code != 2 || !strings.Contains(errs.String(), "unknown command") {
		t.Errorf("serve is the product's: exit %d, stderr %q", code, errs.String())
	}
}
