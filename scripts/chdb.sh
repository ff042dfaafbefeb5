#!/usr/bin/env bash
# scripts/chdb.sh start|stop|restart|kill|status|dsn
#
# Runs the ClickHouse HTTP-interface test server (internal/testenv/chdbserver/chdb_http.py)
# on top of chDB, the in-process ClickHouse engine from PyPI. There is no
# ClickHouse server or Docker on the dev/CI machines; this is the real
# ClickHouse engine behind the HTTP wire protocol clickhouse-go speaks.
#
#   install  install chDB into its virtual environment if it is not there yet (start does it too)
#   start    install if needed, start in the background, wait for /ping
#   stop     SIGTERM (clean shutdown), SIGKILL after 10 s
#   restart  stop + start (data is kept)
#   kill     SIGKILL, no shutdown: simulates a ClickHouse crash/outage
#   status   exit 0 if the server answers /ping
#   dsn      print the DSN
#
# chDB (with pandas, pyarrow and numpy, about 900 MB) goes into a virtual environment of its own,
# $IMARCHIVE_CACHE/chdb-VERSION (~/.cache/imarchive, beside Kafka's jars), made once with
# `python3 -m venv` and reused: nothing is installed into your Python, so a distribution Python that
# refuses pip (PEP 668, "externally-managed-environment") works too. Where `python3 -m venv` cannot
# make one (Debian/Ubuntu without the python3-venv package), pip installs into that directory with
# --target instead; with neither, the script says what to install. Delete the directory to remove it.
#
# Environment:
#   IMARCHIVE_TEST_DIR    base directory (default $PWD/.testenv); state in $IMARCHIVE_TEST_DIR/chdb/
#                         (chdb.pid, chdb.log, data/)
#   IMARCHIVE_CHDB_PORT   port (default 18123)
#   IMARCHIVE_CHDB_ARGS   extra arguments for chdb_http.py (e.g. --verbose)
#   IMARCHIVE_CHDB_DATABASE  the database named in the printed DSN (default "default")
#   IMARCHIVE_CACHE       where the virtual environment goes (default ~/.cache/imarchive)
#   PYTHON                the Python 3 (3.9 or newer) the environment is made from (default python3)
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
SERVER="$ROOT/internal/testenv/chdbserver/chdb_http.py"
BASE="${IMARCHIVE_TEST_DIR:-$PWD/.testenv}/chdb"
PORT="${IMARCHIVE_CHDB_PORT:-18123}"
HOST="127.0.0.1"
PY="${PYTHON:-python3}"
CACHE="${IMARCHIVE_CACHE:-$HOME/.cache/imarchive}"
PIDFILE="$BASE/chdb.pid"
LOG="$BASE/chdb.log"
DATA="$BASE/data"
DSN="http://$HOST:$PORT/${IMARCHIVE_CHDB_DATABASE:-default}"
CHDB_VERSION="4.4.0"
VENV="$CACHE/chdb-$CHDB_VERSION"
VPY="$VENV/bin/python" # the environment's interpreter (a wrapper setting PYTHONPATH in the --target layout)

ping_ok() {
	if command -v curl >/dev/null 2>&1; then
		[[ "$(curl -fsS --max-time 2 "http://$HOST:$PORT/ping" 2>/dev/null)" == "Ok." ]]
	else
		python3 - "$HOST" "$PORT" <<'EOF' >/dev/null 2>&1
import sys, urllib.request
with urllib.request.urlopen(f"http://{sys.argv[1]}:{sys.argv[2]}/ping", timeout=2) as r:
    sys.exit(0 if r.read() == b"Ok.\n" else 1)
EOF
	fi
}

server_pid() {
	[[ -f "$PIDFILE" ]] || return 1
	local pid
	pid="$(cat "$PIDFILE" 2>/dev/null || true)"
	[[ -n "$pid" ]] && kill -0 "$pid" 2>/dev/null || return 1
	echo "$pid"
}

installed() { [[ -f "$VENV/.complete" ]] && "$VPY" -c 'import chdb' >/dev/null 2>&1; }

ensure_chdb() {
	installed && return 0
	mkdir -p "$CACHE"
	# One installer at a time (several worktrees or test runs may start at once).
	if command -v flock >/dev/null 2>&1; then
		exec 9>"$CACHE/.chdb-$CHDB_VERSION.lock"
		flock 9
		installed && return 0
	fi
	if ! command -v "$PY" >/dev/null 2>&1; then
		echo "chdb.sh: $PY not found: install Python 3.9 or newer (Debian/Ubuntu: apt-get install python3 python3-venv), or set PYTHON" >&2
		return 1
	fi
	rm -rf "$VENV"
	echo "chdb.sh: installing chdb==$CHDB_VERSION (with pandas, pyarrow, numpy: about 900 MB) into $VENV, once; later runs reuse it" >&2
	local err
	export PIP_ROOT_USER_ACTION=ignore PIP_DISABLE_PIP_VERSION_CHECK=1
	if err="$("$PY" -m venv "$VENV" 2>&1)"; then
		"$VPY" -m pip install --quiet "chdb==$CHDB_VERSION" >&2
	elif "$PY" -m pip --version >/dev/null 2>&1; then
		# No venv (Debian/Ubuntu without python3-venv: ensurepip is missing), but pip: install into the
		# directory with --target, which PEP 668 allows, and run that Python with it on PYTHONPATH.
		echo "chdb.sh: $PY -m venv failed ($(echo "$err" | awk 'NF { l = $0 } END { gsub(/^ +/, "", l); print l }')); installing with $PY -m pip --target instead" >&2
		rm -rf "$VENV"
		mkdir -p "$VENV/bin"
		"$PY" -m pip install --quiet --target "$VENV/site-packages" "chdb==$CHDB_VERSION" >&2
		local abs
		abs="$(command -v "$PY")"
		printf '#!/bin/sh\nPYTHONPATH="%s${PYTHONPATH:+:$PYTHONPATH}" exec "%s" "$@"\n' "$VENV/site-packages" "$abs" >"$VPY"
		chmod +x "$VPY"
	else
		rm -rf "$VENV"
		echo "chdb.sh: cannot make a virtual environment with $PY -m venv, and $PY has no pip:" >&2
		echo "$err" | tail -n 3 | sed 's/^/    /' >&2
		echo "chdb.sh: install the venv module (Debian/Ubuntu: apt-get install python3-venv; Fedora and others ship it with python3), or set PYTHON to a Python 3 that has it" >&2
		return 1
	fi
	if ! "$VPY" -c 'import chdb' >/dev/null 2>&1; then
		echo "chdb.sh: chdb was installed into $VENV but does not import:" >&2
		"$VPY" -c 'import chdb' 2>&1 | tail -n 5 >&2
		return 1
	fi
	touch "$VENV/.complete"
	echo "chdb.sh: chdb $CHDB_VERSION installed in $VENV ($(du -sh "$VENV" 2>/dev/null | cut -f1)); delete that directory to remove it" >&2
}

show_log() {
	echo "---- $LOG (last 100 lines) ----" >&2
	tail -n 100 "$LOG" >&2 2>/dev/null || true
	echo "---- end of log ----" >&2
}

cmd_start() {
	local pid
	if pid="$(server_pid)" && ping_ok; then
		echo "chdb.sh: already running (pid $pid, port $PORT)" >&2
		echo "$DSN"
		return 0
	fi
	if ping_ok; then
		echo "chdb.sh: something else already answers on $HOST:$PORT; set IMARCHIVE_CHDB_PORT or stop it" >&2
		return 1
	fi
	ensure_chdb
	mkdir -p "$DATA"
	local start_ns
	start_ns="$(date +%s%N)"
	# Its own session (setsid): a Ctrl-C in the terminal that started it (make stack, make test) goes to
	# the script, which stops the server through this pid file, once.
	local detach=()
	command -v setsid >/dev/null 2>&1 && detach=(setsid)
	# shellcheck disable=SC2086 # IMARCHIVE_CHDB_ARGS is a list of arguments
	nohup "${detach[@]}" "$VPY" -u "$SERVER" --path "$DATA" --host "$HOST" --port "$PORT" ${IMARCHIVE_CHDB_ARGS:-} \
		>>"$LOG" 2>&1 </dev/null &
	pid=$!
	echo "$pid" >"$PIDFILE"
	local deadline=$((SECONDS + 60))
	until ping_ok; do
		if ! kill -0 "$pid" 2>/dev/null; then
			echo "chdb.sh: server exited during startup" >&2
			rm -f "$PIDFILE"
			show_log
			return 1
		fi
		if ((SECONDS >= deadline)); then
			echo "chdb.sh: server did not answer /ping within 60 s" >&2
			kill -KILL "$pid" 2>/dev/null || true
			rm -f "$PIDFILE"
			show_log
			return 1
		fi
		sleep 0.1
	done
	local ms=$((($(date +%s%N) - start_ns) / 1000000))
	echo "chdb.sh: ClickHouse (chDB) HTTP server ready in ${ms} ms (pid $pid, data $DATA, log $LOG)" >&2
	echo "$DSN"
}

cmd_stop() {
	local pid
	if ! pid="$(server_pid)"; then
		rm -f "$PIDFILE"
		echo "chdb.sh: not running" >&2
		return 0
	fi
	kill -TERM "$pid" 2>/dev/null || true
	local deadline=$((SECONDS + 10))
	while kill -0 "$pid" 2>/dev/null; do
		if ((SECONDS >= deadline)); then
			echo "chdb.sh: no exit 10 s after SIGTERM, sending SIGKILL" >&2
			kill -KILL "$pid" 2>/dev/null || true
			break
		fi
		sleep 0.1
	done
	rm -f "$PIDFILE"
	echo "chdb.sh: stopped (pid $pid)" >&2
}

cmd_kill() {
	local pid
	if pid="$(server_pid)"; then
		kill -KILL "$pid" 2>/dev/null || true
		while kill -0 "$pid" 2>/dev/null; do sleep 0.05; done
		echo "chdb.sh: killed with SIGKILL (pid $pid)" >&2
	else
		echo "chdb.sh: not running" >&2
	fi
	rm -f "$PIDFILE"
}

cmd_status() {
	local pid
	if ping_ok; then
		pid="$(server_pid || echo "?")"
		echo "chdb.sh: running (pid $pid) at $DSN" >&2
		echo "$DSN"
		return 0
	fi
	echo "chdb.sh: not answering at http://$HOST:$PORT/ping" >&2
	return 1
}

case "${1:-}" in
install) ensure_chdb ;;
start) cmd_start ;;
stop) cmd_stop ;;
restart)
	cmd_stop
	cmd_start
	;;
kill) cmd_kill ;;
status) cmd_status ;;
dsn) echo "$DSN" ;;
*)
	echo "usage: $0 install|start|stop|restart|kill|status|dsn" >&2
	exit 2
	;;
esac
