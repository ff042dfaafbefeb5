// Command imarchive archives IM platform callbacks: it receives them (serve), writes them into
// ClickHouse (consume), manages the schema (migrate) and runs the named queries (query).
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
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
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		topUsage(stdout, cmds)
		if len(args) == 0 {
			return 2
		}
		return 0
	}
	for _, c := range cmds {
		if c.name != args[0] {
			continue
		}
		if err := c.run(args[1:]); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				c.usage(stdout)
				return 0
			}
			fmt.Fprintf(stderr, "imarchive %s: %v\n(imarchive %s --help lists the flags)\n", c.name, err, c.name)
			return 1
		}
		return 0
	}
	fmt.Fprintf(stderr, "imarchive: unknown command %q\n\n", args[0])
	topUsage(stderr, cmds)
	return 2
}

func topUsage(w io.Writer, cmds []*command) {
	fmt.Fprintf(w, "imarchive: an event-sourced archive of IM platform callbacks (NetEase Yunxin QChat, ET-iLink, Maxim)\n\nUsage: imarchive COMMAND [flags]\n\nCommands:\n")
	for _, c := range cmds {
		fmt.Fprintf(w, "  %-12s %s\n", c.name, c.summary)
	}
	fmt.Fprintf(w, "\nRun 'imarchive COMMAND --help' for a command's flags and environment variables.\n")
}

// signalContext is cancelled on SIGINT or SIGTERM.
func signalContext() (context.Context, context.CancelFunc) {
	return signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
}
