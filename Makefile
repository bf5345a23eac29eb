# roster: `make run` to try it, `make test` to check it, `make bench` to measure it.
VENV ?= .venv
PYTHON ?= python3
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp

.PHONY: run test lint typecheck unit examples bench clean help

help:
	@echo "make run    create the venv, install, start roster on SQLite with a demo workspace"
	@echo "make test   lint, type-check and run every test (SQLite and PostgreSQL)"
	@echo "make bench  measure ingestion against the baselines (docs/benchmarks.md)"

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

run: $(STAMP)
	$(BIN)/roster demo
	$(BIN)/roster serve --demo

lint: $(STAMP)
	$(BIN)/ruff check src tests bench examples
	$(BIN)/ruff format --check src tests bench examples
	$(BIN)/lint-imports

typecheck: $(STAMP)
	$(BIN)/mypy

unit: $(STAMP)
	$(BIN)/pytest -n 2 --dist loadfile -p no:cacheprovider --cov=roster --cov-report=term:skip-covered

test: lint typecheck unit examples

# The example app's suite (examples/signup_app), run as its users run theirs: roster's pytest
# plugin and nothing else, two xdist workers (docs/testing.md).
examples: $(STAMP)
	cd examples/signup_app && $(abspath $(BIN))/pytest -n 2

bench: $(STAMP)
	$(BIN)/python -m bench $(BENCH_ARGS)

clean:
	rm -rf $(VENV) .roster roster.db roster.db-wal roster.db-shm
