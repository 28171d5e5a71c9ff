"""The portal signs people in through the directory service, and ends their sessions when the directory says so.

The directory runs as a real HTTP server in this process (its Flask app under werkzeug, its worker as a thread) on
the real Kafka broker and MongoDB-protocol server; the portal follows the topics and calls it by URL.
"""
from __future__ import annotations

import threading
from dataclasses import replace

import pytest
from werkzeug.serving import make_server

from shared.auth import issue_token
from shared.web import create_service_app
from shared.worker import Worker
from deploy.localstack import free_port
from services.directory.bootstrap import bootstrap as bootstrap_directory
from services.directory.domain.model import person_id_for
from services.directory.entrypoints.api import BLUEPRINTS, PUBLIC_PATHS
from services.portal.adapters.users import UserDirectory
from services.portal.context import bootstrap as bootstrap_portal
from services.portal.entrypoints.api import create_app
from tests.helpers import eventually
from tests.portal_forms import FormClient

BAZHOU = "巴州区教育局"
PASSWORD = "Bazhou-2026!"


@pytest.fixture
def stack(settings):
    directory = bootstrap_directory(settings)
    worker = Worker(directory)
    worker.start()
    port = free_port()
    server = make_server("127.0.0.1", port, create_service_app(lambda: directory, "directory", BLUEPRINTS,
                                                                public_paths=PUBLIC_PATHS), threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    portal = bootstrap_portal(replace(settings, directory_url=f"http://127.0.0.1:{port}"), users=UserDirectory([]))
    app = create_app(portal)
    app.test_client_class = FormClient
    try:
        eventually(lambda: _assert(portal.ready), timeout=60)
        yield directory, portal, app, issue_token(settings.jwt_secret, "root", "admin", None, "管理员")
    finally:
        portal.stop()
        server.shutdown()
        worker.shutdown()


def _assert(condition) -> None:
    assert condition


def _admin_call(app_client, token, path, body):
    answer = app_client.post(path, json=body, headers={"Authorization": f"Bearer {token}"})
    assert answer.status_code in (200, 201), answer.get_data(as_text=True)
    return answer.get_json()


def test_a_directory_account_signs_in_and_its_session_ends_when_its_roles_change(stack):
    directory, portal, app, admin = stack
    api = create_service_app(lambda: directory, "directory", BLUEPRINTS, public_paths=PUBLIC_PATHS).test_client()
    _admin_call(api, admin, "/units", {"name": BAZHOU, "kind": "bureau"})
    _admin_call(api, admin, "/people", {"username": "zhao", "name": "赵伟", "unit": BAZHOU, "roles": ["unit_handler"],
                                        "password": PASSWORD})

    browser = app.test_client()
    wrong = browser.post("/login", data={"username": "zhao", "password": "wrong-password1"})
    assert wrong.status_code == 401 and "用户名或密码不正确" in wrong.get_data(as_text=True)
    signed_in = browser.post("/login", data={"username": "zhao", "password": PASSWORD})
    assert signed_in.status_code == 302, signed_in.get_data(as_text=True)
    assert browser.get("/notices").status_code == 200

    # The portal learns the person from the directory's topic; a role change ends the session there too.
    eventually(lambda: _assert("zhao" in portal.model.people), timeout=30)
    _admin_call(api, admin, f"/people/{person_id_for('zhao')}/roles", {"roles": ["unit_leader"]})
    eventually(lambda: _assert(portal.model.people["zhao"]["epoch"] == 2), timeout=30)
    ended = browser.get("/notices")
    assert ended.status_code == 302 and ended.headers["Location"].startswith("/login")

    # Signed in again: the new role; a disabled account cannot sign in and is told why.
    assert browser.post("/login", data={"username": "zhao", "password": PASSWORD}).status_code == 302
    assert "单位负责人" in browser.get("/").get_data(as_text=True)
    _admin_call(api, admin, f"/people/{person_id_for('zhao')}/disable", {"reason": "调离"})
    refused = app.test_client().post("/login", data={"username": "zhao", "password": PASSWORD})
    assert refused.status_code == 403 and "停用" in refused.get_data(as_text=True)
