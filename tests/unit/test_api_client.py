"""services.api_client: one request, its errors, and ApiClient, against a stand-in service.

The stand-in is a small standard-library server in a thread that records what it was sent; the CLI's
tests (test_cli_lifecycle) use it too.
"""
from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

import pytest

from deploy.localstack import free_port
from services import api_client
from services.api_client import ApiClient, ApiError, ServiceRefused, ServiceUnreachable

# -- a stand-in service -------------------------------------------------------------------------------

@dataclass
class Reply:
    status: int
    body: object
    headers: dict = field(default_factory=dict)


@dataclass
class Recorded:
    method: str
    path: str
    query: dict
    headers: dict
    body: bytes


class StubService:
    """Answers each request with ``respond(recorded)`` and keeps what it was sent."""

    def __init__(self, respond):
        self.respond = respond
        self.requests: list[Recorded] = []
        stub = self

        class Handler(BaseHTTPRequestHandler):
            def _handle(self):
                length = int(self.headers.get("Content-Length") or 0)
                parts = urlsplit(self.path)
                recorded = Recorded(self.command, parts.path, parse_qs(parts.query), dict(self.headers),
                                    self.rfile.read(length))
                stub.requests.append(recorded)
                reply = stub.respond(recorded)
                payload = json.dumps(reply.body, ensure_ascii=False).encode("utf-8")
                self.send_response(reply.status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                for name, value in reply.headers.items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(payload)

            do_GET = do_POST = _handle

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(5)


VALIDATION = {"code": "invalid_input", "status": 422, "message": "invalid input", "message_zh": "输入有误，请检查标出的字段",
              "errors": {"json": {"kind": ["Must be one of: 督办通知, 督办函."],
                                  "problems": {"1": {"deadline_kind": ["Must be one of: calendar, working."]}}}}}


class TestDescribeError:
    def test_every_field_is_named_with_its_path(self):
        assert api_client.describe_error(422, VALIDATION).splitlines() == [
            "HTTP 422 invalid_input: 输入有误，请检查标出的字段 / invalid input",
            "  kind: Must be one of: 督办通知, 督办函.",
            "  problems.1.deadline_kind: Must be one of: calendar, working."]

    def test_a_domain_refusal_names_its_field(self):
        text = api_client.describe_error(422, {"code": "invalid_input", "status": 422, "message": "problem 1: deadline is early",
                                              "message_zh": "第1个问题的整改时限早于下发日期",
                                              "details": {"field": "problems.0.deadline"}})
        assert text.splitlines() == ["HTTP 422 invalid_input: 第1个问题的整改时限早于下发日期 / problem 1: deadline is early",
                                     "  problems.0.deadline: 第1个问题的整改时限早于下发日期 / problem 1: deadline is early"]

    def test_an_answer_that_is_not_json_is_shown_as_text(self):
        assert api_client.describe_error(502, None, "<html>Bad Gateway</html>") == "HTTP 502: <html>Bad Gateway</html>"


class TestHttpCall:
    def test_any_answer_is_returned_with_lower_case_headers(self):
        with StubService(lambda r: Reply(409, {"code": "conflict"}, {"X-Thing": "1"})) as service:
            answer = api_client.http_call("POST", service.url + "/x", token="t", body=b"{}", headers={"Idempotency-Key": "k"})
        assert (answer.status, answer.header("X-Thing"), answer.url) == (409, "1", service.url + "/x")
        [request] = service.requests
        assert request.headers["Authorization"] == "Bearer t" and request.headers["Idempotency-Key"] == "k"
        assert request.headers["Content-Type"] == "application/json; charset=utf-8"

    def test_decode_answer_refuses_errors_and_answers_that_are_not_json(self):
        error = api_client.HttpAnswer(422, {}, json.dumps(VALIDATION).encode(), "http://h/notices")
        with pytest.raises(ServiceRefused) as refused:
            api_client.decode_answer(error)
        assert (refused.value.status, refused.value.url, refused.value.body) == (422, "http://h/notices", VALIDATION)
        html = api_client.HttpAnswer(200, {}, b"<html>ok</html>", "http://h/")
        with pytest.raises(ServiceRefused, match="not JSON"):
            api_client.decode_answer(html)

    def test_service_url_drops_none_and_refuses_what_is_not_http(self):
        assert api_client.service_url("http://h:1/", "/cases", {"a": "巴州", "b": None}) == "http://h:1/cases?a=%E5%B7%B4%E5%B7%9E"
        with pytest.raises(api_client.InvalidServiceUrl, match="not an http"):
            api_client.service_url("127.0.0.1:8002", "/notices")


class TestApiClient:
    def test_post_sends_json_with_the_token_and_the_idempotency_key(self):
        with StubService(lambda r: Reply(201, {"id": "notice-1"})) as service:
            answer = ApiClient(service.url + "/", "secret").post("/notices", {"title": "校舍"}, idempotency_key="demo-1")
        assert answer == {"id": "notice-1"}
        [request] = service.requests
        assert (request.method, request.path) == ("POST", "/notices")
        assert request.headers["Authorization"] == "Bearer secret" and request.headers["Idempotency-Key"] == "demo-1"
        assert json.loads(request.body) == {"title": "校舍"} and "校舍".encode() in request.body

    def test_post_without_a_body_sends_an_empty_object_and_no_key(self):
        with StubService(lambda r: Reply(200, {"ok": True})) as service:
            ApiClient(service.url).post("/notices/n/signature")
        [request] = service.requests
        assert request.body == b"{}" and "Idempotency-Key" not in request.headers and "Authorization" not in request.headers

    def test_get_returns_the_body_and_the_headers(self):
        with StubService(lambda r: Reply(200, [{"id": "c1"}], {"X-Pagination": '{"total": 1}'})) as service:
            body, headers = ApiClient(service.url, "t").get("/cases", notice_id="notice-1", page_size=100)
        assert body == [{"id": "c1"}] and json.loads(headers["x-pagination"]) == {"total": 1}
        assert service.requests[0].query == {"notice_id": ["notice-1"], "page_size": ["100"]}

    def test_an_error_answer_carries_status_body_field_errors_and_the_services_words(self):
        with StubService(lambda r: Reply(422, VALIDATION)) as service:
            with pytest.raises(ApiError) as raised:
                ApiClient(service.url, "t").post("/notices", {})
        error = raised.value
        assert (error.status, error.body, error.url) == (422, VALIDATION, service.url + "/notices")
        assert error.field_errors == VALIDATION["errors"]
        assert str(error).startswith("HTTP 422 invalid_input: 输入有误，请检查标出的字段 / invalid input\n  kind: ")

    def test_an_unreachable_service_is_an_api_error_without_a_status(self):
        url = f"http://127.0.0.1:{free_port()}"
        with pytest.raises(ServiceUnreachable) as raised:
            ApiClient(url, "t").get("/cases")
        error = raised.value
        assert isinstance(error, ApiError) and error.status is None and error.body == {} and error.field_errors == {}
        assert f"cannot reach the service at {url}/cases" in str(error)
