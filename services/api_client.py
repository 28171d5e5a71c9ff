"""The one JSON client for the services' HTTP APIs (standard library only), used by the CLI, the demo loader and the
portal's ledger import.

The lower layer (``http_call``, ``service_url``, ``decode_answer``) is what the ``duban`` commands use;
``ApiClient`` is a small convenience on top of it for code that sends many JSON requests as one user.
Every failure is an ``ApiError``: ``ServiceUnreachable`` when no answer came, ``ServiceRefused`` when the
service answered with an error (or with something that is not JSON), worded with the service's own
bilingual message and every field it named.
"""
from __future__ import annotations

import http.client
import json
import socket
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from typing import Any, Mapping

from shared.idempotency import HEADER as IDEMPOTENCY_HEADER

HTTP_TIMEOUT = 30.0
# webargs names where a bad field was found ({"json": {"kind": [...]}}); a request only ever uses one of them
_ERROR_LOCATIONS = ("json", "query", "form", "headers", "files", "cookies", "path", "json_or_form", "querystring")


# -- errors ----------------------------------------------------------------------------------------

class InvalidServiceUrl(ValueError):
    """A base URL that is not http(s)."""


class ApiError(Exception):
    """A request that failed: ``status`` is None when the service could not be reached."""

    def __init__(self, message: str, url: str, status: int | None = None, body: Any = None):
        super().__init__(message)
        self.message, self.url, self.status = message, url, status
        self.body = body if isinstance(body, Mapping) else {}

    @property
    def field_errors(self) -> dict:
        """The fields the service named, as it sent them (``{"json": {"kind": ["…"]}}``)."""
        return self.body.get("errors") or {}


class ServiceUnreachable(ApiError):
    """No answer: connection refused, a timeout, a broken connection."""

    def __init__(self, url: str, reason: object):
        super().__init__(f"无法连接服务 {url} / cannot reach the service at {url}: {reason}", url)


class ServiceRefused(ApiError):
    """The service answered with an error, or with something other than the JSON asked for."""

    def __init__(self, url: str, status: int, body: Any, text: str = ""):
        super().__init__(describe_error(status, body, text), url, status, body)


def flatten_errors(errors: Any, prefix: str = "") -> list[tuple[str, str]]:
    """``{"json": {"problems": {"0": {"kind": ["…"]}}}}`` → ``[("problems.0.kind", "…")]``."""
    if isinstance(errors, Mapping):
        if not prefix and set(errors) and set(errors) <= set(_ERROR_LOCATIONS):
            return [item for value in errors.values() for item in flatten_errors(value)]
        flat: list[tuple[str, str]] = []
        for key, value in errors.items():
            flat.extend(flatten_errors(value, f"{prefix}.{key}" if prefix else str(key)))
        return flat
    if isinstance(errors, (list, tuple)):
        if all(isinstance(e, str) for e in errors):
            return [(prefix or "-", "; ".join(errors))]
        return [item for index, value in enumerate(errors) for item in flatten_errors(value, f"{prefix}.{index}")]
    return [(prefix or "-", str(errors))]


def describe_error(status: int, body: Any, text: str = "") -> str:
    """The service's bilingual message and every field it named, one per line."""
    if not isinstance(body, Mapping):
        return f"HTTP {status}: {text.strip() or '(no body)'}"
    message, message_zh = body.get("message"), body.get("message_zh")
    words = " / ".join(m for m in dict.fromkeys((message_zh, message)) if m)
    code = f" {body['code']}" if body.get("code") else ""
    lines = [f"HTTP {status}{code}: {words}"]
    for path, problem in flatten_errors(body.get("errors") or {}):
        lines.append(f"  {path}: {problem}")
    details = body.get("details") or {}
    if isinstance(details, Mapping):
        for key, value in details.items():
            lines.append(f"  {value}: {words}" if key == "field" else f"  {key}: {value}")
    return "\n".join(lines)


# -- one request -----------------------------------------------------------------------------------

@dataclass(frozen=True)
class HttpAnswer:
    status: int
    headers: Mapping[str, str]  # keyed by lower-case name
    body: bytes
    url: str = ""

    def json(self) -> Any:
        return json.loads(self.body.decode("utf-8"))

    def header(self, name: str) -> str | None:
        return self.headers.get(name.lower())


def http_call(method: str, url: str, *, token: str | None = None, body: bytes | None = None,
              headers: Mapping[str, str] | None = None, timeout: float = HTTP_TIMEOUT) -> HttpAnswer:
    """One request; any answer (2xx or not) is returned, a connection failure raises ServiceUnreachable."""
    all_headers = {"Accept": "application/json"}
    if token:
        all_headers["Authorization"] = f"Bearer {token}"
    if body is not None:
        all_headers["Content-Type"] = "application/json; charset=utf-8"
    all_headers.update(headers or {})
    request = urllib.request.Request(url, data=body, method=method, headers=all_headers)
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return HttpAnswer(response.status, _header_dict(response.headers), response.read(), url)
    except urllib.error.HTTPError as error:
        with error:
            return HttpAnswer(error.code, _header_dict(error.headers), error.read(), url)
    except urllib.error.URLError as error:
        raise ServiceUnreachable(url, error.reason) from None
    except (TimeoutError, socket.timeout) as error:
        raise ServiceUnreachable(url, f"no answer within {timeout:g} s ({error})") from None
    except (ConnectionError, http.client.HTTPException) as error:
        raise ServiceUnreachable(url, error) from None


def _header_dict(headers) -> dict[str, str]:
    """Response headers keyed by lower-case name."""
    return {name.lower(): value for name, value in headers.items()} if headers is not None else {}


def service_url(base_url: str, path: str, params: Mapping[str, Any] | None = None) -> str:
    """``base_url`` + ``path`` (+ query, leaving out None values); refuses anything but an http(s) URL."""
    parsed = urllib.parse.urlsplit(base_url)
    if parsed.scheme not in ("http", "https") or not parsed.netloc:
        raise InvalidServiceUrl(f"不是有效的服务地址：{base_url} / not an http(s) URL: {base_url!r}")
    url = base_url.rstrip("/") + path
    if params:
        url += "?" + urllib.parse.urlencode({k: v for k, v in params.items() if v is not None})
    return url


def decode_answer(answer: HttpAnswer) -> Any:
    """The JSON of a 2xx answer; anything else raises ServiceRefused with the service's own words."""
    try:
        body = answer.json() if answer.body else None
    except (UnicodeDecodeError, ValueError):
        body = None
    if not 200 <= answer.status < 300:
        raise ServiceRefused(answer.url, answer.status, body, answer.body[:500].decode("utf-8", "replace"))
    if body is None:
        raise ServiceRefused(answer.url, answer.status, None, "the service's answer is not JSON / 服务返回的不是 JSON")
    return body


# -- a client for one service and one user ---------------------------------------------------------

@dataclass
class ApiClient:
    base_url: str
    token: str | None = None
    timeout: float = HTTP_TIMEOUT

    def get(self, path: str, **params) -> tuple[Any, Mapping[str, str]]:
        """The decoded JSON body and the response headers (keyed by lower-case name)."""
        answer = self._call("GET", path, params=params)
        return decode_answer(answer), answer.headers

    def post(self, path: str, body: dict | None = None, idempotency_key: str | None = None) -> Any:
        """The decoded JSON answer; ``idempotency_key`` goes in the Idempotency-Key header."""
        headers = {IDEMPOTENCY_HEADER: idempotency_key} if idempotency_key else {}
        payload = json.dumps(body or {}, ensure_ascii=False).encode("utf-8")
        return decode_answer(self._call("POST", path, body=payload, headers=headers))

    def _call(self, method: str, path: str, params: Mapping[str, Any] | None = None, **request) -> HttpAnswer:
        return http_call(method, service_url(self.base_url, path, params), token=self.token, timeout=self.timeout,
                         **request)


def opened_cases(followups: ApiClient, notice_id: str, count: int, timeout: float = 120.0) -> list[dict]:
    """The ``count`` cases of a notice just issued, in problem order, once followups has opened them from Kafka
    (usually within a second); TimeoutError if it has not within ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        cases, _ = followups.get("/cases", notice_id=notice_id, page_size=100)
        if len(cases) >= count:
            return sorted(cases, key=lambda c: int(c["problem_id"][1:]))
        if time.monotonic() > deadline:
            raise TimeoutError(f"followups opened {len(cases)} of {count} cases of {notice_id}")
        time.sleep(0.2)
