#!/usr/bin/env bash
# make chaos: the chaos run (package chaos, `imarchive-dev chaos --help`) on a Kafka broker and a ClickHouse
# engine of its own — it kills them, so never on services you use — started here and stopped at the end.
# Loopback only. Arguments go to `imarchive-dev chaos`, which runs bin/imarchive as serve and consume, e.g.
#
#   scripts/chaos.sh --duration 5m --seed 42          (make chaos ARGS="--duration 5m --seed 42")
#
# Environment: IMARCHIVE_KAFKA_PORT (19292), IMARCHIVE_CHDB_PORT (18323), IMARCHIVE_TEST_DIR
# (./.testenv/chaos: the services' data and the run's logs). Exit status: 0 when every acknowledged
# callback was archived exactly once, 1 otherwise.
set -euo pipefail
cd "$(dirname "$0")/.."
export IMARCHIVE_TEST_DIR=${IMARCHIVE_TEST_DIR:-$PWD/.testenv/chaos}
kport=${IMARCHIVE_KAFKA_PORT:-19292}
cport=${IMARCHIVE_CHDB_PORT:-18323}
kctl="env IMARCHIVE_TEST_DIR=$IMARCHIVE_TEST_DIR IMARCHIVE_KAFKA_PORT=$kport $PWD/scripts/kafka.sh"
cctl="env IMARCHIVE_TEST_DIR=$IMARCHIVE_TEST_DIR IMARCHIVE_CHDB_PORT=$cport $PWD/scripts/chdb.sh"
cleanup() {
	$kctl stop || true
	$cctl stop >/dev/null || true
}
trap cleanup EXIT
$kctl start
$cctl start >/dev/null
go build -o bin/imarchive ./cmd/imarchive
go build -o bin/imarchive-dev ./cmd/imarchive-dev
bin/imarchive-dev chaos --kafka-brokers "127.0.0.1:$kport" --clickhouse-dsn "http://127.0.0.1:$cport/default" \
	--kafka-ctl "$kctl" --chdb-ctl "$cctl" --dir "$IMARCHIVE_TEST_DIR/run" "$@"
