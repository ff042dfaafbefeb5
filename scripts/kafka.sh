#!/usr/bin/env bash
# A real Apache Kafka broker (KRaft, one node acting as broker and controller) from its jars on
# Maven Central, for tests and the local stack on a machine without Docker.
#
#   scripts/kafka.sh fetch    download the jars with mvn into the cache (once; later runs reuse it)
#   scripts/kafka.sh start    fetch if needed, format the data dir if new, start, wait until it answers
#   scripts/kafka.sh stop     SIGTERM, then SIGKILL after 20 s; the data dir is kept (restart = stop + start)
#   scripts/kafka.sh kill     SIGKILL at once (for failure tests)
#   scripts/kafka.sh status   exit 0 when the broker port answers
#   scripts/kafka.sh reset    stop and delete the data dir
#
# Environment: IMARCHIVE_KAFKA_VERSION (4.1.1), IMARCHIVE_KAFKA_PORT (19092; the controller uses +1),
# IMARCHIVE_CACHE (~/.cache/imarchive), IMARCHIVE_TEST_DIR (./.testenv), IMARCHIVE_KAFKA_HEAP (768m).
set -euo pipefail

version=${IMARCHIVE_KAFKA_VERSION:-4.1.1}
port=${IMARCHIVE_KAFKA_PORT:-19092}
cport=$((port + 1))
cache=${IMARCHIVE_CACHE:-$HOME/.cache/imarchive}/kafka-$version
root=${IMARCHIVE_TEST_DIR:-$PWD/.testenv}/kafka
pidfile=$root/kafka.pid
log=$root/kafka.log

fetch() {
	[ -f "$cache/.complete" ] && return 0
	command -v mvn >/dev/null || { echo "kafka.sh: mvn not found (apt-get install maven)" >&2; exit 1; }
	echo "kafka.sh: fetching org.apache.kafka:kafka_2.13:$version and its runtime dependencies with mvn" >&2
	mkdir -p "$cache"
	cat >"$cache/pom.xml" <<POM
<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>imarchive.testenv</groupId><artifactId>kafka-dist</artifactId><version>1</version><packaging>pom</packaging>
  <dependencies>
    <dependency><groupId>org.apache.kafka</groupId><artifactId>kafka_2.13</artifactId><version>$version</version></dependency>
    <dependency><groupId>org.apache.logging.log4j</groupId><artifactId>log4j-slf4j-impl</artifactId><version>2.24.3</version></dependency>
  </dependencies>
</project>
POM
	mvn -q -B -Dstyle.color=never -f "$cache/pom.xml" dependency:copy-dependencies -DoutputDirectory="$cache/libs" -DincludeScope=runtime
	touch "$cache/.complete"
}

running() { [ -f "$pidfile" ] && kill -0 "$(cat "$pidfile")" 2>/dev/null; }
answers() { (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; }

start() {
	fetch
	if running; then echo "kafka.sh: already running (pid $(cat "$pidfile"))" >&2; return 0; fi
	mkdir -p "$root/data"
	cat >"$root/server.properties" <<PROPS
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:$cport
listeners=PLAINTEXT://127.0.0.1:$port,CONTROLLER://127.0.0.1:$cport
advertised.listeners=PLAINTEXT://127.0.0.1:$port
controller.listener.names=CONTROLLER
listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT
inter.broker.listener.name=PLAINTEXT
log.dirs=$root/data
num.partitions=3
default.replication.factor=1
min.insync.replicas=1
offsets.topic.replication.factor=1
offsets.topic.num.partitions=3
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
group.initial.rebalance.delay.ms=0
auto.create.topics.enable=false
PROPS
	cat >"$root/log4j2.yaml" <<L4J
Configuration:
  Appenders:
    Console: { name: STDOUT, PatternLayout: { pattern: "[%d] %p %m (%c)%n" } }
  Loggers:
    Root: { level: WARN, AppenderRef: [ { ref: STDOUT } ] }
    Logger: [ { name: kafka.server.KafkaRaftServer, level: INFO }, { name: kafka.server.BrokerServer, level: INFO } ]
L4J
	local cp="$cache/libs/*"
	if [ ! -f "$root/data/meta.properties" ]; then
		local id
		id=$(java -cp "$cp" kafka.tools.StorageTool random-uuid 2>/dev/null | tail -n 1)
		java -cp "$cp" kafka.tools.StorageTool format -t "$id" -c "$root/server.properties" >>"$log" 2>&1
	fi
	nohup java -Xms256m -Xmx"${IMARCHIVE_KAFKA_HEAP:-768m}" -XX:+UseG1GC -Djava.awt.headless=true \
		-Dlog4j2.configurationFile="$root/log4j2.yaml" \
		-cp "$cp" kafka.Kafka "$root/server.properties" >>"$log" 2>&1 &
	echo $! >"$pidfile"
	for _ in $(seq 1 120); do
		if answers; then echo "kafka.sh: broker up at 127.0.0.1:$port (pid $(cat "$pidfile"))" >&2; return 0; fi
		running || break
		sleep 0.5
	done
	echo "kafka.sh: broker did not start; log follows" >&2
	tail -n 50 "$log" >&2
	exit 1
}

stop() {
	running || { rm -f "$pidfile"; return 0; }
	local pid; pid=$(cat "$pidfile")
	kill -TERM "$pid" 2>/dev/null || true
	for _ in $(seq 1 40); do kill -0 "$pid" 2>/dev/null || break; sleep 0.5; done
	kill -KILL "$pid" 2>/dev/null || true
	while kill -0 "$pid" 2>/dev/null; do sleep 0.1; done
	rm -f "$pidfile"
}

kill9() {
	running || return 0
	local pid; pid=$(cat "$pidfile")
	kill -KILL "$pid" 2>/dev/null || true
	while kill -0 "$pid" 2>/dev/null; do sleep 0.1; done
	rm -f "$pidfile"
}

case "${1:-}" in
fetch) fetch ;;
start) start ;;
stop) stop ;;
kill) kill9 ;;
status) answers ;;
reset) stop; rm -rf "$root" ;;
*) sed -n '2,14p' "$0" >&2; exit 2 ;;
esac
