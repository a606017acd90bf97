# The two commands the README documents: `make test` and `make demo`.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: test demo docs lint format clean

$(STAMP): setup.cfg pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip setuptools wheel
	$(PY) -m pip install --quiet "Django>=5.2,<5.3" -e ".[tests]"
	touch $(STAMP)

# The suite runs against the package as a wheel installs it (a template, static file or
# catalogue missing from the package data fails it); afterwards the editable install is put
# back, so `.venv/bin/python -m pytest` and the scripts keep using the source tree.
test: $(STAMP)
	rm -rf build  # a stale build/lib would put files deleted from the source into the wheel
	$(PY) -m pip install --quiet --no-deps --no-build-isolation --force-reinstall .
	$(PY) runtests.py; status=$$?; \
	$(PY) -m pip install --quiet --no-deps --no-build-isolation -e .; \
	exit $$status

# DEMO_ARGS: e.g. --keep (keep demo-output/), --rows 20000; see benchmarks/demo.py --help.
demo: $(STAMP)
	$(PY) benchmarks/demo.py $(DEMO_ARGS)

docs: $(STAMP)
	$(PY) -m pip install --quiet -e ".[docs]"
	$(VENV)/bin/sphinx-build -W -b html docs docs/_build/html

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: $(STAMP)
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

clean:
	rm -rf $(VENV) build dist *.egg-info
