# Two commands do all the set-up on a fresh machine: `make run` and `make test`.
SHELL := /bin/bash
PY_BOOT ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-$(shell cat requirements.txt requirements-dev.txt | sha256sum | cut -c1-12)

.PHONY: run test unit lint db-start db-stop init-db install clean

$(STAMP): requirements.txt requirements-dev.txt
	@test -x $(PY) || $(PY_BOOT) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check --upgrade pip
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	@rm -f $(VENV)/.installed-* && touch $@

install: $(STAMP)
	@scripts/ferretdb.sh build

## Start FerretDB (data in .data/, kept across restarts), the API on :8000 and the pages on :8080.
run: install
	@scripts/run-local.sh

## Install everything and run the whole test suite (unit, integration on FerretDB, e2e).
test: install
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .
	$(PY) -m pytest

unit: install
	$(PY) -m pytest tests/unit

lint: install
	$(PY) -m ruff check . && $(PY) -m ruff format --check .

db-start: install
	@scripts/ferretdb.sh start

db-stop:
	@scripts/ferretdb.sh stop

init-db: install
	$(PY) -m chalicelib.manage init-db

clean:
	rm -rf $(VENV) .cache dist
