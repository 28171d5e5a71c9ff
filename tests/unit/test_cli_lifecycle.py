"""``duban notice issue``, ``duban overdue`` and ``duban timeline`` without the services.

HTTP goes to test_api_client's stand-in service, a small standard-library server in a thread that records
what it was sent; the timeline reads in-memory event stores.
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import replace
from datetime import date, datetime, timedelta, timezone

import pytest
from click.testing import CliRunner

from deploy.localstack import free_port
from services import cli as duban
from services import cli_lifecycle as lifecycle
from shared.clock import FixedClock
from shared.envelope import Actor, EventEnvelope, NewEvent
from shared.eventstore.base import AppendRequest
from shared.eventstore.memory import InMemoryEventStore
from tests.unit.test_api_client import Reply, StubService

NOTICE_YAML = """\
kind: 督办通知
title: 关于校舍安全隐患整改的督办通知
doc_number: 巴教督〔2026〕7号
issuer_unit: 巴中市人民政府教育督导委员会办公室
target_units: [巴州区人民政府]
problems:
  - description: 部分学校D级危房未拆除
    responsible_unit: 巴州区教育局
    deadline: 2026-12-20
  - description: 食堂从业人员健康证过期
    responsible_unit: 恩阳区教育局
    deadline_days: 5
    deadline_kind: working
"""

ISSUED = {
    "id": "notice-1", "status": "issued", "status_zh": "已下发", "kind": "督办通知", "title": "关于校舍安全隐患整改的督办通知",
    "doc_number": "巴教督〔2026〕7号", "sign_for_deadline": "2026-11-26",
    "problems": [
        {"problem_id": "P1", "description": "部分学校D级危房未拆除", "responsible_unit": "巴州区教育局",
         "deadline": "2026-12-20", "deadline_rule": None},
        {"problem_id": "P2", "description": "食堂从业人员健康证过期", "responsible_unit": "恩阳区教育局",
         "deadline": "2026-11-30", "deadline_rule": {"amount": 5, "kind": "working"}},
    ],
}


@pytest.fixture
def runner():
    return CliRunner(env={"DUBAN_TOKEN": None, "DUBAN_NOTICES_URL": None, "DUBAN_FOLLOWUPS_URL": None})


@pytest.fixture
def notice_file(tmp_path):
    path = tmp_path / "notice.yaml"
    path.write_text(NOTICE_YAML, encoding="utf-8")
    return path


# -- notice files -------------------------------------------------------------------------------------

class TestNoticeFiles:
    def test_yaml_dates_become_iso_strings_and_the_body_is_the_same_every_time(self, notice_file):
        notice, raw = lifecycle.load_notice_file(notice_file)
        assert raw == notice_file.read_bytes()
        assert notice["problems"][0]["deadline"] == date(2026, 12, 20)  # YAML reads a bare date as a date
        body = lifecycle.notice_request_body(notice)
        sent = json.loads(body)
        assert sent["problems"][0]["deadline"] == "2026-12-20"
        assert sent["problems"][1] == {"description": "食堂从业人员健康证过期", "responsible_unit": "恩阳区教育局",
                                       "deadline_days": 5, "deadline_kind": "working"}
        assert "督办通知".encode() in body  # not \\u escapes
        assert lifecycle.notice_request_body(lifecycle.load_notice_file(notice_file)[0]) == body

    def test_a_json_file_is_read_as_json_even_with_tab_indentation(self, tmp_path):
        path = tmp_path / "notice.json"
        path.write_text('{\n\t"kind": "督办函",\n\t"problems": []\n}', encoding="utf-8")
        assert lifecycle.load_notice_file(path)[0] == {"kind": "督办函", "problems": []}

    @pytest.mark.parametrize("name, content, expected", [
        ("bad.yaml", "kind: 督办通知\nproblems: [\n  - x: 1\n", "not valid YAML: line"),
        ("bad.json", '{"kind": "督办通知",}', "not valid JSON: line 1, column 17"),
        ("list.yaml", "- kind: 督办通知\n", "must hold one notice as a mapping of fields, found list"),
        ("empty.yaml", "", "found nothing"),
    ])
    def test_unreadable_files_are_refused_with_exit_2_and_a_clear_message(self, runner, tmp_path, name, content, expected):
        path = tmp_path / name
        path.write_text(content, encoding="utf-8")
        with pytest.raises(lifecycle.InputError) as raised:
            lifecycle.load_notice_file(path)
        assert expected in raised.value.message
        result = runner.invoke(duban.main, ["notice", "issue", str(path), "--token", "t"])
        assert result.exit_code == 2
        assert expected in result.stderr

    def test_missing_file_and_non_utf8_file_exit_2(self, runner, tmp_path):
        missing = runner.invoke(duban.main, ["notice", "issue", str(tmp_path / "nope.yaml"), "--token", "t"])
        assert missing.exit_code == 2 and "no such file" in missing.stderr
        latin = tmp_path / "latin.yaml"
        latin.write_bytes("title: 督办通知".encode("gbk"))  # 0xB6 cannot start a UTF-8 sequence
        result = runner.invoke(duban.main, ["notice", "issue", str(latin), "--token", "t"])
        assert result.exit_code == 2 and "is not UTF-8" in result.stderr

    def test_a_token_is_required_one_way_or_the_other(self, runner, notice_file):
        result = runner.invoke(duban.main, ["notice", "issue", str(notice_file)])
        assert result.exit_code == 2
        assert "--token" in result.stderr and "DUBAN_TOKEN" in result.stderr


# -- notice issue over HTTP -----------------------------------------------------------------------------

class TestNoticeIssue:
    def test_posts_the_file_with_an_idempotency_key_from_its_content_and_prints_the_problems(self, runner, notice_file):
        with StubService(lambda r: Reply(201, ISSUED)) as service:
            result = runner.invoke(duban.main, ["notice", "issue", str(notice_file), "--url", service.url + "/"],
                                   env={"DUBAN_TOKEN": "secret-token"})
        assert result.exit_code == 0, result.output
        [request] = service.requests
        assert (request.method, request.path) == ("POST", "/notices")
        assert request.headers["Authorization"] == "Bearer secret-token"
        assert request.headers["Idempotency-Key"] == hashlib.sha256(notice_file.read_bytes()).hexdigest()
        assert json.loads(request.body)["problems"][0]["deadline"] == "2026-12-20"
        lines = result.stdout.splitlines()
        assert lines[0] == "督办通知已下发 / notice issued: notice-1"
        assert "已下发 (issued)" in lines[1]
        p2 = next(line for line in lines if line.strip().startswith("P2"))
        assert "恩阳区教育局" in p2 and "2026-11-30（5个工作日）" in p2

    def test_an_explicit_key_is_sent_as_given_and_a_replayed_answer_says_so(self, runner, notice_file):
        with StubService(lambda r: Reply(201, ISSUED, {"Idempotent-Replayed": "true"})) as service:
            result = runner.invoke(duban.main, ["notice", "issue", str(notice_file), "--url", service.url,
                                                "--token", "t", "--idempotency-key", "my-key-1"])
        assert result.exit_code == 0, result.output
        assert service.requests[0].headers["Idempotency-Key"] == "my-key-1"
        assert result.stdout.startswith("此前已用同一文件下发")
        assert "notice-1" in result.stdout.splitlines()[0]

    def test_a_key_that_is_not_printable_ascii_is_refused_before_sending(self, runner, notice_file):
        with StubService(lambda r: Reply(201, ISSUED)) as service:
            result = runner.invoke(duban.main, ["notice", "issue", str(notice_file), "--url", service.url,
                                                "--token", "t", "--idempotency-key", "键"])
        assert result.exit_code == 2 and "printable ASCII" in result.stderr
        assert service.requests == []

    def test_json_prints_the_raw_answer(self, runner, notice_file):
        with StubService(lambda r: Reply(201, ISSUED)) as service:
            result = runner.invoke(duban.main, ["notice", "issue", str(notice_file), "--url", service.url, "--token", "t",
                                                "--json"])
        assert result.exit_code == 0
        assert json.loads(result.stdout) == ISSUED

    def test_a_validation_error_prints_the_message_and_every_field_on_stderr_and_exits_1(self, runner, notice_file):
        answer = {"code": "invalid_input", "status": 422, "message": "invalid input", "message_zh": "输入有误，请检查标出的字段",
                  "errors": {"json": {"kind": ["Must be one of: 督办通知, 督办函."],
                                      "problems": {"1": {"deadline_kind": ["Must be one of: calendar, working."]}}}}}
        with StubService(lambda r: Reply(422, answer)) as service:
            result = runner.invoke(duban.main, ["notice", "issue", str(notice_file), "--url", service.url, "--token", "t"])
        assert result.exit_code == 1
        assert result.stdout == ""
        assert "HTTP 422 invalid_input: 输入有误，请检查标出的字段 / invalid input" in result.stderr
        assert "  kind: Must be one of: 督办通知, 督办函." in result.stderr
        assert "  problems.1.deadline_kind: Must be one of: calendar, working." in result.stderr

    def test_connection_refused_exits_1_naming_the_url(self, runner, notice_file):
        url = f"http://127.0.0.1:{free_port()}"
        result = runner.invoke(duban.main, ["notice", "issue", str(notice_file), "--url", url, "--token", "t"])
        assert result.exit_code == 1
        assert f"cannot reach the service at {url}/notices" in result.stderr

    def test_a_url_that_is_not_http_is_refused(self, runner, notice_file):
        result = runner.invoke(duban.main, ["notice", "issue", str(notice_file), "--url", "127.0.0.1:8002", "--token", "t"])
        assert result.exit_code == 2 and "not an http(s) URL" in result.stderr


# -- tables ----------------------------------------------------------------------------------------

def test_tables_align_columns_by_display_width_with_chinese_text():
    table = lifecycle.format_table(["id", "责任单位", "n"], [["a", "巴州区教育局", 1], ["bbbb", "x", None]])
    lines = table.splitlines()
    assert len(lines) == 4 and set(lines[1]) <= {"-", " "}
    pairs = zip(lines[2:], ("巴州区教育局", "x"), strict=True)
    starts = [lifecycle.display_width(line[: line.index(cell)]) for line, cell in pairs]
    assert starts == [6, 6]  # "bbbb" + two spaces
    third = [lifecycle.display_width(line[:-1]) for line in (lines[0], lines[2])]
    assert third[0] == third[1] == 6 + 12 + 2  # 巴州区教育局 is 12 columns wide
    assert lifecycle.display_width("巴州区 ab") == 9


def test_shorten_collapses_whitespace_and_cuts_long_text():
    assert lifecycle.shorten("a\n  b", 10) == "a b"
    assert lifecycle.shorten("一二三四五六", 4) == "一二三…"


# -- overdue ---------------------------------------------------------------------------------------

def _case(n: int, deadline: str, level: str | None = None) -> dict:
    return {"id": f"notice-1:P{n}", "responsible_unit": "巴州区教育局", "deadline": deadline, "escalation_level": level,
            "doc_number": "巴教督〔2026〕7号", "light": "red"}


class TestOverdue:
    def test_overdue_days_are_working_days_and_unknown_beyond_the_calendar(self):
        assert lifecycle.overdue_days_text("2026-11-20", date(2026, 11, 23)) == "1"  # Friday → Monday
        assert lifecycle.overdue_days_text("2026-11-23", date(2026, 11, 23)) == "0"
        assert lifecycle.overdue_days_text("2027-01-04", date(2027, 1, 11)) == "5"  # a provisional year counts too
        assert lifecycle.overdue_days_text("2099-12-30", date(2100, 1, 11)) == "?"
        assert lifecycle.overdue_days_text(None, date(2026, 11, 23)) == "—"
        assert lifecycle.overdue_days_value("2099-12-30", date(2100, 1, 11)) is None

    def test_rows_show_the_level_label_and_the_document_number(self):
        [row] = lifecycle.overdue_rows([_case(1, "2026-11-20", "warning")], date(2026, 11, 23))
        assert row == ["notice-1:P1", "巴州区教育局", "2026-11-20", "1", "预警", "巴教督〔2026〕7号"]
        assert lifecycle.escalation_label(None) == "—"

    def test_reads_every_page_and_prints_a_table(self, runner, monkeypatch):
        monkeypatch.setattr(lifecycle, "SystemClock", lambda: FixedClock(date(2026, 11, 23)))
        pages = {1: [_case(1, "2026-11-16"), _case(2, "2026-11-20", "reminder")], 2: [_case(3, "2026-11-20")]}

        def respond(request):
            page = int(request.query["page"][0])
            return Reply(200, pages[page], {"X-Pagination": json.dumps({"total": 3, "total_pages": 2, "page": page})})

        with StubService(respond) as service:
            result = runner.invoke(duban.main, ["overdue", "--url", service.url, "--token", "t", "--unit", "巴州区教育局"])
        assert result.exit_code == 0, result.output
        assert [r.query["page"] for r in service.requests] == [["1"], ["2"]]
        assert all(r.query["light"] == ["red"] and r.query["unit"] == ["巴州区教育局"] and r.path == "/cases"
                   for r in service.requests)
        lines = result.stdout.splitlines()
        assert lines[0].startswith("逾期事项 overdue items: 3（截至 2026-11-23，责任单位 巴州区教育局）")
        assert "逾期工作日" in lines[1]
        rows = [line.split() for line in lines[3:]]
        assert [(r[0], r[3], r[4]) for r in rows] == [("notice-1:P1", "5", "—"), ("notice-1:P2", "1", "催办"),
                                                       ("notice-1:P3", "1", "—")]

    def test_a_long_filtered_list_without_a_total_is_read_while_the_service_says_more_follow(self, runner, monkeypatch):
        monkeypatch.setattr(lifecycle, "SystemClock", lambda: FixedClock(date(2026, 11, 23)))
        pages = {1: [_case(1, "2026-11-16")], 2: [_case(2, "2026-11-20")], 3: [_case(3, "2026-11-20")]}

        def respond(request):
            page = int(request.query["page"][0])
            return Reply(200, pages[page], {"X-Pagination": json.dumps({"page": page, "has_more": page < 3})})

        with StubService(respond) as service:
            result = runner.invoke(duban.main, ["overdue", "--url", service.url, "--token", "t", "--json"])
        assert result.exit_code == 0, result.output
        assert [item["id"] for item in json.loads(result.stdout)] == ["notice-1:P1", "notice-1:P2", "notice-1:P3"]
        assert [r.query["page"] for r in service.requests] == [["1"], ["2"], ["3"]]

    def test_no_overdue_items_and_json(self, runner):
        with StubService(lambda r: Reply(200, [], {"X-Pagination": json.dumps({"total": 0, "total_pages": 0})})) as service:
            text = runner.invoke(duban.main, ["overdue", "--url", service.url, "--token", "t"])
            as_json = runner.invoke(duban.main, ["overdue", "--url", service.url, "--token", "t", "--json"])
        assert text.exit_code == 0 and "没有逾期事项 / no overdue items" in text.stdout
        assert as_json.exit_code == 0 and json.loads(as_json.stdout) == []
        assert len(service.requests) == 2  # one page each

    def test_json_adds_the_working_days_overdue(self, runner, monkeypatch):
        monkeypatch.setattr(lifecycle, "SystemClock", lambda: FixedClock(date(2026, 11, 23)))
        with StubService(lambda r: Reply(200, [_case(1, "2026-11-20")])) as service:  # no X-Pagination: one page
            result = runner.invoke(duban.main, ["overdue", "--url", service.url, "--token", "t", "--json"])
        assert result.exit_code == 0
        [item] = json.loads(result.stdout)
        assert item["id"] == "notice-1:P1" and item["overdue_working_days"] == 1

    def test_a_refused_token_exits_1_with_the_message(self, runner):
        answer = {"code": "unauthorized", "status": 401, "message": "invalid token", "message_zh": "身份令牌无效"}
        with StubService(lambda r: Reply(401, answer)) as service:
            result = runner.invoke(duban.main, ["overdue", "--url", service.url, "--token", "t"])
        assert result.exit_code == 1 and "HTTP 401 unauthorized: 身份令牌无效 / invalid token" in result.stderr


# -- timeline --------------------------------------------------------------------------------------

T0 = datetime(2026, 11, 23, 1, 0, tzinfo=timezone.utc)
OFFICE = Actor("wang.wu", "office_staff", "巴中市教育督导室")


def _event(stream: str, version: int, type_: str, at: datetime, data: dict | None = None, actor: Actor = OFFICE):
    return EventEnvelope(event_id=f"{stream}-{version}", stream_id=stream, stream_type="x", version=version, type=type_,
                         schema_version=1, data=data or {}, actor=actor, occurred_at=at, recorded_at=at,
                         correlation_id="c", causation_id=None, prev_hash="0" * 64)


def test_merge_orders_by_recorded_time_then_notices_before_cases_before_tasks():
    notice = [lifecycle.TimelineEntry("notices", _event("n", 1, "NoticeIssued", T0)),
              lifecycle.TimelineEntry("notices", _event("n", 2, "NoticeSigned", T0 + timedelta(seconds=5)))]
    case = [lifecycle.TimelineEntry("followups", _event("n:P1", 1, "RectificationOpened", T0))]
    task = [lifecycle.TimelineEntry("tasks", _event("task-1", 2, "TaskNoticeLinked", T0 + timedelta(seconds=1)))]
    merged = lifecycle.merge_timeline([task, case, notice])
    assert [(e.service, e.event.type) for e in merged] == [
        ("notices", "NoticeIssued"), ("followups", "RectificationOpened"), ("tasks", "TaskNoticeLinked"),
        ("notices", "NoticeSigned")]


def test_lines_show_beijing_time_type_stream_actor_and_summary():
    entry = lifecycle.TimelineEntry("notices", _event("notice-1", 1, "NoticeSigned", T0 + timedelta(milliseconds=250),
                                                      {"unit": "巴州区人民政府", "signed_on": "2026-11-23", "late": True},
                                                      Actor("li.si", "unit_handler", "巴州区人民政府")))
    line = lifecycle.format_timeline_line(entry)
    assert line.startswith("2026-11-23 09:00:00.250  NoticeSigned ")
    label = "签收" + " " * 16  # the label column is 20 terminal columns wide
    assert f"notice-1 v1  li.si/unit_handler/巴州区人民政府  {label}  巴州区人民政府 于 2026-11-23 签收（逾期签收）" in line
    assert lifecycle.format_actor(Actor.system("followups-watcher")) == "system:followups-watcher/system"


def test_a_backfilled_step_shows_the_day_it_happened_and_why_it_was_entered_later():
    data = {"unit": "巴州区人民政府", "signed_on": "2026-03-04", "late": False, "occurred_on": "2026-03-04",
            "backfill": {"reason": "纸质签收单", "recorded_on": "2026-11-23", "recorded_for": "巴州区人民政府"}}
    entry = lifecycle.TimelineEntry("notices", _event("notice-1", 2, "NoticeSigned", T0, data,
                                                      Actor("wang", "office_staff", "巴中市教育督导室")))
    line = lifecycle.format_timeline_line(entry)
    assert line.startswith("2026-11-23 09:00:00.000  NoticeSigned ")
    assert line.endswith("[补录 backfilled: occurred 2026-03-04, reason: 纸质签收单]")


class TestSummaries:
    def test_known_events_read_like_the_office_writes(self):
        issued = {"kind": "督办通知", "title": "校舍安全", "doc_number": "巴教督〔2026〕7号",
                  "target_units": ["巴州区人民政府", "恩阳区人民政府"], "problems": [{}, {}], "listed": True}
        assert lifecycle.summarize("NoticeIssued", issued) == (
            "督办通知《校舍安全》（巴教督〔2026〕7号）；督办对象：巴州区人民政府、恩阳区人民政府；问题2个；挂牌督办")
        escalated = {"level": "interview", "reason": "逾期未整改", "doc_number": "巴教督〔2026〕9号"}
        assert lifecycle.summarize("RectificationEscalated", escalated) == "事由：逾期未整改；文号：巴教督〔2026〕9号"
        late = {"closed_on": "2026-12-01", "on_time": False}
        assert lifecycle.summarize("RectificationClosed", late) == "于 2026-12-01 销号（逾期完成）"

    def test_the_line_names_the_event_by_its_label(self):
        escalated = {"level": "interview", "reason": "逾期未整改", "doc_number": "巴教督〔2026〕9号"}
        entry = lifecycle.TimelineEntry("followups", _event("notice-1:P1", 3, "RectificationEscalated", T0, escalated,
                                                            Actor("wang", "office_staff", "巴中市教育督导室")))
        line = lifecycle.format_timeline_line(entry)
        assert "wang/office_staff/巴中市教育督导室  约谈" + " " * 16 + "  事由：逾期未整改" in line

    def test_unknown_types_and_odd_shapes_fall_back_to_the_plain_fields(self):
        assert lifecycle.summarize("SomethingNew", {"a": "x", "b": 2, "nested": {"c": 1}, "empty": ""}) == "a=x, b=2"
        assert lifecycle.summarize("NoticeIssued", {"problems": 3, "title": "t"}) == "problems=3, title=t"

    def test_long_text_is_cut(self):
        summary = lifecycle.summarize("RectificationProgressReported", {"summary": "很长" * 100}, limit=20)
        assert len(summary) == 20 and summary.endswith("…")


def _append(store, stream, stream_type, *events, actor=OFFICE):
    version = store.stream_version(stream)
    store.append(AppendRequest(stream, stream_type, version, [NewEvent(t, d) for t, d in events], actor, "corr"))


@pytest.fixture
def stores(monkeypatch):
    # one millisecond per append, so that the recorded order is the order written here
    ticks = (T0 + timedelta(milliseconds=n) for n in range(1000))
    monkeypatch.setattr("shared.eventstore.base.utc_now", lambda: next(ticks))
    stores = {name: InMemoryEventStore() for name in ("notices", "followups", "tasks")}
    monkeypatch.setattr(lifecycle, "open_stores", lambda settings=None: stores)
    _append(stores["tasks"], "task-1", "task", ("TaskCreated", {"task_id": "task-1", "text": "校园安全专项督导"}))
    _append(stores["notices"], "notice-1", "notice", ("NoticeIssued", {
        "notice_id": "notice-1", "kind": "督办通知", "title": "校舍安全", "target_units": ["巴州区人民政府"],
        "problems": [{"problem_id": "P1", "responsible_unit": "巴州区教育局"},
                     {"problem_id": "P2", "responsible_unit": "恩阳区教育局"}],
        "related_task_ids": ["task-1"]}))
    worker = Actor.system("followups-worker")
    _append(stores["followups"], "notice-1:P1", "case", ("RectificationOpened", {
        "case_id": "notice-1:P1", "notice_id": "notice-1", "problem_id": "P1", "description": "危房未拆除",
        "responsible_unit": "巴州区教育局", "deadline": "2026-12-20"}), actor=worker)
    _append(stores["tasks"], "task-1", "task",
            ("TaskNoticeLinked", {"task_id": "task-1", "notice_id": "notice-1", "matter_ids": ["notice-1:P1", "notice-1:P2"]}),
            ("TaskNoticeLinked", {"task_id": "task-1", "notice_id": "notice-other", "matter_ids": []}))
    _append(stores["notices"], "notice-1", "notice", ("NoticeSigned", {"notice_id": "notice-1", "unit": "巴州区人民政府",
                                                                        "signed_on": "2026-11-24"}))
    return stores


class TestTimeline:
    def test_collects_the_notice_its_cases_and_the_task_events_about_it(self, stores):
        found = lifecycle.collect_timeline(stores, "notice-1")
        assert [(e.service, e.event.stream_id, e.event.type) for e in found.entries] == [
            ("notices", "notice-1", "NoticeIssued"), ("followups", "notice-1:P1", "RectificationOpened"),
            ("tasks", "task-1", "TaskNoticeLinked"), ("notices", "notice-1", "NoticeSigned")]
        assert found.streams == [("notices", "notice-1"), ("followups", "notice-1:P1"), ("tasks", "task-1")]
        assert found.unopened_cases == ["notice-1:P2"]

    def test_prints_the_events_in_order_then_each_chain(self, runner, stores):
        result = runner.invoke(duban.main, ["timeline", "notice-1"])
        assert result.exit_code == 0, result.output
        lines = result.stdout.splitlines()
        assert lines[0].startswith("督办通知 notice-1 的时间线") and "4 events" in lines[0]
        assert [line.split()[2] for line in lines[1:5]] == ["NoticeIssued", "RectificationOpened", "TaskNoticeLinked",
                                                            "NoticeSigned"]
        assert "system:followups-worker/system" in lines[2]
        checks = lines[lines.index("哈希链校验 / hash-chain verification:") + 1:]
        assert checks[0].startswith("  ✓ notices") and "notice-1: 2 events, chain ok" in checks[0]
        assert "task-1: 3 events, chain ok" in checks[2]  # the whole task stream is verified, not only the shown events
        assert checks[3] == "  - followups notice-1:P2: 尚未建立 / not opened (yet)"

    def test_json_is_a_list_of_events(self, runner, stores):
        result = runner.invoke(duban.main, ["timeline", "notice-1", "--json"])
        assert result.exit_code == 0
        events = json.loads(result.stdout)
        assert [e["type"] for e in events] == ["NoticeIssued", "RectificationOpened", "TaskNoticeLinked", "NoticeSigned"]
        assert events[0]["time_shanghai"].endswith("+08:00") and events[0]["recorded_at"].endswith("Z")
        assert events[1]["actor"]["user_id"] == "system:followups-worker"
        assert all(e["stream_verified"] is True for e in events)

    def test_a_tampered_event_fails_its_chain_and_the_command(self, runner, stores):
        [opened] = stores["followups"]._streams["notice-1:P1"]
        stores["followups"]._streams["notice-1:P1"] = [replace(opened, data={**opened.data, "deadline": "2027-06-30"})]
        result = runner.invoke(duban.main, ["timeline", "notice-1"])
        assert result.exit_code == 1
        assert "✗ followups notice-1:P1: BROKEN / 哈希链不一致 at version 1" in result.stdout
        as_json = json.loads(runner.invoke(duban.main, ["timeline", "notice-1", "--json"]).stdout)
        assert [e["stream_verified"] for e in as_json] == [True, False, True, True]

    def test_an_unknown_notice_exits_1(self, runner, stores):
        result = runner.invoke(duban.main, ["timeline", "notice-nope"])
        assert result.exit_code == 1
        assert "notice notice-nope not found" in result.stderr

    def test_a_draft_opens_no_cases_but_names_its_tasks(self):
        drafted = _event("notice-2", 1, "NoticeDrafted", T0, {"content": {"title": "t", "related_task_ids": ["task-9"],
                                                                          "problems": [{"description": "x"}]}})
        assert lifecycle.related_streams([drafted]) == ([], ["task-9"])
