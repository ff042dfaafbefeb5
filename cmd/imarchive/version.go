package main

import (
	"fmt"
	"io"
	"runtime"
	"runtime/debug"

	"github.com/imarchive/imarchive/event"
	"github.com/imarchive/imarchive/internal/cli"
	"github.com/imarchive/imarchive/schema"
)

// version may be set at build time with -ldflags "-X main.version=…" (make static VERSION=…); empty, the
// binary's version comes from the Go build info (buildVersion).
var version = ""

// buildVersion is the version printed by imarchive version and recorded in export manifests: the
// -X version if one was given, else the module version the go command stamped (a tag, or a pseudo-version
// naming the commit, "+dirty" for uncommitted changes), else the VCS commit, else "unknown".
func buildVersion() string {
	bi, _ := debug.ReadBuildInfo()
	return versionOf(version, bi)
}

func versionOf(ldflags string, bi *debug.BuildInfo) string {
	if ldflags != "" {
		return ldflags
	}
	if bi == nil {
		return "unknown"
	}
	if v := bi.Main.Version; v != "" && v != "(devel)" {
		return v
	}
	var rev, modified string
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.modified":
			modified = s.Value
		}
	}
	if rev == "" {
		return "unknown (built without version control information)"
	}
	if len(rev) > 12 {
		rev = rev[:12]
	}
	if modified == "true" {
		rev += "+dirty"
	}
	return "commit " + rev
}

func versionCommand(stdout io.Writer) *cli.Command {
	c := cli.New("version", "print the version, the event schema version and the ClickHouse schema version", "")
	c.Run = func(args []string) error {
		if err := c.Parse(args); err != nil {
			return err
		}
		ms, err := schema.Migrations()
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "imarchive %s (%s)\nevent schema v%d\nclickhouse schema v%d\n",
			buildVersion(), runtime.Version(), event.SchemaVersion, ms[len(ms)-1].Version)
		return nil
	}
	return c
}
