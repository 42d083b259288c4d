# Laoke: `make run` sets everything up and serves on :8000; `make test` runs the whole suite.
SHELL := /bin/bash
PY ?= $(shell for p in python3 python3.13 python3.12 python3.11; do \
	if $$p -c 'import sys; sys.exit(sys.version_info < (3, 11))' >/dev/null 2>&1; then echo $$p; break; fi; done)
VENV := .venv
BIN := $(VENV)/bin
PIP_FLAGS := --quiet --disable-pip-version-check

.PHONY: run test bench load lint fmt clean install install-dev check-python serve soak

check-python:
	@test -n "$(PY)" || { echo "Laoke needs Python >= 3.11 (python3.11, python3.12 or python3.13 on PATH)"; exit 1; }
	@$(PY) -c 'import ensurepip, venv' 2>/dev/null || { \
		echo "$(PY) cannot create virtualenvs; install its venv module (Debian/Ubuntu: apt-get install python3-venv)"; exit 1; }

$(BIN)/python: | check-python
	$(PY) -m venv $(VENV)

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install $(PIP_FLAGS) -e .
	@touch $@

$(VENV)/.installed-dev: pyproject.toml | $(BIN)/python
	$(BIN)/pip install $(PIP_FLAGS) -e ".[dev]"
	@touch $@ $(VENV)/.installed

install: $(VENV)/.installed
install-dev: $(VENV)/.installed-dev

run: install
	$(BIN)/laoke init
	$(BIN)/laoke demo
	$(BIN)/laoke createadmin
	exec $(BIN)/laoke serve

serve: install
	exec $(BIN)/laoke serve

test: install-dev
	$(BIN)/ruff check src tests bench
	$(BIN)/lint-imports --no-cache
	$(BIN)/laoke manage makemigrations --check --dry-run
	$(BIN)/pytest

BENCH_DATABASE_URL ?= postgresql://postgres@127.0.0.1:5432/laoke_bench
BENCHES = bench bench.tiers bench.points bench.cards bench.shipping bench.promotions bench.flash bench.dispatch bench.segments \
	bench.evaluation bench.clv bench.association bench.cohorts bench.imports bench.exports \
	bench.payments bench.portal bench.service bench.events bench.holidays bench.b2b bench.staff bench.backup
bench: install-dev
	@if pg_isready -q -h 127.0.0.1 2>/dev/null; then \
		for b in $(BENCHES); do BENCH_DATABASE_URL=$(BENCH_DATABASE_URL) $(BIN)/python -m $$b || exit 1; done; \
		BENCH_DATABASE_URL=$(BENCH_DATABASE_URL) $(BIN)/python -m bench.ledger || exit 1; \
		BENCH_DATABASE_URL=$(BENCH_DATABASE_URL) $(BIN)/python -m bench.settlement; \
	else echo "(no PostgreSQL on 127.0.0.1: SQLite figures only)"; \
		for b in $(BENCHES); do $(BIN)/python -m $$b || exit 1; done; fi

# Open-loop load (quote, settle, recharge, member lookup) against a live server for 5 minutes on loopback;
# LOAD_DATABASE_URL=postgresql://... to load PostgreSQL instead of the embedded SQLite (bench/load.py).
LOAD_SECONDS ?= 300
load: install-dev
	$(BIN)/python -m bench.load --seconds $(LOAD_SECONDS)

lint: install-dev
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench
	$(BIN)/lint-imports --no-cache

fmt: install-dev
	$(BIN)/ruff format src tests bench
	$(BIN)/ruff check --fix src tests bench

clean:
	rm -rf $(VENV) var test-artifacts .pytest_cache .ruff_cache src/*.egg-info

# The SMS crash test of tests/channels/test_crash_pg.py with 20,000 messages (not in CI; needs PostgreSQL).
SOAK_DATABASE_URL ?= postgresql://postgres@127.0.0.1:5432/test
soak: install-dev
	DATABASE_URL=$(SOAK_DATABASE_URL) LAOKE_TEST_DB_NAME=test_crash LAOKE_REQUIRE_PG=1 LAOKE_CRASH_MESSAGES=20000 \
		$(BIN)/pytest --create-db -q -s -p no:cacheprovider --timeout 1800 \
		tests/channels/test_crash_pg.py -k exactly_once
