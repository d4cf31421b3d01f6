# CivicGrid: `make demo` runs the product, `make test` runs the tests.
# Both set up what they need: a virtual environment with the pinned Python packages,
# and the npm packages from package-lock.json.

PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
HOST ?= 127.0.0.1:8000

.PHONY: demo test pytest setup bench clean

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --upgrade pip
	$(VENV)/bin/pip install --quiet -e '.[dev]'
	touch $@

node_modules/.installed: package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

setup: $(VENV)/.installed node_modules/.installed
	$(PY) manage.py compile_translations

demo: setup
	$(PY) manage.py migrate --no-input
	$(PY) manage.py load_demo --url http://$(HOST)/
	$(PY) manage.py runserver $(HOST)

test: setup
	$(VENV)/bin/ruff check civicgrid bench
	$(VENV)/bin/ruff format --check civicgrid bench
	$(VENV)/bin/mypy civicgrid bench
	$(PY) -m pytest

pytest: setup
	$(PY) -m pytest

bench: setup
	$(VENV)/bin/pip install --quiet -e '.[bench]'
	$(PY) bench/locate_bench.py
	$(PY) bench/peace_bench.py

clean:
	rm -rf $(VENV) node_modules var
