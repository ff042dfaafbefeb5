package main

import (
	"fmt"
	"os"
	"strconv"
	"strings"

	"github.com/imarchive/imarchive/ingest"
)

// memLimit is the Go runtime's soft memory limit serve sets, and why.
type memLimit struct {
	bytes int64 // 0: none set by serve
	from  string
}

// memoryLimit decides serve's soft memory limit (debug.SetMemoryLimit) from --memory-limit: a size,
// 0 for none, or auto — GOMEMLIMIT when the operator set it (the runtime has applied it already),
// else 90% of the container's memory limit (cgroup, 0 when none), else a budget from the
// configured bounds: max-in-flight × max-body-bytes × 3 (a body, its event and its raw record) +
// 512 MiB for the rest (the dedupe window's default 200 000 ids are some 37 MiB). Near the limit
// the collector works harder instead of letting the heap double; what really bounds memory is
// that only authenticated bodies are read, at most max-in-flight of them.
func memoryLimit(flag string, icfg ingest.Config, gomemlimit string, cgroup int64) (memLimit, error) {
	flag = strings.TrimSpace(flag)
	if flag != "auto" {
		n, err := parseBytes(flag)
		if err != nil {
			return memLimit{}, fmt.Errorf("memory limit %q: %w (IMARCHIVE_MEMORY_LIMIT: bytes, KiB, MiB, GiB, 0 or auto)", flag, err)
		}
		return memLimit{bytes: n, from: "--memory-limit"}, nil
	}
	switch {
	case gomemlimit != "":
		return memLimit{from: "GOMEMLIMIT " + gomemlimit}, nil
	case cgroup > 0:
		return memLimit{bytes: cgroup / 10 * 9, from: "90% of the container's memory limit"}, nil
	}
	inFlight := int64(icfg.MaxInFlight)
	if inFlight == 0 {
		inFlight = int64(ingest.DefaultConfig().MaxInFlight)
	}
	return memLimit{bytes: inFlight*icfg.MaxBodyBytes*3 + 512<<20, from: "max-in-flight × max-body-bytes × 3 + 512 MiB"}, nil
}

// parseBytes reads "1048576", "512MiB", "2GiB", "64KiB".
func parseBytes(s string) (int64, error) {
	mult := int64(1)
	for _, u := range []struct {
		suffix string
		mult   int64
	}{{"GiB", 1 << 30}, {"MiB", 1 << 20}, {"KiB", 1 << 10}, {"B", 1}} {
		if strings.HasSuffix(s, u.suffix) {
			s, mult = strings.TrimSpace(strings.TrimSuffix(s, u.suffix)), u.mult
			break
		}
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n < 0 {
		return 0, fmt.Errorf("not a size")
	}
	return n * mult, nil
}

// cgroupMemoryLimit is the memory limit of the cgroup serve runs in (v2, then v1), 0 when none.
func cgroupMemoryLimit() int64 {
	for _, name := range []string{"/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory/memory.limit_in_bytes"} {
		b, err := os.ReadFile(name)
		if err != nil {
			continue
		}
		n, err := strconv.ParseInt(strings.TrimSpace(string(b)), 10, 64)
		if err != nil || n <= 0 || n >= 1<<62 { // "max", or v1's "unlimited" page-rounded maximum
			return 0
		}
		return n
	}
	return 0
}
