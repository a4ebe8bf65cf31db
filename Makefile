# Two set-up commands on a fresh machine: `make demo` and `make test`.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
XDIST ?= 2
# e.g. make bench BENCH_ARGS="orm --only bulk_insert --backend postgresql"
BENCH_ARGS ?=
# "compat" editable mode puts the checkout on sys.path with a plain .pth entry, which
# mypy (and other type checkers) can follow; setuptools' default import-hook mode is
# invisible to them, so a user project type-checked against it sees only Any.
INSTALL := $(PY) -m pip install --quiet --config-settings editable_mode=compat -e

.PHONY: demo test lint bench venv clean

venv: $(STAMP)

# setup.py and the C file: a change rebuilds the extension (reinhardt_db/models/_speedups.c).
$(STAMP): pyproject.toml setup.py Makefile reinhardt_db/models/_speedups.c
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(INSTALL) '.[dev]'
	touch $(STAMP)

demo: $(STAMP)
	cd examples/journal && ../../$(PY) demo.py

lint: $(STAMP)
	$(PY) -m ruff check reinhardt_db tests benchmarks examples
	$(PY) -m mypy

test: lint
	bash .ci/prepare-servers
	$(PY) -m pytest -n $(XDIST) -q -p no:cacheprovider

$(VENV)/.bench: $(STAMP)
	$(INSTALL) '.[dev,bench]'
	touch $@

bench: $(VENV)/.bench
	$(PY) -m benchmarks $(BENCH_ARGS)

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache build *.egg-info
