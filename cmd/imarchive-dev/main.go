// Command imarchive-dev holds the developers' tools, apart from the product binary (imarchive) that
// the image ships: bench (the benchmark table of BENCHMARKS.md), bench-queries (the analysts' queries
// at scale) and chaos (the fault-injection run).
// They start services from the source tree's scripts (bash), run go test, and measure
// segmentio/kafka-go as a peer: none of that belongs in a distroless image or the product's
// dependencies. Build it with make build (bin/imarchive-dev); chaos runs bin/imarchive as serve and
// consume.
package main

import (
	"io"
	"os"

	"github.com/imarchive/imarchive/internal/cli"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	return program(stdout, stderr).Main(args, stdout, stderr)
}

func program(stdout, stderr io.Writer) *cli.Program {
	return cli.NewProgram("imarchive-dev", "imarchive's developer tools: the benchmark tables and the chaos run (not shipped in the image)",
		[]*cli.Command{
			benchCommand(stdout, stderr),
			chaosCommand(stdout, stderr),
			benchQueriesCommand(stdout, stderr),
		}, nil)
}
