# Two commands do all set-up: `make run` starts the system, `make test` runs the tests.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test test-fast test-faults install docs bench bench-quick clean-data

$(STAMP): pyproject.toml constraints.txt
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python 3.11 or newer is needed (set PYTHON=python3.12, say)")'
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c constraints.txt -e ".[dev]"
	@touch $(STAMP)

install: $(STAMP)

## Start Redis (embedded unless BUDDY_REDIS_URL is set), the four services and demo data
## (BASE_PORT=N: services on N+1..N+4 instead of 8001..8004).
run: $(STAMP)
	$(BIN)/buddy run $(if $(NO_DEMO),--no-demo,) $(if $(BASE_PORT),--base-port $(BASE_PORT),)

## The whole test suite; real Redis and PostgreSQL from BUDDY_TEST_* or started privately.
test: $(STAMP)
	$(BIN)/python -m pytest -q $(PYTEST_ARGS)

## The inner loop: unit tests only (domain, contracts, pages; SQLite, no PostgreSQL), well under a minute.
test-fast: $(STAMP)
	$(BIN)/python -m pytest -q tests/unit -m "not slow and not postgres" $(PYTEST_ARGS)

## The full fault-injection suite (a bounded subset runs in `make test`).
test-faults: $(STAMP)
	BUDDY_FAULTS_FULL=1 $(BIN)/python -m pytest -q tests/faults $(PYTEST_ARGS)

## Regenerate the event catalogue (JSON Schema and AsyncAPI) under docs/.
docs: $(STAMP)
	$(BIN)/buddy docs export

## Benchmarks side by side with their peers; writes docs/benchmarks.md (full) or prints (quick).
bench: $(STAMP)
	$(BIN)/python -m bench --out docs/benchmarks.md

bench-quick: $(STAMP)
	$(BIN)/python -m bench --quick

clean-data:
	rm -rf var
