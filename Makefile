# Two commands set everything up on a fresh Debian machine with Python 3.11:
#   make demo   install, migrate, demo accounts and process, serve on http://127.0.0.1:8000
#   make test   install the test dependencies and run every test, browser tests included
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: demo test install lint translations

$(BIN)/uphold: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e .
	touch $@

install: $(BIN)/uphold

demo: install
	UPHOLD_MODE=demo $(BIN)/uphold demo

test: install
	scripts/install-system-packages
	$(BIN)/pip install --quiet -e '.[test]'
	$(BIN)/ruff check .
	UPHOLD_MODE=test UPHOLD_DATA_DIR=test-artifacts/data $(BIN)/uphold makemigrations --check --dry-run
	$(BIN)/pytest -n 2

lint:
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

# After changing user-facing text: extract, translate in uphold/locale/de, then compile.
translations:
	cd uphold && UPHOLD_MODE=test UPHOLD_DATA_DIR=../test-artifacts/data ../$(BIN)/django-admin makemessages -l de --no-obsolete -e html,txt,py,md --settings=uphold.settings --pythonpath=..
	UPHOLD_MODE=test UPHOLD_DATA_DIR=test-artifacts/data $(BIN)/uphold compiletranslations
