# Two commands on a fresh machine:  `make run`  (the service, embedded default)  and  `make test`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp

.PHONY: run test lint bench clean

$(STAMP): pyproject.toml package-lock.json
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	npm ci --ignore-scripts --no-audit --no-fund  # front-end libraries the app serves itself (never a CDN)
	@touch $(STAMP)

run: $(STAMP)
	$(BIN)/siteledger serve

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/lint-imports
	$(BIN)/mypy

test: lint
	$(BIN)/python -m pytest

bench: $(STAMP)
	$(BIN)/python -m benchmarks.domain_commands

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
