# The two commands a newcomer needs: `make demo` and `make test`. Each creates
# the virtual environment on first use.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo run test check lint format bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

## demo: the app on the embedded SQLite, installed into a Saleor stand-in that plays a day of orders
demo: $(STAMP)
	$(BIN)/saleor-ops demo $(ARGS)

## run: serve the app on the embedded SQLite at http://localhost:8000
run: $(STAMP)
	$(BIN)/saleor-ops serve --host 0.0.0.0 --port 8000

## test: lint, types, architecture contracts, then the whole test suite
test: check
	$(BIN)/pytest --cov --cov-report=term:skip-covered

## check: format, lint, types and import contracts
check: $(STAMP)
	$(BIN)/ruff format --check .
	$(BIN)/ruff check .
	$(BIN)/mypy
	$(BIN)/lint-imports

format: $(STAMP)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

bench: $(STAMP)
	$(BIN)/python -m bench.webhook_throughput

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache .coverage
