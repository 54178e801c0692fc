# nftower developer commands. Two of them are all a newcomer needs:
#   make demo   runs the nightly examples end to end against the embedded Tower emulator
#   make test   lint, type checks, the dependency audit and every test suite
# Both install everything themselves (uv is bootstrapped with pip when missing).

SHELL := /bin/bash
PYTHON ?= python3
export UV_PYTHON_DOWNLOADS := never
export UV_PYTHON := $(shell command -v $(PYTHON))
export UV_PREVIEW_FEATURES := package-conflicts
export PYTHONDONTWRITEBYTECODE := 1
UV := $(shell command -v uv 2>/dev/null || echo $(PYTHON) -m uv)
VENVS := .venvs
CORE_PY := $(VENVS)/core/bin/python
AIRFLOW_PY := $(VENVS)/airflow/bin/python
PREFECT_PY := $(VENVS)/prefect/bin/python

.PHONY: help bootstrap envs lint typecheck audit docs test test-core test-airflow test-prefect test-e2e screenshots demo demo-core demo-airflow demo-prefect bench emulator dtos clean

help:
	@grep -E '^[a-z-]+:.*##' $(MAKEFILE_LIST) | sed 's/:.*##/\t/'

bootstrap: ## install uv if it is missing
	@command -v uv >/dev/null 2>&1 || $(PYTHON) -m uv --version >/dev/null 2>&1 || $(PYTHON) -m pip install --quiet 'uv>=0.9,<1'

envs: bootstrap ## create the three environments from uv.lock (core, airflow, prefect)
	UV_PROJECT_ENVIRONMENT=$(VENVS)/core $(UV) sync --frozen --package nftower --group dev --quiet
	UV_PROJECT_ENVIRONMENT=$(VENVS)/airflow $(UV) sync --frozen --package airflow-provider-nftower --group dev --quiet
	UV_PROJECT_ENVIRONMENT=$(VENVS)/prefect $(UV) sync --frozen --package prefect-nftower --group dev --quiet

lint: envs ## ruff check and format check
	$(VENVS)/core/bin/ruff check .
	$(VENVS)/core/bin/ruff format --check .

typecheck: envs ## mypy, each package in its own environment
	$(VENVS)/core/bin/mypy core/src
	$(VENVS)/airflow/bin/mypy airflow_provider/src
	$(VENVS)/prefect/bin/mypy prefect_collection/src

audit: envs ## known vulnerabilities in uv.lock, offline (security/advisories.json)
	$(CORE_PY) security/audit.py

docs: envs ## the documentation site into site/, strict: a broken link, page or API reference fails
	NO_MKDOCS_2_WARNING=1 $(VENVS)/core/bin/mkdocs build --strict --quiet

test-core: envs
	$(CORE_PY) -m pytest tests/core

test-airflow: envs
	$(AIRFLOW_PY) -m pytest tests/airflow

test-prefect: envs
	$(PREFECT_PY) -m pytest tests/prefect

test-e2e: envs
	$(AIRFLOW_PY) -m pytest tests/e2e

screenshots: envs ## re-take the browser tests' screenshots into docs/assets/screenshots
	NFTOWER_SCREENSHOTS=$(CURDIR)/docs/assets/screenshots $(PREFECT_PY) -m pytest tests/prefect/test_browser.py
	NFTOWER_SCREENSHOTS=$(CURDIR)/docs/assets/screenshots $(AIRFLOW_PY) -m pytest tests/e2e/test_browser_airflow.py
	NFTOWER_SCREENSHOTS=$(CURDIR)/docs/assets/screenshots $(CORE_PY) -m pytest tests/core/test_emulator_run_page.py -k browser

test: lint typecheck audit docs test-core test-airflow test-prefect test-e2e ## everything CI runs

demo-core: envs
	$(CORE_PY) examples/core/nightly_launch.py

demo-airflow: envs
	bash examples/airflow/run_demo.sh

demo-prefect: envs
	$(PREFECT_PY) examples/prefect/run_demo.py

demo: demo-core demo-airflow demo-prefect ## run the nightly examples against the embedded emulator

bench: envs ## benchmarks; results go to docs/performance.md
	$(CORE_PY) -m bench

emulator: envs ## start a local Tower emulator (Ctrl-C to stop)
	$(VENVS)/core/bin/nftower-emulator

SCHEMA ?= ../shared/tower-api/seqera-api.yaml
dtos: envs ## regenerate the emulator's DTO property lists from the official schema (SCHEMA=...)
	$(CORE_PY) -m nftower.testing._dtos $(SCHEMA)

clean:
	rm -rf $(VENVS) .pytest_cache .mypy_cache .ruff_cache site
