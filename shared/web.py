"""The Flask side every service shares: app factory, identity, uniform errors, health and metrics."""
from __future__ import annotations

import copy
import functools
import json
import hashlib
import logging
import time
from dataclasses import dataclass
from datetime import timedelta
import warnings
from typing import Callable, Iterable

from flask import Flask, Response, after_this_request, g, jsonify, request, send_from_directory
from flask_smorest import Blueprint
from flask_smorest.utils import deepupdate
from swagger_ui_bundle import swagger_ui_path
from werkzeug.exceptions import HTTPException, MethodNotAllowed

from shared import idempotency, metrics
from shared.auth import actor_from_header, read_scope, require_read_scope, require_role, token_epoch
from shared.bus import CommandContext
from shared.envelope import Actor, utc_now
from shared.errors import DubanError, IdempotencyConflict, IdempotencyKeyMismatch, InvalidInput, NotFound
from shared.logging import configure_logging, correlation_scope, new_correlation_id
from shared.paging import Fetch, all_of, newest_first, query_fetch
from shared.read_models import Listed
from shared.scope import Scope
from shared.service import ServiceContext
from shared import mongo, text
from shared.errors import DATABASE_UNAVAILABLE_EN, DATABASE_UNAVAILABLE_ZH, ServiceUnavailable
from shared.openapi import DubanApi, roles_doc

log = logging.getLogger(__name__)

CORRELATION_HEADER = "X-Correlation-ID"
PUBLIC_PATHS = ("/healthz", "/readyz", "/metrics", "/openapi.json", "/docs")


def current_context() -> ServiceContext:
    return g.service


def current_actor() -> Actor:
    """The caller named by the bearer token (checked for every non-public path before the view runs)."""
    return g.actor


def allow(*roles: str):
    """Outermost view decorator: refuse other roles (403) before the request body is even parsed."""

    def decorate(view):
        @functools.wraps(view)
        def guarded(*args, **kwargs):
            require_role(current_actor(), *roles)
            return view(*args, **kwargs)

        # The OpenAPI document names the roles and the 403 (copied: functools.wraps shares the view's doc dict).
        guarded._apidoc = deepupdate(copy.deepcopy(getattr(view, "_apidoc", {})), {"manual_doc": roles_doc(roles)})
        return guarded

    return decorate


def paginate(queryset, pagination_parameters, *order_by):
    """One page of a small mongoengine queryset, with the total for flask-smorest's X-Pagination header."""
    pagination_parameters.item_count = queryset.count()
    start = pagination_parameters.first_item
    return queryset.order_by(*order_by)[start:start + pagination_parameters.page_size]


def page_newest_first(document: type[Listed], pagination_parameters, equality: "dict | ScopedList",
                      keep: Callable[[dict], bool] | None = None) -> list:
    """One page of a listed read model, newest first, at a cost that follows the page (shared/paging.py).

    ``equality``: the list's equality filters, or the caller's scoped ones (``scoped_equality``).
    X-Pagination carries the total when it is known cheaply; otherwise ``{"page", "page_size", "has_more"}``.
    """
    scoped = equality if isinstance(equality, ScopedList) else ScopedList((equality,))
    collection = document._get_collection()
    fetch = union_fetch([query_fetch(collection, one) for one in scoped.equalities])
    keep = all_of(scoped.keep, keep)
    page = newest_first(fetch, document.bounds().read(), pagination_parameters.first_item,
                        pagination_parameters.page_size, keep, unfiltered=scoped.equalities == ({},) and keep is None)
    if page.total is not None:
        pagination_parameters.item_count = page.total
    else:
        header = json.dumps({"page": pagination_parameters.page, "page_size": pagination_parameters.page_size,
                             "has_more": page.has_more})
        after_this_request(lambda response: _with_header(response, "X-Pagination", header))
    return [document._from_son(row) for row in page.rows]


def caller_scope() -> Scope:
    """What the caller may read (shared/scope.py), in the unit tree as it stands for this request."""
    scope = g.get("read_scope")
    if scope is None:
        scope = g.read_scope = read_scope(current_actor(), current_context().unit_tree())
    return scope


def require_caller_sees(*units: str | None) -> None:
    """403 unless the caller may read an item of ``units`` (shared/scope.py: case_units, notice_units, task_units)."""
    require_read_scope(current_actor(), *units, tree=current_context().unit_tree())


# A scope of more units than this (a leader or a district office over many schools) is listed by reading each
# bucket with the list's other filters and keeping the rows in scope here, instead of one query per unit per bucket.
# FerretDB serves only equality from an index (no $in, no server-side sort), so the choice is between round trips
# and rows read: up to this many units, a few indexed equality queries per bucket return only the scope's rows
# (one unit, the common case, is exactly today's single query); beyond it, one query per bucket returns its rows
# and the page walk (shared/paging.py) reads as many buckets as an office's unfiltered list would.
MAX_UNIT_QUERIES = 8


@dataclass(frozen=True)
class ScopedList:
    """A list query within a read scope: the rows of any of ``equalities`` (each once) that ``keep`` keeps."""

    equalities: tuple[dict, ...]
    keep: Callable[[dict], bool] | None = None


def scoped_equality(equality: dict, field: str) -> ScopedList | None:
    """The list's equality filters within the caller's read scope on ``field`` (the field the item definition of
    shared/scope.py names: a notice's target units, a case's responsible unit); None if nothing can be in it."""
    scope = caller_scope()
    if scope.everything:
        return ScopedList((equality,))
    if not scope.units:
        return None

    def in_scope(row) -> bool:
        return scope.sees(*_as_units(row.get(field)))

    if field in equality:  # the caller asks for one unit: its rows, those of them the scope sees
        # (a unit outside the scope may share a notice with one inside it)
        return ScopedList((equality,), None if scope.sees(equality[field]) else in_scope)
    units = sorted(scope.units)
    if len(units) <= MAX_UNIT_QUERIES:
        return ScopedList(tuple({**equality, field: unit} for unit in units))
    return ScopedList((equality,), in_scope)


def _as_units(value) -> tuple:
    if isinstance(value, str):
        return (value,)
    return tuple(value or ())


def union_fetch(fetches: list[Fetch]) -> Fetch:
    """One bucket's rows from several equality queries, each row once (a notice of two units in scope, say)."""
    if len(fetches) == 1:
        return fetches[0]

    def fetch(field: str, number: int) -> list:
        seen, rows = set(), []
        for one in fetches:
            for row in one(field, number):
                if row["_id"] not in seen:
                    seen.add(row["_id"])
                    rows.append(row)
        return rows

    return fetch


def _bearer() -> str:
    return request.headers.get("Authorization", "").removeprefix("Bearer ").strip()


def _with_header(response: Response, name: str, value: str) -> Response:
    response.headers[name] = value
    return response


def command_context() -> CommandContext:
    """Who asks and in which story; with an Idempotency-Key, also which request (so a retry finds its events)."""
    return CommandContext(actor=current_actor(), correlation_id=g.correlation_id, request_id=g.get("request_id"))


def create_service_app(context_factory: Callable[[], ServiceContext], title: str,
                       blueprints: Iterable[Blueprint], public_paths: tuple[str, ...] = ()) -> Flask:
    """Build a service's Flask app; connections are made here, in the (forked) worker, never at import.

    ``public_paths``: the service's own paths answered without a token (the directory's sign-in).
    """
    mongo.serve_requests()  # a person waits for each answer: round trips to the database are bounded
    context = context_factory()
    configure_logging(context.name, context.settings.log_level)
    # A long filtered list answers without a total on purpose (shared/paging.py), not by oversight.
    warnings.filterwarnings("ignore", message="item_count not set in endpoint")
    app = Flask(context.name)
    app.config.update(
        API_TITLE=title,
        API_VERSION="v1",
        OPENAPI_VERSION="3.0.3",
        OPENAPI_URL_PREFIX="/",
        OPENAPI_JSON_PATH="openapi.json",
        # Swagger UI served from the swagger-ui-bundle package: the docs page works without internet access.
        OPENAPI_SWAGGER_UI_PATH="/docs",
        OPENAPI_SWAGGER_UI_URL="/docs/static/",
        JSON_AS_ASCII=False,
        MAX_CONTENT_LENGTH=16 * 1024 * 1024,  # beyond the 5 MB documents accept; larger bodies get 413
    )
    app.json.ensure_ascii = False
    # DubanApi: the documented Error is the body sent, each operation lists its errors, every page is bounded.
    api = DubanApi(app, spec_kwargs={"components": {"securitySchemes": {
        "bearer": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}}}})
    for blueprint in blueprints:
        api.register_blueprint(blueprint)
    _install_request_hooks(app, context, PUBLIC_PATHS + public_paths)
    _install_error_handlers(app)
    _install_operational_routes(app, context)
    _install_method_checks(app)  # after every route is known (and after identity: anonymous callers get 401)
    return app


def _install_request_hooks(app: Flask, context: ServiceContext, public_paths: tuple[str, ...]) -> None:
    # Pure unit tests run without a database: then Idempotency-Key is ignored.
    keys = (idempotency.IdempotencyStore(context.database, ttl=timedelta(days=context.settings.idempotency_ttl_days))
            if context.database is not None else None)
    releases = idempotency.DeferredReleases(keys) if keys is not None else None

    @app.before_request
    def _bind_request() -> Response | None:
        g.service = context
        g.started = time.perf_counter()
        g.correlation_id = request.headers.get(CORRELATION_HEADER) or new_correlation_id()
        g.correlation_scope = correlation_scope(g.correlation_id)
        g.correlation_scope.__enter__()
        if not request.path.startswith(public_paths):
            # Identity before anything else: an anonymous caller learns nothing, not even validation errors.
            g.actor = actor_from_header(context.settings.jwt_secret, request.headers.get("Authorization"))
            if context.directory is not None:  # a disabled account, or a sign-in older than its last change
                context.directory.check_token(g.actor, token_epoch(context.settings.jwt_secret, _bearer()))
            _refuse_unencodable_json()
            if context.calendar is not None:
                context.calendar.in_request()  # a year an office recorded elsewhere counts here within a minute
            if keys is not None and request.method == "POST" and idempotency.HEADER in request.headers:
                return _begin_idempotent(keys)
        return None

    @app.after_request
    def _record_request(response: Response) -> Response:
        # Runs for answers of error handlers too (a DubanError raised by the view is stored like a success).
        attempt = g.pop("idempotency", None)
        if attempt is not None:
            _settle_idempotent(keys, releases, attempt, response)
        response.headers[CORRELATION_HEADER] = g.get("correlation_id", "")
        endpoint = request.url_rule.rule if request.url_rule else "unmatched"
        metrics.HTTP_REQUESTS.labels(context.name, request.method, endpoint, response.status_code).inc()
        metrics.HTTP_LATENCY.labels(context.name, endpoint).observe(time.perf_counter() - g.get("started", time.perf_counter()))
        return response

    @app.teardown_request
    def _unbind_request(_exc) -> None:
        attempt = g.pop("idempotency", None)
        if attempt is not None:  # no response was finalized: let the client retry at once
            _release_idempotent(keys, attempt)
        scope = g.pop("correlation_scope", None)
        if scope is not None:
            scope.__exit__(None, None, None)


# Answers that say something about the caller's rights or the moment, not about the request: a retry with
# the same key runs again (none of them appended anything) instead of repeating them.
_NOT_REPLAYED = frozenset({401, 403, 409, 429})


def _begin_idempotent(keys: idempotency.IdempotencyStore) -> Response | None:
    """Claim the request's Idempotency-Key, or answer for it: the stored response, 422 or 409."""
    key = request.headers[idempotency.HEADER]
    if not idempotency.valid_key(key):
        raise InvalidInput(
            f"{idempotency.HEADER} must be 1 to {idempotency.MAX_KEY_LENGTH} printable ASCII characters",
            f"请求头 {idempotency.HEADER} 须为 1 至 {idempotency.MAX_KEY_LENGTH} 个可打印 ASCII 字符",
            header=idempotency.HEADER)
    record = idempotency.record_id(current_actor().user_id, request.method, request.path, key)
    fingerprint = idempotency.fingerprint(request.method, request.path, request.query_string, _body_for_fingerprint())
    outcome = keys.begin(record, fingerprint, utc_now())
    if outcome.decision is idempotency.Decision.PROCEED:
        g.idempotency = (record, outcome.token)
        g.request_id = outcome.request_id
        return None
    if outcome.decision is idempotency.Decision.REPLAY:
        stored = outcome.response
        response = Response(stored.body, status=stored.status, content_type=stored.content_type)
        response.headers.update(stored.headers)
        response.headers[idempotency.REPLAYED_HEADER] = "true"
        return response
    if outcome.decision is idempotency.Decision.MISMATCH:
        raise IdempotencyKeyMismatch(
            f"this {idempotency.HEADER} was already used for a different request; use a new key for a new request",
            f"该 {idempotency.HEADER} 已用于另一个不同的请求，新的请求请使用新的键", header=idempotency.HEADER)
    raise IdempotencyConflict(
        f"a request with this {idempotency.HEADER} is still being processed; retry shortly",
        f"使用该 {idempotency.HEADER} 的请求正在处理中，请稍后重试", header=idempotency.HEADER)


def _body_for_fingerprint() -> bytes:
    if request.mimetype != "multipart/form-data":
        return request.get_data(cache=True)  # cached: the view still parses it
    # A client picks a new multipart boundary on every send: compare what was sent, not how it was framed.
    parts = [f"{name}={value}".encode() for name, value in sorted(request.form.items(multi=True))]
    for name, upload in sorted(request.files.items(multi=True), key=lambda item: item[0]):
        content = hashlib.sha256()
        for chunk in iter(functools.partial(upload.stream.read, 1 << 16), b""):
            content.update(chunk)
        upload.stream.seek(0)
        parts.append(f"{name}:{upload.filename}:{upload.mimetype}:{content.hexdigest()}".encode())
    return b"\n".join(parts)


def _settle_idempotent(keys: idempotency.IdempotencyStore, releases: idempotency.DeferredReleases,
                       attempt: tuple[str, str], response: Response) -> None:
    record, token = attempt
    if response.status_code == 503:  # the database unreachable: released once it answers again, off this thread
        releases.add(*attempt)
        return
    if response.status_code >= 500:
        # After the answer is sent. If the process dies first, the pending record is taken over once stale.
        response.call_on_close(lambda: _release_idempotent(keys, attempt))
        return
    if response.status_code in _NOT_REPLAYED or response.is_streamed:
        _release_idempotent(keys, attempt)
        return
    stored = idempotency.StoredResponse(
        status=response.status_code, body=response.get_data(), content_type=response.content_type,
        headers={name: response.headers[name] for name in idempotency.REPLAYED_RESPONSE_HEADERS if name in response.headers})
    try:
        keys.finish(record, token, stored, utc_now())
    except Exception:  # noqa: BLE001 - the request itself succeeded; its answer must still go out
        log.exception("could not store the answer for an Idempotency-Key; releasing the key")
        _release_idempotent(keys, attempt)


def _release_idempotent(keys: idempotency.IdempotencyStore, attempt: tuple[str, str]) -> None:
    try:
        keys.abandon(*attempt)
    except Exception:  # noqa: BLE001 - a record left pending is taken over once stale
        log.exception("could not release an Idempotency-Key")


def _refuse_unencodable_json() -> None:
    """Refuse text no event or query can hold: a lone surrogate (\\ud800: valid JSON, but no UTF-8) or NUL
    (\\u0000, which PostgreSQL's jsonb, FerretDB's default backend, cannot store or compare); and text no text
    field may hold: any other control character but tab, line feed and carriage return (shared/text.py), in a
    query parameter or anywhere in a JSON body (422 naming the field)."""
    if any(_has_nul(value) for value in (request.view_args or {}).values()):
        raise NotFound("no item has an id containing a NUL character", "没有此编号的事项")
    if any(_has_nul(key) or _has_nul(value) for key, value in request.args.items(multi=True)):
        raise InvalidInput("a query parameter contains a NUL character (\\u0000)", "查询参数含有空字符（\\u0000）",
                           field="query")
    for name, value in request.args.items(multi=True):
        character = text.control_character(name) or text.control_character(value)
        if character is not None:
            raise _control_character_refused(name, character, "query")
    if request.method != "POST" or not request.is_json:
        return
    try:
        body = json.loads(request.get_data(cache=True))
    except ValueError:
        return  # not JSON at all: the schema layer answers 422 for that
    try:
        json.dumps(body, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError as error:
        raise InvalidInput("the body contains text that is not valid Unicode (a lone surrogate)",
                           "请求内容含有无效的字符编码", field="body") from error
    if _has_nul(body):
        raise InvalidInput("the body contains a NUL character (\\u0000), which no text field may hold",
                           "请求内容含有空字符（\\u0000），无法保存", field="body")
    found = text.find_control_character(body)
    if found is not None:
        where, character = found
        raise _control_character_refused(text.dotted(where) or "body", character, "json")


def _control_character_refused(field: str, character: str, location: str) -> InvalidInput:
    code = text.describe(character)
    return InvalidInput(
        f"{field} contains the control character {code}; text may hold tabs and line breaks but no other control characters",
        f"{field} 含有控制字符（{code}），除制表符和换行外不能包含控制字符，请删除后重新提交",
        field=field, location=location, character=code)


def _has_nul(value) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(_has_nul(k) or _has_nul(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_has_nul(item) for item in value)
    return False


def _install_error_handlers(app: Flask) -> None:
    @app.errorhandler(DubanError)
    def _domain_error(error: DubanError):
        return jsonify(error.to_body()), error.status, getattr(error, "headers", None) or {}

    @app.errorhandler(HTTPException)
    def _http_error(error: HTTPException):
        status = error.code or 500
        body = {"code": error.name.lower().replace(" ", "_"), "status": status, "message": error.description,
                "message_zh": _HTTP_MESSAGES_ZH.get(status, "请求未能处理")}
        errors = getattr(error, "data", {}).get("messages") if hasattr(error, "data") else None
        if errors:
            # webargs/marshmallow name each bad field; an unparseable body is invalid input too (422, not 400).
            status = 422
            body.update(code="invalid_input", status=status, errors=errors, message="invalid input",
                        message_zh="输入有误，请检查标出的字段")
            return jsonify(body), status
        # What the error says about itself goes along: a 405's Allow, a 401's WWW-Authenticate …
        headers = [(name, value) for name, value in error.get_headers() if name.lower() != "content-type"]
        return jsonify(body), status, headers

    @app.errorhandler(Exception)
    def _unexpected(error: Exception):
        if mongo.database_unavailable(error):
            # Not a bug: the database did not answer in time (shared/mongo.py bounds the wait). Come back later.
            log.warning("the database is not answering: %s %s: %s: %s", request.method, request.path,
                        type(error).__name__, error)
            unavailable = ServiceUnavailable(DATABASE_UNAVAILABLE_EN, DATABASE_UNAVAILABLE_ZH)
            body = {**unavailable.to_body(), "correlation_id": g.get("correlation_id")}
            return jsonify(body), unavailable.status, unavailable.headers
        log.exception("unhandled error")
        return jsonify({"code": "internal_error", "status": 500, "message": "internal error",
                        "message_zh": "系统内部错误", "correlation_id": g.get("correlation_id")}), 500


_HTTP_MESSAGES_ZH = {
    400: "请求有误", 401: "未登录或登录已失效", 403: "无权执行此操作", 404: "页面或事项不存在", 405: "不支持该请求方法",
    406: "无法提供所要求的格式", 409: "请求与当前状态冲突", 411: "请求缺少内容长度", 413: "请求内容过大",
    415: "不支持的内容类型", 429: "请求过于频繁，请稍后重试", 500: "系统内部错误", 501: "不支持该请求方法",
    503: "服务暂时不可用，请稍后重试",
}


def _install_method_checks(app: Flask) -> None:
    """405 with the right Allow where a fixed path shadows an item's path (``/plans/preview`` beside ``/plans/<id>``).

    Werkzeug matches ``GET /plans/preview`` to ``/plans/<plan_id>`` (a 404 for a plan named "preview") and lists
    the methods of both rules in Allow. A path that is some rule's fixed path answers with that path's methods only.
    """
    fixed: dict[str, set[str]] = {}
    for rule in app.url_map.iter_rules():
        if not rule.arguments:
            fixed.setdefault(rule.rule, set()).update(rule.methods or ())

    @app.before_request
    def _fixed_path_wins() -> None:
        methods = fixed.get(request.path)
        rule = request.url_rule
        if methods and rule is not None and rule.arguments and request.method not in methods:
            raise MethodNotAllowed(valid_methods=sorted(methods))

    @app.after_request
    def _allow_of_fixed_path(response: Response) -> Response:
        methods = fixed.get(request.path)
        if methods and "Allow" in response.headers:
            response.headers["Allow"] = ", ".join(sorted(methods))
        return response


def _install_operational_routes(app: Flask, context: ServiceContext) -> None:
    @app.get("/healthz")
    def healthz():
        return jsonify({"status": "ok", "service": context.name})

    @app.get("/readyz")
    def readyz():
        try:
            if context.database is not None:
                context.database.command("ping")
        except Exception as error:  # noqa: BLE001 - any failure means not ready
            return jsonify({"status": "unavailable", "service": context.name, "error": str(error)}), 503
        return jsonify({"status": "ready", "service": context.name})

    @app.get("/docs/static/<path:filename>")
    def swagger_ui_static(filename: str):
        return send_from_directory(swagger_ui_path, filename)

    @app.get("/metrics")
    def prometheus_metrics():
        body, content_type = metrics.render()
        return Response(body, content_type=content_type)
