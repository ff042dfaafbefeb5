// Package dashboards holds imarchive's Grafana dashboards as Go code: built with the Grafana Foundation
// SDK's builders (github.com/grafana/grafana-foundation-sdk/go), generated into json/ with the
// provisioning files (go generate ./dashboards), committed, and provisioned by docker compose.
//
// Every ClickHouse panel and variable runs a file of ../queries, the same file `imarchive query NAME`
// runs, turned into Grafana's terms by one rule, PanelSQL: the time range and interval parameters
// become the ClickHouse plugin's macros, the filters the dashboard's variables, and a panel gives every
// other parameter a constant. The SDK has no ClickHouse query type, so CHQuery is one, a custom
// dataquery variant with the fields the plugin reads.
//
// The tests hold the committed files to the code (TestCommittedFilesAreGenerated), read every
// dashboard back through the SDK (TestRoundTripThroughSDK), check what Grafana would read
// (TestDashboardStructure, TestPrometheusQueriesResolve, TestProvisioning), and run every panel's and
// variable's SQL on the real engine after expanding it as Grafana and the plugin do
// (TestPanelQueriesOnSeed, with the model of grafana_test.go). README.md says more.
//
// The generator is a go generate step, not an imarchive command, so the SDK stays out of the shipped
// binary: dashboards are built when their code changes, by whoever changes it, with the Go toolchain.
package dashboards
