#!/usr/bin/env bash
# The main job on one machine without Docker: a real Kafka broker, the ClickHouse engine (chDB behind
# its HTTP interface), the schema, and imarchive serve + consume, in the foreground until Ctrl-C.
#
#   scripts/stack.sh        (demo apps: demo=demo-secret for NetEase and Maxim, demo=demo-token:demo-path-secret for iLink)
#   IMARCHIVE_NETEASE_APPS=appkey=secret scripts/stack.sh
#
# serve listens on IMARCHIVE_LISTEN (:8080); point the platform at http://HOST:8080/v1/netease/APPKEY.
# Data lives under ./.testenv (Kafka log, ClickHouse tables) and survives restarts.
set -euo pipefail
cd "$(dirname "$0")/.."
export IMARCHIVE_TEST_DIR=${IMARCHIVE_TEST_DIR:-$PWD/.testenv}
export IMARCHIVE_KAFKA_BROKERS=${IMARCHIVE_KAFKA_BROKERS:-127.0.0.1:${IMARCHIVE_KAFKA_PORT:-19092}}
export IMARCHIVE_CLICKHOUSE_DSN=${IMARCHIVE_CLICKHOUSE_DSN:-http://127.0.0.1:${IMARCHIVE_CHDB_PORT:-18123}/imarchive}
export IMARCHIVE_NETEASE_APPS=${IMARCHIVE_NETEASE_APPS:-demo=demo-secret}
export IMARCHIVE_ILINK_APPS=${IMARCHIVE_ILINK_APPS:-demo=demo-token:demo-path-secret}
export IMARCHIVE_MAXIM_APPS=${IMARCHIVE_MAXIM_APPS:-demo=demo-secret}
export IMARCHIVE_LOG_FORMAT=${IMARCHIVE_LOG_FORMAT:-text}

pids=()
cleanup() {
	for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
	wait || true
	scripts/chdb.sh stop || true
	scripts/kafka.sh stop || true
}
trap cleanup EXIT INT TERM

# One config file for every command of this stack (loadgen, query, …): bin/imarchive CMD --config .testenv/stack.env
mkdir -p "$IMARCHIVE_TEST_DIR"
cat >"$IMARCHIVE_TEST_DIR/stack.env" <<ENV
IMARCHIVE_KAFKA_BROKERS=$IMARCHIVE_KAFKA_BROKERS
IMARCHIVE_CLICKHOUSE_DSN=$IMARCHIVE_CLICKHOUSE_DSN
IMARCHIVE_NETEASE_APPS=$IMARCHIVE_NETEASE_APPS
IMARCHIVE_ILINK_APPS=$IMARCHIVE_ILINK_APPS
IMARCHIVE_MAXIM_APPS=$IMARCHIVE_MAXIM_APPS
ENV
chmod 600 "$IMARCHIVE_TEST_DIR/stack.env"

scripts/kafka.sh start
scripts/chdb.sh start
mkdir -p bin
go build -o bin/imarchive ./cmd/imarchive
bin/imarchive migrate
bin/imarchive serve & pids+=($!)
bin/imarchive consume & pids+=($!)
echo "stack.sh: serve on ${IMARCHIVE_LISTEN:-:8080}, ClickHouse at $IMARCHIVE_CLICKHOUSE_DSN; Ctrl-C stops everything"
echo "stack.sh: from another shell: bin/imarchive loadgen --config $IMARCHIVE_TEST_DIR/stack.env --duration 30s"
echo "stack.sh: then: bin/imarchive query --config $IMARCHIVE_TEST_DIR/stack.env --list"
wait -n
