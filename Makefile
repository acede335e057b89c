# llif: the two set-up commands are `make demo` and `make test`.
SHELL := /bin/bash
PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(VENV)/bin/pip
STAMP := $(VENV)/.installed
DEV_STAMP := $(VENV)/.installed-dev
LLIF_HOME ?= $(CURDIR)/.llif
export LLIF_HOME

.PHONY: demo test test-fast ui bench install dev lock wheel clean

$(VENV)/bin/python:
	$(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip

$(STAMP): requirements.lock pyproject.toml | $(VENV)/bin/python
	$(PIP) install --quiet -r requirements.lock
	$(PIP) install --quiet --no-deps -e .
	touch $@

# the test tools (pytest, Playwright, an SMTP sink) come only with the development lock
$(DEV_STAMP): $(STAMP) requirements-dev.lock
	$(PIP) install --quiet -r requirements-dev.lock
	touch $@

install: $(STAMP)
dev: $(DEV_STAMP)

## demo: set up, generate the default world (scale 1.0) and run the nightly refresh on the embedded default
demo: $(STAMP)
	$(PY) -m llif demo

## test: the linters (ruff for the Python, sqlfluff for the dbt models: dbt_project/.sqlfluff), then
## the whole suite (fast tests, then the slow full-scale checks)
test: $(DEV_STAMP)
	$(PY) -m llif.dbt_manifest >/dev/null
	$(VENV)/bin/ruff check --quiet .
	$(VENV)/bin/lint-imports --no-cache --no-logo
	$(VENV)/bin/sqlfluff lint --quiet dbt_project
	$(PY) -m pytest -q --durations=60

test-fast: $(DEV_STAMP)
	$(PY) -m llif.dbt_manifest >/dev/null
	$(PY) -m pytest -q -m "not slow"

## ui: every service on localhost: Dagster UI and daemon, MLflow, the explorer, the dbt docs site
ui: $(STAMP)
	$(PY) -m llif ui

## bench: speed and memory benchmarks; figures land in benchmarks/results/
bench: $(STAMP)
	$(PY) -m benchmarks.run

## lock: re-pin every dependency (needs network to the package index): the development lock
## first (with the test tools and the cluster extra, which the tests use), then the runtime lock
## held to the same versions without them (`pip install .[cluster]` adds Dask and Ray)
lock:
	$(VENV)/bin/pip install --quiet uv
	$(VENV)/bin/uv pip compile pyproject.toml --extra dev --extra cluster --python-version 3.11 -o requirements-dev.lock
	$(VENV)/bin/uv pip compile pyproject.toml -c requirements-dev.lock --python-version 3.11 -o requirements.lock

## wheel: the installable wheel, carrying the dbt project, the scenarios and the workspace
wheel: $(STAMP)
	$(PY) -m llif.package dist

clean:
	rm -rf $(VENV) .pytest_cache
