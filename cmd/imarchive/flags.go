package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"regexp"
	"sort"
	"strings"
	"time"

	"github.com/imarchive/imarchive/internal/suggest"
)

// command is one subcommand: its flags (each with an IMARCHIVE_* variable) and what it runs.
type command struct {
	name    string
	summary string
	detail  string
	// subs are the commands of a group command (imarchive audit verify, hold add|release|list, …), one
	// line each in its --help; subsOptional when the group also runs without one (export).
	subs    []subcommand
	fs      *flag.FlagSet
	envs    map[string]string // flag name → environment variable
	known   map[string]bool   // every IMARCHIVE_* name any command reads (for the config file check)
	sources map[string]string // flag name → where its value came from (after parse)
	run     func(args []string) error
	// start, of a long-running command (serve, consume), parses and checks its settings and builds its
	// parts; the command runs what it returns until SIGINT or SIGTERM, dev runs it beside the others.
	start func(args []string) (runFunc, error)

	subsOptional bool
}

// runFunc runs a long-running command's parts until ctx ends.
type runFunc func(ctx context.Context) error

// runStarted is run for a command with start: its parts until SIGINT or SIGTERM.
func (c *command) runStarted(args []string) error {
	r, err := c.start(args)
	if err != nil {
		return err
	}
	ctx, stop := signalContext()
	defer stop()
	return r(ctx)
}

// subcommand is one command of a group command.
type subcommand struct{ name, summary string }

// group declares the subcommands of a group command.
func (c *command) group(subs ...subcommand) { c.subs = subs }

func (c *command) subNames() []string {
	names := make([]string, len(c.subs))
	for i, s := range c.subs {
		names[i] = s.name
	}
	return names
}

// writeSubs lists the subcommands, one line each.
func (c *command) writeSubs(w io.Writer) {
	width := 0
	for _, s := range c.subs {
		width = max(width, len(s.name))
	}
	for _, s := range c.subs {
		fmt.Fprintf(w, "  %-*s  %s\n", width, s.name, s.summary)
	}
}

// usageError is a mistake in the command line (a flag, an argument, a subcommand): its hint is the
// command's --help.
type usageError struct{ err error }

func (e usageError) Error() string { return e.err.Error() }
func (e usageError) Unwrap() error { return e.err }

func usagef(format string, args ...any) error { return usageError{fmt.Errorf(format, args...)} }

// configError is a bad value in the environment or the config file: its hint is imarchive config check.
type configError struct{ err error }

func (e configError) Error() string { return e.err.Error() }
func (e configError) Unwrap() error { return e.err }

// hintError carries the hint that helps with it (imarchive query --describe NAME, …).
type hintError struct {
	err  error
	hint string
}

func (e hintError) Error() string { return e.err.Error() }
func (e hintError) Unwrap() error { return e.err }

var (
	flagUndefined = regexp.MustCompile(`^flag provided but not defined: -+(.*)$`)
	flagBadValue  = regexp.MustCompile(`^invalid (boolean )?value ("(?:[^"\\]|\\.)*") for (?:flag )?-+([^:]+): (.*)$`)
	flagNoValue   = regexp.MustCompile(`^flag needs an argument: -+(.*)$`)
)

// flagError rewrites the flag package's errors in the GNU style the help uses (--name), and suggests
// the flag an unknown one was probably meant to be.
func (c *command) flagError(err error) error {
	msg := err.Error()
	switch {
	case flagUndefined.MatchString(msg):
		name := flagUndefined.FindStringSubmatch(msg)[1]
		var names []string
		c.fs.VisitAll(func(f *flag.Flag) { names = append(names, "--"+f.Name) })
		return usagef("unknown flag --%s%s", name, suggest.Phrase("--"+name, names))
	case flagBadValue.MatchString(msg):
		m := flagBadValue.FindStringSubmatch(msg)
		detail := m[4]
		if f := c.fs.Lookup(m[3]); f != nil && detail == "parse error" {
			if g, ok := f.Value.(flag.Getter); ok {
				switch g.Get().(type) {
				case time.Duration:
					detail = "want a duration such as 500ms, 30s, 5m or 1h"
				case int, int64, uint, uint64:
					detail = "want a whole number"
				case float64:
					detail = "want a number"
				case bool:
					detail = "want true or false"
				}
			}
		}
		return usagef("--%s %s: %s", m[3], m[2], detail)
	case flagNoValue.MatchString(msg):
		return usagef("--%s needs a value", flagNoValue.FindStringSubmatch(msg)[1])
	}
	return usageError{err}
}

func newCommand(name, summary, detail string) *command {
	c := &command{name: name, summary: summary, detail: detail, fs: flag.NewFlagSet(name, flag.ContinueOnError), envs: map[string]string{}}
	c.fs.String("config", "", "file of IMARCHIVE_NAME=value lines (precedence: flag > environment > file > default)")
	c.env("config", "IMARCHIVE_CONFIG")
	c.fs.Usage = func() {} // run() prints usage on --help; errors say where to look
	c.fs.SetOutput(io.Discard)
	return c
}

func (c *command) usage(w io.Writer) {
	switch {
	case len(c.subs) > 0 && c.subsOptional:
		fmt.Fprintf(w, "Usage: imarchive %s [COMMAND] [flags]\n\n%s\n\nCommands:\n", c.name, c.summary)
		c.writeSubs(w)
	case len(c.subs) > 0:
		fmt.Fprintf(w, "Usage: imarchive %s COMMAND [flags]\n\n%s\n\nCommands:\n", c.name, c.summary)
		c.writeSubs(w)
	default:
		fmt.Fprintf(w, "Usage: imarchive %s [flags]\n\n%s\n", c.name, c.summary)
	}
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

// Where a flag's value came from.
const (
	sourceDefault = "default"
	sourceFile    = "file"
	sourceEnv     = "env"
	sourceFlag    = "flag"
)

// parse applies, in rising precedence, the config file (--config or IMARCHIVE_CONFIG), the environment,
// then the flags. Every bad file or environment value is reported at once. known lists every
// IMARCHIVE_* name any command reads: a file key outside it is an error (a typo must not be ignored).
func (c *command) parse(args []string) error {
	c.sources = map[string]string{}
	var errs []error
	if path := configPath(args); path != "" {
		kv, err := readConfigFile(path) // a bad line is reported with the rest, not alone
		if err != nil {
			errs = append(errs, err)
		}
		byEnv := map[string]string{}
		for f, e := range c.envs {
			byEnv[e] = f
		}
		keys := make([]string, 0, len(kv))
		for k := range kv {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			if f, ok := byEnv[k]; ok {
				if err := c.fs.Set(f, kv[k]); err != nil {
					errs = append(errs, fmt.Errorf("config file %s: %s: %w", path, k, err))
				}
				c.sources[f] = sourceFile
			} else if !c.known[k] {
				errs = append(errs, fmt.Errorf("config file %s: unknown key %s", path, k))
			}
		}
	}
	for flagName, envName := range c.envs {
		if v, ok := os.LookupEnv(envName); ok && envName != "" {
			if err := c.fs.Set(flagName, v); err != nil {
				errs = append(errs, fmt.Errorf("environment %s: %w", envName, err))
			}
			c.sources[flagName] = sourceEnv
		}
	}
	if err := errors.Join(errs...); err != nil {
		return configError{err}
	}
	if err := c.fs.Parse(args); err != nil {
		return c.flagError(err)
	}
	// The flag package cannot tell Set from a command-line flag, so read the names off the arguments.
	for _, a := range args[:len(args)-len(c.fs.Args())] {
		if strings.HasPrefix(a, "-") {
			name, _, _ := strings.Cut(strings.TrimLeft(a, "-"), "=")
			if c.fs.Lookup(name) != nil {
				c.sources[name] = sourceFlag
			}
		}
	}
	return nil
}

// source says where a flag's value came from.
func (c *command) source(name string) string {
	if s, ok := c.sources[name]; ok {
		return s
	}
	return sourceDefault
}

// configPath finds --config in args (it must be known before the other flags are parsed), else
// IMARCHIVE_CONFIG.
func configPath(args []string) string {
	for i, a := range args {
		if a == "--" {
			break
		}
		for _, p := range []string{"--config=", "-config="} {
			if strings.HasPrefix(a, p) {
				return strings.TrimPrefix(a, p)
			}
		}
		if (a == "--config" || a == "-config") && i+1 < len(args) {
			return args[i+1]
		}
	}
	return os.Getenv("IMARCHIVE_CONFIG")
}

// readConfigFile reads KEY=VALUE lines — the same IMARCHIVE_* names as the environment, so one file
// serves every command and doubles as an env file. '#' starts a comment line; "export " and matching
// quotes around a value are allowed.
func readConfigFile(path string) (map[string]string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("config file: %w", err)
	}
	out := map[string]string{}
	var errs []error
	for i, line := range strings.Split(string(b), "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		line = strings.TrimPrefix(line, "export ")
		k, v, ok := strings.Cut(line, "=")
		k, v = strings.TrimSpace(k), strings.TrimSpace(v)
		if !ok || !strings.HasPrefix(k, "IMARCHIVE_") {
			errs = append(errs, fmt.Errorf("config file %s:%d: want IMARCHIVE_NAME=value", path, i+1))
			continue
		}
		if len(v) >= 2 && (v[0] == '"' || v[0] == '\'') && v[len(v)-1] == v[0] {
			v = v[1 : len(v)-1]
		}
		if _, dup := out[k]; dup {
			errs = append(errs, fmt.Errorf("config file %s:%d: %s set twice", path, i+1, k))
		}
		out[k] = v
	}
	return out, errors.Join(errs...)
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
