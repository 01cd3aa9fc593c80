# `make run` starts everything; `make test` runs every test layer. Both set up .venv first.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test test-postgres test-fast lint bench install chromium clean

$(STAMP): pyproject.toml
	test -d $(VENV) || $(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[test]'
	touch $(STAMP)

install: $(STAMP)

run: $(STAMP)
	$(BIN)/python -m webapp.serve

# Browser tests need Debian's chromium; scripts/ensure-chromium installs it if missing.
test: $(STAMP)
	bash scripts/ensure-chromium
	node --test tests/js
	$(BIN)/python -m pytest -q
	PY=$(BIN)/python bash scripts/test-postgres

# The API, websocket, operations and integration layers again on a throwaway PostgreSQL
# cluster (scripts/pg-throwaway: Debian's binaries, a temporary folder, a free port).
test-postgres: $(STAMP)
	PY=$(BIN)/python bash scripts/test-postgres

test-fast: $(STAMP)
	node --test tests/js
	$(BIN)/python -m pytest -q -m "not e2e and not integration"

lint: $(STAMP)
	$(BIN)/ruff check training webapp tests bench

bench: $(STAMP)
	for f in bench/bench_*.py; do echo "== $$f"; $(BIN)/python $$f || exit 1; done

clean:
	rm -rf var artifacts .pytest_cache
