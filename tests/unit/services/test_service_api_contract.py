"""What each service's HTTP API promises, checked on the real apps (over in-memory stores, no servers):

- every error body matches the ``Error`` schema its /openapi.json documents, and the operation documents the status;
- every paginated list bounds ``page`` and ``page_size`` (422, never a number the database cannot hold), and
  documents ``X-Pagination`` as the JSON object it is;
- no text field takes a control character but tab and line breaks (422 naming the field), and every text of a
  request says so with its pattern; rules across fields (which notices need problems, which escalations a
  document number) are in the schemas too;
- every 405 carries the right ``Allow`` (a fixed path such as /plans/preview is not an item's path);
- a database that does not answer is a 503 with ``Retry-After``, never a 500.
"""
from __future__ import annotations

import re

import mongoengine.errors
import pytest
from flask_smorest import Blueprint
from flask_smorest.pagination import PaginationMixin
from pymongo.errors import AutoReconnect, ExecutionTimeout, NetworkTimeout, ServerSelectionTimeoutError

from shared import mongo, text
from shared.auth import Role, issue_token
from shared.config import Settings
from shared.errors import (ConcurrencyConflict, IdempotencyConflict, IdempotencyKeyMismatch, IllegalTransition,
                           RetryLater, ServiceUnavailable)
from shared.evidence import SHA256
from shared.eventstore.memory import InMemoryEventStore
from shared.openapi import MAX_PAGE
from shared.web import create_service_app
from services.notices.entrypoints.schemas import NOTICE_ID_PATTERN
from services.directory.bootstrap import bootstrap as bootstrap_directory
from shared.accounts import MOBILE_PATTERN, USERNAME_PATTERN
from services.directory.entrypoints import api as directory_api
from services.directory.entrypoints.schemas import REGION_CODE_PATTERN
from services.followups.bootstrap import bootstrap as bootstrap_followups
from services.followups.entrypoints import api as followups_api
from services.notices.bootstrap import bootstrap as bootstrap_notices
from services.notices.entrypoints import api as notices_api
from services.tasks.bootstrap import bootstrap as bootstrap_tasks
from services.tasks.entrypoints import api as tasks_api

UNIT = "巴中市教育督导室"
SERVICES = {
    "tasks": (bootstrap_tasks, [tasks_api.plans, tasks_api.tasks]),
    "notices": (bootstrap_notices, [notices_api.blp]),
    "followups": (bootstrap_followups, [followups_api.blp]),
    "directory": (bootstrap_directory, directory_api.BLUEPRINTS),
}
LISTS = {"tasks": ["/plans", "/tasks"], "notices": ["/notices"], "followups": ["/cases"],
         "directory": ["/units", "/people"]}


def failing_views() -> Blueprint:
    """Views that fail the ways a real request can, through the real error handlers."""
    blp = Blueprint("failures", __name__, url_prefix="/failures")
    failures = {
        "conflict": lambda: ConcurrencyConflict("notice-1", 2, 3),
        "illegal": lambda: IllegalTransition("already closed", "事项已销号"),
        "in-progress": lambda: IdempotencyConflict("still running", "处理中", header="Idempotency-Key"),
        "key-mismatch": lambda: IdempotencyKeyMismatch("other request", "另一个请求", header="Idempotency-Key"),
        "retry-later": lambda: RetryLater("later", "稍后"),
        "unavailable": lambda: ServiceUnavailable("down", "暂不可用"),
        "no-server": lambda: ServerSelectionTimeoutError("127.0.0.1:27017: timed out"),
        "socket-timeout": lambda: NetworkTimeout("127.0.0.1:27017: timed out (configured timeouts: socketTimeoutMS: 10000.0ms)"),
        "reconnect": lambda: AutoReconnect("connection reset"),
        "bug": lambda: KeyError("a bug"),
        "mongoengine-alias": lambda: mongoengine.connection.ConnectionFailure("You have not defined a default connection"),
    }
    for name, make in failures.items():
        blp.add_url_rule(f"/{name}", f"fail_{name.replace('-', '_')}", _raiser(make), methods=["GET"])

    def wrapped_timeout():
        try:
            raise ExecutionTimeout("operation exceeded time limit", 50)
        except ExecutionTimeout as error:  # what mongoengine does with an OperationFailure in save() or update()
            raise mongoengine.errors.OperationError(f"Could not save document ({error})") from None

    blp.add_url_rule("/wrapped-timeout", "fail_wrapped_timeout", wrapped_timeout, methods=["GET"])
    return blp


def _raiser(make):
    def view():
        raise make()

    return view


@pytest.fixture(scope="module", autouse=True)
def batch_round_trips_afterwards():
    """create_service_app marks the process as a web process (shared.mongo); the tests after these are not."""
    before = getattr(mongo, "_serving_requests", False)
    yield
    mongo._serving_requests = before


_apps: dict = {}


def make_app(service: str):
    """The service's real app (with a few views that fail on purpose), built once per service."""
    if service not in _apps:
        bootstrap, blueprints = SERVICES[service]
        app = create_service_app(lambda: bootstrap(store=InMemoryEventStore()), f"duban {service}",
                                 [*blueprints, failing_views()])
        app.config["PROPAGATE_EXCEPTIONS"] = False
        _apps[service] = app
    return _apps[service]


def token(role: str = Role.OFFICE_STAFF, unit: str | None = UNIT) -> dict:
    return {"Authorization": f"Bearer {issue_token(Settings().jwt_secret, f'{role}-1', role, unit)}"}


# -- the documented Error is the body sent ----------------------------------------------------------------

def conforms(value, schema: dict, spec: dict, where: str = "body") -> None:
    """``value`` against an OpenAPI 3.0 schema (the parts apispec writes: $ref, type, nullable, required,
    properties, additionalProperties, items)."""
    while "$ref" in schema:
        schema = spec["components"]["schemas"][schema["$ref"].rsplit("/", 1)[-1]]
    if value is None:
        assert schema.get("nullable"), f"{where} is null, which the schema does not allow"
        return
    kinds = {"string": str, "integer": int, "number": (int, float), "boolean": bool, "object": dict, "array": list}
    kind = schema.get("type")
    if kind is not None:
        assert isinstance(value, kinds[kind]) and not (kind in ("integer", "number") and isinstance(value, bool)), \
            f"{where} = {value!r} is not of the documented type {kind}"
    if kind == "object":
        missing = set(schema.get("required", ())) - set(value)
        assert not missing, f"{where} lacks the required {sorted(missing)}"
        properties = schema.get("properties", {})
        if schema.get("additionalProperties") is False:
            extra = set(value) - set(properties)
            assert not extra, f"{where} has undocumented fields {sorted(extra)}"
        for name, item in value.items():
            if name in properties:
                conforms(item, properties[name], spec, f"{where}.{name}")
    if kind == "array" and "items" in schema:
        for index, item in enumerate(value):
            conforms(item, schema["items"], spec, f"{where}[{index}]")


def operation_of(spec: dict, method: str, path: str) -> dict | None:
    """The documented operation a request reaches (a fixed path before an item's path, as the router does)."""
    for template in sorted(spec["paths"], key=lambda t: t.count("{")):
        if re.fullmatch(re.sub(r"\\{[^}]+\\}", "[^/]+", re.escape(template)), path.split("?")[0]):
            return spec["paths"][template].get(method.lower())
    return None


def error_requests(service: str) -> list[tuple]:
    """(method, path, headers, json body, expected status): requests that really fail, per service."""
    office, anonymous = token(), {}
    unit_handler = token(Role.UNIT_HANDLER, "巴州区教育局")
    common = [
        ("GET", LISTS[service][0], anonymous, None, 401),
        ("GET", LISTS[service][0], {"Authorization": "Bearer not-a-token"}, None, 401),
        ("GET", f"{LISTS[service][0]}?page=99999999999999999999", office, None, 422),
        ("GET", f"{LISTS[service][0]}?page=0", office, None, 422),
        ("GET", f"{LISTS[service][0]}?page_size=101", office, None, 422),
        ("GET", f"{LISTS[service][0]}?unit=%07", office, None, 422),
        ("TRACE", LISTS[service][0], office, None, 405),
        ("GET", "/no-such-path", office, None, 404),
        ("GET", f"{LISTS[service][0]}/a%00b", office, None, 404),
    ]
    failures = [("GET", f"/failures/{name}", office, None, status) for name, status in (
        ("conflict", 409), ("illegal", 409), ("in-progress", 409), ("key-mismatch", 422), ("retry-later", 503),
        ("unavailable", 503), ("no-server", 503), ("socket-timeout", 503), ("reconnect", 503),
        ("wrapped-timeout", 503), ("bug", 500), ("mongoengine-alias", 500))]
    own = {
        "tasks": [
            ("POST", "/plans", unit_handler, {"title": "x", "tasks": [{"number": "1", "text": "t"}]}, 403),
            ("POST", "/plans", office, {"title": "", "tasks": []}, 422),
            ("POST", "/plans", office, {"title": "要点\x07", "tasks": [{"number": "1", "text": "t"}]}, 422),
            ("POST", "/plans/preview", office, {"text": "\x1b[31m"}, 422),
            ("GET", "/plans/preview", office, None, 405),
            ("GET", "/plans/import", office, None, 405),
            ("POST", "/tasks/t-1/progress", office, {"summary": "进展\x0c", "percent": 10}, 422),
        ],
        "notices": [
            ("POST", "/notices", token(Role.INSPECTOR), {}, 403),
            ("POST", "/notices", office, {"kind": "督办通知"}, 422),
            ("POST", "/notices", office, {"kind": "督办通知", "title": "t", "issuer_unit": UNIT, "target_units": ["a"],
                                          "problems": [{"description": "危房\x07", "responsible_unit": "b"}]}, 422),
            ("GET", "/notices/drafts", office, None, 405),
            ("POST", "/notices/n-1/withdrawal", office, {"reason": "\x85"}, 422),
        ],
        "directory": [
            ("POST", "/units", office, {"name": "某学校", "kind": "school"}, 403),
            ("POST", "/units", token(Role.ADMIN, None), {"name": "某学校", "kind": "castle"}, 422),
            ("POST", "/people", token(Role.ADMIN, None), {"username": "a b", "name": "x", "roles": ["admin"],
                                                          "password": "Long-enough-1"}, 422),
            ("POST", "/people/p-1/disable", token(Role.ADMIN, None), {"reason": "\x07"}, 422),
        ],
        "followups": [
            ("POST", "/cases/c-1/plan", token(Role.AUDITOR), {"plan": "p"}, 403),
            ("POST", "/cases/c-1/plan", unit_handler, {"plan": ""}, 422),
            ("POST", "/cases/c-1/progress", unit_handler, {"summary": "s", "evidence": ["照片\x7f"]}, 422),
        ],
    }
    return common + failures + own[service]


@pytest.mark.parametrize("service", sorted(SERVICES))
def test_every_error_body_is_the_documented_error_and_each_operation_documents_its_status(service):
    app = make_app(service)
    client = app.test_client()
    spec = client.get("/openapi.json").get_json()
    error_schema = spec["components"]["schemas"]["Error"]
    assert error_schema["properties"]["code"]["type"] == "string"
    assert error_schema["properties"]["status"]["type"] == "integer"
    assert {"code", "status", "message", "message_zh"} <= set(error_schema["required"])
    for method, path, headers, body, status in error_requests(service):
        answer = client.open(path, method=method, headers=headers, json=body)
        assert answer.status_code == status, (method, path, answer.get_data(as_text=True))
        payload = answer.get_json()
        conforms(payload, {"$ref": "#/components/schemas/Error"}, spec, f"{method} {path}")
        assert payload["status"] == status and payload["message_zh"]
        operation = operation_of(spec, method, path)
        if operation is not None and not path.startswith("/failures"):
            assert str(status) in operation["responses"], f"{method} {path}: {status} is not documented"


@pytest.mark.parametrize("service", sorted(SERVICES))
def test_every_operation_documents_401_and_503_and_every_error_response_is_the_error_schema(service):
    spec = make_app(service).test_client().get("/openapi.json").get_json()
    for path, operations in spec["paths"].items():
        for method, operation in operations.items():
            if method not in ("get", "post"):
                continue
            assert {"401", "503"} <= set(operation["responses"]), f"{method} {path}"
            if "{" in path:
                assert "404" in operation["responses"], f"{method} {path}"
            if method == "post":
                assert {"403", "409", "422"} <= set(operation["responses"]), f"{method} {path}"
    for name, response in spec["components"]["responses"].items():
        assert response["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/Error"}, name
    assert "Retry-After" in spec["components"]["responses"]["SERVICE_UNAVAILABLE"]["headers"]


# -- pagination ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize("service, path", [(s, p) for s, paths in LISTS.items() for p in paths])
@pytest.mark.parametrize("query, field", [
    ("page=99999999999999999999", "page"), ("page=9223372036854775807", "page"), (f"page={MAX_PAGE + 1}", "page"),
    ("page=-1", "page"), ("page_size=1000", "page_size"), ("page_size=0", "page_size")])
def test_every_list_refuses_pages_out_of_bounds_with_422_naming_the_parameter(service, path, query, field):
    answer = make_app(service).test_client().get(f"{path}?{query}", headers=token())
    assert answer.status_code == 422, answer.get_data(as_text=True)
    body = answer.get_json()
    assert body["code"] == "invalid_input" and field in body["errors"]["query"]


@pytest.mark.parametrize("service", sorted(SERVICES))
def test_x_pagination_is_documented_as_the_json_object_it_is(service):
    spec = make_app(service).test_client().get("/openapi.json").get_json()
    header = spec["components"]["headers"]["PAGINATION"]
    assert "schema" not in header  # a header's own schema means the simple style: total,3,page,1
    schema = header["content"]["application/json"]["schema"]
    for path in LISTS[service]:
        assert spec["paths"][path]["get"]["responses"]["200"]["headers"]["X-Pagination"] == {
            "$ref": "#/components/headers/PAGINATION"}
    # what flask-smorest sends where the total is known, and what a long filtered list sends instead
    sent = [PaginationMixin._make_pagination_metadata(page, 10, total) for page, total in ((1, 0), (2, 35), (9, 35))]
    for metadata in [*sent, {"page": 3, "page_size": 10, "has_more": True}]:
        conforms(metadata, schema, spec, f"X-Pagination {metadata}")
    properties = spec["components"]["schemas"]["PaginationMetadata"]["properties"]
    assert properties["has_more"]["type"] == "boolean" and properties["page_size"]["type"] == "integer"


@pytest.mark.parametrize("service", sorted(SERVICES))
def test_the_page_bound_is_documented(service):
    spec = make_app(service).test_client().get("/openapi.json").get_json()
    for path in LISTS[service]:
        parameters = {p["name"]: p["schema"] for p in spec["paths"][path]["get"]["parameters"] if p["in"] == "query"}
        assert parameters["page"]["maximum"] == MAX_PAGE and parameters["page_size"]["maximum"] == 100


# -- control characters ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("character", ["\x07", "\x00", "\x1b", "\x0b", "\x7f", "\x85", "\x9f"])
def test_a_control_character_in_any_text_field_is_refused_naming_the_field(character):
    client = make_app("notices").test_client()
    notice = {"kind": "督办通知", "title": "校舍安全", "issuer_unit": UNIT, "target_units": ["巴州区人民政府"],
              "problems": [{"description": "危房未拆除", "responsible_unit": "巴州区教育局"},
                           {"description": f"消防通道{character}堵塞", "responsible_unit": "巴州区教育局"}]}
    answer = client.post("/notices", json=notice, headers=token())
    assert answer.status_code == 422, answer.get_data(as_text=True)
    body = answer.get_json()
    if character != "\x00":  # NUL has its own older refusal ("body")
        assert body["details"]["field"] == "problems.1.description"
        assert "problems.1.description" in body["message_zh"] and f"U+{ord(character):04X}" in body["message"]


def request_strings(spec: dict):
    """(where, schema) of every string a request carries: parameters and bodies, through $refs and combinators."""
    schemas = spec["components"]["schemas"]

    def walk(schema: dict, where: str, seen: frozenset):
        if "$ref" in schema:
            name = schema["$ref"].rsplit("/", 1)[-1]
            if name not in seen:
                yield from walk(schemas[name], f"{where}→{name}", seen | {name})
            return
        if schema.get("type") == "string":
            yield where, schema
        for name, child in (schema.get("properties") or {}).items():
            yield from walk(child, f"{where}.{name}", seen)
        if isinstance(schema.get("items"), dict):
            yield from walk(schema["items"], f"{where}[]", seen)
        for key in ("allOf", "anyOf", "oneOf"):
            for index, branch in enumerate(schema.get(key) or ()):
                yield from walk(branch, f"{where}.{key}[{index}]", seen)

    for path, operations in spec["paths"].items():
        for parameter in operations.get("parameters", ()):
            yield from walk(parameter["schema"], f"{path} {parameter['name']}", frozenset())
        for method, operation in operations.items():
            if method in ("get", "post"):
                for parameter in operation.get("parameters", ()):
                    yield from walk(parameter["schema"], f"{method} {path} {parameter['name']}", frozenset())
                for media in (operation.get("requestBody") or {}).get("content", {}).values():
                    yield from walk(media["schema"], f"{method} {path} body", frozenset())


@pytest.mark.parametrize("service", sorted(SERVICES))
def test_every_text_of_a_request_is_documented_without_control_characters_and_no_response_is(service):
    spec = make_app(service).test_client().get("/openapi.json").get_json()
    strings = list(request_strings(spec))
    assert len(strings) > 5
    # an id a caller may choose is narrower still: letters, hex digits and hyphens only; so are a sign-in name,
    # a mobile number, a region code and a stored file's SHA-256
    narrower = (NOTICE_ID_PATTERN, USERNAME_PATTERN, MOBILE_PATTERN, REGION_CODE_PATTERN, SHA256.pattern)
    for where, schema in strings:
        if "enum" not in schema and "format" not in schema:
            assert schema.get("pattern") in (text.TEXT_PATTERN, text.FILLED_TEXT_PATTERN, *narrower), where
    requests = {where.split("→")[-1].split(".")[0] for where, _ in strings if "→" in where}
    for name, schema in spec["components"]["schemas"].items():
        if name not in requests:  # what the service answers may hold text stored before the check
            assert not patterns(schema), name


def patterns(value) -> list[str]:
    if isinstance(value, dict):
        return [*([value["pattern"]] if isinstance(value.get("pattern"), str) else []),
                *(found for item in value.values() for found in patterns(item))]
    if isinstance(value, list):
        return [found for item in value for found in patterns(item)]
    return []


def body_validator(service: str, component: str):
    jsonschema_rs = pytest.importorskip("jsonschema_rs")
    spec = make_app(service).test_client().get("/openapi.json").get_json()
    return jsonschema_rs.validator_for({"$ref": f"#/components/schemas/{component}", "components": spec["components"]})


def test_only_a_work_prompt_letter_may_come_without_problems_in_the_document():
    valid = body_validator("notices", "NoticeContent").is_valid
    notice = {"kind": "督办函", "title": "关于校舍安全的督办函", "issuer_unit": UNIT, "target_units": ["巴州区教育局"],
              "problems": [{"description": "危房未拆除", "responsible_unit": "巴州区教育局"}]}
    assert valid(notice) and not valid({**notice, "problems": []})
    assert valid({**notice, "kind": "工作提示函", "problems": []}) and valid({**notice, "kind": "工作提示函"})
    both = {**notice, "problems": [{**notice["problems"][0], "deadline": "2026-12-31", "deadline_days": 30}]}
    assert not valid(both) and valid({**notice, "problems": [{**notice["problems"][0], "deadline_days": 30}]})


def test_an_escalation_is_documented_with_what_its_level_needs():
    valid = body_validator("followups", "Escalate").is_valid
    assert valid({"level": "reminder", "reason": "逾期未整改"})
    assert not valid({"level": "interview", "reason": "逾期未整改"})
    assert not valid({"level": "interview", "reason": "逾期未整改", "doc_number": "  "})
    assert valid({"level": "circulation", "reason": "逾期未整改", "doc_number": "巴教督〔2026〕3号"})
    accountability = {"level": "accountability", "reason": "逾期未整改", "doc_number": "巴教督〔2026〕4号"}
    assert not valid(accountability) and valid({**accountability, "measure": "公开批评"})
    assert not valid({**accountability, "measure": "处分"}) and valid({**accountability, "measure": "处分", "target": "person"})
    assert not valid({"level": "reminder", "reason": " \n"})


@pytest.mark.parametrize("service", sorted(SERVICES))
def test_a_json_body_is_optional_exactly_where_its_schema_requires_nothing(service):
    spec = make_app(service).test_client().get("/openapi.json").get_json()
    schemas = spec["components"]["schemas"]
    bodies = [(f"{method} {path}", operation["requestBody"]) for path, operations in spec["paths"].items()
              for method, operation in operations.items() if isinstance(operation, dict) and "requestBody" in operation]
    for where, body in bodies:
        reference = next(iter(body["content"].values()))["schema"]["$ref"]
        requires = bool(schemas[reference.rsplit("/", 1)[-1]].get("required"))
        assert body["required"] is requires, where


@pytest.mark.parametrize("body", [{"summary": "进展", "percent": 2.5}, {"summary": "进展", "percent": "50"},
                                  {"summary": "进展", "percent": True}, {"summary": "进展", "expected_version": 1.0}])
def test_a_json_body_takes_integers_as_integers(body):
    answer = make_app("tasks").test_client().post("/tasks/t-1/progress", json=body, headers=token())
    assert answer.status_code == 422, answer.get_data(as_text=True)


@pytest.mark.parametrize("value", [1, 0, "true", "yes", "on", None])
def test_a_json_body_takes_booleans_as_booleans(value):
    answer = make_app("followups").test_client().post(
        "/cases/c-1/reinspection", json={"passed": value, "findings": "整改到位"}, headers=token(Role.INSPECTOR))
    assert answer.status_code == 422 and "passed" in answer.get_json()["errors"]["json"], answer.get_data(as_text=True)


@pytest.mark.parametrize("blank", [" ", "\u3000\n", "\t \r\n\xa0"])
def test_text_that_must_say_something_is_refused_blank_by_the_schema(blank):
    answer = make_app("tasks").test_client().post("/tasks/t-1/completion", json={"summary": blank}, headers=token())
    assert answer.status_code == 422 and "summary" in answer.get_json()["errors"]["json"]


def test_tabs_and_line_breaks_are_text():
    client = make_app("tasks").test_client()
    text = "巴中市教育督导委员会办公室\r\n关于印发《2026年全市教育督导工作要点》的通知\n一、\t开展校舍安全专项督导\n"
    answer = client.post("/plans/preview", json={"text": text}, headers=token())
    assert answer.status_code == 200, answer.get_data(as_text=True)


def test_a_control_character_in_a_query_is_refused_naming_the_parameter():
    answer = make_app("followups").test_client().get("/cases?unit=%E5%B7%B4%07", headers=token())
    assert answer.status_code == 422
    assert answer.get_json()["details"] == {"field": "unit", "location": "query", "character": "U+0007"}


# -- 405 and Allow ------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("method", ["GET", "HEAD", "DELETE", "PUT", "TRACE"])
@pytest.mark.parametrize("path", ["/plans/preview", "/plans/import", "/plans/preview/upload"])
def test_a_post_only_path_answers_other_methods_with_405_allowing_post_only(method, path):
    answer = make_app("tasks").test_client().open(path, method=method, headers=token())
    assert answer.status_code == 405
    assert answer.headers["Allow"] == "OPTIONS, POST"


def test_options_of_a_post_only_path_allows_post_only():
    answer = make_app("tasks").test_client().options("/plans/preview", headers=token())
    assert answer.headers["Allow"] == "OPTIONS, POST"


@pytest.mark.parametrize("service, path, allowed", [
    ("tasks", "/plans", "GET, HEAD, OPTIONS, POST"), ("tasks", "/tasks/t-1", "GET, HEAD, OPTIONS"),
    ("notices", "/notices", "GET, HEAD, OPTIONS, POST"), ("notices", "/notices/drafts", "OPTIONS, POST"),
    ("followups", "/cases/c-1/plan", "OPTIONS, POST")])
@pytest.mark.parametrize("method", ["TRACE", "DELETE", "PATCH"])
def test_every_405_names_the_allowed_methods(service, path, allowed, method):
    answer = make_app(service).test_client().open(path, method=method, headers=token())
    assert answer.status_code == 405
    assert ", ".join(sorted(m.strip() for m in answer.headers["Allow"].split(","))) == allowed


def test_an_anonymous_caller_still_gets_401_before_405():
    assert make_app("tasks").test_client().get("/plans/preview").status_code == 401


# -- the database not answering -------------------------------------------------------------------------------------

@pytest.mark.parametrize("name", ["no-server", "socket-timeout", "reconnect", "wrapped-timeout"])
def test_a_database_that_does_not_answer_is_a_503_with_retry_after_and_the_chinese_reason(name):
    answer = make_app("notices").test_client().get(f"/failures/{name}", headers=token())
    assert answer.status_code == 503
    assert answer.headers["Retry-After"] == "5"
    body = answer.get_json()
    assert body["code"] == "service_unavailable" and body["status"] == 503
    assert body["message_zh"] == "数据库暂时不可用，请稍后重试"
    assert body["correlation_id"] == answer.headers["X-Correlation-ID"]


def test_an_unconnected_mongoengine_alias_is_a_bug_not_an_outage():
    answer = make_app("notices").test_client().get("/failures/mongoengine-alias", headers=token())
    assert answer.status_code == 500 and answer.get_json()["code"] == "internal_error"
