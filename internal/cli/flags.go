// Package cli is the command-line framework of the imarchive binaries (imarchive, imarchive-dev):
// commands with flags that each have an IMARCHIVE_* variable, an optional config file of the same
// names, precedence flag > environment > file > default, every source recorded (imarchive config
// check), errors in the GNU style with suggestions, and the dispatch of a program's commands.
//
// Written here rather than taken from ff (peterbourgon/ff/v3): ff names a flag's variable by a
// prefix and the flag's name, while ours are named one by one (--ops-listen is
// IMARCHIVE_SERVE_OPS_LISTEN on serve); it does not say where each value came from, which config
// check prints; and it does not refuse a file key that no command of the program reads.
package cli

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

// Command is one command: its flags (each with an IMARCHIVE_* variable) and what it runs.
type Command struct {
	Name    string
	Summary string
	Detail  string
	// Subs are the commands of a group command (imarchive audit verify, hold add|release|list, …), one
	// line each in its --help; SubsOptional when the group also runs without one (export).
	Subs    []Subcommand
	FS      *flag.FlagSet
	Envs    map[string]string // flag name → environment variable
	Known   map[string]bool   // every IMARCHIVE_* name any command reads (for the config file check)
	Sources map[string]string // flag name → where its value came from (after parse)
	Run     func(args []string) error
	// Start, of a long-running command (serve, consume), parses and checks its settings and builds its
	// parts; the command runs what it returns until SIGINT or SIGTERM, dev runs it beside the others.
	Start func(args []string) (RunFunc, error)

	program string // the binary's name, for the help (NewProgram)

	SubsOptional bool
}

// RunFunc runs a long-running command's parts until ctx ends.
type RunFunc func(ctx context.Context) error

// RunStarted is Run for a command with Start: its parts until SIGINT or SIGTERM.
func (c *Command) RunStarted(args []string) error {
	r, err := c.Start(args)
	if err != nil {
		return err
	}
	ctx, stop := SignalContext()
	defer stop()
	return r(ctx)
}

// Subcommand is one command of a group command.
type Subcommand struct{ Name, Summary string }

// Group declares the subcommands of a group command.
func (c *Command) Group(subs ...Subcommand) { c.Subs = subs }

func (c *Command) SubNames() []string {
	names := make([]string, len(c.Subs))
	for i, s := range c.Subs {
		names[i] = s.Name
	}
	return names
}

// writeSubs lists the subcommands, one line each.
func (c *Command) WriteSubs(w io.Writer) {
	width := 0
	for _, s := range c.Subs {
		width = max(width, len(s.Name))
	}
	for _, s := range c.Subs {
		fmt.Fprintf(w, "  %-*s  %s\n", width, s.Name, s.Summary)
	}
}

// UsageError is a mistake in the command line (a flag, an argument, a subcommand): its hint is the
// command's --help.
type UsageError struct{ Err error }

func (e UsageError) Error() string { return e.Err.Error() }
func (e UsageError) Unwrap() error { return e.Err }

func Usagef(format string, args ...any) error { return UsageError{fmt.Errorf(format, args...)} }

// ConfigError is a bad value in the environment or the config file: its hint is imarchive config check.
type ConfigError struct{ Err error }

func (e ConfigError) Error() string { return e.Err.Error() }
func (e ConfigError) Unwrap() error { return e.Err }

// HintError carries the hint that helps with it (imarchive query --describe NAME, …).
type HintError struct {
	Err  error
	Hint string
}

func (e HintError) Error() string { return e.Err.Error() }
func (e HintError) Unwrap() error { return e.Err }

var (
	flagUndefined = regexp.MustCompile(`^flag provided but not defined: -+(.*)$`)
	flagBadValue  = regexp.MustCompile(`^invalid (boolean )?value ("(?:[^"\\]|\\.)*") for (?:flag )?-+([^:]+): (.*)$`)
	flagNoValue   = regexp.MustCompile(`^flag needs an argument: -+(.*)$`)
)

// flagError rewrites the flag package's errors in the GNU style the help uses (--name), and suggests
// the flag an unknown one was probably meant to be.
func (c *Command) FlagError(err error) error {
	msg := err.Error()
	switch {
	case flagUndefined.MatchString(msg):
		name := flagUndefined.FindStringSubmatch(msg)[1]
		var names []string
		c.FS.VisitAll(func(f *flag.Flag) { names = append(names, "--"+f.Name) })
		return Usagef("unknown flag --%s%s", name, suggest.Phrase("--"+name, names))
	case flagBadValue.MatchString(msg):
		m := flagBadValue.FindStringSubmatch(msg)
		detail := m[4]
		if f := c.FS.Lookup(m[3]); f != nil && detail == "parse error" {
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
		return Usagef("--%s %s: %s", m[3], m[2], detail)
	case flagNoValue.MatchString(msg):
		return Usagef("--%s needs a value", flagNoValue.FindStringSubmatch(msg)[1])
	}
	return UsageError{err}
}

func New(name, summary, detail string) *Command {
	c := &Command{Name: name, Summary: summary, Detail: detail, FS: flag.NewFlagSet(name, flag.ContinueOnError), Envs: map[string]string{}}
	c.FS.String("config", "", "file of IMARCHIVE_NAME=value lines (precedence: flag > environment > file > default)")
	c.Env("config", "IMARCHIVE_CONFIG")
	c.FS.Usage = func() {} // run() prints usage on --help; errors say where to look
	c.FS.SetOutput(io.Discard)
	return c
}

func (c *Command) Usage(w io.Writer) {
	switch {
	case len(c.Subs) > 0 && c.SubsOptional:
		fmt.Fprintf(w, "Usage: %s %s [COMMAND] [flags]\n\n%s\n\nCommands:\n", c.prog(), c.Name, c.Summary)
		c.WriteSubs(w)
	case len(c.Subs) > 0:
		fmt.Fprintf(w, "Usage: %s %s COMMAND [flags]\n\n%s\n\nCommands:\n", c.prog(), c.Name, c.Summary)
		c.WriteSubs(w)
	default:
		fmt.Fprintf(w, "Usage: %s %s [flags]\n\n%s\n", c.prog(), c.Name, c.Summary)
	}
	if c.Detail != "" {
		fmt.Fprintf(w, "\n%s\n", strings.TrimSpace(c.Detail))
	}
	var names []string
	c.FS.VisitAll(func(f *flag.Flag) { names = append(names, f.Name) })
	if len(names) == 0 {
		return
	}
	sort.Strings(names)
	fmt.Fprintf(w, "\nFlags (a flag overrides its environment variable, which overrides the default):\n")
	for _, n := range names {
		f := c.FS.Lookup(n)
		fmt.Fprintf(w, "  --%s", n)
		if env := c.Envs[n]; env != "" {
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
func (c *Command) Env(flagName, envName string) { c.Envs[flagName] = envName }

func (c *Command) Str(p *string, name, envName, def, help string) {
	c.FS.StringVar(p, name, def, help)
	c.Env(name, envName)
}

func (c *Command) Duration(p *time.Duration, name, envName string, def time.Duration, help string) {
	c.FS.DurationVar(p, name, def, help)
	c.Env(name, envName)
}

// Bool defines a bool flag with its IMARCHIVE_* variable.
func (c *Command) Bool(p *bool, name, envName string, def bool, help string) {
	c.FS.BoolVar(p, name, def, help)
	c.Env(name, envName)
}

// Var defines a flag of any flag.Value with its IMARCHIVE_* variable.
func (c *Command) Var(v flag.Value, name, envName, help string) {
	c.FS.Var(v, name, help)
	c.Env(name, envName)
}

func (c *Command) Integer(p *int, name, envName string, def int, help string) {
	c.FS.IntVar(p, name, def, help)
	c.Env(name, envName)
}

// Where a flag's value came from.
const (
	SourceDefault = "default"
	SourceFile    = "file"
	SourceEnv     = "env"
	SourceFlag    = "flag"
)

// parse applies, in rising precedence, the config file (--config or IMARCHIVE_CONFIG), the environment,
// then the flags. Every bad file or environment value is reported at once. known lists every
// IMARCHIVE_* name any command reads: a file key outside it is an error (a typo must not be ignored).
func (c *Command) Parse(args []string) error {
	c.Sources = map[string]string{}
	var errs []error
	if path := ConfigPath(args); path != "" {
		kv, err := ReadConfigFile(path) // a bad line is reported with the rest, not alone
		if err != nil {
			errs = append(errs, err)
		}
		byEnv := map[string]string{}
		for f, e := range c.Envs {
			byEnv[e] = f
		}
		keys := make([]string, 0, len(kv))
		for k := range kv {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			if f, ok := byEnv[k]; ok {
				if err := c.FS.Set(f, kv[k]); err != nil {
					errs = append(errs, fmt.Errorf("config file %s: %s: %w", path, k, err))
				}
				c.Sources[f] = SourceFile
			} else if !c.Known[k] {
				errs = append(errs, fmt.Errorf("config file %s: unknown key %s", path, k))
			}
		}
	}
	for flagName, envName := range c.Envs {
		if v, ok := os.LookupEnv(envName); ok && envName != "" {
			if err := c.FS.Set(flagName, v); err != nil {
				errs = append(errs, fmt.Errorf("environment %s: %w", envName, err))
			}
			c.Sources[flagName] = SourceEnv
		}
	}
	if err := errors.Join(errs...); err != nil {
		return ConfigError{err}
	}
	if err := c.FS.Parse(args); err != nil {
		return c.FlagError(err)
	}
	// The flag package cannot tell Set from a command-line flag, so read the names off the arguments.
	for _, a := range args[:len(args)-len(c.FS.Args())] {
		if strings.HasPrefix(a, "-") {
			name, _, _ := strings.Cut(strings.TrimLeft(a, "-"), "=")
			if c.FS.Lookup(name) != nil {
				c.Sources[name] = SourceFlag
			}
		}
	}
	return nil
}

// source says where a flag's value came from.
func (c *Command) Source(name string) string {
	if s, ok := c.Sources[name]; ok {
		return s
	}
	return SourceDefault
}

// ConfigPath finds --config in args (it must be known before the other flags are parsed), else
// IMARCHIVE_CONFIG.
func ConfigPath(args []string) string {
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

// ReadConfigFile reads KEY=VALUE lines — the same IMARCHIVE_* names as the environment, so one file
// serves every command and doubles as an env file. '#' starts a comment line; "export " and matching
// quotes around a value are allowed.
func ReadConfigFile(path string) (map[string]string, error) {
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

// LogFlags are shared by every command.
type LogFlags struct{ Level, Format string }

func (l *LogFlags) Register(c *Command) {
	c.Str(&l.Level, "log-level", "IMARCHIVE_LOG_LEVEL", "info", "log level: debug, info, warn, error")
	c.Str(&l.Format, "log-format", "IMARCHIVE_LOG_FORMAT", "json", "log format: json or text")
}

func (l *LogFlags) Logger(w io.Writer) (*slog.Logger, error) {
	var lvl slog.Level
	if err := lvl.UnmarshalText([]byte(l.Level)); err != nil {
		return nil, fmt.Errorf("log level %q: %w", l.Level, err)
	}
	opts := &slog.HandlerOptions{Level: lvl}
	switch l.Format {
	case "json":
		return slog.New(slog.NewJSONHandler(w, opts)), nil
	case "text":
		return slog.New(slog.NewTextHandler(w, opts)), nil
	}
	return nil, fmt.Errorf("log format %q: want json or text", l.Format)
}

func SplitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

func (c *Command) prog() string {
	if c.program == "" {
		return "imarchive"
	}
	return c.program
}
