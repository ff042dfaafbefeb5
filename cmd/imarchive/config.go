package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"maps"
	"regexp"
	"slices"
	"sort"
	"strings"
	"text/tabwriter"

	"github.com/imarchive/imarchive/chconn"
	"github.com/imarchive/imarchive/connectors"
	"github.com/imarchive/imarchive/internal/cli"
	"github.com/imarchive/imarchive/internal/suggest"
)

func configCommand(stdout io.Writer) *cli.Command {
	c := cli.New("config", "show the effective configuration, secrets masked, and what is missing (imarchive config check)",
		`  imarchive config check [--commands serve,consume,migrate] [--config FILE]
For each command: every setting, its IMARCHIVE_* variable, its value (secrets masked) and where the
value came from (flag, env, file, default); then the required settings that are missing. Exits 1 when
something is missing or invalid.`)
	c.Group(cli.Subcommand{Name: "check", Summary: "print every setting of the commands, its source, and what is missing; exit 1 when incomplete"})
	var cmdList string
	c.FS.StringVar(&cmdList, "commands", "serve,consume,migrate", "the commands whose configuration to check, comma-separated")
	c.Run = func(args []string) error {
		if len(args) == 0 || args[0] != "check" {
			return cli.Usagef("usage: imarchive config check [--commands …] [--config FILE]")
		}
		if err := c.Parse(args[1:]); err != nil {
			return err
		}
		var cfgArgs []string
		if p := c.FS.Lookup("config").Value.String(); p != "" {
			cfgArgs = []string{"--config", p}
		}
		byName := map[string]*cli.Command{}
		for _, cmd := range commands(io.Discard, io.Discard) {
			byName[cmd.Name] = cmd
		}
		var problems []error
		for _, name := range cli.SplitList(cmdList) {
			cmd, ok := byName[name]
			if !ok {
				return cli.Usagef("--commands: unknown command %q%s", name, suggest.Phrase(name, slices.Sorted(maps.Keys(byName))))
			}
			if err := cmd.Parse(cfgArgs); err != nil {
				problems = append(problems, fmt.Errorf("%s: %w", name, err))
				continue
			}
			problems = append(problems, printConfig(stdout, cmd)...)
		}
		if err := errors.Join(problems...); err != nil {
			return fmt.Errorf("configuration incomplete or invalid:\n%w", err)
		}
		fmt.Fprintln(stdout, "configuration complete")
		return nil
	}
	return c
}

// printConfig prints one command's settings and returns the required ones that are missing. A flag is
// required when its usage says "(required".
func printConfig(w io.Writer, c *cli.Command) []error {
	fmt.Fprintf(w, "%s:\n", c.Name)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	var names []string
	c.FS.VisitAll(func(f *flag.Flag) { names = append(names, f.Name) })
	sort.Strings(names)
	var missing []error
	var warnings []string
	for _, n := range names {
		f := c.FS.Lookup(n)
		if n == "config" {
			continue
		}
		v := f.Value.String()
		shown := mask(n, v)
		if v == "" {
			shown = "(unset)"
		}
		fmt.Fprintf(tw, "  %s\t--%s\t%s\t%s\n", c.Envs[n], n, shown, c.Source(n))
		if v == "" && strings.Contains(f.Usage, "(required") {
			missing = append(missing, fmt.Errorf("%s: %s (--%s) is required: %s", c.Name, c.Envs[n], n, f.Usage))
		}
		if strings.HasSuffix(n, "clickhouse-dsn") {
			if err := chconn.CheckProtocol(v); err != nil {
				warnings = append(warnings, fmt.Sprintf("%s (--%s): %v", c.Envs[n], n, err))
			}
		}
	}
	tw.Flush()
	// A warning does not make the configuration incomplete: the setting works, it is only not the
	// tested path.
	for _, warning := range warnings {
		fmt.Fprintf(w, "  warning: %s\n", warning)
	}
	return missing
}

var secretName = regexp.MustCompile(`(?i)(apps|secret|password|token|key)`)

// mask hides secrets: in key=secret lists everything after '='; in DSNs what connectors.MaskURL hides
// (the password and every query value; an unparsable DSN whole).
func mask(name, v string) string {
	if v == "" {
		return v
	}
	if strings.Contains(name, "dsn") {
		return connectors.MaskURL(v)
	}
	if !secretName.MatchString(name) {
		return v
	}
	parts := strings.Split(v, ",")
	for i, p := range parts {
		if k, _, ok := strings.Cut(p, "="); ok {
			parts[i] = k + "=***"
		} else {
			parts[i] = "***"
		}
	}
	return strings.Join(parts, ",")
}
