#!/usr/bin/env bash
# The test command (README, .ci/run): starts a real Kafka broker and the ClickHouse engine unless the
# environment already names them, runs gofmt, vet and every test against them, then fuzzes each fuzz
# target for IMARCHIVE_FUZZTIME (5s), and stops what it started.
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
	for svc in "${started[@]}"; do
		case $svc in
		kafka) $kctl stop || true ;;
		chdb) $cctl stop || true ;;
		esac
	done
}
trap cleanup EXIT

t0=$(date +%s)
kport=${IMARCHIVE_KAFKA_PORT:-19092}
cport=${IMARCHIVE_CHDB_PORT:-18123}
kctl="env IMARCHIVE_TEST_DIR=$IMARCHIVE_TEST_DIR IMARCHIVE_KAFKA_PORT=$kport $PWD/scripts/kafka.sh"
cctl="env IMARCHIVE_TEST_DIR=$IMARCHIVE_TEST_DIR IMARCHIVE_CHDB_PORT=$cport $PWD/scripts/chdb.sh"
# A service already running there (started by hand for a fast loop) is used and left running: only what
# this run starts is stopped at the end. (make stack runs on ports and a directory of its own.)
if [ -z "${IMARCHIVE_TEST_KAFKA_BROKERS:-}" ]; then
	if $kctl status; then
		echo "test.sh: using the Kafka broker already running on port $kport (left running)"
	else
		started+=(kafka) # before start: a failed start may leave a process behind
		$kctl start
	fi
	export IMARCHIVE_TEST_KAFKA_BROKERS=127.0.0.1:$kport
	# The failure tests (cmd/imarchive/e2e_pipeline_test.go, chaos) kill and restart the services
	# through these control commands; go test -p 1 below keeps every other package's tests from
	# running while one is down. For services of your own, set both variables to your own commands.
	export IMARCHIVE_TEST_KAFKA_CTL=${IMARCHIVE_TEST_KAFKA_CTL:-$kctl}
fi
if [ -z "${IMARCHIVE_TEST_CLICKHOUSE_DSN:-}" ]; then
	if $cctl status >/dev/null 2>&1; then
		echo "test.sh: using the ClickHouse engine already running on port $cport (left running)"
	else
		started+=(chdb)
		$cctl start >/dev/null
	fi
	export IMARCHIVE_TEST_CLICKHOUSE_DSN=http://127.0.0.1:$cport/default
	export IMARCHIVE_TEST_CHDB_CTL=${IMARCHIVE_TEST_CHDB_CTL:-$cctl}
fi
export IMARCHIVE_TEST_REQUIRE=1
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
