package main

import (
	"testing"

	"github.com/imarchive/imarchive/ingest"
)

// TestMemoryLimit: serve always runs with a soft memory limit unless told not to: the operator's
// GOMEMLIMIT, else 90% of the container's limit, else a budget from its own bounds; a size or 0 on
// the flag wins.
func TestMemoryLimit(t *testing.T) {
	icfg := ingest.DefaultConfig()
	cases := []struct {
		flag, gomemlimit string
		cgroup           int64
		want             int64
		wantErr          bool
	}{
		{"auto", "", 0, 1024*(1<<20)*3 + 512<<20, false},
		{"auto", "", 2 << 30, (2 << 30) / 10 * 9, false},
		{"auto", "1GiB", 2 << 30, 0, false}, // the runtime applied GOMEMLIMIT itself
		{"512MiB", "", 2 << 30, 512 << 20, false},
		{"0", "", 2 << 30, 0, false},
		{"lots", "", 0, 0, true},
		{"-5", "", 0, 0, true},
	}
	for _, c := range cases {
		got, err := memoryLimit(c.flag, icfg, c.gomemlimit, c.cgroup)
		if (err != nil) != c.wantErr || got.bytes != c.want {
			t.Errorf("memoryLimit(%q, GOMEMLIMIT=%q, cgroup %d) = %d (%s), %v; want %d", c.flag, c.gomemlimit, c.cgroup, got.bytes, got.from, err, c.want)
		}
	}
}
