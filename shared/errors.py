"""Errors every layer may raise, each with the HTTP status and bilingual reason users see."""
from __future__ import annotations


class DubanError(Exception):
    """Base error: a reason in Chinese and English, and the HTTP status it maps to."""

    status = 400
    code = "error"

    def __init__(self, message_en: str, message_zh: str | None = None, **details):
        super().__init__(message_en)
        self.message_en = message_en
        self.message_zh = message_zh or message_en
        self.details = details

    def to_body(self) -> dict:
        body = {"code": self.code, "status": self.status, "message": self.message_en, "message_zh": self.message_zh}
        if self.details:
            body["details"] = self.details
        return body


class NotFound(DubanError):
    status = 404
    code = "not_found"


class ConcurrencyConflict(DubanError):
    """Someone else appended to the stream first: the caller must reload and retry."""

    status = 409
    code = "version_conflict"

    def __init__(self, stream_id: str, expected_version: int, actual_version: int | None = None):
        super().__init__(
            f"stream {stream_id} is not at version {expected_version}"
            + (f" (it is at {actual_version})" if actual_version is not None else ""),
            f"数据已被他人修改（{stream_id} 期望版本 {expected_version}），请刷新后重试",
            stream_id=stream_id,
            expected_version=expected_version,
            actual_version=actual_version,
        )
        self.stream_id = stream_id
        self.expected_version = expected_version
        self.actual_version = actual_version


class RetryLater(DubanError):
    """Not the message's fault and not final: a consumer rewinds and tries the same event again."""

    status = 503
    code = "retry_later"


class ServiceUnavailable(DubanError):
    """Something the request needs (the database) is not answering for now: retry after ``Retry-After`` seconds."""

    status = 503
    code = "service_unavailable"
    retry_after_seconds = 5

    def __init__(self, message_en: str, message_zh: str | None = None, retry_after_seconds: int | None = None,
                 **details):
        super().__init__(message_en, message_zh, **details)
        if retry_after_seconds is not None:
            self.retry_after_seconds = retry_after_seconds
        self.headers = {"Retry-After": str(self.retry_after_seconds)}


DATABASE_UNAVAILABLE_EN = "the database is temporarily unavailable; please retry shortly"
DATABASE_UNAVAILABLE_ZH = "数据库暂时不可用，请稍后重试"


class IllegalTransition(DubanError):
    """A domain rule refuses the command in the aggregate's current state."""

    status = 409
    code = "illegal_transition"


class InvalidInput(DubanError):
    status = 422
    code = "invalid_input"


class DeadlineExceeded(DubanError):
    """Work stopped at its time budget (e.g. parsing an uploaded plan), so one request cannot hold a web worker."""

    status = 422
    code = "deadline_exceeded"


class Unauthorized(DubanError):
    status = 401
    code = "unauthorized"


class Forbidden(DubanError):
    status = 403
    code = "forbidden"


class TooManyAttempts(DubanError):
    """Repeated failures locked this for a while (sign-in): retry after ``Retry-After`` seconds."""

    status = 429
    code = "too_many_attempts"

    def __init__(self, message_en: str, message_zh: str | None = None, retry_after_seconds: int = 60, **details):
        super().__init__(message_en, message_zh, **details)
        self.headers = {"Retry-After": str(max(1, retry_after_seconds))}


class IdempotencyKeyMismatch(InvalidInput):
    """The Idempotency-Key was already used for a different request."""

    code = "idempotency_key_mismatch"


class IdempotencyConflict(DubanError):
    """Another request with the same Idempotency-Key is still running: retry shortly."""

    status = 409
    code = "idempotency_key_in_progress"
    headers = {"Retry-After": "1"}


def require_text(value: str | None, field: str, label_zh: str) -> None:
    """Refuse an empty or blank text a domain step needs (the API checks too; the domain does not trust it)."""
    if not (value or "").strip():
        raise InvalidInput(f"{field} must not be empty", f"{label_zh}不能为空", field=field)
