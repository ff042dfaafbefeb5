package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"slices"
	"strings"
	"syscall"

	"github.com/imarchive/imarchive/internal/suggest"
)

// Program is one binary's commands.
type Program struct {
	Name     string // imarchive, imarchive-dev
	Intro    string // the first line of its --help
	Commands []*Command
	// Hint, when not nil, says what helps with a command's error beyond a usage mistake (for which
	// the command's --help is the hint); "" for nothing.
	Hint func(cmd string, err error) string
}

// NewProgram ties the commands to the program: a long-running command (Start) runs until SIGINT or
// SIGTERM, and every command knows every IMARCHIVE_* name the program's commands read (a config file
// key outside them is an error).
func NewProgram(name, intro string, cmds []*Command, hint func(cmd string, err error) string) *Program {
	known := map[string]bool{}
	for _, c := range cmds {
		c.program = name
		if c.Start != nil && c.Run == nil {
			c.Run = c.RunStarted
		}
		for _, e := range c.Envs {
			known[e] = true
		}
	}
	for _, c := range cmds {
		c.Known = known
	}
	return &Program{Name: name, Intro: intro, Commands: cmds, Hint: hint}
}

// Find returns the command name, or nil.
func (p *Program) Find(name string) *Command {
	for _, c := range p.Commands {
		if c.Name == name {
			return c
		}
	}
	return nil
}

// Main runs the command args name and returns the exit status: 0, 1 for a failure, 2 for a usage
// mistake. --help, -h and help COMMAND print the help on stdout and exit 0.
func (p *Program) Main(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "-help" || args[0] == "help" {
		if len(args) > 1 && args[0] == "help" {
			if c := p.Find(args[1]); c != nil {
				c.Usage(stdout)
				return 0
			}
			return p.unknownCommand(stderr, args[1])
		}
		if len(args) == 0 {
			p.usage(stderr)
			return 2
		}
		p.usage(stdout)
		return 0
	}
	c := p.Find(args[0])
	if c == nil {
		return p.unknownCommand(stderr, args[0])
	}
	rest := args[1:]
	if helpAsked(rest) {
		c.Usage(stdout)
		return 0
	}
	if len(c.Subs) > 0 {
		switch {
		case len(rest) == 0 && !c.SubsOptional:
			fmt.Fprintf(stderr, "%s %s: which command? One of:\n", p.Name, c.Name)
			c.WriteSubs(stderr)
			fmt.Fprintf(stderr, "(%s %s --help lists them with the flags)\n", p.Name, c.Name)
			return 2
		case len(rest) > 0 && !strings.HasPrefix(rest[0], "-") && !slices.Contains(c.SubNames(), rest[0]) && !c.SubsOptional:
			fmt.Fprintf(stderr, "%s %s: unknown command %q%s; one of:\n", p.Name, c.Name, rest[0], suggest.Phrase(rest[0], c.SubNames()))
			c.WriteSubs(stderr)
			return 2
		}
	}
	if err := c.Run(rest); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			c.Usage(stdout)
			return 0
		}
		fmt.Fprintf(stderr, "%s %s: %v\n", p.Name, c.Name, err)
		if h := p.hint(c.Name, err); h != "" {
			fmt.Fprintf(stderr, "(%s)\n", h)
		}
		var ue UsageError
		if errors.As(err, &ue) {
			return 2
		}
		return 1
	}
	return 0
}

// hint says what helps with an error: a HintError's own hint, the flags for a mistaken command line,
// else the program's Hint.
func (p *Program) hint(cmd string, err error) string {
	var (
		he HintError
		ue UsageError
	)
	switch {
	case errors.As(err, &he):
		return he.Hint
	case errors.As(err, &ue):
		return fmt.Sprintf("%s %s --help lists the flags", p.Name, cmd)
	case p.Hint != nil:
		return p.Hint(cmd, err)
	}
	return ""
}

// helpAsked reports whether the arguments ask for help (-h, --help, -help) before a "--".
func helpAsked(args []string) bool {
	for _, a := range args {
		switch a {
		case "--":
			return false
		case "-h", "--help", "-help":
			return true
		}
	}
	return false
}

func (p *Program) unknownCommand(stderr io.Writer, name string) int {
	names := make([]string, len(p.Commands))
	for i, c := range p.Commands {
		names[i] = c.Name
	}
	fmt.Fprintf(stderr, "%s: unknown command %q%s\n(%s --help lists the commands)\n", p.Name, name, suggest.Phrase(name, names), p.Name)
	return 2
}

func (p *Program) usage(w io.Writer) {
	fmt.Fprintf(w, "%s: %s\n\nUsage: %s COMMAND [flags]\n\nCommands:\n", p.Name, p.Intro, p.Name)
	for _, c := range p.Commands {
		fmt.Fprintf(w, "  %-12s %s\n", c.Name, c.Summary)
	}
	fmt.Fprintf(w, "\nRun '%s COMMAND --help' (or %s help COMMAND) for a command's subcommands,\nflags and environment variables.\n", p.Name, p.Name)
}

// SignalContext is cancelled on SIGINT or SIGTERM.
func SignalContext() (context.Context, context.CancelFunc) {
	return signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
}
