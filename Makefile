.PHONY: test build stack
# The test command: real Kafka broker + ClickHouse engine, started and stopped by the script.
test:
	bash scripts/test.sh

build:
	go build -o bin/imarchive ./cmd/imarchive

# The main job on a machine without Docker: Kafka, ClickHouse engine, migrate, serve, consume.
stack:
	bash scripts/stack.sh
