# The two commands a newcomer needs: `make run` and `make test` (see README).
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
EXTRAS ?=

.PHONY: install run test lint bench screenshots clean

# Creates the virtualenv and installs the project (editable); EXTRAS=dev adds test tools.
# Re-runs only when pyproject.toml changes.
install: $(VENV)/.installed$(if $(EXTRAS),-$(EXTRAS))

$(VENV)/.installed$(if $(EXTRAS),-$(EXTRAS)): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".$(if $(EXTRAS),[$(EXTRAS)])"
	touch $@

run:
	$(MAKE) install
	$(BIN)/perseo-bot demo
	$(BIN)/perseo-bot run

test:
	$(MAKE) install EXTRAS=dev
	$(BIN)/python -m pytest $(PYTEST_ARGS)

lint:
	$(MAKE) install EXTRAS=dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

bench:
	$(MAKE) install EXTRAS=dev
	$(BIN)/python bench/kb.py

# PNGs of every console page, desktop and phone, into var/screenshots (needs Chromium).
screenshots:
	$(MAKE) install EXTRAS=dev
	$(BIN)/python tools/screenshots.py --out var/screenshots

clean:
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache
