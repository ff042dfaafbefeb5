package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"sort"
	"strings"
	"time"
)

// command is one subcommand: its flags (each with an IMARCHIVE_* variable) and what it runs.
type command struct {
	name    string
	summary string
	detail  string
	fs      *flag.FlagSet
	envs    map[string]string // flag name → environment variable
	run     func(args []string) error
}

func newCommand(name, summary, detail string) *command {
	c := &command{name: name, summary: summary, detail: detail, fs: flag.NewFlagSet(name, flag.ContinueOnError), envs: map[string]string{}}
	c.fs.Usage = func() {} // run() prints usage on --help; errors say where to look
	c.fs.SetOutput(io.Discard)
	return c
}

func (c *command) usage(w io.Writer) {
	fmt.Fprintf(w, "Usage: imarchive %s [flags]\n\n%s\n", c.name, c.summary)
	if c.detail != "" {
		fmt.Fprintf(w, "\n%s\n", strings.TrimSpace(c.detail))
	}
	var names []string
	c.fs.VisitAll(func(f *flag.Flag) { names = append(names, f.Name) })
	if len(names) == 0 {
		return
	}
	sort.Strings(names)
	fmt.Fprintf(w, "\nFlags (a flag overrides its environment variable, which overrides the default):\n")
	for _, n := range names {
		f := c.fs.Lookup(n)
		fmt.Fprintf(w, "  --%s", n)
		if env := c.envs[n]; env != "" {
			fmt.Fprintf(w, "  (env %s)", env)
		}
		fmt.Fprintf(w, "\n      %s", f.Usage)
		if f.DefValue != "" && f.DefValue != "0" && f.DefValue != "false" && f.DefValue != "[]" {
			fmt.Fprintf(w, " (default %s)", f.DefValue)
		}
		fmt.Fprintln(w)
	}
}

// env records the environment variable of a flag that was just defined.
func (c *command) env(flagName, envName string) { c.envs[flagName] = envName }

func (c *command) str(p *string, name, envName, def, help string) {
	c.fs.StringVar(p, name, def, help)
	c.env(name, envName)
}

func (c *command) duration(p *time.Duration, name, envName string, def time.Duration, help string) {
	c.fs.DurationVar(p, name, def, help)
	c.env(name, envName)
}

func (c *command) integer(p *int, name, envName string, def int, help string) {
	c.fs.IntVar(p, name, def, help)
	c.env(name, envName)
}

// parse applies the environment, then the flags. Every bad environment value is reported at once.
func (c *command) parse(args []string) error {
	var errs []error
	for flagName, envName := range c.envs {
		if v, ok := os.LookupEnv(envName); ok && envName != "" {
			if err := c.fs.Set(flagName, v); err != nil {
				errs = append(errs, fmt.Errorf("environment %s: %w", envName, err))
			}
		}
	}
	if err := errors.Join(errs...); err != nil {
		return err
	}
	return c.fs.Parse(args)
}

// logFlags are shared by every command.
type logFlags struct{ level, format string }

func (l *logFlags) register(c *command) {
	c.str(&l.level, "log-level", "IMARCHIVE_LOG_LEVEL", "info", "log level: debug, info, warn, error")
	c.str(&l.format, "log-format", "IMARCHIVE_LOG_FORMAT", "json", "log format: json or text")
}

func (l *logFlags) logger(w io.Writer) (*slog.Logger, error) {
	var lvl slog.Level
	if err := lvl.UnmarshalText([]byte(l.level)); err != nil {
		return nil, fmt.Errorf("log level %q: %w", l.level, err)
	}
	opts := &slog.HandlerOptions{Level: lvl}
	switch l.format {
	case "json":
		return slog.New(slog.NewJSONHandler(w, opts)), nil
	case "text":
		return slog.New(slog.NewTextHandler(w, opts)), nil
	}
	return nil, fmt.Errorf("log format %q: want json or text", l.format)
}

func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}
