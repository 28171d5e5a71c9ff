"""The directory on the real servers: every command over HTTP, sign-in with lockout, and what other services learn.

The directory and the notices service run in this process (Flask test clients, workers as threads) on the real
Kafka broker and MongoDB-protocol server, with one clock the test moves.
"""
from __future__ import annotations

from contextlib import contextmanager
from dataclasses import replace
from datetime import datetime, timezone

import pytest

from shared.auth import issue_token
from shared.clock import FixedClock
from shared.web import create_service_app
from shared.worker import Worker
from services.directory.bootstrap import bootstrap as bootstrap_directory
from services.directory.domain.model import person_id_for, unit_id_for
from services.directory.entrypoints.api import BLUEPRINTS, PUBLIC_PATHS
from services.notices.bootstrap import bootstrap as bootstrap_notices
from services.notices.entrypoints.api import blp as notices_api
from tests.helpers import eventually

CITY = "巴中市教育局"
OFFICE = "巴中市人民政府教育督导委员会办公室"
BAZHOU, ENYANG = "巴州区教育局", "恩阳区教育局"
SCHOOL = "巴州区第三小学"
PASSWORD = "Bazhong-2026"


@contextmanager
def directory_and_notices(settings, clock):
    contexts = {"directory": bootstrap_directory(settings, clock=clock),
                "notices": bootstrap_notices(settings, clock=clock)}
    workers = [Worker(context) for context in contexts.values()]
    for worker in workers:
        worker.start()
    try:
        yield contexts
    finally:
        for worker in workers:
            worker.shutdown()


@pytest.fixture
def world(settings):
    settings = replace(settings, deadline_watch_seconds=3600)
    clock = FixedClock(datetime(2026, 12, 4, 2, 0, tzinfo=timezone.utc))
    with directory_and_notices(settings, clock) as contexts:
        directory = create_service_app(lambda: contexts["directory"], "directory", BLUEPRINTS,
                                       public_paths=PUBLIC_PATHS).test_client()
        notices = create_service_app(lambda: contexts["notices"], "notices", [notices_api]).test_client()
        admin = issue_token(settings.jwt_secret, "root", "admin", None, "管理员")
        yield clock, contexts, directory, notices, admin


def call(client, method: str, path: str, token: str | None = None, body: dict | None = None, **headers):
    if token:
        headers["Authorization"] = f"Bearer {token}"
    return getattr(client, method)(path, json=body, headers=headers)


def ok(response, status: int = 200) -> dict:
    assert response.status_code == status, response.get_data(as_text=True)
    return response.get_json()


def register_units(directory, admin) -> None:
    for body in ({"name": CITY, "kind": "bureau", "region_code": "511900"},
                 {"name": OFFICE, "kind": "office", "parent": None},
                 {"name": BAZHOU, "kind": "bureau", "parent": CITY, "short_name": "巴州区"},
                 {"name": ENYANG, "kind": "bureau", "parent": CITY},
                 {"name": SCHOOL, "kind": "school", "parent": BAZHOU}):
        ok(call(directory, "post", "/units", admin, body), 201)


def test_units_are_registered_in_their_hierarchy_moved_and_merged_with_every_change_an_event(world):
    _, contexts, directory, _, admin = world
    register_units(directory, admin)
    school = ok(call(directory, "get", f"/units/{unit_id_for(SCHOOL)}", admin))
    assert (school["parent"], school["kind"], school["active"]) == (BAZHOU, "school", True)
    assert [u["name"] for u in ok(call(directory, "get", f"/units?parent={CITY}", admin))] == sorted([BAZHOU, ENYANG])

    # Refusals name the field and store nothing.
    before = contexts["directory"].store.count()
    unknown_parent = call(directory, "post", "/units", admin, {"name": "某中学", "kind": "school", "parent": "某某区教育局"})
    assert unknown_parent.status_code == 422 and unknown_parent.get_json()["details"]["field"] == "parent"
    assert call(directory, "post", "/units", admin, {"name": SCHOOL, "kind": "school"}).status_code == 409
    assert call(directory, "post", "/units", admin, {"name": "x", "kind": "castle"}).status_code == 422
    cycle = call(directory, "post", f"/units/{unit_id_for(BAZHOU)}/parent", admin, {"parent": SCHOOL})
    assert cycle.status_code == 422 and "下级" in cycle.get_json()["message_zh"]
    assert contexts["directory"].store.count() == before

    # Its details change (an event only when something did); a stale expected_version is a 409.
    changed = ok(call(directory, "post", f"/units/{unit_id_for(SCHOOL)}/changes", admin,
                      {"kind": "school", "short_name": "巴州三小", "region_code": "511902"}))
    assert (changed["short_name"], changed["region_code"], changed["version"]) == ("巴州三小", "511902", 2)
    stale = call(directory, "post", f"/units/{unit_id_for(SCHOOL)}/changes", admin,
                 {"kind": "school", "short_name": "三小", "expected_version": 1})
    assert stale.status_code == 409

    # A school moves to another district; a district is merged (撤并) and can no longer take units.
    moved = ok(call(directory, "post", f"/units/{unit_id_for(SCHOOL)}/parent", admin, {"parent": ENYANG}))
    assert moved["parent"] == ENYANG
    merged = ok(call(directory, "post", f"/units/{unit_id_for(BAZHOU)}/merger", admin, {"merged_into": ENYANG}))
    assert (merged["active"], merged["merged_into"]) == (False, ENYANG)
    refused = call(directory, "post", "/units", admin, {"name": "新学校", "kind": "school", "parent": BAZHOU})
    assert refused.status_code == 422 and "已并入" in refused.get_json()["message_zh"]

    events = list(contexts["directory"].store.read_stream(unit_id_for(SCHOOL)))
    assert [e.type for e in events] == ["UnitRegistered", "UnitChanged", "UnitMoved"]
    assert events[2].actor.user_id == "root" and events[2].data["previous_parent"] == BAZHOU

    # Only administrators change the directory.
    office = issue_token(contexts["directory"].settings.jwt_secret, "wang", "office_staff", OFFICE)
    assert call(directory, "post", "/units", office, {"name": "y", "kind": "school"}).status_code == 403


def test_people_sign_in_and_lose_their_sessions_when_roles_change_or_the_account_is_disabled(world):
    clock, contexts, directory, notices, admin = world
    register_units(directory, admin)
    weak = call(directory, "post", "/people", admin, {"username": "zhao", "name": "赵伟", "unit": BAZHOU,
                                                       "roles": ["unit_handler"], "password": "12345678"})
    assert weak.status_code == 422 and weak.get_json()["details"]["field"] == "password"
    no_unit = call(directory, "post", "/people", admin, {"username": "zhao", "name": "赵伟", "roles": ["unit_handler"],
                                                          "password": PASSWORD})
    assert no_unit.status_code == 422 and no_unit.get_json()["details"]["field"] == "unit"
    person = ok(call(directory, "post", "/people", admin, {
        "username": "zhao", "name": "赵伟", "unit": BAZHOU, "roles": ["unit_handler"], "password": PASSWORD,
        "mobile": "13812341234", "email": "zhao@example.cn"}), 201)
    assert person["epoch"] == 1 and "password" not in person
    assert call(directory, "post", "/people", admin, {"username": "zhao", "name": "x", "unit": BAZHOU,
                                                      "roles": ["unit_handler"], "password": PASSWORD}).status_code == 409

    session = ok(call(directory, "post", "/sessions", None, {"username": "zhao", "password": PASSWORD}), 201)
    assert session["role"] == "unit_handler" and session["person"]["unit"] == BAZHOU
    token = session["token"]
    assert ok(call(directory, "get", "/people/me", token))["username"] == "zhao"
    assert call(notices, "get", "/notices", token).status_code == 200

    # Wrong password and unknown account are answered alike.
    wrong = call(directory, "post", "/sessions", None, {"username": "zhao", "password": "nope"})
    nobody = call(directory, "post", "/sessions", None, {"username": "nobody", "password": "nope"})
    assert (wrong.status_code, nobody.status_code) == (401, 401)
    assert wrong.get_json()["message_zh"] == nobody.get_json()["message_zh"]

    # Contacts change without ending the session; a move to another unit ends it.
    details = ok(call(directory, "post", f"/people/{person_id_for('zhao')}/details", admin,
                      {"name": "赵伟", "mobile": "13912345678", "email": "zhao.wei@example.cn"}))
    assert (details["mobile"], details["epoch"]) == ("13912345678", 1)
    assert call(directory, "post", f"/people/{person_id_for('zhao')}/details", admin,
                {"name": "赵伟", "mobile": "12345"}).status_code == 422
    moved = ok(call(directory, "post", f"/people/{person_id_for('zhao')}/unit", admin, {"unit": ENYANG}))
    assert (moved["unit"], moved["epoch"]) == (ENYANG, 2)
    session = ok(call(directory, "post", "/sessions", None, {"username": "zhao", "password": PASSWORD}), 201)
    assert session["person"]["unit"] == ENYANG
    token = session["token"]

    # Roles change: the token issued before is refused by every service once it has learnt the change.
    ok(call(directory, "post", f"/people/{person_id_for('zhao')}/roles", admin, {"roles": ["unit_leader"]}))

    def refused_by_notices():
        contexts["notices"].directory.refresh()
        answer = call(notices, "get", "/notices", token)
        assert answer.status_code == 401, answer.get_data(as_text=True)
        return answer.get_json()

    assert "重新登录" in eventually(refused_by_notices)["message_zh"]
    fresh = ok(call(directory, "post", "/sessions", None, {"username": "zhao", "password": PASSWORD}), 201)
    assert fresh["role"] == "unit_leader"
    assert call(notices, "get", "/notices", fresh["token"]).status_code == 200

    # Disabled: sign-in refused (after the right password only), and the last token too.
    ok(call(directory, "post", f"/people/{person_id_for('zhao')}/disable", admin, {"reason": "调离"}))
    disabled = call(directory, "post", "/sessions", None, {"username": "zhao", "password": PASSWORD})
    assert disabled.status_code == 403 and "停用" in disabled.get_json()["message_zh"]
    token = fresh["token"]
    eventually(refused_by_notices)
    ok(call(directory, "post", f"/people/{person_id_for('zhao')}/enable", admin, {}))

    # The person changes their own password; an administrator resets it.
    token = ok(call(directory, "post", "/sessions", None, {"username": "zhao", "password": PASSWORD}), 201)["token"]
    bad = call(directory, "post", f"/people/{person_id_for('zhao')}/password", token,
               {"current_password": "wrong", "new_password": "Another-2027"})
    assert bad.status_code == 422 and bad.get_json()["details"]["field"] == "current_password"
    ok(call(directory, "post", f"/people/{person_id_for('zhao')}/password", token,
            {"current_password": PASSWORD, "new_password": "Another-2027"}))
    assert call(directory, "post", "/sessions", None, {"username": "zhao", "password": PASSWORD}).status_code == 401
    ok(call(directory, "post", f"/people/{person_id_for('zhao')}/password-reset", admin, {"new_password": "Reset-2027x"}))
    # the sign-in after the reset: the tokens before it are stale now (their epoch is behind the person's)
    token = ok(call(directory, "post", "/sessions", None, {"username": "zhao", "password": "Reset-2027x"}), 201)["token"]
    types = [e.type for e in contexts["directory"].store.read_stream(person_id_for("zhao"))]
    assert types == ["PersonRegistered", "PersonDetailsChanged", "PersonMoved", "PersonRolesChanged", "PersonDisabled",
                     "PersonEnabled", "PasswordChanged", "PasswordChanged"]
    # Other people's entries are for the office's readers; a person reads their own.
    assert call(directory, "get", f"/people/{person_id_for('zhao')}", token).status_code == 200
    other = issue_token(contexts["directory"].settings.jwt_secret, "qian", "unit_handler", BAZHOU)
    assert call(directory, "get", f"/people/{person_id_for('zhao')}", other).status_code == 403


def test_repeated_failures_lock_the_account_for_a_while_and_are_recorded(world):
    clock, contexts, directory, _, admin = world
    register_units(directory, admin)
    ok(call(directory, "post", "/people", admin, {"username": "li", "name": "李娜", "unit": ENYANG,
                                                  "roles": ["unit_handler"], "password": PASSWORD}), 201)
    for _ in range(5):
        assert call(directory, "post", "/sessions", None, {"username": "li", "password": "guess"}).status_code == 401
    locked = call(directory, "post", "/sessions", None, {"username": "li", "password": PASSWORD})
    assert locked.status_code == 429 and int(locked.headers["Retry-After"]) > 0
    kinds = [e.type for e in contexts["directory"].store.read_all() if e.stream_type == "sign-in"]
    assert kinds.count("SignInFailed") == 10 and kinds.count("SignInLocked") == 1  # five per account, five per address

    clock.advance(minutes=16)
    ok(call(directory, "post", "/sessions", None, {"username": "li", "password": PASSWORD}), 201)

    # Many accounts tried from one address: the address is locked, whichever account comes next.
    for n in range(20):
        call(directory, "post", "/sessions", None, {"username": f"guess{n}", "password": "x"})
    assert call(directory, "post", "/sessions", None, {"username": "li", "password": PASSWORD}).status_code == 429
    other_address = call(directory, "post", "/sessions", None, {"username": "li", "password": PASSWORD},
                         **{"X-Forwarded-For": "10.1.2.3"})
    assert other_address.status_code == 201  # the test client is a trusted proxy (127.0.0.1) naming another client


def test_notices_name_only_units_the_directory_registered(world):
    _, contexts, directory, notices, admin = world
    office = issue_token(contexts["notices"].settings.jwt_secret, "wang", "office_staff", OFFICE)
    notice = {"kind": "督办通知", "title": "关于校园安全隐患整改的督办通知", "issuer_unit": OFFICE,
              "target_units": ["巴州区教育厅"], "problems": [
                  {"description": "消防通道堵塞", "requirement": "清理", "responsible_unit": "巴州区教育厅"}]}
    # An empty directory checks nothing (a new installation); once units are registered, names must be theirs.
    ok(call(notices, "post", "/notices", office, notice), 201)
    register_units(directory, admin)

    def refused():
        copy = contexts["notices"].directory
        copy.refresh()
        # The units arrive one event at a time: wait for all of them, or the closest name offered is another's.
        assert {CITY, OFFICE, BAZHOU, ENYANG, SCHOOL} <= copy.unit_names()
        answer = call(notices, "post", "/notices", office, notice)
        assert answer.status_code == 422, answer.get_data(as_text=True)
        return answer.get_json()

    body = eventually(refused)
    assert body["details"]["field"] == "target_units"
    assert BAZHOU in body["details"]["unknown_units"]["巴州区教育厅"] and BAZHOU in body["message_zh"]
    fixed = {**notice, "target_units": [BAZHOU],
             "problems": [{**notice["problems"][0], "responsible_unit": BAZHOU}]}
    ok(call(notices, "post", "/notices", office, fixed), 201)
