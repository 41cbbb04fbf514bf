# The two commands a newcomer needs: `make demo` and `make test`.
# Everything installs into .venv from the project's own files; the stack starts from jars.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: help deps install up down status demo test check lint types unit integration faults soak bench clean

help:
	@echo "make demo    start the stack, run the programme for a minute, write a report"
	@echo "make test    lint, types and the whole test suite against the real broker and registry"
	@echo "make deps    the system packages the tests need (Debian's chromium, for the catalog page)"
	@echo "make up | down | status    the local Kafka + registry stack (make up BROKERS=3: a cluster)"
	@echo "make bench   publish and decision figures next to a baseline"
	@echo "make faults | soak    workers killed, registry bounced, poison mixed in; outputs counted"

# Reinstall when the project's dependencies change.
$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[dev]'
	@touch $(STAMP)

# Beyond Python, the tests need a headless browser: the catalog page's test runs its script
# in Debian's chromium. Installed as root, or through sudo.
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
deps:
	@command -v chromium >/dev/null || ($(SUDO) apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq --no-install-recommends chromium)

install: $(STAMP)

# Every party's SCRAM user and the derived ACLs come with the stack (the sample parties).
# `make up BROKERS=3`: three brokers, replication factor 3, min ISR 2; later commands
# find the count in the stack's folder.
up: $(STAMP)
	$(if $(BROKERS),SHAREBUS_STACK_BROKERS=$(BROKERS) )$(BIN)/sharebus up
	$(BIN)/sharebus principals apply --governance examples/governance
	$(BIN)/sharebus acl apply --governance examples/governance

down: $(STAMP)
	$(BIN)/sharebus down

status: $(STAMP)
	-$(BIN)/sharebus status

demo: up
	$(BIN)/sharebus demo

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

types: $(STAMP)
	$(BIN)/mypy

check: lint types

unit: $(STAMP)
	$(BIN)/pytest -q tests/unit

# Integration tests find the broker through SHAREBUS_BOOTSTRAP / SHAREBUS_REGISTRY_URL,
# else start the local stack themselves (tests/integration/conftest.py).
integration: deps $(STAMP)
	$(BIN)/pytest -q tests/integration

test: deps check
	$(BIN)/pytest -q

# The fault suite alone (it is part of `make test` at CI size); `soak` runs it larger.
faults: $(STAMP)
	$(BIN)/pytest -q -s tests/faults

soak: $(STAMP)
	SHAREBUS_FAULT_EVENTS=$${SHAREBUS_FAULT_EVENTS:-40000} $(BIN)/pytest -q -s tests/faults

# Figures next to a baseline measured in the same run (needs the stack: `make up`).
bench: up
	$(BIN)/python -m bench.run $(if $(SCALE),--scale)

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache
