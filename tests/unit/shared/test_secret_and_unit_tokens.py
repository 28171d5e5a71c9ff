"""No process starts on a secret everyone knows; a token of a unit's role names its unit."""
from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import jwt
import pytest

from deploy import localstack
from shared.auth import Role, actor_from_token, issue_token
from shared.config import PUBLISHED_DEVELOPMENT_SECRET, InsecureConfiguration, Settings
from shared.errors import Unauthorized

ROOT = Path(__file__).resolve().parents[3]
SECRET = "unit-token-test-secret-of-32-bytes-or-more"


@pytest.fixture
def production(monkeypatch):
    """The environment of a server: no development mode, no secret (the test session sets both)."""
    monkeypatch.delenv("DUBAN_DEV_MODE", raising=False)
    monkeypatch.delenv("DUBAN_JWT_SECRET", raising=False)
    return monkeypatch


class TestTheSecret:
    def test_without_a_secret_settings_refuse(self, production):
        with pytest.raises(InsecureConfiguration, match="DUBAN_JWT_SECRET is not set"):
            Settings()

    def test_the_published_development_secret_is_refused(self, production):
        production.setenv("DUBAN_JWT_SECRET", PUBLISHED_DEVELOPMENT_SECRET)
        with pytest.raises(InsecureConfiguration, match="published development secret"):
            Settings()

    def test_a_secret_of_ones_own_is_taken(self, production):
        production.setenv("DUBAN_JWT_SECRET", "a-secret-of-this-installation")
        assert Settings().jwt_secret == "a-secret-of-this-installation" and not Settings().dev_mode

    def test_development_mode_falls_back_to_the_development_secret(self, production):
        production.setenv("DUBAN_DEV_MODE", "1")
        assert Settings().jwt_secret == PUBLISHED_DEVELOPMENT_SECRET

    @pytest.mark.parametrize("process", [
        ["-c", "from services.notices.entrypoints.api import create_app; create_app()"],
        ["-c", "from services.portal.entrypoints.api import create_app; create_app()"],
        ["-m", "services.tasks.entrypoints.worker"],
    ], ids=["notices-web", "portal-web", "tasks-worker"])
    def test_the_services_the_portal_and_the_workers_refuse_to_start_on_the_published_secret(self, process):
        env = {k: v for k, v in os.environ.items() if k != "DUBAN_DEV_MODE"}
        env.update(DUBAN_JWT_SECRET=PUBLISHED_DEVELOPMENT_SECRET, PYTHONPATH=str(ROOT),
                   MONGO_URL="mongodb://127.0.0.1:1/", KAFKA_BOOTSTRAP="127.0.0.1:1")  # nothing to reach: it must not try
        result = subprocess.run([sys.executable, *process], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
        assert result.returncode != 0
        assert "InsecureConfiguration" in result.stderr and "published development secret" in result.stderr


class TestTheLaunchersSecret:
    def test_made_once_per_installation_and_readable_by_its_owner_alone(self, tmp_path):
        secret = localstack.installation_secret(tmp_path)
        path = tmp_path / "jwt-secret"
        assert len(secret) >= 48 and secret != PUBLISHED_DEVELOPMENT_SECRET
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
        assert localstack.installation_secret(tmp_path) == secret
        assert localstack.installation_secret(tmp_path / "elsewhere") != secret

    def test_every_process_it_starts_inherits_the_secret_and_development_mode(self, production, tmp_path):
        localstack.use_installation_secret(tmp_path)
        assert os.environ["DUBAN_JWT_SECRET"] == (tmp_path / "jwt-secret").read_text().strip()
        assert os.environ["DUBAN_DEV_MODE"] == "1"
        assert localstack.Stack(tmp_path).service_env()["DUBAN_JWT_SECRET"] == os.environ["DUBAN_JWT_SECRET"]

    def test_a_secret_set_by_the_operator_wins(self, production, tmp_path):
        production.setenv("DUBAN_JWT_SECRET", "the-operators-own")
        localstack.use_installation_secret(tmp_path)
        assert os.environ["DUBAN_JWT_SECRET"] == "the-operators-own" and not (tmp_path / "jwt-secret").exists()


class TestUnitRoles:
    @pytest.mark.parametrize("role", [Role.UNIT_HANDLER, Role.UNIT_LEADER, Role.DEPARTMENT_LIAISON])
    def test_a_token_of_a_units_role_cannot_be_issued_without_the_unit(self, role):
        with pytest.raises(ValueError, match="needs a unit"):
            issue_token(SECRET, "someone", role)
        assert actor_from_token(SECRET, issue_token(SECRET, "someone", role, "巴州区教育局")).unit == "巴州区教育局"

    @pytest.mark.parametrize("role", [Role.UNIT_HANDLER, Role.UNIT_LEADER, Role.DEPARTMENT_LIAISON])
    def test_a_token_of_a_units_role_without_the_unit_is_no_identity(self, role):
        forged = jwt.encode({"sub": "someone", "role": role, "unit": None, "exp": 4_000_000_000}, SECRET, algorithm="HS256")
        with pytest.raises(Unauthorized) as refused:
            actor_from_token(SECRET, forged)
        assert refused.value.status == 401 and refused.value.message_zh == "身份令牌缺少所属单位"

    def test_the_unit_leader_is_a_role(self):
        assert "unit_leader" in Role.ALL and Role.UNIT_LEADER in Role.UNIT_BOUND

    @pytest.mark.parametrize("role", [Role.OFFICE_STAFF, Role.INSPECTOR, Role.AUDITOR, Role.ADMIN])
    def test_the_other_roles_need_no_unit(self, role):
        assert actor_from_token(SECRET, issue_token(SECRET, "someone", role)).unit is None
