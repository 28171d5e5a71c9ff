"""The portal web app (server-rendered pages in Simplified Chinese): ``services.portal.entrypoints.api:create_app()``.

Its read models live in this process, fed from the three topics (see adapters/feed.py); actions go to
the services' own HTTP APIs with the signed-in person's token, so every portal action is an event with
that person as the actor.
"""
from __future__ import annotations

import hashlib
import logging
import time
from pathlib import Path
from datetime import timedelta

from flask import Flask, Response, g, jsonify, redirect, render_template, request, url_for
from marshmallow import EXCLUDE, Schema, ValidationError, fields, validate

from shared import metrics
from shared.auth import Role, actor_from_token, issue_token
from shared.errors import DubanError, Forbidden, ServiceUnavailable, Unauthorized
from services.api_client import ApiError
from shared.logging import configure_logging, correlation_scope, new_correlation_id
from services.portal.context import SERVICE, PortalContext, bootstrap
from services.portal.domain.queries import Viewer
from services.portal.entrypoints import (
    common,
    pages_calendars,
    pages_cases,
    pages_dashboard,
    pages_ledger_import,
    pages_notices,
    pages_plans,
    pages_reports,
)

log = logging.getLogger(__name__)

COOKIE = "duban_token"
PUBLIC = ("/login", "/static/", "/healthz", "/readyz", "/metrics")


class LoginSchema(Schema):  # 登录
    username = fields.String(required=True, validate=validate.Length(min=1, max=100))
    password = fields.String(required=True, validate=validate.Length(min=1, max=200))


def create_app(context: PortalContext | None = None) -> Flask:
    context = context or bootstrap()
    configure_logging(SERVICE, context.settings.log_level)
    app = Flask(SERVICE, root_path=str(Path(__file__).resolve().parent.parent))  # templates/ and static/ beside
    app.config["PORTAL"] = context
    # Flash messages ride in Flask's signed session cookie; its key is derived from the token secret.
    app.secret_key = hashlib.sha256(f"portal-session:{context.settings.jwt_secret}".encode()).hexdigest()
    app.json.ensure_ascii = False
    app.context_processor(common.template_helpers)
    for module in (pages_dashboard, pages_notices, pages_cases, pages_reports, pages_plans, pages_calendars,
                   pages_ledger_import):
        app.register_blueprint(module.blp)
    _install_identity(app, context)
    _install_routes(app, context)
    _install_errors(app)
    return app


def _install_identity(app: Flask, context: PortalContext) -> None:
    @app.before_request
    def _identify():
        g.started = time.perf_counter()
        g.correlation_id = request.headers.get("X-Correlation-ID") or new_correlation_id()
        g.scope = correlation_scope(g.correlation_id)
        g.scope.__enter__()
        if request.path.startswith(PUBLIC):
            return None
        token = request.cookies.get(COOKIE)
        if not token:
            return redirect(url_for("login", next=request.full_path))
        try:
            actor = actor_from_token(context.settings.jwt_secret, token)
        except Unauthorized:
            return redirect(url_for("login", next=request.full_path))
        g.token = token
        g.viewer = Viewer(actor.user_id, actor.role, actor.unit, actor.name)
        return None

    @app.after_request
    def _record(response: Response) -> Response:
        endpoint = request.url_rule.rule if request.url_rule else "unmatched"
        metrics.HTTP_REQUESTS.labels(SERVICE, request.method, endpoint, response.status_code).inc()
        metrics.HTTP_LATENCY.labels(SERVICE, endpoint).observe(time.perf_counter() - g.get("started", time.perf_counter()))
        return response

    @app.teardown_request
    def _unbind(_exc) -> None:
        scope = g.pop("scope", None)
        if scope is not None:
            scope.__exit__(None, None, None)


def _install_routes(app: Flask, context: PortalContext) -> None:
    @app.route("/login", methods=["GET", "POST"])
    def login():
        error = None
        if request.method == "POST":
            try:
                form = LoginSchema().load(request.form.to_dict(), unknown=EXCLUDE)
            except ValidationError:
                form = None
            account = context.users.authenticate(form["username"], form["password"]) if form else None
            if account is not None:
                token = issue_token(context.settings.jwt_secret, account.username, account.role, account.unit, account.name,
                                    ttl=timedelta(hours=10))
                target = request.args.get("next") or "/"
                response = redirect(target if target.startswith("/") and not target.startswith("//") else "/")
                response.set_cookie(COOKIE, token, httponly=True, samesite="Lax", max_age=10 * 3600)
                return response
            error = "用户名或密码不正确"
        return render_template("login.html", error=error, viewer=None), (401 if error else 200)

    @app.post("/logout")
    def logout():
        response = redirect(url_for("login"))
        response.delete_cookie(COOKIE)
        return response

    @app.get("/healthz")
    def healthz():
        return jsonify({"status": "ok", "service": SERVICE})

    @app.get("/readyz")
    def readyz():
        if not context.ready:
            return jsonify({"status": "catching up", "service": SERVICE}), 503
        return jsonify({"status": "ready", "service": SERVICE, "events": context.model.events_applied})

    @app.get("/metrics")
    def prometheus_metrics():
        body, content_type = metrics.render()
        return Response(body, content_type=content_type)

    @app.get("/state")
    def state():
        """Events applied and a digest of every read model (compare with ``duban rebuild portal``)."""
        if g.viewer.role not in (Role.AUDITOR, Role.ADMIN):
            raise Forbidden("auditors only", "仅审计人员可查看")
        with context.lock:
            return jsonify({"events": context.model.events_applied, "digest": context.model.digest()})


def _install_errors(app: Flask) -> None:
    @app.errorhandler(DubanError)
    def _domain_error(error: DubanError):
        status = error.status
        headers = getattr(error, "headers", None) or {}
        if request.accept_mimetypes.best == "application/json" or request.path == "/state":
            return jsonify(error.to_body()), status, headers
        return render_template("error.html", error=error, viewer=g.get("viewer")), status, headers

    @app.errorhandler(ApiError)
    def _service_failed(error: ApiError):
        """A call to a service that no page caught: 503 (retry later) if the service is unreachable or unavailable."""
        status = common.failure_status(error)
        if status == 503:
            log.warning("a service is unavailable: %s", error)
            failure = ServiceUnavailable("a service is temporarily unavailable; please retry shortly",
                                         "服务暂时不可用，请稍后重试", retry_after_seconds=common.RETRY_AFTER_SECONDS)
        elif status == 502:
            log.error("a service failed: %s", error)
            failure = DubanError("a service failed", "后台服务出错，请稍后重试")
            failure.status, failure.code = 502, "bad_gateway"
        else:
            failure = DubanError(str(error), error.body.get("message_zh") or str(error))
            failure.status, failure.code = status, error.body.get("code") or "refused"
        return _domain_error(failure)

    @app.errorhandler(404)
    def _not_found(_error):
        return render_template("error.html", error=DubanError("not found", "页面或事项不存在"), viewer=g.get("viewer")), 404

    @app.errorhandler(Exception)
    def _unexpected(error: Exception):
        from werkzeug.exceptions import HTTPException

        if isinstance(error, HTTPException):
            return error
        log.exception("unhandled error")
        return render_template("error.html", error=DubanError("internal error", "系统内部错误"), viewer=g.get("viewer")), 500
