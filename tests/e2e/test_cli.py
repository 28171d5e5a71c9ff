"""The lifecycle commands (notice issue, overdue, timeline) against the real services and their event stores."""
from __future__ import annotations

import json
import re
import uuid
from datetime import timedelta

from click.testing import CliRunner

from services.cli import main
from shared.clock import SystemClock
from shared.deadlines import CalendarOutOfRange, add_working_days, overdue_working_days

from tests.helpers import eventually

TODAY = SystemClock().today()  # deadlines must not lie before the issue date, so they are relative to today
IN_20_DAYS = (TODAY + timedelta(days=20)).isoformat()
SIGN_FOR = (TODAY + timedelta(days=3)).isoformat()  # a date, so the default 3 working days never need the calendar
try:  # the official holiday calendar only knows the years up to 2026: fall back to calendar days after that
    FIVE_DAYS, FIVE_DAYS_KIND, FIVE_DAYS_RULE = add_working_days(TODAY, 5).isoformat(), "working", "5个工作日"
except CalendarOutOfRange:
    FIVE_DAYS, FIVE_DAYS_KIND, FIVE_DAYS_RULE = (TODAY + timedelta(days=5)).isoformat(), "calendar", "5日"
DEADLINE_PASSED = (TODAY - timedelta(days=30)).isoformat()
try:
    OVERDUE_DAYS = str(overdue_working_days(TODAY - timedelta(days=30), TODAY))
except CalendarOutOfRange:
    OVERDUE_DAYS = "?"
# Also the issuer, and each problem names one of the demo's areas: the demo year, on the same services,
# counts the city office's notices and the areas of all cases.
OFFICE = "巴中市教育督导室"
NOTICE_ID = re.compile(r"notice-[0-9a-f-]{36}")


def notice_yaml(title: str, kind: str = "督办通知", related_task_ids: tuple[str, ...] = ()) -> str:
    tasks = f"related_task_ids: [{', '.join(related_task_ids)}]\n" if related_task_ids else ""
    return f"""\
kind: {kind}
title: {title}
doc_number: 巴教督〔2026〕21号
issuer_unit: {OFFICE}
target_units: [巴州区人民政府, 恩阳区人民政府]
sign_for_deadline: {SIGN_FOR}
{tasks}problems:
  - description: 部分学校D级危房未拆除
    requirement: 限期拆除并报送影像资料
    responsible_unit: 巴州区教育局
    area: 校园安全
    deadline: {IN_20_DAYS}
  - description: 食堂从业人员健康证过期
    responsible_unit: 恩阳区教育局
    area: 食品安全
    deadline_days: 5
    deadline_kind: {FIVE_DAYS_KIND}
"""


def write(tmp_path, name: str, text: str):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def notices_total(services) -> int:
    return json.loads(services.client("notices", role="auditor").get("/notices").headers["X-Pagination"])["total"]


class TestNoticeIssue:
    def test_issues_the_file_and_the_same_file_again_issues_nothing_new(self, services, tmp_path):
        path = write(tmp_path, "notice.yaml", notice_yaml("关于校舍安全隐患整改的督办通知（命令行）"))
        token = services.token("office_staff", OFFICE)
        args = ["notice", "issue", str(path), "--url", services.urls["notices"], "--token", token]

        first = CliRunner().invoke(main, args)
        assert first.exit_code == 0, first.output
        notice_id = NOTICE_ID.search(first.stdout.splitlines()[0]).group()
        assert "已下发 (issued)" in first.stdout
        p1, p2 = (next(line for line in first.stdout.splitlines() if line.strip().startswith(p)) for p in ("P1", "P2"))
        assert "巴州区教育局" in p1 and IN_20_DAYS in p1
        assert "恩阳区教育局" in p2 and f"{FIVE_DAYS}（{FIVE_DAYS_RULE}）" in p2
        stored = services.client("notices", role="auditor").get(f"/notices/{notice_id}")
        assert stored.status_code == 200, stored.text
        assert [(p["problem_id"], p["deadline"]) for p in stored.json()["problems"]] == [("P1", IN_20_DAYS), ("P2", FIVE_DAYS)]

        before = notices_total(services)
        again = CliRunner().invoke(main, args + ["--json"])
        assert again.exit_code == 0, again.output
        assert json.loads(again.stdout)["id"] == notice_id
        replayed = CliRunner().invoke(main, args)
        assert replayed.exit_code == 0 and replayed.stdout.startswith("此前已用同一文件下发")
        assert NOTICE_ID.search(replayed.stdout.splitlines()[0]).group() == notice_id
        assert notices_total(services) == before

    def test_a_bad_kind_exits_1_naming_the_field_and_issues_nothing(self, services, tmp_path):
        path = write(tmp_path, "bad.yaml", notice_yaml("类型有误的通知", kind="通知"))
        before = notices_total(services)
        result = CliRunner().invoke(main, ["notice", "issue", str(path), "--url", services.urls["notices"],
                                           "--token", services.token("office_staff", OFFICE)])
        assert result.exit_code == 1
        assert "HTTP 422 invalid_input" in result.stderr
        assert re.search(r"^  kind: ", result.stderr, re.MULTILINE), result.stderr
        assert notices_total(services) == before

    def test_a_unit_handler_may_not_issue(self, services, tmp_path):
        path = write(tmp_path, "notice.yaml", notice_yaml("经办人不能下发的通知"))
        result = CliRunner().invoke(main, ["notice", "issue", str(path), "--url", services.urls["notices"],
                                           "--token", services.token("unit_handler", "巴州区教育局")])
        assert result.exit_code == 1 and "HTTP 403 forbidden" in result.stderr


class TestTimeline:
    def test_shows_the_notice_its_cases_and_its_task_in_order_with_verified_chains(self, services, tmp_path):
        created = services.client("tasks").post("/plans", json={
            "title": "2026年教育督导工作要点", "year": 2026, "issuer": "巴中市教育督导委员会办公室",
            "tasks": [{"number": "1", "text": "开展校园安全专项督导", "lead_unit": "市教育局"}]})
        assert created.status_code == 201, created.text
        [task_id] = created.json()["task_ids"]
        path = write(tmp_path, "notice.yaml", notice_yaml("关于校园安全专项督导发现问题的督办通知", related_task_ids=(task_id,)))
        token = services.token("office_staff", OFFICE, user="cli.office")
        issued = CliRunner().invoke(main, ["notice", "issue", str(path), "--url", services.urls["notices"],
                                           "--token", token, "--json"])
        assert issued.exit_code == 0, issued.output
        notice_id = json.loads(issued.stdout)["id"]


        def cases_and_link_recorded():
            cases = services.client("followups", role="auditor").get("/cases", params={"notice_id": notice_id}).json()
            assert len(cases) == 2, cases
            task = services.client("tasks", role="auditor").get(f"/tasks/{task_id}").json()
            assert task["counts"]["notices_issued"] == 1, task

        eventually(cases_and_link_recorded, timeout=30)

        runner = CliRunner(env={"MONGO_URL": services.settings.mongo_url, "DUBAN_DB_PREFIX": services.settings.db_prefix})
        result = runner.invoke(main, ["timeline", notice_id])
        assert result.exit_code == 0, result.output
        lines = result.stdout.splitlines()
        events = [line for line in lines[1:lines.index("哈希链校验 / hash-chain verification:")]]
        types = [line.split()[2] for line in events]
        assert types[0] == "NoticeIssued"
        assert sorted(types[1:]) == ["RectificationOpened", "RectificationOpened", "TaskNoticeLinked"]
        assert f"{notice_id} v1  cli.office/office_staff/{OFFICE}" in events[0]
        opened = sorted(line.split()[3] + " " + " ".join(line.split()[6:]) for line in events if " RectificationOpened " in line)
        assert opened == [  # the label column, then the summary
            f"{notice_id}:P1 建立整改事项 问题 P1 部分学校D级危房未拆除；责任单位：巴州区教育局；整改时限：{IN_20_DAYS}",
            f"{notice_id}:P2 建立整改事项 问题 P2 食堂从业人员健康证过期；责任单位：恩阳区教育局；整改时限：{FIVE_DAYS}"]
        checks = lines[lines.index("哈希链校验 / hash-chain verification:") + 1:]
        assert len(checks) == 4 and all(line.startswith("  ✓ ") and "chain ok" in line for line in checks), checks
        assert {line.split()[2].rstrip(":") for line in checks} == {notice_id, f"{notice_id}:P1", f"{notice_id}:P2", task_id}

        as_json = json.loads(runner.invoke(main, ["timeline", notice_id, "--json"]).stdout)
        assert [e["type"] for e in as_json] == types
        recorded = [e["recorded_at"] for e in as_json]
        assert recorded == sorted(recorded)
        assert all(e["stream_verified"] is True for e in as_json)

        unknown = runner.invoke(main, ["timeline", "notice-does-not-exist"])
        assert unknown.exit_code == 1 and "not found" in unknown.stderr


class TestOverdue:
    def test_lists_an_overdue_item_with_its_working_days_and_as_json(self, services, tmp_path):
        unit = f"通江县教育局（逾期{uuid.uuid4().hex[:6]}）"
        # 补录: a paper notice issued 40 days ago whose deadline passed 30 days ago
        path = write(tmp_path, "late.yaml", f"""\
kind: 督办函
title: 关于控辍保学工作的督办函
doc_number: 巴教督函〔2026〕3号
issuer_unit: {OFFICE}
target_units: [{unit}]
issued_on: {TODAY - timedelta(days=40)}
sign_for_deadline: {TODAY - timedelta(days=37)}
problems:
  - description: 辍学学生劝返台账不全
    responsible_unit: {unit}
    area: 控辍保学
    deadline: {DEADLINE_PASSED}
""")
        issued = CliRunner().invoke(main, ["notice", "issue", str(path), "--url", services.urls["notices"], "--json",
                                           "--token", services.token("office_staff", OFFICE)])
        assert issued.exit_code == 0, issued.output
        case_id = f"{json.loads(issued.stdout)['id']}:P1"
        runner = CliRunner(env={"DUBAN_FOLLOWUPS_URL": services.urls["followups"],
                                "DUBAN_TOKEN": services.token("office_staff", OFFICE)})

        def listed():
            result = runner.invoke(main, ["overdue", "--unit", unit])
            assert result.exit_code == 0, result.output
            assert case_id in result.stdout, result.stdout
            return result.stdout

        head, header, _rule, row = eventually(listed, timeout=30).splitlines()
        assert head.startswith(f"逾期事项 overdue items: 1（截至 {TODAY}，责任单位 {unit}）")
        assert header.split()[:2] == ["事项", "case"]
        cells = row.split()
        assert cells[:4] == [case_id, unit, DEADLINE_PASSED, OVERDUE_DAYS]
        assert cells[4] in ("—", "催办", "预警")  # the deadline watcher may have escalated it already
        assert cells[5] == "巴教督函〔2026〕3号"

        as_json = runner.invoke(main, ["overdue", "--json", "--unit", unit])
        assert as_json.exit_code == 0, as_json.output
        [item] = json.loads(as_json.stdout)
        assert (item["id"], item["light"]) == (case_id, "red")
        assert item["overdue_working_days"] == (None if OVERDUE_DAYS == "?" else int(OVERDUE_DAYS))

        everyone = runner.invoke(main, ["overdue", "--json"])
        assert everyone.exit_code == 0 and case_id in {i["id"] for i in json.loads(everyone.stdout)}

    def test_a_unit_without_overdue_items_gets_the_empty_message(self, services):
        runner = CliRunner(env={"DUBAN_FOLLOWUPS_URL": services.urls["followups"],
                                "DUBAN_TOKEN": services.token("auditor")})
        text = runner.invoke(main, ["overdue", "--unit", "没有逾期事项的单位"])
        assert text.exit_code == 0, text.output
        assert text.stdout.splitlines() == [f"逾期事项 overdue items: 0（截至 {TODAY}，责任单位 没有逾期事项的单位）",
                                            "没有逾期事项 / no overdue items"]
        as_json = runner.invoke(main, ["overdue", "--unit", "没有逾期事项的单位", "--json"])
        assert as_json.exit_code == 0 and json.loads(as_json.stdout) == []

    def test_a_bad_token_exits_1(self, services):
        result = CliRunner().invoke(main, ["overdue", "--url", services.urls["followups"], "--token", "not-a-token"])
        assert result.exit_code == 1 and "HTTP 401 unauthorized" in result.stderr
