# Quickstart: `make run` executes every lesson in smoke mode; `make test` runs the tests.
# Both create (or reuse) a local virtual environment in .venv, installed with the
# constraints file that mirrors Colab's versions.

PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
CONSTRAINTS := constraints/colab.txt
PYTEST_ARGS ?=

.PHONY: venv run test bench release check clean

venv: $(STAMP)

$(STAMP): pyproject.toml $(CONSTRAINTS)
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -qq --upgrade pip
	$(BIN)/python -m pip install -qq -c $(CONSTRAINTS) -e ".[dev,oracle]"
	@touch $@

run: $(STAMP)
	$(BIN)/textgen-course run

test: $(STAMP)
	$(BIN)/python -m pytest $(PYTEST_ARGS)

bench: $(STAMP)
	@for b in bench/bench_*.py; do echo; echo "## $$b"; $(BIN)/python $$b || exit 1; done

release: $(STAMP)
	$(BIN)/textgen-course release

clean:
	rm -rf build
