# streamsim — the two commands: `make demo` and `make test`.
# Both install missing system packages first (apt-get, as root or with sudo).

CARGO ?= cargo

.PHONY: all deps demo test lint bench build clean

all: build

deps:
	@./.ci/install-deps

build: deps
	$(CARGO) build --release --locked

## Runs the flagship scenario and prints what it measured.
demo: build
	$(CARGO) run --release --locked --quiet -- run scenarios/outage-recovery.toml

## The full test suite: format, lints, unit, integration, fidelity and real-peer tests.
test: deps
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --locked --all-targets -- -D warnings
	$(CARGO) test --locked --release --all-targets
	$(CARGO) test --locked --release --doc
	$(CARGO) run --release --locked --quiet -- check scenarios/ \
		--out target/scenario-reports --junit target/scenario-reports/junit.xml

lint:
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --locked --all-targets -- -D warnings

## Simulated seconds per wall second for the reference workloads.
bench: build
	$(CARGO) run --release --locked --quiet -- bench

clean:
	$(CARGO) clean
