package main

import (
	"fmt"
	"io"
	"runtime"
	"runtime/debug"

	"github.com/imarchive/imarchive/event"
	"github.com/imarchive/imarchive/schema"
)

// version is set at build time with -ldflags "-X main.version=…".
var version = "dev"

func versionCommand(stdout io.Writer) *command {
	c := newCommand("version", "print the version, the event schema version and the ClickHouse schema version", "")
	c.run = func(args []string) error {
		if err := c.parse(args); err != nil {
			return err
		}
		rev := "unknown"
		if bi, ok := debug.ReadBuildInfo(); ok {
			for _, s := range bi.Settings {
				if s.Key == "vcs.revision" {
					rev = s.Value
				}
			}
		}
		ms, err := schema.Migrations()
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "imarchive %s (commit %s, %s)\nevent schema v%d\nclickhouse schema v%d\n",
			version, rev, runtime.Version(), event.SchemaVersion, ms[len(ms)-1].Version)
		return nil
	}
	return c
}
