# roster: `make run` to try it, `make test` to check it, `make bench` to measure it.
VENV ?= .venv
PYTHON ?= python3
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp

.PHONY: run test lint typecheck unit examples bench screenshots mutate soak fuzz clean help

help:
	@echo "make run    create the venv, install, start roster on SQLite with a demo workspace"
	@echo "make test   lint, type-check and run every test (SQLite and PostgreSQL)"
	@echo "make bench  measure ingestion against the baselines (docs/benchmarks.md)"
	@echo "make screenshots  draw the web UI's main pages into docs/images/ (Chromium, demo data)"
	@echo "make mutate plant bugs in the identity rules and count what the domain tests catch"
	@echo "make soak   kill -9 a loaded server 100 times (SQLite and PostgreSQL) and count what was lost"
	@echo "make fuzz   generated calls to every door for longer than make test (SQLite and PostgreSQL)"

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

run: $(STAMP)
	$(BIN)/roster demo
	$(BIN)/roster serve --demo

lint: $(STAMP)
	$(BIN)/ruff check src tests bench examples tools
	$(BIN)/ruff format --check src tests bench examples tools
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

# The web UI's pictures in README.md and docs/web.md (tools/screenshots.py): a roster on a
# temporary SQLite database with the demo's people, drawn by Debian's Chromium (/usr/bin/chromium).
screenshots: $(STAMP)
	$(BIN)/python -m tools.screenshots

# Mutation testing of src/roster/domain against tests/domain ([tool.mutmut] in pyproject.toml;
# CONTRIBUTING.md "Mutation testing"). Not part of `test`: it takes minutes, not seconds. Starts
# afresh each time, so that the score never mixes results of older tests or code.
MUTATE_JOBS ?= 2
mutate: $(STAMP)
	rm -rf mutants .mutmut-cache
	$(BIN)/mutmut run --max-children $(MUTATE_JOBS)
	$(BIN)/mutmut export-cicd-stats
	$(BIN)/python -c "import json; s = json.load(open('mutants/mutmut-cicd-stats.json')); \
	  tested = s['total'] - s['skipped']; caught = s['killed'] + s['timeout']; \
	  print(f'mutation score: {caught}/{tested} = {100 * caught / tested:.1f}%')"
	$(BIN)/mutmut results

clean:
	rm -rf $(VENV) .roster roster.db roster.db-wal roster.db-shm

# The crash test of `make test` for longer (docs/operations.md): SOAK_ROUNDS kills of a server
# under retrying load, on SQLite and PostgreSQL, with its figures printed.
SOAK_ROUNDS ?= 100
soak: $(STAMP)
	ROSTER_SOAK_ROUNDS=$(SOAK_ROUNDS) $(BIN)/pytest -s -p no:cacheprovider --no-cov tests/api/test_crash_safety.py

# The fuzzing of `make test` for longer (CONTRIBUTING.md, "Fuzzing"): FUZZ_EXAMPLES generated
# calls per operation of /openapi.json (with schemathesis's coverage phase) and per door of the
# bad-input tests, on SQLite and PostgreSQL. No per-test timeout: a long run is the point.
FUZZ_EXAMPLES ?= 500
fuzz: $(STAMP)
	ROSTER_FUZZ_EXAMPLES=$(FUZZ_EXAMPLES) $(BIN)/pytest -p no:cacheprovider --no-cov --timeout 0 \
	  tests/api/test_schemathesis.py tests/api/test_bad_input_fuzz.py
