// Command imarchive archives IM platform callbacks: it receives them (serve), writes them into
// ClickHouse (consume), manages the schema (migrate) and runs the named queries (query).
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"os/signal"
	"slices"
	"strings"
	"syscall"

	"github.com/imarchive/imarchive/chconn"
	"github.com/imarchive/imarchive/internal/suggest"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// commands builds every command, each knowing every IMARCHIVE_* name any command reads.
func commands(stdout, stderr io.Writer) []*command {
	cmds := []*command{
		serveCommand(stderr),
		consumeCommand(stderr),
		replayCommand(stdout, stderr),
		migrateCommand(stdout, stderr),
		queryCommand(stdout, stderr),
		versionCommand(stdout),
		healthcheckCommand(stdout),
		configCommand(stdout),
		loadgenCommand(stdout, stderr),
		devCommand(stdout, stderr),
		ilinkCommand(stdout, stderr),
		maximCommand(stdout, stderr),
		accessCommand(stdout, stderr),
		chaosCommand(stdout, stderr),
		benchCommand(stdout, stderr),
		benchQueriesCommand(stdout, stderr),
		exportCommand(stdout, stderr),
		auditCommand(stdout, stderr),
		holdCommand(stdout, stderr),
		retentionCommand(stdout, stderr),
		spoolCommand(stdout),
	}
	known := map[string]bool{}
	for _, c := range cmds {
		for _, e := range c.envs {
			known[e] = true
		}
	}
	for _, c := range cmds {
		c.known = known
	}
	return cmds
}

func run(args []string, stdout, stderr io.Writer) int {
	cmds := commands(stdout, stderr)
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "-help" || args[0] == "help" {
		if len(args) > 1 && args[0] == "help" {
			if c := find(cmds, args[1]); c != nil {
				c.usage(stdout)
				return 0
			}
			return unknownCommand(stderr, cmds, args[1])
		}
		if len(args) == 0 {
			topUsage(stderr, cmds)
			return 2
		}
		topUsage(stdout, cmds)
		return 0
	}
	c := find(cmds, args[0])
	if c == nil {
		return unknownCommand(stderr, cmds, args[0])
	}
	rest := args[1:]
	if helpAsked(rest) {
		c.usage(stdout)
		return 0
	}
	if len(c.subs) > 0 {
		switch {
		case len(rest) == 0 && !c.subsOptional:
			fmt.Fprintf(stderr, "imarchive %s: which command? One of:\n", c.name)
			c.writeSubs(stderr)
			fmt.Fprintf(stderr, "(imarchive %s --help lists them with the flags)\n", c.name)
			return 2
		case len(rest) > 0 && !strings.HasPrefix(rest[0], "-") && !slices.Contains(c.subNames(), rest[0]) && !c.subsOptional:
			fmt.Fprintf(stderr, "imarchive %s: unknown command %q%s; one of:\n", c.name, rest[0], suggest.Phrase(rest[0], c.subNames()))
			c.writeSubs(stderr)
			return 2
		}
	}
	if err := c.run(rest); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			c.usage(stdout)
			return 0
		}
		fmt.Fprintf(stderr, "imarchive %s: %v\n", c.name, err)
		if h := hint(c.name, err); h != "" {
			fmt.Fprintf(stderr, "(%s)\n", h)
		}
		var ue usageError
		if errors.As(err, &ue) {
			return 2
		}
		return 1
	}
	return 0
}

// hint says what helps with an error: the flags for a mistaken command line, the effective
// configuration for a bad or unreachable setting, a query's description for a bad parameter.
func hint(cmd string, err error) string {
	var (
		he hintError
		ue usageError
		ce configError
		ne net.Error
	)
	switch {
	case errors.As(err, &he):
		return he.hint
	case errors.As(err, &ue):
		return fmt.Sprintf("imarchive %s --help lists the flags", cmd)
	case errors.As(err, &ce), errors.Is(err, chconn.ErrNoDSN), errors.Is(err, chconn.ErrBadDSN):
		return fmt.Sprintf("imarchive config check --commands %s shows every setting and where it came from", cmd)
	case errors.As(err, &ne), errors.Is(err, syscall.ECONNREFUSED):
		return fmt.Sprintf("is the server running? imarchive config check --commands %s shows the addresses in use", cmd)
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

func find(cmds []*command, name string) *command {
	for _, c := range cmds {
		if c.name == name {
			return c
		}
	}
	return nil
}

func unknownCommand(stderr io.Writer, cmds []*command, name string) int {
	names := make([]string, len(cmds))
	for i, c := range cmds {
		names[i] = c.name
	}
	fmt.Fprintf(stderr, "imarchive: unknown command %q%s\n(imarchive --help lists the commands)\n", name, suggest.Phrase(name, names))
	return 2
}

func topUsage(w io.Writer, cmds []*command) {
	fmt.Fprintf(w, "imarchive: an event-sourced archive of IM platform callbacks (NetEase Yunxin QChat, ET-iLink, Maxim)\n\nUsage: imarchive COMMAND [flags]\n\nCommands:\n")
	for _, c := range cmds {
		fmt.Fprintf(w, "  %-12s %s\n", c.name, c.summary)
	}
	fmt.Fprintf(w, "\nRun 'imarchive COMMAND --help' (or imarchive help COMMAND) for a command's subcommands,\nflags and environment variables.\n")
}

// signalContext is cancelled on SIGINT or SIGTERM.
func signalContext() (context.Context, context.CancelFunc) {
	return signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
}
