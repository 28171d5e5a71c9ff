"""No Docker engine runs here, so the compose file is checked against the code instead."""
from __future__ import annotations

import importlib
import re
from pathlib import Path

import yaml

from deploy.localstack import SERVICES

ROOT = Path(__file__).resolve().parents[2]
COMPOSE = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
SETTINGS_ENV = set(re.findall(r'_env\("([A-Z_]+)"', (ROOT / "shared/config.py").read_text()))
GUNICORN_ENV = set(re.findall(r'environ.get\("([A-Z_]+)"', (ROOT / "deploy/gunicorn.conf.py").read_text()))


def duban_services() -> dict:
    return {k: v for k, v in COMPOSE["services"].items() if k not in ("kafka", "mongo")}


def test_every_service_has_a_web_and_a_worker_and_the_portal_a_web_process():
    expected = {f"{s}-{kind}" for s in SERVICES for kind in ("web", "worker")} | {"portal-web"}
    assert set(duban_services()) == expected


def test_commands_name_modules_and_app_factories_that_exist():
    for name, spec in duban_services().items():
        command = spec["command"]
        if command[0] == "gunicorn":
            module, factory = command[-1].removesuffix("()").split(":")
            assert callable(getattr(importlib.import_module(module), factory)), name
            assert (ROOT / command[command.index("-c") + 1]).exists()
        else:
            assert command[:2] == ["python", "-m"]
            assert hasattr(importlib.import_module(command[2]), "worker_main"), name


def test_environment_variables_are_ones_the_code_reads():
    known = SETTINGS_ENV | GUNICORN_ENV | {"PROMETHEUS_MULTIPROC_DIR"}
    for name, spec in duban_services().items():
        unknown = set(spec["environment"]) - known
        assert not unknown, f"{name} sets variables nothing reads: {unknown}"
        needed = {"KAFKA_BOOTSTRAP", "DUBAN_JWT_SECRET"} | (set() if name == "portal-web" else {"MONGO_URL"})
        assert needed <= set(spec["environment"]), name
    assert {"MONGO_URL", "KAFKA_BOOTSTRAP", "DUBAN_JWT_SECRET"} <= SETTINGS_ENV


def test_web_ports_match_the_local_stack_and_point_at_the_bind_port():
    for service, local_port in SERVICES.items():
        spec = duban_services()[f"{service}-web"]
        bind_port = spec["environment"]["DUBAN_BIND"].rsplit(":", 1)[1]
        assert spec["ports"] == [f"{local_port}:{bind_port}"]
        assert "readyz" in " ".join(spec["healthcheck"]["test"])


def test_servers_are_the_official_images_with_health_checks_and_services_wait_for_them():
    assert COMPOSE["services"]["kafka"]["image"].startswith("apache/kafka:")
    assert COMPOSE["services"]["kafka"]["environment"]["KAFKA_PROCESS_ROLES"] == "broker,controller"
    assert COMPOSE["services"]["mongo"]["image"].startswith("mongo:")
    assert "--replSet" in COMPOSE["services"]["mongo"]["command"]
    for server in ("kafka", "mongo"):
        assert COMPOSE["services"][server]["healthcheck"]["test"]
    for name, spec in duban_services().items():
        servers = ("kafka",) if name == "portal-web" else ("kafka", "mongo")  # the portal reads only the topics
        assert spec["depends_on"] == {server: {"condition": "service_healthy"} for server in servers}
        bootstrap = spec["environment"]["KAFKA_BOOTSTRAP"]
        assert bootstrap.split(":")[0] == "kafka"


def test_the_dockerfile_copies_what_the_commands_need():
    dockerfile = (ROOT / "deploy/Dockerfile").read_text()
    for needed in ("shared", "services", "deploy/gunicorn.conf.py", "pyproject.toml"):
        assert f"COPY {needed}" in dockerfile or f" {needed} " in dockerfile
