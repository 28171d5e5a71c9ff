# duban — everything a developer or CI needs, from a fresh machine.
PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
# Debian's chromium (and a CJK font for readable screenshots) drive the browser tests; Playwright's own
# browser download is not reachable here.
CHROMIUM := /usr/bin/chromium
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: install browser fonts postgres run stop test test-unit test-integration test-e2e test-reliability bench soak fuzz lint up down clean

$(STAMP): pyproject.toml
	@echo "[duban] creating $(VENV) and installing duban with pinned dependencies …"
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --progress-bar off -e '.[test]'
	touch $(STAMP)

install: $(STAMP) postgres fonts  ## .venv with duban (and its CLI `duban`), Kafka's jars, the FerretDB binary, PostgreSQL, a CJK font
	$(PY) deploy/localstack.py install

run: install  ## Kafka + FerretDB + every service's web and worker; Ctrl-C or `make stop` ends it
	$(PY) deploy/localstack.py run --python $(abspath $(PY))

stop:
	$(PY) deploy/localstack.py stop

$(CHROMIUM):
	@echo "[duban] installing Debian's chromium and a CJK font for the browser tests …"
	$(SUDO) apt-get install -y --no-install-recommends chromium fonts-wqy-zenhei || \
	  ($(SUDO) apt-get update && $(SUDO) apt-get install -y --no-install-recommends chromium fonts-wqy-zenhei)

browser: $(CHROMIUM)

# The portal draws its charts (and the 督导工作报告's) on the server: matplotlib needs a CJK font for the labels.
fonts:
	@[ -e /usr/share/fonts/truetype/wqy/wqy-zenhei.ttc ] || { \
	  echo "[duban] installing a CJK font for the portal's charts …"; \
	  $(SUDO) apt-get install -y --no-install-recommends fonts-wqy-zenhei || \
	  ($(SUDO) apt-get update && $(SUDO) apt-get install -y --no-install-recommends fonts-wqy-zenhei); }

# Debian's PostgreSQL server is FerretDB's default backend; the launcher runs a private cluster of it under .run/.
postgres:
	@ls /usr/lib/postgresql/*/bin/postgres >/dev/null 2>&1 || { \
	  echo "[duban] installing Debian's PostgreSQL (FerretDB's default backend) …"; \
	  $(SUDO) apt-get install -y --no-install-recommends postgresql || \
	  ($(SUDO) apt-get update && $(SUDO) apt-get install -y --no-install-recommends postgresql); }

test: install browser  ## the whole suite; the real servers are started and stopped by the test session
	$(PY) -m pytest tests

test-unit: install
	$(PY) -m pytest tests/unit

test-integration: install
	$(PY) -m pytest tests/integration

test-e2e: install browser
	$(PY) -m pytest tests/e2e

test-reliability: install
	$(PY) -m pytest tests/reliability

bench: install  ## benchmarks print their figures; they are not pass/fail tests
	$(PY) tests/bench/run_all.py

soak: install  ## 30 min of mixed load (DUBAN_SOAK_SECONDS); errors, latency, memory; not part of `make test`
	$(PY) tests/bench/soak.py

fuzz: install  ## schemathesis at length against each service's OpenAPI (DUBAN_FUZZ_EXAMPLES, DUBAN_FUZZ_SECONDS); prints its counts
	$(PY) tests/bench/fuzz.py

lint: install
	$(VENV)/bin/ruff check shared services tests deploy

up:  ## for machines with a Docker engine
	docker compose up --build -d

down:
	docker compose down

clean:
	rm -rf $(VENV) .run
