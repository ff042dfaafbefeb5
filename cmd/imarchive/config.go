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
	"github.com/imarchive/imarchive/internal/suggest"
)

func configCommand(stdout io.Writer) *command {
	c := newCommand("config", "show the effective configuration, secrets masked, and what is missing (imarchive config check)",
		`  imarchive config check [--commands serve,consume,migrate] [--config FILE]
For each command: every setting, its IMARCHIVE_* variable, its value (secrets masked) and where the
value came from (flag, env, file, default); then the required settings that are missing. Exits 1 when
something is missing or invalid.`)
	c.group(subcommand{"check", "print every setting of the commands, its source, and what is missing; exit 1 when incomplete"})
	var cmdList string
	c.fs.StringVar(&cmdList, "commands", "serve,consume,migrate", "the commands whose configuration to check, comma-separated")
	c.run = func(args []string) error {
		if len(args) == 0 || args[0] != "check" {
			return usagef("usage: imarchive config check [--commands …] [--config FILE]")
		}
		if err := c.parse(args[1:]); err != nil {
			return err
		}
		var cfgArgs []string
		if p := c.fs.Lookup("config").Value.String(); p != "" {
			cfgArgs = []string{"--config", p}
		}
		byName := map[string]*command{}
		for _, cmd := range commands(io.Discard, io.Discard) {
			byName[cmd.name] = cmd
		}
		var problems []error
		for _, name := range splitList(cmdList) {
			cmd, ok := byName[name]
			if !ok {
				return usagef("--commands: unknown command %q%s", name, suggest.Phrase(name, slices.Sorted(maps.Keys(byName))))
			}
			if err := cmd.parse(cfgArgs); err != nil {
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
func printConfig(w io.Writer, c *command) []error {
	fmt.Fprintf(w, "%s:\n", c.name)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	var names []string
	c.fs.VisitAll(func(f *flag.Flag) { names = append(names, f.Name) })
	sort.Strings(names)
	var missing []error
	var warnings []string
	for _, n := range names {
		f := c.fs.Lookup(n)
		if n == "config" {
			continue
		}
		v := f.Value.String()
		shown := mask(n, v)
		if v == "" {
			shown = "(unset)"
		}
		fmt.Fprintf(tw, "  %s\t--%s\t%s\t%s\n", c.envs[n], n, shown, c.source(n))
		if v == "" && strings.Contains(f.Usage, "(required") {
			missing = append(missing, fmt.Errorf("%s: %s (--%s) is required: %s", c.name, c.envs[n], n, f.Usage))
		}
		if strings.HasSuffix(n, "clickhouse-dsn") {
			if err := chconn.CheckProtocol(v); err != nil {
				warnings = append(warnings, fmt.Sprintf("%s (--%s): %v", c.envs[n], n, err))
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
