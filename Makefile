# duban — everything a developer or CI needs, from a fresh machine.
PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: install run stop test test-unit test-integration test-e2e test-reliability bench lint up down clean

$(STAMP): pyproject.toml
	@echo "[duban] creating $(VENV) and installing duban with pinned dependencies …"
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --progress-bar off -e '.[test]'
	touch $(STAMP)

install: $(STAMP)  ## .venv with duban (and its CLI `duban`), Kafka's jars and the FerretDB binary
	$(PY) deploy/localstack.py install

run: install  ## Kafka + FerretDB + every service's web and worker; Ctrl-C or `make stop` ends it
	$(PY) deploy/localstack.py run --python $(abspath $(PY))

stop:
	$(PY) deploy/localstack.py stop

test: install  ## the whole suite; the real servers are started and stopped by the test session
	$(PY) -m pytest tests

test-unit: install
	$(PY) -m pytest tests/unit

test-integration: install
	$(PY) -m pytest tests/integration

test-e2e: install
	$(PY) -m pytest tests/e2e

test-reliability: install
	$(PY) -m pytest tests/reliability

bench: install  ## benchmarks print their figures; they are not pass/fail tests
	$(PY) tests/bench/run_all.py

lint: install
	$(VENV)/bin/ruff check shared services tests deploy

up:  ## for machines with a Docker engine
	docker compose up --build -d

down:
	docker compose down

clean:
	rm -rf $(VENV) .run
