"""A small JSON client for the services' HTTP APIs (standard library only), used by the CLI and the demo loader."""
from __future__ import annotations

import json
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass


class ApiError(Exception):
    """An error answer (4xx/5xx) with the service's bilingual reason, or a service that cannot be reached."""

    def __init__(self, status: int | None, body: dict | None, url: str, message: str | None = None):
        self.status, self.body, self.url = status, body or {}, url
        reason = message or self.body.get("message_zh") or self.body.get("message") or "request failed"
        super().__init__(f"{status or 'unreachable'} {url}: {reason}")

    @property
    def field_errors(self) -> dict:
        return self.body.get("errors") or {}


@dataclass
class ApiClient:
    base_url: str
    token: str | None = None
    timeout: float = 30.0

    def get(self, path: str, **params) -> tuple[object, dict]:
        """The decoded JSON body and the response headers."""
        query = f"?{urllib.parse.urlencode(params)}" if params else ""
        return self._send("GET", path + query, None, {})

    def post(self, path: str, body: dict | None = None, idempotency_key: str | None = None) -> object:
        headers = {"Idempotency-Key": idempotency_key} if idempotency_key else {}
        return self._send("POST", path, body or {}, headers)[0]

    def _send(self, method: str, path: str, body: dict | None, headers: dict) -> tuple[object, dict]:
        url = self.base_url.rstrip("/") + path
        data = None if body is None else json.dumps(body, ensure_ascii=False).encode("utf-8")
        request = urllib.request.Request(url, data=data, method=method, headers={
            **headers, "Content-Type": "application/json", "Accept": "application/json",
            **({"Authorization": f"Bearer {self.token}"} if self.token else {})})
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                return json.loads(response.read() or b"null"), dict(response.headers)
        except urllib.error.HTTPError as error:
            try:
                answer = json.loads(error.read() or b"{}")
            except ValueError:
                answer = {}
            raise ApiError(error.code, answer, url) from error
        except (urllib.error.URLError, ConnectionError, TimeoutError) as error:
            raise ApiError(None, None, url, f"cannot reach the service ({error})") from error
