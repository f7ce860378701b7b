# ZVH Regie — `make run` serves the app on the embedded default, `make test` runs every test on real services.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
INSTALLED := $(VENV)/.installed
ASSETS := web/static/build/.built
TRANSLATIONS := web/translations/en/LC_MESSAGES/messages.mo

.PHONY: run test setup system-deps lint bench clean

$(INSTALLED): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $@

# Front-end bundles (bpmn-js, htmx, NL Design System CSS) are built from package-lock.json, never committed.
$(ASSETS): package.json package-lock.json $(shell find web/assets -type f)
	npm ci --no-audit --no-fund --loglevel=error
	npm run build --silent
	touch $@

$(TRANSLATIONS): web/translations/en/LC_MESSAGES/messages.po $(INSTALLED)
	$(BIN)/pybabel compile --statistics -d web/translations

setup: $(INSTALLED) $(ASSETS) $(TRANSLATIONS)

run: setup
	$(BIN)/zvh init --demo
	$(BIN)/zvh serve --host 127.0.0.1 --port 5000

system-deps:
	./.ci/system-deps

lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

# Two pytest processes side by side (a 2-core machine runs one test at a time per process), each with its own
# PostgreSQL, Redis and servers: the browser, process, form and modeller tests with most web tests, and everything
# else (the engine, including the history tests and their background build, and the report, modeller, monitor and
# privacy pages), about ten minutes each. The first one's output follows the second's.
SECOND_WEB := tests/web/test_report_pages.py tests/web/test_modeller.py tests/web/test_monitor.py \
	tests/web/test_monitor_analysis.py tests/web/test_privacy_pages.py tests/web/test_retention_pages.py \
	tests/web/test_overleg_planning.py tests/web/test_overleg_api.py tests/web/test_overleg_types.py
FIRST_PART := tests/browser tests/processes tests/forms tests/modeller \
	$(filter-out $(SECOND_WEB),$(wildcard tests/web/test_*.py))
test: system-deps setup lint
	@log=$$(mktemp); \
	$(BIN)/pytest $(FIRST_PART) >$$log 2>&1 & first=$$!; \
	$(BIN)/pytest tests $(addprefix --ignore=,$(FIRST_PART)); second=$$?; \
	wait $$first; first_status=$$?; \
	echo "--- the browser, process, form, modeller and web tests ---"; cat $$log; rm -f $$log; \
	test $$first_status -eq 0 && test $$second -eq 0

bench: system-deps setup
	$(BIN)/python bench/engine_bench.py
	$(BIN)/python bench/monitor_bench.py
	$(BIN)/python bench/modeller_bench.py
	$(BIN)/python bench/report_bench.py
	$(BIN)/python bench/overleg_bench.py
	$(BIN)/python bench/topology_bench.py
	$(BIN)/python bench/scale_bench.py
	$(BIN)/python bench/completion_split.py

clean:
	rm -rf $(VENV) instance .pytest_cache .mypy_cache .ruff_cache
