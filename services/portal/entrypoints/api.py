"""The portal web app (server-rendered pages in Simplified Chinese): ``services.portal.entrypoints.api:create_app()``.

Its read models live in this process, fed from the three topics (see adapters/feed.py); actions go to
the services' own HTTP APIs with the signed-in person's token, so every portal action is an event with
that person as the actor.
"""
from __future__ import annotations

import hashlib
import hmac
import logging
import math
import secrets
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path
from urllib.parse import unquote, urlsplit

from flask import Flask, Response, g, jsonify, redirect, render_template, request, session, url_for
from flask.sessions import SecureCookieSessionInterface
from markupsafe import Markup
from marshmallow import EXCLUDE, Schema, ValidationError, fields, validate
from werkzeug.middleware.proxy_fix import ProxyFix

from shared import metrics
from shared.auth import Role, issue_token, token_claims
from shared.errors import DubanError, Forbidden, ServiceUnavailable, Unauthorized
from services.api_client import ApiError
from shared.logging import configure_logging, correlation_scope, new_correlation_id
from shared.directory import Account, refuse_stale_token
from services.portal.adapters import evidence
from services.portal.adapters.sign_in import SignInRefused, authenticate
from services.portal.context import SERVICE, PortalContext, bootstrap
from services.portal.domain.login_limits import LOCKOUT, LoginLimiter, SignInAttemptEvent
from services.portal.domain.queries import Viewer
from services.portal.entrypoints import (
    common,
    pages_calendars,
    pages_cases,
    pages_dashboard,
    pages_directory,
    pages_documents,
    pages_evaluation,
    pages_ledger_import,
    pages_messages,
    pages_notices,
    pages_plans,
    pages_reports,
)

log = logging.getLogger(__name__)

COOKIE = "duban_token"
PUBLIC = ("/login", "/static/", "/healthz", "/readyz", "/metrics")
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "X-CSRF-Token"  # for a script (or a test) that posts without the page's form
STATE_CHANGING = ("POST", "PUT", "PATCH", "DELETE")
# A session's token is re-issued at most this often while the person is active: its issue time is the last
# activity to within this much, and its expiry slides with it (portal_idle_minutes, at most portal_session_hours).
SLIDE_EVERY = timedelta(seconds=60)
# Pages, styles and the form targets come from the portal itself; nothing runs inline and nothing may frame it.
# Style attributes stay allowed (style-src-attr): the dashboard's bars are sized by one, and an attribute can
# neither run script nor select elements the way a stylesheet could.
CONTENT_SECURITY_POLICY = ("default-src 'self'; script-src 'self'; style-src 'self'; style-src-attr 'unsafe-inline'; "
                           "img-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; "
                           "frame-ancestors 'none'")
MAX_REQUEST_BYTES = evidence.MAX_FILES * evidence.MAX_FILE_BYTES + 2 * 1024 * 1024
SECURITY_HEADERS = {"Content-Security-Policy": CONTENT_SECURITY_POLICY, "X-Frame-Options": "DENY",
                    "X-Content-Type-Options": "nosniff", "Referrer-Policy": "same-origin"}


class LoginSchema(Schema):  # 登录
    username = fields.String(required=True, validate=validate.Length(min=1, max=100))
    password = fields.String(required=True, validate=validate.Length(min=1, max=200))


def create_app(context: PortalContext | None = None, login_limiter: LoginLimiter | None = None) -> Flask:
    context = context or bootstrap()
    configure_logging(SERVICE, context.settings.log_level)
    app = Flask(SERVICE, root_path=str(Path(__file__).resolve().parent.parent))  # templates/ and static/ beside
    app.config["PORTAL"] = context
    # Flash messages and the form token ride in Flask's signed session cookie; its key is derived from the token secret.
    app.secret_key = hashlib.sha256(f"portal-session:{context.settings.jwt_secret}".encode()).hexdigest()
    app.session_interface = _SessionCookie()
    app.config["SESSION_COOKIE_SAMESITE"] = "Lax"
    if context.settings.trust_proxy:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=1, x_proto=1, x_host=1)
    app.json.ensure_ascii = False
    # the largest form: a step with its 佐证材料 (20 files of 20 MB, and the form's own fields); a larger request is a
    # 413 with the reason (_install_errors), never read
    app.config["MAX_CONTENT_LENGTH"] = MAX_REQUEST_BYTES
    app.context_processor(common.template_helpers)
    app.jinja_env.globals["csrf_field"] = csrf_field
    for module in (pages_dashboard, pages_notices, pages_cases, pages_reports, pages_plans, pages_calendars,
                   pages_ledger_import, pages_directory, pages_messages, pages_evaluation, pages_documents):
        app.register_blueprint(module.blp)
    _install_identity(app, context)
    _install_form_guard(app)
    _install_routes(app, context, login_limiter or LoginLimiter(on_event=_log_sign_in_attempt))
    _install_errors(app)
    return app


class _SessionCookie(SecureCookieSessionInterface):
    """Flask's session cookie, marked Secure whenever the page came over HTTPS."""

    def get_cookie_secure(self, app: Flask) -> bool:
        return request.is_secure or super().get_cookie_secure(app)


def _log_sign_in_attempt(event: SignInAttemptEvent) -> None:
    """Until the directory service records them as events, lockouts are logged (failures are only counted)."""
    if event.kind == LOCKOUT:
        log.warning("sign-in locked after repeated failures",
                    extra={"subject": event.subject, "value": event.value, "locked_until": event.locked_until})


# -- sign-in, sessions and forms -------------------------------------------------------------------------

def safe_next(target: str | None) -> str:
    """Where to go after signing in: a path of this site only, else "/".

    Browsers drop tabs and newlines from a URL and read a backslash as a slash, so "/<tab>/evil.example" or "/\\evil"
    would leave the site: anything with a control character, a backslash, a scheme or a host (also once
    percent-decoded) is refused.
    """
    if not target:
        return "/"
    for text in (target, unquote(target)):  # and once decoded: no reader of the Location should decode it to a host
        if text != text.strip() or "\\" in text or any(ord(ch) < 0x20 or 0x7F <= ord(ch) < 0xA0 for ch in text):
            return "/"
        parts = urlsplit(text)
        if parts.scheme or parts.netloc or not text.startswith("/") or text.startswith("//"):
            return "/"
    return target


def csrf_token() -> str:
    """This browser session's form token (made on first use, renewed at sign-in and sign-out)."""
    token = session.get(CSRF_FIELD)
    if not token:
        token = session[CSRF_FIELD] = secrets.token_urlsafe(32)
    return token


def csrf_field() -> Markup:
    """The hidden field every form that changes anything carries: ``{{ csrf_field() }}``."""
    return Markup('<input type="hidden" name="{}" value="{}">').format(CSRF_FIELD, csrf_token())


def _from_this_site() -> bool:
    """The request's Origin (or, without one, its Referer) is this site; a request with neither is not a browser's
    cross-site form, and still needs the form token."""
    source = request.headers.get("Origin") or request.headers.get("Referer")
    if not source:
        return True
    if source == "null":  # a sandboxed frame, a data: page, a redirect across sites
        return False
    return urlsplit(source).netloc.lower() == request.host.lower()


def _install_form_guard(app: Flask) -> None:
    @app.before_request
    def _refuse_forged_forms():
        if request.method not in STATE_CHANGING:
            return None
        if not _from_this_site():
            raise Forbidden("a state-changing request from another site was refused",
                            "已拒绝来自其他网站的提交：请在本平台的页面上操作")
        if request.path == "/login":  # no session to hold a token yet: its Origin (above) is what is checked
            return None
        expected = session.get(CSRF_FIELD)
        sent = request.form.get(CSRF_FIELD) or request.headers.get(CSRF_HEADER) or ""
        if not expected or not hmac.compare_digest(sent.encode(), expected.encode()):
            raise Forbidden("missing or wrong form token (csrf_token)",
                            "页面已过期或表单令牌无效，未办理：请刷新页面后重新提交")
        return None


def _session_token(context: PortalContext, claims: dict, signed_in_at: datetime, now: datetime) -> tuple[str, int]:
    """A token for the session, valid for the idle time (never past the session's end), and its lifetime in seconds."""
    settings = context.settings
    ends = signed_in_at + timedelta(hours=settings.portal_session_hours)
    ttl = min(timedelta(minutes=settings.portal_idle_minutes), ends - now)
    token = issue_token(settings.jwt_secret, claims["sub"], claims["role"], claims.get("unit"), claims.get("name"),
                        ttl=ttl, now=now, signed_in_at=signed_in_at, epoch=claims.get("epoch"))
    return token, max(1, int(ttl.total_seconds()))


def _set_session_cookie(response: Response, token: str, max_age: int) -> None:
    response.set_cookie(COOKIE, token, httponly=True, samesite="Lax", secure=request.is_secure, max_age=max_age)


def _install_identity(app: Flask, context: PortalContext) -> None:
    @app.before_request
    def _identify():
        g.started = time.perf_counter()
        g.correlation_id = request.headers.get("X-Correlation-ID") or new_correlation_id()
        g.scope = correlation_scope(g.correlation_id)
        g.scope.__enter__()
        if request.path.startswith(PUBLIC):
            return None
        if request.method in ("GET", "HEAD") and request.headers.get("Authorization", "").startswith("Bearer "):
            return _identify_bearer()
        token = request.cookies.get(COOKIE)
        if not token:
            return _to_login()
        try:
            claims = _current_claims(token)
        except Unauthorized:
            return _to_login()
        now = datetime.now(timezone.utc)
        issued = datetime.fromtimestamp(claims.get("iat", 0), timezone.utc)
        signed_in_at = datetime.fromtimestamp(claims.get("auth_time", claims.get("iat", 0)), timezone.utc)
        settings = context.settings
        if (now - issued > timedelta(minutes=settings.portal_idle_minutes)
                or now - signed_in_at >= timedelta(hours=settings.portal_session_hours)):
            return _to_login()  # idle too long, or signed in too long ago (tokens from before sessions slid)
        if now - issued >= SLIDE_EVERY:
            token, max_age = _session_token(context, claims, signed_in_at, now)
            g.renewed_session = (token, max_age)
        _act_as(token, claims)
        return None

    def _identify_bearer() -> Response | None:
        """A script reads pages and downloads (the .docx documents, exports) with an API token, as it calls the
        services: no session, so no sliding or idle rule, and only for reads (a form still needs the session and its
        CSRF token). A bad or stale token is a 401, not a redirect to the sign-in page."""
        token = request.headers["Authorization"].removeprefix("Bearer ").strip()
        _act_as(token, _current_claims(token))  # Unauthorized → 401 (the error handlers)
        return None

    def _current_claims(token: str) -> dict:
        """The token's claims; Unauthorized for a bad token, a disabled account, or a token older than the person's
        last change of roles, unit or password."""
        claims = token_claims(context.settings.jwt_secret, token)
        row = context.model.people.get(claims["sub"])
        refuse_stale_token(Account.from_row(claims["sub"], row) if row is not None else None,
                           claims["sub"], claims.get("epoch"))
        return claims

    def _act_as(token: str, claims: dict) -> None:
        g.token = token
        g.viewer = Viewer(claims["sub"], claims["role"], claims.get("unit"), claims.get("name"))

    def _to_login() -> Response:
        """Sign in again, then come back to the page asked for (a form posted meanwhile is not sent again)."""
        here = request.full_path if request.query_string else request.path
        response = redirect(url_for("login", next=here) if request.method == "GET" else url_for("login"))
        if request.cookies.get(COOKIE):
            response.delete_cookie(COOKIE)
        return response

    @app.after_request
    def _harden(response: Response) -> Response:
        for name, value in SECURITY_HEADERS.items():
            response.headers.setdefault(name, value)
        renewed = g.pop("renewed_session", None)
        if renewed is not None:
            _set_session_cookie(response, *renewed)
        return response

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


def _install_routes(app: Flask, context: PortalContext, limiter: LoginLimiter) -> None:
    @app.route("/login", methods=["GET", "POST"])
    def login():
        if request.method == "GET":
            return render_template("login.html", error=None, viewer=None)
        try:
            form = LoginSchema().load(request.form.to_dict(), unknown=EXCLUDE)
        except ValidationError:
            return render_template("login.html", error="请输入用户名和密码", viewer=None), 401
        address = request.remote_addr
        wait = limiter.retry_after(form["username"], address)
        if wait is not None:
            minutes = max(1, math.ceil(wait / 60))
            return (render_template("login.html", error=f"登录失败次数过多，请 {minutes} 分钟后再试", viewer=None), 429,
                    {"Retry-After": str(math.ceil(wait))})
        try:
            claims = authenticate(context.settings, context.users, form["username"], form["password"], address)
        except SignInRefused as refused:
            if refused.status == 401:
                limiter.failed(form["username"], address)
            headers = {"Retry-After": refused.retry_after} if refused.retry_after else {}
            return render_template("login.html", error=refused.message_zh, viewer=None), refused.status, headers
        limiter.succeeded(form["username"], address)
        now = datetime.now(timezone.utc)
        token, max_age = _session_token(context, claims, now, now)
        session.clear()  # a new session: a form token known before signing in is worth nothing after
        csrf_token()
        response = redirect(safe_next(request.args.get("next")))
        _set_session_cookie(response, token, max_age)
        return response

    @app.post("/logout")
    def logout():
        session.clear()
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

    @app.errorhandler(413)
    def _too_large(_error):
        limit_mb = evidence.MAX_FILE_BYTES // (1024 * 1024)
        failure = DubanError(f"the request is larger than {MAX_REQUEST_BYTES} bytes",
                             f"提交的内容过大，未办理：佐证材料一次最多{evidence.MAX_FILES}个文件，每个不超过{limit_mb}MB")
        failure.status, failure.code = 413, "too_large"
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
