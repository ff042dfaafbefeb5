// Command imarchive archives IM platform callbacks: it receives them (serve), writes them into
// ClickHouse (consume), manages the schema (migrate) and runs the named queries (query).
package main

import (
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"syscall"

	"github.com/imarchive/imarchive/chconn"
	"github.com/imarchive/imarchive/internal/cli"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	return program(stdout, stderr).Main(args, stdout, stderr)
}

// program is imarchive with every command, each knowing every IMARCHIVE_* name any command reads.
func program(stdout, stderr io.Writer) *cli.Program {
	return cli.NewProgram("imarchive", "an event-sourced archive of IM platform callbacks (NetEase Yunxin QChat, ET-iLink, Maxim)",
		commands(stdout, stderr), hint)
}

func commands(stdout, stderr io.Writer) []*cli.Command {
	return []*cli.Command{
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
		exportCommand(stdout, stderr),
		auditCommand(stdout, stderr),
		holdCommand(stdout, stderr),
		retentionCommand(stdout, stderr),
		spoolCommand(stdout),
	}
}

// hint says what helps with an error beyond a usage mistake: the effective configuration for a bad or
// unreachable setting.
func hint(cmd string, err error) string {
	var (
		ce cli.ConfigError
		ne net.Error
	)
	switch {
	case errors.As(err, &ce), errors.Is(err, chconn.ErrNoDSN), errors.Is(err, chconn.ErrBadDSN):
		return fmt.Sprintf("imarchive config check --commands %s shows every setting and where it came from", cmd)
	case errors.As(err, &ne), errors.Is(err, syscall.ECONNREFUSED):
		return fmt.Sprintf("is the server running? imarchive config check --commands %s shows the addresses in use", cmd)
	}
	return ""
}
