# Two commands for a newcomer: `make run` and `make test`. Both need only Python 3.11+.
# The probe is quiet: a pyenv shim for a version that is not installed exists on PATH and,
# when run, explains itself on stderr; that is a "no" here, not news for the newcomer.
PYTHON ?= $(shell for p in python3.13 python3.12 python3.11 python3; do \
	command -v $$p >/dev/null 2>&1 \
	&& $$p -c 'import sys; sys.exit(sys.version_info < (3, 11))' >/dev/null 2>&1 \
	&& echo $$p && break; done)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
DEV_STAMP := $(VENV)/.installed-dev

.PHONY: run test bench lint format clean

$(STAMP): pyproject.toml
	@test -n "$(PYTHON)" || { echo "Python 3.11 or newer is required"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e .
	@touch $@

$(DEV_STAMP): $(STAMP)
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $@

run: $(STAMP)  ## the service with demo data on an embedded PostgreSQL, on :8080 (or TELEHUB_PORT)
	$(BIN)/telehub dev

test: $(DEV_STAMP)  ## the whole suite against a real PostgreSQL (and a real Chromium)
	@scripts/ensure-chromium
	$(BIN)/pytest

bench: $(DEV_STAMP)  ## benchmarks: prints a table, writes bench/results.json
	$(BIN)/python -m bench

lint: $(DEV_STAMP)  ## ruff, formatting and mypy --strict
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

format: $(DEV_STAMP)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

clean:
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache
