"""Idempotency-Key on POST: a retried request gets the first answer back and appends nothing.

The notices service in-process (Flask test client) on the real MongoDB-protocol server (FerretDB).
"""
from __future__ import annotations

import hashlib
import io
import json
import threading
from dataclasses import dataclass, field
from datetime import timedelta

import pytest
from flask import request
from flask.views import MethodView
from flask_smorest import Blueprint

from shared import idempotency
from shared.auth import issue_token
from shared.envelope import utc_now
from shared.errors import InvalidInput, ServiceUnavailable
from shared.service import ServiceContext
from shared.web import command_context, create_service_app, current_context
from services.notices.bootstrap import bootstrap
from tests.helpers import eventually
from services.notices.domain.commands import IssueNotice
from services.notices.entrypoints.api import _content
from services.notices.entrypoints.api import blp as notices_blueprint
from services.notices.entrypoints.schemas import NoticeContentSchema

NOTICE = {
    "kind": "督办通知",
    "title": "关于校舍安全隐患整改的督办通知",
    "issuer_unit": "巴中市教育督导室",
    "target_units": ["巴州区教育局"],
    "problems": [{"description": "部分学校消防通道堵塞", "requirement": "立即清理", "responsible_unit": "巴州区教育局"}],
}
UNIT = "巴中市教育督导室"


@dataclass
class Service:
    """The notices app plus a probe blueprint whose views fail on purpose, and what they were asked."""

    app: object
    context: ServiceContext
    settings: object
    probe_calls: list = field(default_factory=list)

    def token(self, user: str = "wang", role: str = "office_staff") -> str:
        return issue_token(self.settings.jwt_secret, user, role, UNIT)

    def post(self, body=NOTICE, key: str | None = None, user: str = "wang", role: str = "office_staff",
             path: str = "/notices", client=None):
        headers = {"Authorization": f"Bearer {self.token(user, role)}"}
        if key is not None:
            headers[idempotency.HEADER] = key
        response = (client or self.app.test_client()).post(path, json=body, headers=headers)
        response.get_data()
        response.close()  # as a WSGI server does once the answer is sent: runs what was deferred until then
        return response

    def events(self) -> list:
        return list(self.context.store.read_all())

    def notice_streams(self) -> set[str]:
        return {event.stream_id for event in self.events()}

    def keys(self):
        return self.context.database[idempotency.COLLECTION]


def _probe_blueprint(calls: list) -> Blueprint:
    probe = Blueprint("probe", __name__, url_prefix="/probe")

    @probe.route("/refuses")
    class Refuses(MethodView):
        def post(self):
            calls.append("refuses")
            raise InvalidInput("the probe refuses", "探针拒绝", field="probe")

    @probe.route("/upload")
    class Upload(MethodView):
        def post(self):
            calls.append("upload")
            upload = request.files["file"]
            return {"filename": upload.filename, "sha256": hashlib.sha256(upload.read()).hexdigest(), "call": len(calls)}

    @probe.route("/crashes")
    class Crashes(MethodView):
        def post(self):
            calls.append("crashes")
            raise RuntimeError("the probe crashed")

    @probe.route("/database-unreachable")
    class DatabaseUnreachable(MethodView):
        def post(self):
            calls.append("database-unreachable")
            raise ServiceUnavailable("the probe's database is not answering", "探针的数据库未应答")

    @probe.route("/stores-then-fails-once")
    class StoresThenFailsOnce(MethodView):
        """Issues a notice through the bus, then (the first time only) fails as a lost connection would."""

        def post(self):
            calls.append("stores-then-fails-once")
            content = _content(NoticeContentSchema().load(NOTICE))
            notice_id = current_context().bus.handle(IssueNotice(content=content), command_context())
            if calls.count("stores-then-fails-once") == 1:
                raise RuntimeError("the probe lost its database after storing")
            return {"id": notice_id}, 201

    return probe


@pytest.fixture
def service(settings) -> Service:
    context = bootstrap(settings)
    calls: list = []
    app = create_service_app(lambda: context, "duban notices (test)", [notices_blueprint, _probe_blueprint(calls)])
    return Service(app, context, settings, calls)


def _record_id(user: str, key: str, path: str = "/notices") -> str:
    return idempotency.record_id(user, "POST", path, key)


class TestARetryWithTheSameKey:
    def test_gets_the_same_status_and_byte_identical_body_and_appends_nothing(self, service):
        first = service.post(key="issue-1")
        assert first.status_code == 201, first.get_data(as_text=True)
        assert idempotency.REPLAYED_HEADER not in first.headers
        after_first = [event.event_id for event in service.events()]
        notice_id = first.get_json()["id"]

        retry = service.post(key="issue-1")

        assert retry.status_code == 201
        assert retry.get_data() == first.get_data()
        assert retry.headers[idempotency.REPLAYED_HEADER] == "true"
        assert retry.content_type == first.content_type
        assert [event.event_id for event in service.events()] == after_first
        assert service.notice_streams() == {notice_id}

    def test_is_stored_as_done_under_the_callers_method_path_and_key(self, service):
        first = service.post(key="issue-2")
        record = service.keys().find_one({"_id": _record_id("wang", "issue-2")})
        assert record["state"] == "done" and record["status"] == 201
        assert bytes(record["body"]) == first.get_data()
        assert record["finished_at"] >= record["created_at"]


class TestTheSameKeyWithADifferentRequest:
    def test_is_refused_with_422_and_appends_nothing(self, service):
        first = service.post(key="issue-3")
        assert first.status_code == 201
        after_first = service.events()

        other = service.post({**NOTICE, "title": "关于食堂卫生整改的督办通知"}, key="issue-3")

        assert other.status_code == 422
        body = other.get_json()
        assert body["code"] == "idempotency_key_mismatch"
        assert idempotency.HEADER in body["message"] and idempotency.HEADER in body["message_zh"]
        assert len(service.events()) == len(after_first)


class TestTheSameKeyFromTwoUsers:
    def test_issues_two_notices(self, service):
        wang = service.post(key="shared-key", user="wang")
        li = service.post(key="shared-key", user="li")
        assert (wang.status_code, li.status_code) == (201, 201)
        assert idempotency.REPLAYED_HEADER not in li.headers
        assert service.notice_streams() == {wang.get_json()["id"], li.get_json()["id"]}
        assert wang.get_json()["id"] != li.get_json()["id"]


class TestPostsWithoutAKey:
    def test_issue_two_notices(self, service):
        first, second = service.post(), service.post()
        assert (first.status_code, second.status_code) == (201, 201)
        assert len(service.notice_streams()) == 2


class TestAnInvalidBodyAnsweredWith422:
    def test_is_replayed_too(self, service):
        bad = {**NOTICE, "kind": "通知"}
        first = service.post(bad, key="bad-1")
        assert first.status_code == 422 and first.get_json()["code"] == "invalid_input"

        retry = service.post(bad, key="bad-1")

        assert retry.status_code == 422
        assert retry.get_data() == first.get_data()
        assert retry.headers[idempotency.REPLAYED_HEADER] == "true"
        assert service.events() == []


class TestADomainErrorRaisedByTheView:
    def test_is_stored_by_the_after_request_hook_and_replayed_without_running_the_view_again(self, service):
        first = service.post({}, key="probe-1", path="/probe/refuses")
        assert first.status_code == 422 and first.get_json()["code"] == "invalid_input"

        retry = service.post({}, key="probe-1", path="/probe/refuses")

        assert retry.status_code == 422 and retry.get_data() == first.get_data()
        assert retry.headers[idempotency.REPLAYED_HEADER] == "true"
        assert service.probe_calls == ["refuses"]


class TestAFileUploadRetried:
    def _upload(self, service, content: bytes):
        # The test client frames every multipart body with a new random boundary, as browsers and requests do.
        return service.app.test_client().post(
            "/probe/upload", data={"file": (io.BytesIO(content), "要点.txt"), "note": "第一版"},
            headers={"Authorization": f"Bearer {service.token()}", idempotency.HEADER: "upload-1"})

    def test_is_recognised_despite_a_new_multipart_boundary_and_the_view_still_reads_the_file(self, service):
        first = self._upload(service, "巴中市2020年教育督导工作要点".encode())
        assert first.status_code == 200
        assert first.get_json()["sha256"] == hashlib.sha256("巴中市2020年教育督导工作要点".encode()).hexdigest()

        retry = self._upload(service, "巴中市2020年教育督导工作要点".encode())

        assert retry.get_data() == first.get_data() and retry.headers[idempotency.REPLAYED_HEADER] == "true"
        assert self._upload(service, b"another file").status_code == 422
        assert service.probe_calls == ["upload"]


class TestAServerError:
    def test_releases_the_key_so_a_retry_runs_again(self, service):
        first = service.post({}, key="crash-1", path="/probe/crashes")
        assert first.status_code == 500
        assert service.keys().find_one({"_id": _record_id("wang", "crash-1", "/probe/crashes")}) is None

        retry = service.post({}, key="crash-1", path="/probe/crashes")

        assert retry.status_code == 500 and idempotency.REPLAYED_HEADER not in retry.headers
        assert service.probe_calls == ["crashes", "crashes"]


class TestADatabaseUnavailableAnswer:
    def test_releases_the_key_off_the_request_thread_so_a_retry_runs_again(self, service):
        path = "/probe/database-unreachable"
        first = service.post({}, key="down-1", path=path)
        assert first.status_code == 503

        # Released by the process's release thread, not by the request: soon, though not necessarily at once.
        eventually(lambda: _assert_none(service.keys().find_one({"_id": _record_id("wang", "down-1", path)})))
        retry = service.post({}, key="down-1", path=path)

        assert retry.status_code == 503 and idempotency.REPLAYED_HEADER not in retry.headers
        assert service.probe_calls == ["database-unreachable"] * 2


def _assert_none(value) -> None:
    assert value is None, value


class TestARequestThatStoredItsEventsButNeverAnswered:
    """What a crash (kill -9, OOM, lost connection) between the append and the stored answer leaves behind."""

    def _as_left_by_a_dead_process(self, service, key: str, age: timedelta) -> None:
        """Turn a finished record back into the pending one its process would have left, aged ``age``."""
        service.keys().update_one({"_id": _record_id("wang", key)}, {"$set": {
            "state": "pending", "token": "dead-process", "status": None, "body": None, "finished_at": None,
            "created_at": utc_now() - age}})

    def test_a_retry_once_stale_answers_with_the_stored_notice_and_appends_nothing(self, service):
        first = service.post(key="died-1")
        assert first.status_code == 201, first.get_data(as_text=True)
        events_before = [event.event_id for event in service.events()]
        self._as_left_by_a_dead_process(service, "died-1", timedelta(minutes=5))

        retry = service.post(key="died-1")

        assert retry.status_code == 201, retry.get_data(as_text=True)
        assert retry.get_json()["id"] == first.get_json()["id"]
        assert retry.get_data() == first.get_data(), "the retry answers with what the first attempt would have"
        assert [event.event_id for event in service.events()] == events_before, "the retry appended events"
        again = service.post(key="died-1")
        assert again.headers[idempotency.REPLAYED_HEADER] == "true" and again.get_data() == retry.get_data()

    def test_a_retry_before_it_is_stale_still_answers_409_in_progress(self, service):
        assert service.post(key="died-2").status_code == 201
        self._as_left_by_a_dead_process(service, "died-2", timedelta(seconds=5))

        retry = service.post(key="died-2")

        assert retry.status_code == 409 and retry.get_json()["code"] == "idempotency_key_in_progress"
        assert len(service.notice_streams()) == 1

    def test_a_5xx_after_the_events_were_stored_lets_the_retry_answer_with_them(self, service):
        path = "/probe/stores-then-fails-once"
        first = service.post({}, key="lost-1", path=path)
        assert first.status_code == 500
        [stored] = service.notice_streams()

        retry = service.post({}, key="lost-1", path=path)

        assert retry.status_code == 201 and retry.get_json() == {"id": stored}
        assert service.notice_streams() == {stored} and len(service.events()) == 1
        assert service.probe_calls == ["stores-then-fails-once"] * 2


class TestExpiry:
    def _store(self, service, ttl: timedelta) -> idempotency.IdempotencyStore:
        return idempotency.IdempotencyStore(service.context.database, ttl=ttl)

    def test_an_answer_is_replayed_within_the_ttl_and_forgotten_after_it(self, service):
        store = self._store(service, timedelta(days=7))
        record, fingerprint = _record_id("wang", "ttl-1"), "f" * 64
        began = store.begin(record, fingerprint, utc_now())
        answer = idempotency.StoredResponse(201, b"{}", "application/json")
        assert store.finish(record, began.token, answer, utc_now())

        six_days_later = store.begin(record, fingerprint, utc_now() + timedelta(days=6))
        eight_days_later = store.begin(record, "another request" + fingerprint, utc_now() + timedelta(days=8))

        assert six_days_later.decision is idempotency.Decision.REPLAY
        assert eight_days_later.decision is idempotency.Decision.PROCEED
        assert eight_days_later.request_id != began.request_id  # a new request: it must not find the old events

    def test_the_expiry_job_deletes_expired_records_claims_and_old_unexpiring_ones_and_keeps_the_rest(self, service):
        store = self._store(service, timedelta(days=7))
        now = utc_now()
        keep = store.begin(_record_id("wang", "fresh"), "f", now)
        store.begin(_record_id("wang", "old"), "f", now - timedelta(days=8))
        store.collection.insert_one({"_id": "legacy-old", "state": "done", "created_at": now - timedelta(days=9)})
        store.collection.insert_one({"_id": "legacy-fresh", "state": "done", "created_at": now - timedelta(days=1)})
        store.collection.insert_one({"_id": "claim-old", "kind": "takeover", "created_at": now - timedelta(days=8),
                                     "expires_at": now - timedelta(days=1)})

        deleted = store.purge_expired(now)

        assert deleted == 3
        assert sorted(doc["_id"] for doc in store.collection.find({})) == sorted(
            [_record_id("wang", "fresh"), "legacy-fresh"])
        assert keep.decision is idempotency.Decision.PROCEED

    def test_every_service_worker_runs_the_expiry_job_with_the_configured_ttl(self, service):
        timer = service.context.timers["idempotency-expiry"]
        service.keys().insert_one({"_id": "expired", "state": "done", "created_at": utc_now() - timedelta(days=30),
                                   "expires_at": utc_now() - timedelta(days=23)})
        timer.run()
        assert service.keys().find_one({"_id": "expired"}) is None
        assert timer.interval <= 3600


class TestARefusalForTheCallersRole:
    def test_is_not_replayed_because_it_depends_on_the_caller_not_the_request(self, service):
        first = service.post(key="role-1", role="auditor")
        retry = service.post(key="role-1", role="auditor")
        assert (first.status_code, retry.status_code) == (403, 403)
        assert idempotency.REPLAYED_HEADER not in retry.headers
        assert service.keys().find_one({"_id": _record_id("wang", "role-1")}) is None
        assert service.events() == []


class TestEightConcurrentPostsWithTheSameKey:
    def test_store_one_notice_and_answer_the_201_or_409_in_progress(self, service):
        barrier = threading.Barrier(8)
        responses: list = []

        def post():
            client = service.app.test_client()
            barrier.wait()
            response = service.post(key="burst-1", client=client)
            responses.append((response.status_code, response.get_data(), response.headers.get(idempotency.REPLAYED_HEADER)))

        threads = [threading.Thread(target=post) for _ in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(60)

        assert len(responses) == 8
        assert {status for status, _, _ in responses} <= {201, 409}, responses
        created = [(body, replayed) for status, body, replayed in responses if status == 201]
        assert len({body for body, _ in created}) == 1
        assert [replayed for _, replayed in created].count(None) == 1  # exactly one request ran the command
        for status, body, _ in responses:
            if status == 409:
                assert json.loads(body)["code"] == "idempotency_key_in_progress"
        [notice_id] = service.notice_streams()

        settled = service.post(key="burst-1")
        assert settled.status_code == 201 and settled.get_data() == created[0][0]
        assert settled.get_json()["id"] == notice_id


class TestAPendingRecord:
    def _insert_pending(self, service, key: str, age: timedelta) -> bytes:
        body = json.dumps(NOTICE).encode()
        service.keys().insert_one({
            "_id": _record_id("wang", key), "state": "pending",
            "fingerprint": idempotency.fingerprint("POST", "/notices", b"", body),
            "created_at": utc_now() - age,
        })
        return body

    def _post_raw(self, service, key: str, body: bytes):
        return service.app.test_client().post("/notices", data=body, content_type="application/json", headers={
            "Authorization": f"Bearer {service.token()}", idempotency.HEADER: key})

    def test_younger_than_the_stale_limit_answers_409_in_progress(self, service):
        body = self._insert_pending(service, "young-1", timedelta(seconds=5))

        response = self._post_raw(service, "young-1", body)

        assert response.status_code == 409
        assert response.get_json()["code"] == "idempotency_key_in_progress"
        assert response.headers["Retry-After"] == "1"
        assert service.events() == []

    def test_left_by_a_process_that_died_is_taken_over_and_the_request_proceeds(self, service):
        body = self._insert_pending(service, "stale-1", timedelta(minutes=5))

        response = self._post_raw(service, "stale-1", body)

        assert response.status_code == 201, response.get_data(as_text=True)
        assert service.notice_streams() == {response.get_json()["id"]}
        record = service.keys().find_one({"_id": _record_id("wang", "stale-1")})
        assert record["state"] == "done" and bytes(record["body"]) == response.get_data()
        assert self._post_raw(service, "stale-1", body).headers[idempotency.REPLAYED_HEADER] == "true"

    def test_is_taken_over_by_exactly_one_of_eight_concurrent_takers(self, service):
        store = idempotency.IdempotencyStore(service.context.database)
        record = _record_id("wang", "stale-race")
        store.collection.insert_one({"_id": record, "state": "pending", "fingerprint": "f", "token": "dead",
                                     "created_at": utc_now() - timedelta(minutes=5)})
        barrier = threading.Barrier(8)
        outcomes: list = []

        def take():
            barrier.wait()
            outcomes.append(store.begin(record, "f", utc_now()))

        threads = [threading.Thread(target=take) for _ in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(30)

        decisions = sorted(outcome.decision.value for outcome in outcomes)
        assert decisions == ["in_progress"] * 7 + ["proceed"]
        [winner] = [outcome for outcome in outcomes if outcome.decision is idempotency.Decision.PROCEED]
        assert store.collection.find_one({"_id": record})["token"] == winner.token


class TestAnInvalidKey:
    @pytest.mark.parametrize("key", ["k" * 201, "", "tab\tinside"], ids=["over-long", "empty", "control-character"])
    def test_is_refused_with_422_naming_the_header_and_nothing_happens(self, service, key):
        response = service.post(key=key)
        assert response.status_code == 422
        body = response.get_json()
        assert body["code"] == "invalid_input" and body["details"] == {"header": idempotency.HEADER}
        assert service.events() == []

    def test_of_the_longest_allowed_length_is_accepted(self, service):
        assert service.post(key="k" * idempotency.MAX_KEY_LENGTH).status_code == 201

    def test_from_an_anonymous_caller_gets_401_first(self, service):
        response = service.app.test_client().post("/notices", json=NOTICE, headers={idempotency.HEADER: "k" * 500})
        assert response.status_code == 401
