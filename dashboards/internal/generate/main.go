// Command generate writes imarchive's Grafana dashboards (json/) and provisioning files from the Go in
// package dashboards. Run it with go generate ./dashboards from the repository, or
// go run ./dashboards/internal/generate -dir dashboards.
package main

import (
	"flag"
	"fmt"
	"os"

	"github.com/imarchive/imarchive/dashboards"
)

func main() {
	dir := flag.String("dir", ".", "the dashboards directory to write json/ and provisioning/ into")
	flag.Parse()
	if err := dashboards.Write(*dir); err != nil {
		fmt.Fprintln(os.Stderr, "generate dashboards:", err)
		os.Exit(1)
	}
}
