"""A realistic demo year, loaded through the public HTTP commands so that every demo fact is an event.

Modelled on the Bazhong city office's 2020 report: 39 notices and prompt letters (督办通知及工作提示函),
21 problems in 7 areas across 5 districts and the member departments, 18 of them closed (销号), the rest
open with some overdue and escalated. Every POST carries a fixed Idempotency-Key, so loading twice adds
nothing: the second run gets the first answers back.
"""
from __future__ import annotations

import hashlib
import itertools
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Callable

from shared.auth import Role, issue_token
from shared.clock import SystemClock
from shared.deadlines import DayKind, Period
from services.api_client import ApiClient, ApiError, opened_cases

OFFICE = "巴中市人民政府教育督导委员会办公室"
DISTRICTS = ("巴州区", "恩阳区", "通江县", "南江县", "平昌县")
BUREAUS = tuple(f"{d}教育局" for d in DISTRICTS)
FINANCE, HR = "巴中市财政局", "巴中市人力资源和社会保障局"
AREAS = ("校园安全", "食品安全", "控辍保学", "教师待遇保障", "教育经费投入", "办学条件改善", "课后服务与双减")

PLAN_TASKS = [  # (number, text, lead unit, partners, category, targets)
    ("1", "开展校园安全专项督导，消除校舍、消防、交通等安全隐患", "巴中市教育局", ["巴中市应急管理局"], "督政", []),
    ("2", "开展学校食堂食品安全专项检查", "巴中市教育局", ["巴中市市场监督管理局"], "督学", []),
    ("3", "落实控辍保学“七长”责任制，义务教育巩固率达到95%及以上", "巴中市教育局", [], "督政", ["巩固率达到95%及以上"]),
    ("4", "督促落实义务教育教师平均工资收入水平不低于当地公务员", "巴中市人力资源和社会保障局", [FINANCE], "督政", []),
    ("5", "督促落实“两个只增不减”，按时足额拨付教育经费", FINANCE, [], "督政", []),
    ("6", "推进义务教育薄弱环节改善与能力提升，消除大班额", "巴中市教育局", ["巴中市发展和改革委员会"], "评估监测",
     ["消除56人以上大班额"]),
    ("7", "开展课后服务和“双减”落实情况专项督导", "巴中市教育局", [], "督学", []),
]


@dataclass(frozen=True)
class DemoProblem:
    area: int  # index into AREAS (and the plan task of that area)
    unit: str
    description: str
    requirement: str
    fate: str  # closed | closed_after_failed_reinspection | closed_after_extension | closed_late | overdue_interview
    #            | overdue_circulation | due_soon
    person: str | None = None
    due_from_today: int | None = None  # the deadline in days from the run date (the open cases); else 45 days after issue


def _problems() -> list[list[DemoProblem]]:
    """21 problems grouped into the 14 notices that carry them, in the order they were issued."""
    p = DemoProblem
    return [
        [p(0, BUREAUS[0], "部分学校消防通道被占用，消防设施过期", "立即清理通道，更换过期设施", "closed", "王明"),
         p(0, BUREAUS[1], "两所学校围墙存在倒塌隐患", "限期加固并设置警示", "closed_after_failed_reinspection", "李强")],
        [p(1, BUREAUS[2], "部分学校食堂从业人员健康证过期", "全部更新健康证并建立台账", "closed"),
         p(1, BUREAUS[3], "食堂食材采购索证索票不全", "完善索证索票制度", "closed")],
        [p(2, BUREAUS[4], "疑似辍学学生劝返台账不完整", "逐一核实并劝返复学", "closed", "陈刚")],
        [p(3, HR, "乡村教师生活补助发放不及时", "按月足额发放并补发欠款", "closed")],
        [p(4, FINANCE, "生均公用经费拨付滞后", "按季度足额拨付", "closed_after_extension")],
        [p(5, BUREAUS[0], "城区学校存在56人以上大班额", "制定消除大班额方案并实施", "closed"),
         p(5, BUREAUS[2], "部分村小D级危房尚未拆除", "限期拆除并复垦", "closed")],
        [p(6, BUREAUS[1], "课后服务收费不规范", "清退违规收费，规范服务", "closed"),
         p(6, BUREAUS[3], "校外培训机构隐形变异问题", "联合执法，逐一整改", "closed")],
        [p(0, BUREAUS[4], "校车驾驶员资质审核不严", "全面复核驾驶员资质", "closed"),
         p(0, BUREAUS[3], "寄宿制学校夜间值守制度不落实", "落实值班值守制度", "closed")],
        [p(2, BUREAUS[0], "控辍保学联控联保机制运行不畅", "健全“七长”责任制", "closed"),
         p(2, BUREAUS[2], "适龄残疾儿童送教上门不到位", "完善送教上门台账", "closed")],
        [p(4, BUREAUS[1], "教育附加费未足额用于教育", "足额安排教育附加费", "closed_late")],
        [p(5, BUREAUS[4], "学校运动场地不达标", "纳入年度改薄项目实施", "closed")],
        [p(6, BUREAUS[2], "课后服务覆盖率偏低", "课后服务实现全覆盖", "closed")],
        [p(3, BUREAUS[3], "教师周转宿舍建设进度滞后", "加快建设进度", "overdue_interview", "赵伟", due_from_today=-24),
         p(1, BUREAUS[4], "学校食堂“明厨亮灶”未全覆盖", "年内实现全覆盖", "overdue_circulation", due_from_today=-13)],
        [p(5, BUREAUS[0], "部分学校教学仪器设备配备不足", "按标准补齐设备", "due_soon", due_from_today=2)],
    ]


# The demo is a year of history entered after the fact: office staff record each step (补录) with the day it
# happened, as an office adopting duban enters its paper 整改台账. Its year is the eleven months before the run.
DEMO_REASON = "演示数据：按实际发生日期补录"
YEAR_DAYS = 335  # the first notice goes out about eleven months before the run date
RECTIFICATION_DAYS = 45  # the usual 整改时限 of the demo's notices
# how the office's watchers would have escalated a missed deadline (shared.policy.OfficePolicy's defaults)
FIRST_WORKING_DAY_AFTER = Period(1, DayKind.WORKING)
WARNING_AFTER = Period(5, DayKind.WORKING)


NOTICE_KINDS = ["督办通知", "督办通知", "督办函", "督办通知", "督办函", "督办通知", "督办通知", "督办通知", "督办函",
                "督办函", "督办通知", "紧急通知", "预警通知", "督办通知"]
PROMPT_LETTER_TOPICS = ["春季开学安全工作", "防溺水安全教育", "汛期校园安全", "秋季学期开学准备", "食品安全排查",
                        "控辍保学春季劝返", "教师资格定期注册", "学生资助政策落实", "校园欺凌防治", "寒假安全教育",
                        "高考期间校园安全", "义务教育招生入学", "校外培训监管", "课后服务经费保障", "学校卫生防疫",
                        "冬季取暖安全", "交通安全宣传月", "心理健康教育", "劳动教育实施", "教育收费公示",
                        "校舍安全排查", "营养改善计划", "教师减负清单", "作业管理规定", "体质健康监测"]


# The demo's directory: the city office at the top, the city's bureau, the district bureaus with a school each and
# the member departments under it; the people of services/portal's demo accounts, with the demo password.
DEMO_PASSWORD = "duban-demo"
MEMBER_DEPARTMENTS = (FINANCE, HR, "巴中市应急管理局", "巴中市市场监督管理局", "巴中市发展和改革委员会")
DEMO_UNITS = [  # (name, kind, parent, short name)
    (OFFICE, "office", None, "市督导办"),
    ("巴中市教育局", "bureau", OFFICE, "市教育局"),
    *[(bureau, "bureau", OFFICE, district) for district, bureau in zip(DISTRICTS, BUREAUS, strict=True)],
    *[(department, "member", OFFICE, None) for department in MEMBER_DEPARTMENTS],
    *[(f"{district}第一小学", "school", bureau, None) for district, bureau in zip(DISTRICTS, BUREAUS, strict=True)],
]
DEMO_PEOPLE = [  # (username, name, roles, unit, mobile)
    ("admin", "系统管理员", [Role.ADMIN], OFFICE, None),
    ("office", "王科长", [Role.OFFICE_STAFF], OFFICE, "13800000001"),
    ("inspector", "刘督学", [Role.INSPECTOR], OFFICE, "13800000002"),
    ("auditor", "陈审计", [Role.AUDITOR], OFFICE, None),
    *[(pinyin, f"{district}经办人", [Role.UNIT_HANDLER], bureau, f"138000001{n}0")
      for n, (pinyin, district, bureau) in enumerate(zip(("bazhou", "enyang", "tongjiang", "nanjiang", "pingchang"),
                                                         DISTRICTS, BUREAUS, strict=True))],
    ("bazhou.leader", "巴州区教育局局长", [Role.UNIT_LEADER], BUREAUS[0], "13800000200"),
    ("finance", "财政局联络员", [Role.DEPARTMENT_LIAISON], FINANCE, None),
    ("hr", "人社局联络员", [Role.DEPARTMENT_LIAISON], HR, None),
]


def _key(name: str) -> str:
    """Idempotency keys are printable ASCII: a digest of the step's (Chinese-bearing) name."""
    return "demo-" + hashlib.sha256(name.encode("utf-8")).hexdigest()[:32]


class DemoLoader:
    """Drives the services' public APIs as the office, the inspector and each unit's handler would."""

    def __init__(self, urls: dict[str, str], secret: str, say: Callable[[str], None] = print, today: date | None = None):
        self.urls, self.secret, self.say = urls, secret, say
        self.today = today or SystemClock().today()
        self.office = self._client("notices", Role.OFFICE_STAFF, OFFICE, "demo.office")

    def _token(self, role: str, unit: str | None, user: str) -> str:
        return issue_token(self.secret, user, role, unit, name=user, ttl=timedelta(hours=2))

    def _client(self, service: str, role: str, unit: str | None, user: str) -> ApiClient:
        return ApiClient(self.urls[service], self._token(role, unit, user))

    def _as(self, service: str, role: str, unit: str | None = OFFICE) -> ApiClient:
        user = {Role.OFFICE_STAFF: "demo.office", Role.INSPECTOR: "demo.inspector"}.get(role, f"demo.{unit}")
        return self._client(service, role, unit, user)

    def load(self) -> dict:
        year = self.today.year
        if "directory" in self.urls:
            self._register_directory()
        plan = self._as("tasks", Role.OFFICE_STAFF).post("/plans", {
            "title": f"巴中市{year}年教育督导工作要点", "year": year, "issuer": OFFICE, "doc_number": f"巴教督〔{year}〕1号",
            "tasks": [{"number": n, "text": t, "lead_unit": lead, "partner_units": partners, "category": category,
                       "targets": targets, "due_date": f"{year}-12-31"}
                      for n, t, lead, partners, category, targets in PLAN_TASKS],
        }, idempotency_key=_key(f"demo-{year}-plan"))
        task_ids = plan["task_ids"]
        self.say(f"demo: work plan {plan['id']} with {len(task_ids)} tasks")
        notices = self._issue_notices(year, task_ids)
        self._issue_prompt_letters(year)
        closed = self._follow_up(notices)
        self._task_progress(task_ids)
        summary = {"notices": len(notices) + len(PROMPT_LETTER_TOPICS), "problems": sum(len(p) for _, p in notices),
                   "closed": closed}
        self.say(f"demo: {summary['notices']} notices and prompt letters, {summary['problems']} problems, "
                 f"{closed} closed")
        return summary

    def _register_directory(self) -> None:
        """Units before the notices that name them, and the people who sign in (as an administrator would)."""
        admin = self._client("directory", Role.ADMIN, None, "demo.admin")
        for name, kind, parent, short_name in DEMO_UNITS:
            admin.post("/units", {"name": name, "kind": kind, "parent": parent, "short_name": short_name},
                       idempotency_key=_key(f"demo-unit-{name}"))
        for username, name, roles, unit, mobile in DEMO_PEOPLE:
            admin.post("/people", {"username": username, "name": name, "roles": roles, "unit": unit, "mobile": mobile,
                                   "password": DEMO_PASSWORD}, idempotency_key=_key(f"demo-person-{username}"))
        self.say(f"demo: directory of {len(DEMO_UNITS)} units and {len(DEMO_PEOPLE)} people")

    def _day(self, offset_from_start: int) -> date:
        """A day of the demo year (never after the run date)."""
        return min(self.today - timedelta(days=YEAR_DAYS) + timedelta(days=offset_from_start), self.today)

    def _issue_notices(self, year: int, task_ids: list[str]) -> list[tuple[dict, list[DemoProblem]]]:
        groups, issued = _problems(), []
        for n, (group, kind) in enumerate(zip(groups, NOTICE_KINDS, strict=True), start=1):
            issued_on = self._day(10 + (n - 1) * 22)  # one every three weeks, from January to October
            units = sorted({p.unit for p in group}, key=lambda u: (u not in BUREAUS, u))
            area = AREAS[group[0].area]
            notice = self.office.post("/notices", {
                "kind": kind, "title": f"关于{area}问题整改的{kind}", "doc_number": f"巴教督办〔{issued_on.year}〕{n}号",
                "issuer_unit": OFFICE, "target_units": units, "related_task_ids": sorted({task_ids[p.area] for p in group}),
                "listed": kind == "紧急通知", "issued_on": issued_on.isoformat(),
                "problems": [{"description": p.description, "requirement": p.requirement, "responsible_unit": p.unit,
                              "responsible_person": p.person, "area": AREAS[p.area],
                              "deadline": self._deadline(p, issued_on).isoformat()} for p in group],
            }, idempotency_key=_key(f"demo-{year}-notice-{n}"))
            issued.append((notice, group))
            for m, unit in enumerate(units):
                late = (n + m) % 6 == 0  # a few units sign after the 签收时限 (3 working days)
                self._sign(notice["id"], unit, issued_on + timedelta(days=9 if late else 1 + m),
                           f"demo-{year}-sign-{n}-{unit}")
        return issued

    def _deadline(self, problem: DemoProblem, issued_on: date) -> date:
        if problem.due_from_today is not None:
            return max(self.today + timedelta(days=problem.due_from_today), issued_on)
        return issued_on + timedelta(days=RECTIFICATION_DAYS)

    def _issue_prompt_letters(self, year: int) -> None:
        for n, topic in enumerate(PROMPT_LETTER_TOPICS, start=1):
            issued_on = self._day((n * 13) % (YEAR_DAYS - 20))  # spread over the year
            units = list(BUREAUS) if n % 3 else [BUREAUS[n % 5]]
            letter = self.office.post("/notices", {
                "kind": "工作提示函", "title": f"关于做好{topic}的工作提示函", "doc_number": f"巴教督函〔{issued_on.year}〕{n}号",
                "issuer_unit": OFFICE, "target_units": units, "problems": [], "issued_on": issued_on.isoformat(),
            }, idempotency_key=_key(f"demo-{year}-letter-{n}"))
            # the last two letters stay unsigned by one unit, so the sign-for watcher has something to flag
            for unit in units if n < len(PROMPT_LETTER_TOPICS) - 1 else units[1:]:
                self._sign(letter["id"], unit, issued_on + timedelta(days=1), f"demo-{year}-letter-sign-{n}-{unit}")

    def _sign(self, notice_id: str, unit: str, on: date, key: str) -> None:
        """The unit's paper 签收单, entered by the office with its day."""
        self.office.post(f"/notices/{notice_id}/signature", {"unit": unit, **self._backfill(on)}, idempotency_key=_key(key))

    def _backfill(self, on: date) -> dict:
        return {"occurred_on": min(on, self.today).isoformat(), "backfill_reason": DEMO_REASON}

    def _follow_up(self, notices: list[tuple[dict, list[DemoProblem]]]) -> int:
        closed = 0
        for notice, group in notices:
            cases = opened_cases(self._as("followups", Role.AUDITOR, None), notice["id"], len(group))
            for case, problem in zip(cases, group, strict=True):
                closed += self._walk_case(case, problem, date.fromisoformat(notice["issued_on"]))
        return closed

    def _walk_case(self, case: dict, problem: DemoProblem, issued: date) -> int:
        """Take one case as far as its fate says, each step on its day; returns 1 if it ends closed."""
        office = self._as("followups", Role.OFFICE_STAFF)
        case_id, year = case["id"], self.today.year
        deadline = self._deadline(problem, issued)  # as issued (a second load finds the extended one in the case)
        steps = itertools.count()

        def step(path: str, on: date, body: dict | None = None) -> None:
            office.post(f"/cases/{case_id}/{path}", {**(body or {}), **self._backfill(on)},
                        idempotency_key=_key(f"demo-{case_id}-{next(steps)}-{path}"))

        if problem.fate == "overdue_circulation":  # no plan at all: 催办, 预警, then 通报 by the office
            self._escalate_missed(step, deadline)
            step("escalations", WARNING_AFTER.after(deadline) + timedelta(days=2), {
                "level": "circulation", "reason": "逾期未提交整改方案", "doc_number": f"巴教督通〔{year}〕2号"})
            return 0
        step("plan", issued + timedelta(days=5), {"plan": f"针对“{problem.description}”制定整改方案",
                                                 "measures": [problem.requirement],
                                                 "planned_completion": (deadline - timedelta(days=5)).isoformat()})
        step("progress", issued + timedelta(days=18), {"summary": "整改措施已部署，正在推进",
                                                      "evidence": ["整改工作部署会议纪要"]})
        if problem.fate == "due_soon":
            return 0
        if problem.fate == "overdue_interview":
            self._escalate_missed(step, deadline)
            step("escalations", WARNING_AFTER.after(deadline) + timedelta(days=3), {
                "level": "interview", "reason": "整改进度严重滞后", "doc_number": f"巴教督约〔{year}〕1号",
                "target": "person"})
            return 0
        reported = deadline - timedelta(days=3)
        if problem.fate == "closed_after_extension":
            step("extension", deadline - timedelta(days=6), {
                "new_deadline": (deadline + timedelta(days=20)).isoformat(), "reason": "财政预算调整需经人大审议",
                "approver": "市政府教育督导室主任"})
            reported = deadline + timedelta(days=15)
        if problem.fate == "closed_late":
            self._escalate_missed(step, deadline)
            reported = WARNING_AFTER.after(deadline) + timedelta(days=4)
        step("completion", reported, {"summary": "已按要求完成整改", "evidence": ["整改报告", "现场照片"]})
        if problem.fate == "closed_after_failed_reinspection":
            step("reinspection", reported + timedelta(days=5), {"passed": False, "findings": "一处围墙加固未完成，退回整改"})
            reported += timedelta(days=12)
            step("completion", reported, {"summary": "围墙已全部加固", "evidence": ["复查照片"]})
        step("reinspection", reported + timedelta(days=6), {"passed": True, "findings": "经现场复查，整改到位"})
        step("close", reported + timedelta(days=8))
        if problem.area == 0 and problem.person:
            step("commendations", reported + timedelta(days=12), {"reason": "整改迅速、成效明显",
                                                                    "doc_number": f"巴教督〔{year}〕表1号"})
        return 1

    def _escalate_missed(self, step: Callable, deadline: date) -> None:
        """The 催办 and 预警 on the days the watcher would have raised them (it then adds neither again)."""
        step("escalations", FIRST_WORKING_DAY_AFTER.after(deadline), {
            "level": "reminder", "reason": f"已超过整改时限 {deadline}，请抓紧整改并报送进展"})
        step("escalations", WARNING_AFTER.after(deadline), {
            "level": "warning", "reason": f"逾期已达 {WARNING_AFTER.amount} 个工作日仍未完成整改"})

    def _task_progress(self, task_ids: list[str]) -> None:
        office = self._as("tasks", Role.OFFICE_STAFF)
        for n, task_id in enumerate(task_ids[:4]):
            office.post(f"/tasks/{task_id}/progress", {"summary": "已开展专项督导并下发督办通知", "percent": 60 + 10 * n},
                        idempotency_key=_key(f"demo-{task_id}-progress"))
        office.post(f"/tasks/{task_ids[1]}/completion", {"summary": "专项检查全部完成，问题均已销号"},
                    idempotency_key=_key(f"demo-{task_ids[1]}-done"))


def main() -> None:
    """``python -m services.demo NOTICES_URL FOLLOWUPS_URL TASKS_URL [DIRECTORY_URL]`` (used by ``make run``)."""
    import sys

    from shared.config import Settings

    notices_url, followups_url, tasks_url = sys.argv[1:4]
    urls = {"notices": notices_url, "followups": followups_url, "tasks": tasks_url}
    if len(sys.argv) > 4:
        urls["directory"] = sys.argv[4]
    loader = DemoLoader(urls, Settings().jwt_secret)
    try:
        loader.load()
    except ApiError as error:
        at = f" ({error.url})" if error.status is not None else ""  # an unreachable service's message names it
        print(f"demo: not loaded{at}: {error}", file=sys.stderr)  # the service's words and every field it named
        raise SystemExit(1) from error


if __name__ == "__main__":
    main()
