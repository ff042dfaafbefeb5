.PHONY: test build static stack chaos bench
# The version the binary reports (imarchive version, export manifests): git describe of this checkout;
# empty (no git), the Go build info's module version or commit.
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null)

# The tests on a real Kafka broker and ClickHouse engine, started and stopped by the script: gofmt,
# go vet, every test, then each fuzz target for 5 s (IMARCHIVE_FUZZTIME). README: Prerequisites has the time.
test:
	@bash scripts/test.sh

# bin/imarchive, the binary every README command uses, and bin/imarchive-dev, the developer tools
# (bench, chaos) that the image does not ship.
build:
	go build -ldflags "$(if $(VERSION),-X main.version=$(VERSION))" -o bin/imarchive ./cmd/imarchive
	go build -o bin/imarchive-dev ./cmd/imarchive-dev

# The binary the Dockerfile ships: static, trimmed, versioned.
static:
	CGO_ENABLED=0 go build -trimpath -ldflags "-s -w $(if $(VERSION),-X main.version=$(VERSION))" -o bin/imarchive ./cmd/imarchive

# The main job on a machine without Docker: Kafka, ClickHouse engine, migrate, serve, consume, until Ctrl-C.
stack:
	@bash scripts/stack.sh

# Speed beside the ceilings and a peer, in one run, one table (BENCHMARKS.md); about two minutes.
# Starts its own Kafka broker and ClickHouse engine unless BENCH_ARGS names them; e.g.
# make bench BENCH_ARGS="--format markdown --profile-dir /tmp/prof"
bench: build
	bin/imarchive-dev bench $(BENCH_ARGS)

# The chaos run on services of its own, killed and restarted at random (scripts/chaos.sh):
#   make chaos ARGS="--duration 5m --seed 42"
chaos:
	bash scripts/chaos.sh $(ARGS)
