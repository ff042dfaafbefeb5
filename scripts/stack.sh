#!/usr/bin/env bash
# make stack: the whole pipeline on one machine without Docker — a real Kafka broker, the ClickHouse
# engine (chDB behind its HTTP interface), the schema, imarchive serve and consume — until Ctrl-C.
#
#   scripts/stack.sh        (demo apps: demo=demo-secret for NetEase and Maxim, demo=demo-token:demo-path-secret for iLink)
#   IMARCHIVE_NETEASE_APPS=appkey=secret scripts/stack.sh
#
# It runs on ports and in a directory of its own, so `make test` (19092, 18123, ./.testenv) can run
# beside it:
#   serve     IMARCHIVE_LISTEN (:8080): callbacks, /healthz;
#             IMARCHIVE_SERVE_OPS_LISTEN (127.0.0.1:8081): /healthz, /readyz, /metrics
#   consume   IMARCHIVE_OPS_LISTEN (:9091): /healthz, /readyz, /metrics
#   Kafka     IMARCHIVE_STACK_KAFKA_PORT (19192; its controller the next port, 19193)
#   chDB      IMARCHIVE_STACK_CHDB_PORT (18223), database imarchive
# Data (Kafka log, ClickHouse tables, serve's spool) and the serve and consume logs live in IMARCHIVE_STACK_DIR
# (./.testenv/stack) and survive restarts; delete that directory, with the stack stopped, to start
# afresh. The other commands read the stack's settings from .testenv/stack.env (--config).
set -euo pipefail
cd "$(dirname "$0")/.."
dir=${IMARCHIVE_STACK_DIR:-$PWD/.testenv/stack}
kport=${IMARCHIVE_STACK_KAFKA_PORT:-19192}
cport=${IMARCHIVE_STACK_CHDB_PORT:-18223}
kctl="env IMARCHIVE_TEST_DIR=$dir IMARCHIVE_KAFKA_PORT=$kport scripts/kafka.sh"
cctl="env IMARCHIVE_TEST_DIR=$dir IMARCHIVE_CHDB_PORT=$cport scripts/chdb.sh"
export IMARCHIVE_KAFKA_BROKERS=${IMARCHIVE_KAFKA_BROKERS:-127.0.0.1:$kport}
export IMARCHIVE_CLICKHOUSE_DSN=${IMARCHIVE_CLICKHOUSE_DSN:-http://127.0.0.1:$cport/imarchive}
export IMARCHIVE_NETEASE_APPS=${IMARCHIVE_NETEASE_APPS:-demo=demo-secret}
export IMARCHIVE_ILINK_APPS=${IMARCHIVE_ILINK_APPS:-demo=demo-token:demo-path-secret}
export IMARCHIVE_MAXIM_APPS=${IMARCHIVE_MAXIM_APPS:-demo=demo-secret}
export IMARCHIVE_LOG_FORMAT=${IMARCHIVE_LOG_FORMAT:-text}
export IMARCHIVE_LISTEN=${IMARCHIVE_LISTEN:-:8080}
export IMARCHIVE_SERVE_OPS_LISTEN=${IMARCHIVE_SERVE_OPS_LISTEN:-127.0.0.1:8081}
export IMARCHIVE_OPS_LISTEN=${IMARCHIVE_OPS_LISTEN:-:9091}
export IMARCHIVE_SPOOL_DIR=${IMARCHIVE_SPOOL_DIR:-$dir/spool}
say() { echo "stack.sh: $*"; }

# Only what this run started is stopped, once, however the run ends (Ctrl-C, a failure, a part exiting).
started=()
pids=()
cleanup() {
	trap '' INT TERM # a second Ctrl-C must not cut the cleanup short
	((${#pids[@]})) && say "stopping serve and consume" && kill -TERM "${pids[@]}" 2>/dev/null || true
	wait 2>/dev/null || true
	for svc in "${started[@]}"; do
		case $svc in
		kafka) $kctl stop || true ;;
		chdb) $cctl stop >/dev/null || true ;;
		esac
	done
	say "stopped; data kept in $dir"
}
trap cleanup EXIT
trap 'exit 0' INT TERM # Ctrl-C is how the stack is meant to stop: success, and cleanup runs on EXIT

# One config file for every command of this stack (loadgen, query, export, …): --config .testenv/stack.env
cfg=$PWD/.testenv/stack.env
mkdir -p "$dir" "$(dirname "$cfg")"
cat >"$cfg" <<ENV
IMARCHIVE_KAFKA_BROKERS=$IMARCHIVE_KAFKA_BROKERS
IMARCHIVE_CLICKHOUSE_DSN=$IMARCHIVE_CLICKHOUSE_DSN
IMARCHIVE_NETEASE_APPS=$IMARCHIVE_NETEASE_APPS
IMARCHIVE_ILINK_APPS=$IMARCHIVE_ILINK_APPS
IMARCHIVE_MAXIM_APPS=$IMARCHIVE_MAXIM_APPS
IMARCHIVE_LOADGEN_TARGET=http://127.0.0.1:${IMARCHIVE_LISTEN##*:}
ENV
chmod 600 "$cfg"

if $kctl status; then say "Kafka already running on port $kport: using it (left running)"; else
	started+=(kafka)
	$kctl start
fi
if $cctl status >/dev/null 2>&1; then say "chDB already running on port $cport: using it (left running)"; else
	started+=(chdb)
	$cctl start >/dev/null # it prints its own DSN; the stack's names the imarchive database
fi
mkdir -p bin
make --no-print-directory -s build
bin/imarchive migrate --log-level warn
bin/imarchive serve >>"$dir/serve.log" 2>&1 &
pids+=($!)
bin/imarchive consume >>"$dir/consume.log" 2>&1 &
pids+=($!)

# Ready when both answer /readyz (serve: Kafka reachable; consume: ClickHouse and Kafka).
for name in serve consume; do
	case $name in serve) addr=$IMARCHIVE_SERVE_OPS_LISTEN pid=${pids[0]} ;; consume) addr=$IMARCHIVE_OPS_LISTEN pid=${pids[1]} ;; esac
	url="http://127.0.0.1:${addr##*:}/readyz"
	for i in $(seq 1 120); do
		bin/imarchive healthcheck --url "$url" >/dev/null 2>&1 && break
		if ! kill -0 "$pid" 2>/dev/null || ((i == 120)); then
			say "$name did not become ready at $url; the end of its log ($dir/$name.log):"
			tail -n 30 "$dir/$name.log"
			exit 1
		fi
		sleep 0.5
	done
done

cat <<BANNER

stack.sh: READY — Ctrl-C stops everything
  serve       http://127.0.0.1:${IMARCHIVE_LISTEN##*:}/v1/{netease,ilink,maxim}/…  (log $dir/serve.log)
              http://127.0.0.1:${IMARCHIVE_SERVE_OPS_LISTEN##*:}/metrics, /readyz  (spool $IMARCHIVE_SPOOL_DIR)
  consume     http://127.0.0.1:${IMARCHIVE_OPS_LISTEN##*:}/metrics  (log $dir/consume.log)
  Kafka       $IMARCHIVE_KAFKA_BROKERS
  ClickHouse  $IMARCHIVE_CLICKHOUSE_DSN
  config      $cfg (every command takes it: --config)
From another shell:
  bin/imarchive loadgen --config .testenv/stack.env --duration 30s
  bin/imarchive query --config .testenv/stack.env --list

BANNER
set +e
wait -n "${pids[@]}"
status=$?
set -e
for i in 0 1; do
	if ! kill -0 "${pids[$i]}" 2>/dev/null; then
		name=serve
		((i == 1)) && name=consume
		say "$name exited (status $status); the end of its log ($dir/$name.log):"
		tail -n 30 "$dir/$name.log"
	fi
done
exit 1
