.PHONY: test build static stack chaos bench
VERSION ?= dev

# The test command: real Kafka broker + ClickHouse engine, started and stopped by the script.
test:
	bash scripts/test.sh

build:
	go build -o bin/imarchive ./cmd/imarchive

# The binary the Dockerfile ships: static, trimmed, versioned.
static:
	CGO_ENABLED=0 go build -trimpath -ldflags "-s -w -X main.version=$(VERSION)" -o bin/imarchive ./cmd/imarchive

# The main job on a machine without Docker: Kafka, ClickHouse engine, migrate, serve, consume.
stack:
	bash scripts/stack.sh

# Speed beside the ceilings and a peer, in one run, one table (BENCHMARKS.md); about two minutes.
# Starts its own Kafka broker and ClickHouse engine unless BENCH_ARGS names them; e.g.
# make bench BENCH_ARGS="--format markdown --profile-dir /tmp/prof"
bench: build
	bin/imarchive bench $(BENCH_ARGS)

# The chaos run on services of its own, killed and restarted at random (scripts/chaos.sh):
#   make chaos ARGS="--duration 5m --seed 42"
chaos:
	bash scripts/chaos.sh $(ARGS)
