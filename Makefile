# Two commands do all the set-up on a fresh machine: `make run` and `make test`.
SHELL := /bin/bash
PY_BOOT ?= python3
VENV := .venv
PY := $(VENV)/bin/python
# One stamp per set of pins: `make run` needs requirements-run.txt (requirements.txt, chalice,
# watchfiles), `make test` requirements-dev.txt (that plus the test tools).
RUN_STAMP := $(VENV)/.installed-run-$(shell cat requirements.txt requirements-run.txt | sha256sum | cut -c1-12)
STAMP := $(VENV)/.installed-dev-$(shell cat requirements.txt requirements-run.txt requirements-dev.txt | sha256sum | cut -c1-12)
# --no-compile: Python writes the bytecode of what it imports when it imports it; compiling
# every installed module up front took 2/3 of the install's time (docs/performance.md).
PIP := $(PY) -m pip install --quiet --disable-pip-version-check --no-compile

.PHONY: run dev demo test js-test screenshots unit lint db-start db-stop init-db install install-run clean
.PHONY: install-parts install-run-parts postgresql ferretdb npm mongo-java

# pip is installed once, at the pinned version, by the pip wheel Python bundles for ensurepip
# (run as is): not ensurepip's copy and setuptools first, then an upgrade (3 times the CPU,
# docs/performance.md). Where that wheel is missing (a Debian python3), ensurepip as before.
BUNDLED_PIP = $(PY) -c 'import ensurepip, pathlib; print(*sorted((pathlib.Path(ensurepip.__file__).parent / "_bundled").glob("pip-*.whl"))[-1:])'
$(VENV)/.pip-upgraded:
	@test -x $(PY) || $(PY_BOOT) -m venv --without-pip $(VENV)
	@whl=$$($(BUNDLED_PIP) 2>/dev/null); \
	if [[ -n "$$whl" ]]; then set -x; $(PY) "$$whl/pip" install --quiet --disable-pip-version-check --no-compile "pip<26.3"; \
	else set -x; $(PY) -m ensurepip --default-pip >/dev/null && $(PIP) --upgrade "pip<26.3"; fi  # chalice 1.34 needs pip<26.3
	@touch $@

$(RUN_STAMP): requirements.txt requirements-run.txt | $(VENV)/.pip-upgraded
	$(PIP) -r requirements-run.txt
	@rm -f $(VENV)/.installed-run-* && touch $@

$(STAMP): requirements.txt requirements-run.txt requirements-dev.txt | $(VENV)/.pip-upgraded
	$(PIP) -r requirements-dev.txt
	@rm -f $(VENV)/.installed-* && touch $@ $(RUN_STAMP)

# The set-up steps are independent of each other (pip, apt, go, npm, Maven), so they run side
# by side, each printing its output when done; each one skips itself when already done.
# `install-run` is what `make run` needs; `install` adds the test tools and the
# mongo-java-server test lane (Maven), which `make run` never builds.
install-run:
	@$(MAKE) --no-print-directory -j4 --output-sync=target install-run-parts
install:
	@$(MAKE) --no-print-directory -j4 --output-sync=target install-parts
install-run-parts: $(RUN_STAMP) postgresql ferretdb npm
install-parts: $(STAMP) postgresql ferretdb npm mongo-java
postgresql:
	@scripts/ensure-postgresql.sh
ferretdb:
	@scripts/db.sh build
npm:
	@scripts/build-site.sh --deps
# After postgresql: both may need apt-get, which takes one lock.
mongo-java: | postgresql
	@scripts/mongo-java.sh build  # the mongo-java-server test lane (Maven, once)

## Start the database (FerretDB on PostgreSQL, data in .data/pg, kept across restarts), the API
## on :8000 and the pages on :8080.
## Ports: `make run API_PORT=8001 SITE_PORT=8081 DB_PORT=27018`; data: DATA_DIR=<dir>.
run: install-run
	@scripts/run-local.sh

## Like run, but the API restarts when app.py or chalicelib/**/*.py change.
dev: install-run
	@scripts/run-local.sh --dev

## Load a sample shop (buyers, items, 80 orders in every state) into the running `make run`.
demo: $(RUN_STAMP)
	@$(PY) scripts/demo.py

## Install everything and run the whole test suite (unit, integration on FerretDB, e2e).
test: install
	@scripts/ensure-browser.sh
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .
	$(VENV)/bin/lint-imports  # the import directions ([tool.importlinter] in pyproject.toml)
	npx --no-install eslint $(JS_LINTED)
	node --test --test-reporter=spec $(JS_TESTS)
	$(PY) -m pytest $(PYTEST_API)
	$(PY) -m pytest $(PYTEST_E2E)

# The unit and API tests on two workers, a test file staying on one (its module fixtures,
# its order); each worker starts its own FerretDB and mongo-java-server. The browser tests
# follow, also on two workers (each its own API, site and FerretDB): a browser test mostly
# waits on the page, so one worker left a core idle (the run used 0.8 of 2 cores).
PYTEST_API := -n 2 --dist loadfile tests/unit tests/integration
PYTEST_E2E := -n 2 --dist loadfile tests/e2e

## The site's JavaScript: ESLint, then the node --test unit tests of its pure modules (static_site/test).
JS_LINTED := static_site/src/js static_site/test eslint.config.js
JS_TESTS := static_site/test/*.test.js
js-test:
	@scripts/build-site.sh --deps
	npx --no-install eslint $(JS_LINTED)
	node --test --test-reporter=spec $(JS_TESTS)

## Refresh the README's screenshots (docs/screenshots/) by running the browser tests.
screenshots: install
	@scripts/ensure-browser.sh
	UPDATE_SCREENSHOTS=1 $(PY) -m pytest tests/e2e -q

unit: install
	$(PY) -m pytest tests/unit

lint: install
	$(PY) -m ruff check . && $(PY) -m ruff format --check . && $(VENV)/bin/lint-imports

## The local database alone (scripts/db.sh: FerretDB on :27017 over a private PostgreSQL cluster).
db-start: install-run
	@scripts/db.sh start

db-stop:
	@scripts/db.sh stop

init-db: install-run
	$(PY) -m chalicelib.manage init-db

.PHONY: bench bench-reports
## The benchmark suite (not part of `make test`): commands per request, latency, concurrency,
## cold start and the first request from the package (bench/cold_start.py), package size,
## the 100,000-order report and profit comparisons, page weight and first render.
## Writes docs/performance.md.
bench: install
	$(MAKE) --no-print-directory package STAGE=prod
	$(PY) bench/cold_start.py
	$(PY) bench/bench_api.py
	$(PY) bench/bench_reports.py
	$(PY) bench/bench_profit.py --runs 3 --naive-runs 3 --sweep-runs 1 --ferretdb-sweep
	@scripts/ensure-browser.sh
	$(PY) bench/bench_frontend.py

## Time /reports/buyers on 100,000 orders against the naive way, and CSV imports; writes docs/performance.md.
bench-reports: install
	$(PY) bench/bench_reports.py

# --- AWS (docs/deploy.md). STAGE is a stage of .chalice/config.json: dev or prod;
# BUCKET overrides the site bucket (default: from the stage's PUBLIC_SITE_URL). ---
STAGE ?= dev
.PHONY: deploy destroy package init-db-aws site-address

## chalice deploy, then build the site against the new API URL and publish it to S3.
deploy: $(STAMP)
	$(PY) scripts/deploy.py --stage $(STAGE) $(if $(BUCKET),--bucket $(BUCKET))

## Once per HTTPS stage without a custom domain: create its bucket and CloudFront distribution, print the address.
site-address: $(STAMP)
	$(PY) scripts/deploy.py --stage $(STAGE) --site-address

## Remove the stage's distribution, site bucket, API and logs (asks first; SSM secrets and Atlas data stay).
destroy: $(STAMP)
	$(PY) scripts/destroy.py --stage $(STAGE) $(if $(BUCKET),--bucket $(BUCKET))

## The Lambda zip (with bytecode for the runtime, scripts/chalice_pyc.py) and SAM template in dist/ (Linux wheels from PyPI).
package: $(STAMP)
	rm -rf dist
	AWS_DEFAULT_REGION=$${AWS_DEFAULT_REGION:-ap-northeast-1} $(PY) scripts/chalice_pyc.py package --stage $(STAGE) dist/
	@ls -l dist/deployment.zip

## One-time Atlas step for a stage: indexes, with the URI read from SSM as the Lambda does.
init-db-aws: $(STAMP)
	@exports="$$($(PY) scripts/deploy.py --stage $(STAGE) --print-db-env)" && eval "$$exports" && \
	  unset MONGO_URI JWT_SECRET && $(PY) -m chalicelib.manage init-db

clean:
	rm -rf $(VENV) .cache dist
