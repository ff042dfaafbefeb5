#!/usr/bin/env bash
# The test command (README, .ci/run): starts a real Kafka broker and the ClickHouse engine unless the
# environment already names them, runs vet and every test against them, and stops what it started.
#
#   scripts/test.sh [go test flags…]      e.g. scripts/test.sh -run EndToEnd -v
#
# To test against your own servers (for example the docker compose stack), set both
#   IMARCHIVE_TEST_KAFKA_BROKERS=127.0.0.1:9092 IMARCHIVE_TEST_CLICKHOUSE_DSN=clickhouse://127.0.0.1:9000/default
set -euo pipefail
cd "$(dirname "$0")/.."
export IMARCHIVE_TEST_DIR=${IMARCHIVE_TEST_DIR:-$PWD/.testenv}
started=()
cleanup() {
	for svc in "${started[@]}"; do scripts/"$svc".sh stop || true; done
}
trap cleanup EXIT

t0=$(date +%s)
if [ -z "${IMARCHIVE_TEST_KAFKA_BROKERS:-}" ]; then
	scripts/kafka.sh start
	started+=(kafka)
	export IMARCHIVE_TEST_KAFKA_BROKERS=127.0.0.1:${IMARCHIVE_KAFKA_PORT:-19092}
fi
if [ -z "${IMARCHIVE_TEST_CLICKHOUSE_DSN:-}" ]; then
	scripts/chdb.sh start
	started+=(chdb)
	export IMARCHIVE_TEST_CLICKHOUSE_DSN=http://127.0.0.1:${IMARCHIVE_CHDB_PORT:-18123}/default
fi
export IMARCHIVE_TEST_REQUIRE=1
# The failure tests (cmd/imarchive/e2e_pipeline_test.go) kill and restart the services this script
# started, through these control commands; go test -p 1 below keeps every other package's tests from
# running while one is down. For services of your own, set both variables to your own commands.
if [[ " ${started[*]} " == *" kafka "* ]]; then
	export IMARCHIVE_TEST_KAFKA_CTL=${IMARCHIVE_TEST_KAFKA_CTL:-"env IMARCHIVE_TEST_DIR=$IMARCHIVE_TEST_DIR IMARCHIVE_KAFKA_PORT=${IMARCHIVE_KAFKA_PORT:-19092} $PWD/scripts/kafka.sh"}
fi
if [[ " ${started[*]} " == *" chdb "* ]]; then
	export IMARCHIVE_TEST_CHDB_CTL=${IMARCHIVE_TEST_CHDB_CTL:-"env IMARCHIVE_TEST_DIR=$IMARCHIVE_TEST_DIR IMARCHIVE_CHDB_PORT=${IMARCHIVE_CHDB_PORT:-18123} $PWD/scripts/chdb.sh"}
fi
echo "test.sh: services ready in $(( $(date +%s) - t0 ))s (kafka $IMARCHIVE_TEST_KAFKA_BROKERS, clickhouse $IMARCHIVE_TEST_CLICKHOUSE_DSN)"

unformatted=$(gofmt -l $(git ls-files '*.go' 2>/dev/null || find . -name '*.go'))
if [ -n "$unformatted" ]; then echo "gofmt would change:"; echo "$unformatted"; exit 1; fi
# The dashboards are generated (dashboards/src, the Grafana Foundation SDK) and committed: regenerate
# them from the queries/ files and fail when the result differs from what is committed. npm's cache
# (~/.npm) makes this a few seconds after the first run.
command -v npm >/dev/null || { echo "test.sh: npm (Node.js 20) is needed to regenerate dashboards/json"; exit 1; }
(cd dashboards && npm ci --no-audit --no-fund --prefer-offline --loglevel=error && npm run --silent generate >/dev/null)
if ! git diff --exit-code --stat -- dashboards/json || [ -n "$(git status --porcelain -- dashboards/json)" ]; then
	echo "test.sh: dashboards/json is not what dashboards/src generates from queries/: run (cd dashboards && npm ci && npm run generate) and commit the result"
	exit 1
fi
go vet ./...
go test -p 1 -count=1 -timeout 20m "$@" ./...

# Each fuzz target runs briefly (IMARCHIVE_FUZZTIME, default 5s; 0 skips), on a plain run only: its seed
# corpus (testdata/fuzz and the examples it adds) already ran as tests above.
fuzztime=${IMARCHIVE_FUZZTIME:-5s}
if [ "$fuzztime" != 0 ] && [ $# -eq 0 ]; then
	go test -list '^Fuzz' ./... | awk '/^Fuzz/ { names = names " " $1 } /^ok/ { if (names != "") print $2 names; names = "" }' |
	while read -r pkg targets; do
		for target in $targets; do
			echo "test.sh: fuzzing $pkg $target for $fuzztime"
			go test -run '^$' -fuzz "^${target}\$" -fuzztime "$fuzztime" "$pkg"
		done
	done
fi
