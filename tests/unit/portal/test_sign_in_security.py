"""Sign-in that holds up: where it sends you after, how long it takes, forged forms, headers, idle sessions, lockouts."""
from __future__ import annotations

import re
from datetime import date, datetime, timedelta, timezone
from http.cookies import SimpleCookie
from pathlib import Path

import jwt
import pytest
from flask.testing import FlaskClient
from werkzeug.security import generate_password_hash

import services.portal.adapters.users as users
from shared.auth import issue_token
from shared.clock import FixedClock
from shared.config import Settings
from shared.policy import PolicyBook
from services.portal.adapters.users import DEMO_OFFICE, DEMO_PASSWORD, Account, UserDirectory, load_directory
from services.portal.context import PortalContext
from services.portal.domain.login_limits import LoginLimiter
from services.portal.domain.model import PortalModel
from services.portal.entrypoints.api import COOKIE, CSRF_FIELD, SECURITY_HEADERS, create_app, safe_next
from tests.portal_forms import FormClient

SECRET = "portal-sign-in-test-secret-of-32-bytes-or-more"
TEMPLATES = Path(__file__).resolve().parents[3] / "services/portal/templates"


class Clock:
    def __init__(self):
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


def portal(**settings):
    context = PortalContext(settings=Settings(jwt_secret=SECRET, log_level="WARNING", **settings), model=PortalModel(),
                            users=UserDirectory.demo(), policies=PolicyBook(), clock=FixedClock(date(2026, 3, 1)))
    clock = Clock()
    app = create_app(context, login_limiter=LoginLimiter(clock=clock))
    app.test_client_class = FormClient
    return app, context, clock


@pytest.fixture(scope="module")
def app():
    return portal()[0]


def sign_in(app, username: str = "office", password: str = DEMO_PASSWORD, query: str = "", **options):
    client = app.test_client()
    return client, client.post(f"/login{query}", data={"username": username, "password": password}, **options)


def set_cookies(answer) -> dict[str, str]:
    """Each cookie the answer sets, with its attributes as written."""
    return {SimpleCookie(h).popitem()[0]: h for h in answer.headers.getlist("Set-Cookie")}


class TestWhereSigningInLeads:
    @pytest.mark.parametrize("target", [
        "/%09/evil.example/phish", "/\t/evil.example", "/\n/evil.example", "//evil.example", "///evil.example",
        "/\\evil.example", "\\\\evil.example", "https://evil.example/", "javascript:alert(1)", " //evil.example",
        "evil.example", "/\x00", "/\u0085/evil.example", "",
    ])
    def test_anything_that_could_leave_the_site_goes_home(self, target):
        assert safe_next(target) == "/"

    @pytest.mark.parametrize("target", ["/", "/notices?status=open&page=2", "/cases/n-1:P1#plan", "/ledger?unit=巴州区"])
    def test_paths_of_this_site_are_followed(self, target):
        assert safe_next(target) == target

    def test_a_tab_smuggled_into_next_does_not_lead_to_another_site(self, app):
        _, answer = sign_in(app, query="?next=/%09/evil.example/phish")
        assert answer.status_code == 302 and answer.headers["Location"] == "/"

    def test_a_newline_in_next_is_no_server_error(self, app):
        _, answer = sign_in(app, query="?next=/notices%0D%0ASet-Cookie:%20x=1")
        assert answer.status_code == 302 and answer.headers["Location"] == "/"

    def test_the_page_asked_for_is_where_one_lands(self, app):
        _, answer = sign_in(app, query="?next=/notices%3Fstatus%3Dopen")
        assert answer.headers["Location"] == "/notices?status=open"


class TestPasswords:
    def test_an_unknown_name_is_checked_against_a_hash_as_slow_as_the_accounts(self, monkeypatch):
        directory = UserDirectory([Account("office", "王", "office_staff", DEMO_OFFICE,
                                           generate_password_hash("pw", method="pbkdf2:sha256:600000"))])
        checked = []
        monkeypatch.setattr(users, "check_password_hash", lambda hashed, password: checked.append(hashed) or False)
        assert directory.authenticate("nobody", "pw") is None
        assert directory.authenticate("office", "wrong") is None
        [dummy, real] = checked
        assert dummy.split("$")[0] == real.split("$")[0] == "pbkdf2:sha256:600000"

    def test_new_passwords_are_hashed_with_scrypt_and_older_pbkdf2_hashes_still_verify(self):
        assert users.hash_password("s3cret").startswith("scrypt:")
        assert UserDirectory.demo().accounts["office"].password_hash.startswith("scrypt:")
        old = UserDirectory([Account("old", "旧", "auditor", None, generate_password_hash("pw", method="pbkdf2:sha256"))])
        assert old.authenticate("old", "pw") is not None and old.authenticate("old", "px") is None

    def test_the_demo_accounts_exist_only_in_development_mode(self):
        assert load_directory(None, dev_mode=False).accounts == {}
        assert "office" in load_directory(None, dev_mode=True).accounts
        assert load_directory(None, dev_mode=False).authenticate("office", DEMO_PASSWORD) is None

    def test_an_accounts_file_with_a_unit_handler_without_unit_is_refused(self, tmp_path):
        path = tmp_path / "users.yaml"
        path.write_text("users: [{username: h, role: unit_handler, password_hash: 'x'}]", encoding="utf-8")
        with pytest.raises(Exception, match="without their unit"):
            UserDirectory.from_file(str(path))


class TestForgedForms:
    @pytest.fixture
    def withdrawals(self, monkeypatch):
        app, context, _ = portal()
        calls = []

        class Recorder:
            def post(self, path, body=None, idempotency_key=None):
                calls.append(path)
                return {}

        monkeypatch.setattr(context, "service", lambda name, token: Recorder())
        return app, calls

    def test_a_form_posted_without_the_token_is_refused_and_nothing_is_sent(self, withdrawals):
        app, calls = withdrawals
        client = FlaskClient(app, app.response_class, use_cookies=True)
        client.post("/login", data={"username": "office", "password": DEMO_PASSWORD})
        answer = client.post("/notices/n-1/withdraw", data={"reason": "重复下发"})
        assert answer.status_code == 403 and "表单令牌无效" in answer.get_data(as_text=True)
        answer = client.post("/notices/n-1/withdraw", data={"reason": "重复下发", CSRF_FIELD: "guessed"})
        assert answer.status_code == 403 and calls == []

    def test_another_sites_origin_is_refused_even_with_the_token(self, withdrawals):
        app, calls = withdrawals
        client, _ = sign_in(app)
        answer = client.post("/notices/n-1/withdraw", data={"reason": "重复下发"}, headers={"Origin": "http://evil.example"})
        assert answer.status_code == 403 and "来自其他网站" in answer.get_data(as_text=True) and calls == []
        answer = client.post("/notices/n-1/withdraw", data={"reason": "x"}, headers={"Referer": "http://evil.example/a"})
        assert answer.status_code == 403 and calls == []
        assert client.post("/notices/n-1/withdraw", data={"reason": "x"}, headers={"Origin": "null"}).status_code == 403

    def test_the_portals_own_origin_with_the_token_is_accepted(self, app):
        client, _ = sign_in(app)
        answer = client.post("/logout", headers={"Origin": "http://localhost", "Referer": "http://localhost/notices"})
        assert answer.status_code == 302 and answer.headers["Location"] == "/login"

    def test_signing_in_from_another_site_is_refused(self, app):
        _, answer = sign_in(app, headers={"Origin": "https://evil.example"})
        assert answer.status_code == 403 and COOKIE not in set_cookies(answer)

    def test_the_token_is_in_the_forms_and_renewed_at_sign_in(self, app):
        client, _ = sign_in(app)
        page = client.get("/notices").get_data(as_text=True)
        token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
        assert token == client.form_token()
        client.post("/login", data={"username": "office", "password": DEMO_PASSWORD})
        assert client.form_token() != token

    def test_every_form_that_posts_carries_the_token(self):
        for template in TEMPLATES.glob("*.html"):
            for form in re.findall(r'<form\b[^>]*method="post"[^>]*>(.{0,20})', template.read_text(), flags=re.I | re.S):
                assert template.name == "login.html" or form.startswith("{{ csrf_field() }}"), template.name


class TestHeaders:
    @pytest.mark.parametrize("path", ["/login", "/static/portal.css", "/notices", "/no-such-page", "/healthz"])
    def test_every_answer_carries_the_security_headers(self, app, path):
        client, _ = sign_in(app)
        answer = client.get(path)
        for name, value in SECURITY_HEADERS.items():
            assert answer.headers[name] == value, (path, name)
        assert "frame-ancestors 'none'" in answer.headers["Content-Security-Policy"]
        assert "'unsafe-inline'" not in answer.headers["Content-Security-Policy"].split("style-src-attr")[0]

    def test_no_page_runs_inline_script(self):
        for template in TEMPLATES.glob("*.html"):
            text = template.read_text()
            assert "<script" not in text and not re.search(r"\son[a-z]+=", text), template.name

    def test_cookies_are_secure_over_https_only(self, app):
        _, answer = sign_in(app, base_url="https://localhost")
        assert all("Secure" in cookie for cookie in set_cookies(answer).values()), set_cookies(answer)
        _, answer = sign_in(app)
        assert not any("Secure" in cookie for cookie in set_cookies(answer).values())
        assert "HttpOnly" in set_cookies(answer)[COOKIE] and "SameSite=Lax" in set_cookies(answer)[COOKIE]

    def test_x_forwarded_proto_counts_only_behind_a_configured_proxy(self, app):
        forwarded = {"X-Forwarded-Proto": "https", "Origin": "https://localhost"}
        _, answer = sign_in(app, headers=forwarded)
        assert "Secure" not in set_cookies(answer)[COOKIE]
        _, answer = sign_in(portal(trust_proxy=True)[0], headers=forwarded)
        assert "Secure" in set_cookies(answer)[COOKIE]


def token_at(moment: datetime, signed_in_at: datetime | None = None, ttl: timedelta = timedelta(hours=2)) -> str:
    return issue_token(SECRET, "office", "office_staff", DEMO_OFFICE, "王科长", ttl=ttl, now=moment,
                       signed_in_at=signed_in_at or moment)


def visit(app, token: str, path: str = "/notices"):
    client = app.test_client()
    client.set_cookie(COOKIE, token)
    return client.get(path)


class TestSessions:
    def test_a_session_idle_for_longer_than_two_hours_goes_back_to_sign_in(self, app):
        now = datetime.now(timezone.utc)
        answer = visit(app, token_at(now - timedelta(hours=2, minutes=1), ttl=timedelta(hours=10)))
        assert answer.status_code == 302 and answer.headers["Location"].startswith("/login?next=/notices")
        assert visit(app, token_at(now - timedelta(hours=2, minutes=1))).status_code == 302  # its token ran out too

    def test_activity_slides_the_session_but_never_past_ten_hours_after_signing_in(self, app):
        now = datetime.now(timezone.utc)
        answer = visit(app, token_at(now - timedelta(minutes=90), signed_in_at=now - timedelta(hours=5)))
        assert answer.status_code == 200
        claims = jwt.decode(set_cookies(answer)[COOKIE].split(";")[0].split("=", 1)[1], SECRET, algorithms=["HS256"])
        assert claims["exp"] == pytest.approx((now + timedelta(hours=2)).timestamp(), abs=5)
        assert claims["auth_time"] == pytest.approx((now - timedelta(hours=5)).timestamp(), abs=1)
        answer = visit(app, token_at(now - timedelta(minutes=5), signed_in_at=now - timedelta(hours=10, minutes=1)))
        assert answer.status_code == 302

    def test_a_token_used_again_within_a_minute_is_not_reissued(self, app):
        answer = visit(app, token_at(datetime.now(timezone.utc)))
        assert answer.status_code == 200 and COOKIE not in set_cookies(answer)

    def test_the_idle_time_is_configurable(self):
        app = portal(portal_idle_minutes=5)[0]
        now = datetime.now(timezone.utc)
        assert visit(app, token_at(now - timedelta(minutes=4))).status_code == 200
        assert visit(app, token_at(now - timedelta(minutes=6), ttl=timedelta(hours=1))).status_code == 302
        _, answer = sign_in(app)
        assert f"Max-Age={5 * 60}" in set_cookies(answer)[COOKIE]

    def test_a_unit_handlers_token_without_its_unit_signs_nobody_in(self, app):
        forged = jwt.encode({"sub": "h", "role": "unit_handler", "unit": None, "iat": datetime.now(timezone.utc),
                             "exp": datetime.now(timezone.utc) + timedelta(hours=1)}, SECRET, algorithm="HS256")
        assert visit(app, forged).status_code == 302


class TestLockouts:
    def test_five_wrong_passwords_lock_the_account_for_fifteen_minutes(self):
        app, _, clock = portal()
        for _ in range(5):
            assert sign_in(app, password="wrong")[1].status_code == 401
        _, answer = sign_in(app)  # even the right password
        assert answer.status_code == 429 and answer.headers["Retry-After"] == str(15 * 60)
        assert "登录失败次数过多，请 15 分钟后再试" in answer.get_data(as_text=True)
        assert sign_in(app, "inspector")[1].status_code == 302
        clock.now += 15 * 60
        assert sign_in(app)[1].status_code == 302

    def test_twenty_failures_from_one_address_lock_the_address(self):
        app, _, _ = portal()
        for n in range(20):
            sign_in(app, f"nobody{n}", "wrong")
        assert sign_in(app, "inspector")[1].status_code == 429
        assert sign_in(app, "inspector", environ_base={"REMOTE_ADDR": "10.1.2.3"})[1].status_code == 302
