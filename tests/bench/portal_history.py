"""A realistic synthetic 督办 history for the portal benchmark: valid hash chains, the real event shapes.

100 units (5 districts × 20 units: bureaus and schools), three years of notices issued by the city office
(and now and then a district office) to the districts' departments, a third of them 工作提示函 without
problems; every problem's case goes through plan → progress → report → re-inspection (failed sometimes)
→ close, some miss their deadline and are flagged and escalated (催办/预警 by the watcher, 约谈/通报 by the
office), some get an extension, a few are commended; 1 % of notices are withdrawn with their cases; one
work plan (工作要点) a year whose tasks get progress reports and are linked to the notices about them.
The reactions the services would write (cases opened on NoticeIssued, problem closures and 清零 on
RectificationClosed, task links and matter closures) are written here directly, with the correlation
and causation ids the buses would give them. Events after the end of the history are cut off, so the
latest cases are still open, as on a real "today".

Envelopes are made directly (never through the buses): each stream's events are versioned and chained in
time order and sealed with the canonical hash of shared.envelope (computed here in one step; ``check``
compares a sample with ``EventEnvelope.compute_hash`` and ``to_json_bytes``).

    history = generate_history(1_000_000)            # ~1 M events, deterministic for a seed
    publish_history(history, settings)                # to the three topics, key = stream id
"""
from __future__ import annotations

import hashlib
import json
import multiprocessing
import random
import sys
import threading
import time
import uuid
import zlib
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from shared.config import Settings  # noqa: E402
from shared.deadlines import add_working_days, is_working_day  # noqa: E402
from shared.envelope import GENESIS_HASH, Actor, EventEnvelope  # noqa: E402

# -- the people and units ----------------------------------------------------------------------------

OFFICE = "巴中市人民政府教育督导委员会办公室"
DISTRICTS = ("巴州区", "恩阳区", "通江县", "南江县", "平昌县")
UNIT_KINDS = ("教育局", "财政局", "人力资源和社会保障局", "发展和改革局", "住房和城乡建设局", "卫生健康局",
              "市场监督管理局", "应急管理局", "公安局", "交通运输局", "第一中学", "第二中学", "第三中学", "实验中学",
              "实验小学", "第一小学", "第二小学", "职业中学", "中心幼儿园", "特殊教育学校")
UNITS_BY_DISTRICT = {d: [f"{d}{k}" for k in UNIT_KINDS] for d in DISTRICTS}
UNITS = [u for d in DISTRICTS for u in UNITS_BY_DISTRICT[d]]  # 100 units
DISTRICT_OFFICES = {d: f"{d}人民政府教育督导室" for d in DISTRICTS}
CITY_UNITS = ("巴中市教育局", "巴中市财政局", "巴中市人力资源和社会保障局", "巴中市应急管理局",
              "巴中市市场监督管理局", "巴中市发展和改革委员会")

AREAS = {  # 领域: (problem, requirement) templates
    "校园安全": [("部分学校消防通道被占用，消防设施过期", "立即清理通道，更换过期设施并建立巡查台账"),
             ("学校围墙存在倒塌隐患", "限期加固并设置警示标志"),
             ("校车驾驶员资质审核不严", "全面复核驾驶员资质，不合格的立即调离"),
             ("寄宿制学校夜间值守制度不落实", "落实值班值守和巡查制度")],
    "食品安全": [("食堂从业人员健康证过期", "全部更新健康证并建立台账"),
             ("食材采购索证索票不全", "完善索证索票和进货查验制度"),
             ("食堂“明厨亮灶”未全覆盖", "年内实现“明厨亮灶”全覆盖")],
    "控辍保学": [("疑似辍学学生劝返台账不完整", "逐一核实并劝返复学，完善台账"),
             ("控辍保学联控联保机制运行不畅", "健全“七长”责任制，按月会商"),
             ("适龄残疾儿童送教上门不到位", "完善送教上门台账，做到应送尽送")],
    "教师待遇保障": [("乡村教师生活补助发放不及时", "按月足额发放并补发欠款"),
               ("教师周转宿舍建设进度滞后", "加快建设进度，按期交付使用")],
    "教育经费投入": [("生均公用经费拨付滞后", "按季度足额拨付生均公用经费"),
               ("教育费附加未足额用于教育", "足额安排教育费附加，专款专用")],
    "办学条件改善": [("城区学校存在56人以上大班额", "制定消除大班额方案并实施"),
               ("部分学校教学仪器设备配备不足", "按标准补齐教学仪器设备"),
               ("学校运动场地不达标", "纳入年度改薄项目实施")],
    "课后服务与双减": [("课后服务收费不规范", "清退违规收费，规范服务管理"),
                ("课后服务覆盖率偏低", "课后服务实现有需求学生全覆盖"),
                ("作业总量和时长管控不到位", "建立作业公示制度，严控作业总量")],
}
AREA_NAMES = tuple(AREAS)
PERSONS = ("王明", "李强", "陈刚", "赵伟", "张丽", "刘洋", "杨帆", "黄敏", "周杰", "吴静", None, None)
PROMPT_TOPICS = ("春季开学安全工作", "防溺水安全教育", "汛期校园安全", "秋季学期开学准备", "食品安全排查",
                 "控辍保学春季劝返", "教师资格定期注册", "学生资助政策落实", "校园欺凌防治", "寒假安全教育",
                 "高考期间校园安全", "义务教育招生入学", "校外培训监管", "课后服务经费保障", "学校卫生防疫",
                 "冬季取暖安全", "交通安全宣传月", "心理健康教育", "劳动教育实施", "教育收费公示")
# The yearly 工作要点: the same lines of work come back each year (so tasks of different years share texts).
TASK_LINES = [(f"开展{area}专项督导，督促{req[:12]}", area) for area, items in AREAS.items() for _, req in items]
TASK_CATEGORIES = ("督政", "督学", "评估监测")

PROBLEM_KINDS = (("督办通知", 55), ("督办函", 30), ("预警通知", 8), ("紧急通知", 7))
PROMPT_SHARE = 0.32
WITHDRAWN_SHARE = 0.01

OFFICE_STAFF = Actor("office.wang", "office_staff", OFFICE, "王科长")
INSPECTOR = Actor("inspector.liu", "inspector", OFFICE, "刘督学")
DIRECTOR = "张主任"
SYSTEM = {name: Actor.system(name) for name in ("followups", "notices", "tasks", "followups-deadline-watcher",
                                                 "notices-sign-for-watcher")}
HANDLERS = {unit: Actor(f"handler.{n:03d}", "unit_handler", unit, f"{unit}经办人") for n, unit in enumerate(UNITS)}

DAY_MS = 86_400_000
SHANGHAI_OFFSET_MS = 8 * 3_600_000
EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
EPOCH_ORDINAL = date(1970, 1, 1).toordinal()
DEFAULT_END = date(2025, 12, 31)

SERVICE_OF_STREAM_TYPE = {"notice": "notices", "rectification_case": "followups", "work_plan": "tasks", "task": "tasks"}


@dataclass
class History:
    """The events in the order they were recorded, each with the service whose topic carries it."""

    events: list[tuple[str, EventEnvelope]]
    start: date
    end: date  # "today" for the queries: the history stops at the end of this day
    seed: int
    notices: int = 0
    prompt_letters: int = 0
    cases: int = 0
    plans: int = 0
    tasks: int = 0
    streams: int = 0
    generate_seconds: float = 0.0
    seal_seconds: float = 0.0
    types: Counter = field(default_factory=Counter)

    @property
    def units(self) -> list[str]:
        return list(UNITS)

    def summary(self) -> str:
        return (f"{len(self.events):,} events in {self.streams:,} streams, {self.start} – {self.end}: "
                f"{self.notices:,} notices ({self.prompt_letters:,} 工作提示函), {self.cases:,} cases, "
                f"{self.plans} plans with {self.tasks} tasks, {len(UNITS)} units")


# -- time in whole milliseconds since the epoch ------------------------------------------------------

def _local_midnight_ms(ordinal: int) -> int:
    """UTC milliseconds of 00:00 Asia/Shanghai on the day with this ordinal (no DST there)."""
    return (ordinal - EPOCH_ORDINAL) * DAY_MS - SHANGHAI_OFFSET_MS


def _iso(ordinal: int) -> str:
    return date.fromordinal(ordinal).isoformat()


class _Story:
    """Collects raw events (time, sequence, ...) for the whole history; versions and hashes come later."""

    def __init__(self, rng: random.Random, end_ms: int):
        self.rng = rng
        self.end_ms = end_ms
        self.raw: list[tuple] = []
        self.seq = 0
        self._working = {}

    def new_id(self) -> str:
        return str(uuid.UUID(int=self.rng.getrandbits(128), version=4))

    def office_time(self, ordinal: int) -> int:
        """A moment in office hours (08:30–18:00 local) of that day."""
        return _local_midnight_ms(ordinal) + self.rng.randrange(30_600_000, 64_800_000)

    def working_day_on_or_after(self, ordinal: int) -> int:
        while not self._is_working(ordinal):
            ordinal += 1
        return ordinal

    def _is_working(self, ordinal: int) -> bool:
        known = self._working.get(ordinal)
        if known is None:
            known = self._working[ordinal] = is_working_day(date.fromordinal(ordinal))
        return known

    def emit(self, at_ms: int, stream_id: str, stream_type: str, event_type: str, data: dict, actor: Actor,
             correlation_id: str, causation_id: str | None = None, limit_ms: int | None = None) -> str | None:
        """Record an event at that moment; None (nothing recorded) when it falls after the end or the limit."""
        if at_ms > self.end_ms or (limit_ms is not None and at_ms > limit_ms):
            return None
        event_id = self.new_id()
        self.seq += 1
        self.raw.append((at_ms, self.seq, stream_id, stream_type, event_type, data, actor, correlation_id,
                         causation_id, event_id))
        return event_id


# -- plans and tasks -----------------------------------------------------------------------------------

def _plans(story: _Story, years: list[int]) -> dict[int, tuple[int, list[str]]]:
    """One 工作要点 a year: recorded in early January, tasks with quarterly progress, done by year end."""
    plans: dict[int, tuple[int, list[str]]] = {}
    for year in years:
        day = story.working_day_on_or_after(date(year, 1, 8).toordinal())
        at = story.office_time(day)
        plan_id = f"plan-{story.new_id()}"
        task_ids = [f"{plan_id}-T{i}" for i in range(1, len(TASK_LINES) + 1)]
        correlation = story.new_id()
        title, doc = f"巴中市{year}年教育督导工作要点", f"巴教督〔{year}〕1号"
        if year % 2:
            data = {"plan_id": plan_id, "title": title, "year": year, "issuer": OFFICE, "doc_number": doc,
                    "task_ids": task_ids}
            kind = "PlanRecorded"
        else:
            data = {"plan_id": plan_id, "title": title, "year": year, "issuer": OFFICE, "doc_number": doc,
                    "document_date": f"{year}-01-05", "source_sha256": hashlib.sha256(title.encode()).hexdigest(),
                    "task_ids": task_ids}
            kind = "PlanImported"
        story.emit(at, plan_id, "work_plan", kind, data, OFFICE_STAFF, correlation)
        for n, (task_id, (text, area)) in enumerate(zip(task_ids, TASK_LINES, strict=True), start=1):
            lead = CITY_UNITS[n % len(CITY_UNITS)]
            story.emit(at + n, task_id, "task", "TaskCreated", {
                "task_id": task_id, "plan_id": plan_id, "number": str(n), "text": text, "lead_unit": lead,
                "partner_units": [CITY_UNITS[(n + 1) % len(CITY_UNITS)]] if n % 3 == 0 else [],
                "due_date": f"{year}-12-31", "category": TASK_CATEGORIES[n % 3],
                "targets": [f"{area}问题整改完成率达到95%及以上"] if n % 4 == 0 else [],
            }, OFFICE_STAFF, correlation)
            for quarter, percent in ((4, 25), (7, 50), (10, 75)):
                progress_day = story.working_day_on_or_after(date(year, quarter, 3 + n % 10).toordinal())
                story.emit(story.office_time(progress_day), task_id, "task", "TaskProgressRecorded", {
                    "task_id": task_id, "summary": f"{text[:10]}……第{quarter // 3}季度已完成阶段目标", "percent": percent,
                }, OFFICE_STAFF, story.new_id())
            closing_day = story.working_day_on_or_after(date(year, 12, 20 + n % 8).toordinal())
            if n % 9 == 0:
                story.emit(story.office_time(closing_day), task_id, "task", "TaskCancelled", {
                    "task_id": task_id, "reason": "任务已并入下一年度工作要点"}, OFFICE_STAFF, story.new_id())
            else:
                story.emit(story.office_time(closing_day), task_id, "task", "TaskCompleted", {
                    "task_id": task_id, "summary": "年度任务已完成"}, OFFICE_STAFF, story.new_id())
        plans[year] = (_local_midnight_ms(day) + DAY_MS, task_ids)
    return plans


# -- notices and their cases ---------------------------------------------------------------------------

def _notice(story: _Story, number: int, issue_day: int, plans: dict[int, tuple[int, list[str]]]) -> dict:
    """One notice from drafting to 清零 (or withdrawal), with every case and task event it causes."""
    rng = story.rng
    year = date.fromordinal(issue_day).year
    prompt = rng.random() < PROMPT_SHARE
    district = rng.choice(DISTRICTS)
    issuer = DISTRICT_OFFICES[district] if rng.random() < 0.1 else OFFICE
    if prompt:
        kind = "工作提示函"
        topic = PROMPT_TOPICS[number % len(PROMPT_TOPICS)]
        title = f"关于做好{topic}的工作提示函"
        targets = ([f"{d}教育局" for d in DISTRICTS] if rng.random() < 0.6 else list(UNITS_BY_DISTRICT[district][:10]))
        problems_in: list[dict] = []
        doc_number = f"巴教督函〔{year}〕{number}号"
    else:
        kind = rng.choices([k for k, _ in PROBLEM_KINDS], [w for _, w in PROBLEM_KINDS])[0]
        area = rng.choice(AREA_NAMES)
        title = f"关于{area}问题整改的{kind}"
        doc_number = f"巴教督办〔{year}〕{number}号"
        if rng.random() < 0.8:
            districts = [district]
        else:
            districts = rng.sample(DISTRICTS, rng.randint(2, 5))
        targets = [f"{d}教育局" for d in districts]
        if area in ("教育经费投入", "教师待遇保障") or rng.random() < 0.15:
            targets += [f"{d}财政局" for d in districts[:1]]
        if area == "教师待遇保障":
            targets += [f"{d}人力资源和社会保障局" for d in districts[:1]]
        count = rng.choices((1, 2, 3, 4, 5, 6), (20, 25, 22, 15, 10, 8))[0]
        problems_in = []
        for _ in range(count):
            d = rng.choice(districts)
            unit = rng.choice(UNITS_BY_DISTRICT[d]) if rng.random() < 0.7 else rng.choice(targets)
            description, requirement = rng.choice(AREAS[area])
            days = rng.choice((30, 30, 45, 60, 60, 90))
            problems_in.append({"description": f"{unit}{description}", "requirement": requirement,
                                "responsible_unit": unit, "responsible_person": rng.choice(PERSONS), "area": area,
                                "days": days, "given": rng.random() < 0.5})
    listed = kind == "紧急通知" or (kind == "督办通知" and rng.random() < 0.1)
    copied = ["巴中市教育局"] if rng.random() < 0.3 else []
    plan_start, plan_tasks = plans.get(year, (None, []))
    related: list[str] = []
    if not prompt and plan_tasks and rng.random() < 0.6:
        related = sorted(rng.sample(plan_tasks, rng.choice((1, 1, 1, 2))))
    issued_at = story.office_time(issue_day)
    if related and issued_at < plan_start:
        related = []
    notice_id = f"notice-{story.new_id()}"
    correlation = story.new_id()
    sign_for = add_working_days(date.fromordinal(issue_day), 3).toordinal()
    issued_on = _iso(issue_day)
    problems = []
    for n, p in enumerate(problems_in, start=1):
        deadline = issue_day + p["days"]
        problems.append({"problem_id": f"P{n}", "description": p["description"], "requirement": p["requirement"],
                         "responsible_unit": p["responsible_unit"], "responsible_person": p["responsible_person"],
                         "area": p["area"], "deadline": _iso(deadline),
                         "deadline_rule": None if p["given"] else {"amount": p["days"], "kind": "calendar"}})

    if rng.random() < 0.15:  # saved as a draft first
        content = {"kind": kind, "title": title, "issuer_unit": issuer, "target_units": list(targets),
                   "problems": [{"description": p["description"], "requirement": p["requirement"],
                                 "responsible_unit": p["responsible_unit"],
                                 "deadline": problems[i]["deadline"] if p["given"] else None,
                                 "responsible_person": p["responsible_person"],
                                 "deadline_days": None if p["given"] else p["days"], "deadline_kind": "calendar",
                                 "area": p["area"]} for i, p in enumerate(problems_in)],
                   "doc_number": doc_number, "related_task_ids": list(related), "listed": listed,
                   "copied_units": list(copied), "sign_for_deadline": None, "issued_on": None}
        story.emit(issued_at - rng.randrange(1, 4) * DAY_MS, notice_id, "notice", "NoticeDrafted",
                   {"notice_id": notice_id, "content": content}, OFFICE_STAFF, story.new_id())
    issued_id = story.emit(issued_at, notice_id, "notice", "NoticeIssued", {
        "notice_id": notice_id, "kind": kind, "title": title, "doc_number": doc_number, "issuer_unit": issuer,
        "target_units": list(targets), "problems": problems, "related_task_ids": list(related), "listed": listed,
        "copied_units": list(copied), "issued_on": issued_on, "sign_for_deadline": _iso(sign_for),
    }, OFFICE_STAFF, correlation)
    if issued_id is None:
        return {"prompt": prompt, "cases": 0}

    withdrawn_at = None
    if not prompt and rng.random() < WITHDRAWN_SHARE:
        withdrawn_at = story.office_time(issue_day + rng.randint(1, 10))

    # the tasks service links the notice to its tasks
    for task_id in related:
        story.emit(issued_at + rng.randint(500, 3000), task_id, "task", "TaskNoticeLinked", {
            "task_id": task_id, "notice_id": notice_id,
            "matter_ids": [f"{notice_id}:{p['problem_id']}" for p in problems]}, SYSTEM["tasks"], correlation, issued_id)

    # 签收: most units sign within a day or two; a late one is flagged by the watcher the day after the deadline
    signed_on_time, late_signers = [], []
    for unit in targets:
        delay = rng.choices((0, 1, 2, 3, 5, 8), (40, 30, 15, 8, 4, 3))[0]
        day = story.working_day_on_or_after(issue_day + delay)
        at = max(story.office_time(day), issued_at + rng.randint(600_000, 3_600_000))
        (late_signers if day > sign_for else signed_on_time).append((at, unit, day))
    for at, unit, day in signed_on_time + late_signers:
        story.emit(at, notice_id, "notice", "NoticeSigned", {
            "notice_id": notice_id, "unit": unit, "signed_on": _iso(day), "late": day > sign_for,
        }, HANDLERS[unit], story.new_id(), limit_ms=withdrawn_at)
    if late_signers:
        story.emit(_local_midnight_ms(sign_for + 1) + 300_000, notice_id, "notice", "NoticeSignOverdue", {
            "notice_id": notice_id, "deadline": _iso(sign_for), "unsigned_units": [u for _, u, _ in late_signers],
        }, SYSTEM["notices-sign-for-watcher"], story.new_id(), limit_ms=withdrawn_at)

    closures, closed_problems = [], set()
    for problem in problems:
        closed = _case(story, notice_id, problem, issue_day, issued_at, issued_id, correlation, issuer, title, kind,
                       doc_number, listed, related, withdrawn_at)
        if closed is not None:
            closures.append(closed)
            closed_problems.add(problem["problem_id"])
    # 清零 once every problem is closed (the notices service reacts to each closure)
    if problems and len(closures) == len(problems) and withdrawn_at is None:
        at, event_id, closed_on, closing_correlation = max(closures)
        story.emit(at + 2, notice_id, "notice", "NoticeCleared", {
            "notice_id": notice_id, "cleared_on": closed_on, "problem_ids": [p["problem_id"] for p in problems],
        }, SYSTEM["notices"], closing_correlation, event_id)
    if withdrawn_at is not None:
        withdrawal = story.emit(withdrawn_at, notice_id, "notice", "NoticeWithdrawn", {
            "notice_id": notice_id, "reason": "通知内容有误，撤回后重新下发",
            "problem_ids": [p["problem_id"] for p in problems], "related_task_ids": list(related),
        }, OFFICE_STAFF, story.new_id())
        if withdrawal is not None:
            for problem in problems:
                if problem["problem_id"] in closed_problems:  # a closed case keeps its history as it is
                    continue
                story.emit(withdrawn_at + rng.randint(500, 3000), f"{notice_id}:{problem['problem_id']}",
                           "rectification_case", "RectificationWithdrawn",
                           {"case_id": f"{notice_id}:{problem['problem_id']}", "reason": "通知内容有误，撤回后重新下发"},
                           SYSTEM["followups"], correlation, withdrawal)
            for task_id in related:
                story.emit(withdrawn_at + rng.randint(500, 3000), task_id, "task", "TaskNoticeWithdrawn",
                           {"task_id": task_id, "notice_id": notice_id}, SYSTEM["tasks"], correlation, withdrawal)
    return {"prompt": prompt, "cases": len(problems)}


def _case(story: _Story, notice_id: str, problem: dict, issue_day: int, issued_at: int, issued_id: str,
          correlation: str, issuer: str, title: str, kind: str, doc_number: str, listed: bool, related: list[str],
          withdrawn_at: int | None):
    """One 整改事项 from opening to 销号; returns (time, event id, closed_on, correlation) if it was closed."""
    rng = story.rng
    case_id = f"{notice_id}:{problem['problem_id']}"
    unit = problem["responsible_unit"]
    handler = HANDLERS[unit]
    limit = withdrawn_at

    def emit(at, event_type, data, actor, corr=None, cause=None):
        return story.emit(at, case_id, "rectification_case", event_type, {"case_id": case_id, **data}, actor,
                          corr or story.new_id(), cause, limit_ms=limit)

    opened_at = issued_at + rng.randint(300, 2500)
    if emit(opened_at, "RectificationOpened", {
        "notice_id": notice_id, "problem_id": problem["problem_id"], "description": problem["description"],
        "responsible_unit": unit, "deadline": problem["deadline"], "requirement": problem["requirement"],
        "responsible_person": problem["responsible_person"], "area": problem["area"], "issuer_unit": issuer,
        "notice_title": title, "notice_kind": kind, "doc_number": doc_number, "listed": listed,
        "related_task_ids": list(related)}, SYSTEM["followups"], correlation, issued_id) is None:
        return None

    deadline = date.fromisoformat(problem["deadline"]).toordinal()
    roll = rng.random()
    fate = ("late" if roll < 0.08 else "extended" if roll < 0.13 else "failed" if roll < 0.27 else "normal")
    flagged_for: set[int] = set()
    warned_for: set[int] = set()

    def watch(running_from: int, running_until: int) -> None:
        """The deadline watcher over a stretch in which the unit owes work (clock running)."""
        detect = max(_local_midnight_ms(deadline + 1) + 600_000, running_from + 60_000)
        if detect < running_until and deadline not in flagged_for:
            flagged_for.add(deadline)
            watcher = story.new_id()
            emit(detect, "RectificationOverdue", {"notice_id": notice_id, "deadline": _iso(deadline),
                                                  "detected_on": _iso(_day_of(detect))}, SYSTEM["followups-deadline-watcher"],
                 watcher)
            emit(detect + 1, "RectificationEscalated", {
                "level": "reminder", "reason": f"已超过整改时限 {_iso(deadline)}，请抓紧整改并报送进展", "doc_number": None,
                "measure": None, "target": "unit", "automatic": True, "deadline": _iso(deadline)},
                SYSTEM["followups-deadline-watcher"], watcher)
        warn = max(_local_midnight_ms(deadline + 8) + 600_000, running_from + 60_000)
        if warn < running_until and deadline not in warned_for:
            warned_for.add(deadline)
            emit(warn, "RectificationEscalated", {
                "level": "warning", "reason": "逾期已达 5 个工作日仍未完成整改", "doc_number": None, "measure": None,
                "target": "unit", "automatic": True, "deadline": _iso(deadline)},
                SYSTEM["followups-deadline-watcher"], story.new_id())
            if rng.random() < 0.3:  # the office adds a 约谈 (or a 通报) under a document number
                level = "interview" if rng.random() < 0.75 else "circulation"
                at = story.office_time(_day_of(warn) + rng.randint(2, 6))
                if at < running_until:
                    year = date.fromordinal(_day_of(at)).year
                    document = f"巴教督{'约' if level == 'interview' else '通'}〔{year}〕{rng.randint(1, 300)}号"
                    emit(at, "RectificationEscalated", {
                        "level": level, "reason": "逾期未完成整改", "doc_number": document,
                        "measure": None, "target": "unit", "automatic": False, "deadline": _iso(deadline)},
                        OFFICE_STAFF)

    # 整改方案
    day = issue_day + rng.randint(2, 10)
    running_from = story.office_time(day)
    emit(running_from, "RectificationPlanSubmitted", {
        "plan": f"针对“{problem['description'][:16]}”制定整改方案，明确责任人和完成时限",
        "measures": ["成立整改工作专班", "逐项建立整改台账", "按周调度整改进度"][:rng.randint(1, 3)],
        "planned_completion": _iso(deadline - rng.randint(0, 10))}, handler)
    if fate == "extended":  # asked for and approved before the deadline
        extend_day = max(day + 1, deadline - rng.randint(2, 8))
        new_deadline = deadline + rng.choice((15, 30, 30, 60))
        emit(story.office_time(extend_day), "DeadlineExtended", {
            "previous_deadline": _iso(deadline), "new_deadline": _iso(new_deadline),
            "reason": "涉及项目审批和资金安排，需延长整改时限", "approver": DIRECTOR}, OFFICE_STAFF)
        deadline = new_deadline
        day = extend_day
    if fate == "late":
        report_day = deadline + rng.randint(3, 60)
    else:
        report_day = max(day + 3, deadline - rng.randint(0, 25))
    rounds = 2 if fate == "failed" else 1
    for round_ in range(rounds):
        # 整改进展, one every few weeks until the report
        progress_day = day
        for _ in range(rng.randint(1, 3)):
            progress_day += rng.randint(5, 20)
            if progress_day >= report_day:
                break
            emit(story.office_time(progress_day), "RectificationProgressReported", {
                "summary": "已完成阶段整改任务，正在推进剩余事项",
                "evidence": ["整改现场照片", "工作会议纪要"][:rng.randint(0, 2)]}, handler)
        reported_at = story.office_time(report_day)
        watch(running_from, reported_at)
        reinspection_due = report_day + 30
        emit(reported_at, "RectificationReported", {
            "summary": "整改任务已全部完成，申请复查", "evidence": ["整改报告", "佐证材料汇编"],
            "reported_on": _iso(report_day), "reinspection_due": _iso(reinspection_due)}, handler)
        inspect_day = report_day + rng.randint(3, 25)
        if round_ + 1 < rounds:
            running_from = story.office_time(inspect_day)
            emit(running_from, "ReinspectionFailed", {"findings": "部分整改措施未落实到位，退回继续整改"}, INSPECTOR)
            day = inspect_day
            report_day = inspect_day + rng.randint(10, 30)
        else:
            emit(story.office_time(inspect_day), "ReinspectionPassed", {"findings": "经实地复查，问题已整改到位"}, INSPECTOR)
    close_day = inspect_day + rng.randint(0, 3)
    closed_on = _iso(close_day)
    closing_correlation = story.new_id()
    close_at = story.office_time(close_day)
    on_time = _iso(report_day) <= _iso(deadline)
    closed_id = emit(close_at, "RectificationClosed", {
        "notice_id": notice_id, "problem_id": problem["problem_id"], "closed_on": closed_on, "deadline": _iso(deadline),
        "on_time": on_time, "related_task_ids": list(related)}, INSPECTOR, closing_correlation)
    if closed_id is None:
        return None
    if rng.random() < 0.02:
        document = f"巴教督表〔{date.fromordinal(close_day).year}〕{rng.randint(1, 50)}号"
        emit(story.office_time(close_day + 5), "RectificationCommended", {
            "reason": "整改成效显著，予以通报表扬", "doc_number": document}, OFFICE_STAFF)
    # the notices service records the closure; the tasks service counts the matter as closed
    notice_reaction = story.emit(close_at + rng.randint(300, 2000), notice_id, "notice", "NoticeProblemClosed", {
        "notice_id": notice_id, "problem_id": problem["problem_id"], "case_id": case_id, "closed_on": closed_on},
        SYSTEM["notices"], closing_correlation, closed_id)
    for task_id in related:
        story.emit(close_at + rng.randint(300, 2000), task_id, "task", "TaskMatterClosed", {
            "task_id": task_id, "notice_id": notice_id, "matter_id": case_id, "closed_on": closed_on,
            "on_time": on_time}, SYSTEM["tasks"], closing_correlation, closed_id)
    if notice_reaction is None:
        return None
    return close_at + 2000, closed_id, closed_on, closing_correlation


def _day_of(at_ms: int) -> int:
    """The local (Asia/Shanghai) day ordinal of a UTC millisecond moment."""
    return (at_ms + SHANGHAI_OFFSET_MS) // DAY_MS + EPOCH_ORDINAL


# -- the whole history ---------------------------------------------------------------------------------

def _raw_history(story: _Story, notices: int, start: int, end: int) -> dict:
    years = list(range(date.fromordinal(start).year, date.fromordinal(end).year + 1))
    plans = _plans(story, years)
    counts = Counter()
    span = end - start + 1
    for n in range(notices):
        day = story.working_day_on_or_after(min(end, start + (n * span) // notices + story.rng.randint(0, 2)))
        if day > end:  # the last days of the range are a holiday: issue it on the last working day before
            day = end
            while not story._is_working(day):
                day -= 1
        result = _notice(story, n + 1, day, plans)
        counts["notices"] += 1
        counts["prompt_letters"] += result["prompt"]
        counts["cases"] += result["cases"]
    counts["plans"] = len(plans)
    counts["tasks"] = len(plans) * len(TASK_LINES)
    return counts


def generate_history(events: int = 1_000_000, *, end: date = DEFAULT_END, years: int = 3, seed: int = 20251231,
                     fast_seal: bool = True) -> History:
    """About ``events`` events over ``years`` years up to ``end`` (inclusive), deterministic for a seed."""
    started = time.perf_counter()
    start = date(end.year - years + 1, 1, 1).toordinal()
    end_ordinal = end.toordinal()
    end_ms = _local_midnight_ms(end_ordinal + 1) - 1
    # A small pilot run tells how many events a notice brings on average (with the same mix and cut-off).
    pilot = _Story(random.Random(seed ^ 0x5EED), end_ms)
    _raw_history(pilot, 0, start, end_ordinal)
    plan_events = len(pilot.raw)
    pilot_notices = 2400
    _raw_history(pilot, pilot_notices, start, end_ordinal)
    per_notice = (len(pilot.raw) - 2 * plan_events) / pilot_notices
    notices = max(1, round((events - plan_events) / per_notice))

    story = _Story(random.Random(seed), end_ms)
    counts = _raw_history(story, notices, start, end_ordinal)
    raw = story.raw
    raw.sort(key=lambda r: (r[0], r[1]))
    generated = time.perf_counter()
    sealed = _seal_all(raw, fast_seal)
    del story
    history = History(events=sealed, start=date.fromordinal(start), end=end, seed=seed, notices=counts["notices"],
                      prompt_letters=counts["prompt_letters"], cases=counts["cases"], plans=counts["plans"],
                      tasks=counts["tasks"])
    history.streams = len({e.stream_id for _, e in sealed})
    history.types = Counter(e.type for _, e in sealed)
    history.generate_seconds = generated - started
    history.seal_seconds = time.perf_counter() - generated
    return history


# -- sealing: versions and the hash chain, as seal_batch does ------------------------------------------

_CANONICAL = json.JSONEncoder(ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode
_WIRE = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode


def _format_ms(at_ms: int) -> str:
    """shared.envelope.format_time of that moment (UTC, millisecond precision)."""
    moment = EPOCH + timedelta(milliseconds=at_ms)
    return (f"{moment.year:04d}-{moment.month:02d}-{moment.day:02d}T{moment.hour:02d}:{moment.minute:02d}:"
            f"{moment.second:02d}.{moment.microsecond // 1000:03d}Z")


def _seal_all(raw: list[tuple], fast: bool) -> list[tuple[str, EventEnvelope]]:
    chains: dict[str, tuple[int, str]] = {}
    sealed = []
    for at_ms, _, stream_id, stream_type, event_type, data, actor, correlation, causation, event_id in raw:
        version, prev_hash = chains.get(stream_id, (0, GENESIS_HASH))
        version += 1
        moment = EPOCH + timedelta(milliseconds=at_ms)
        digest = ""
        if fast:  # the same canonical JSON as EventEnvelope.compute_hash, built without its generic conversions
            stamp = _format_ms(at_ms)
            body = {"event_id": event_id, "stream_id": stream_id, "stream_type": stream_type, "version": version,
                    "type": event_type, "schema_version": 1, "data": data,
                    "actor": {"user_id": actor.user_id, "role": actor.role, "unit": actor.unit, "name": actor.name},
                    "occurred_at": stamp, "recorded_at": stamp, "correlation_id": correlation,
                    "causation_id": causation, "prev_hash": prev_hash}
            digest = hashlib.sha256((prev_hash + _CANONICAL(body)).encode("utf-8")).hexdigest()
        envelope = EventEnvelope(event_id=event_id, stream_id=stream_id, stream_type=stream_type, version=version,
                                 type=event_type, schema_version=1, data=data, actor=actor, occurred_at=moment,
                                 recorded_at=moment, correlation_id=correlation, causation_id=causation,
                                 prev_hash=prev_hash, hash=digest)
        if not fast:
            envelope = envelope.sealed()
        chains[stream_id] = (version, envelope.hash)
        sealed.append((SERVICE_OF_STREAM_TYPE[stream_type], envelope))
    return sealed


def wire_bytes(envelope: EventEnvelope) -> bytes:
    """``envelope.to_json_bytes()`` for the plain JSON data generated here, without its generic conversions."""
    actor = envelope.actor
    stamp = _format_ms(int((envelope.recorded_at - EPOCH) / timedelta(milliseconds=1)))
    occurred = stamp if envelope.occurred_at == envelope.recorded_at else _format_ms(
        int((envelope.occurred_at - EPOCH) / timedelta(milliseconds=1)))
    return _WIRE({
        "event_id": envelope.event_id, "stream_id": envelope.stream_id, "stream_type": envelope.stream_type,
        "version": envelope.version, "type": envelope.type, "schema_version": envelope.schema_version,
        "data": envelope.data,
        "actor": {"user_id": actor.user_id, "role": actor.role, "unit": actor.unit, "name": actor.name},
        "occurred_at": occurred, "recorded_at": stamp, "correlation_id": envelope.correlation_id,
        "causation_id": envelope.causation_id, "prev_hash": envelope.prev_hash, "hash": envelope.hash,
    }).encode("utf-8")


def check(history: History, sample: int = 2000) -> None:
    """A sample of events against shared.envelope itself: hash, wire form, and the chains' links."""
    rng = random.Random(history.seed)
    picks = rng.sample(range(len(history.events)), min(sample, len(history.events)))
    for index in picks:
        _, envelope = history.events[index]
        assert envelope.compute_hash() == envelope.hash, f"hash of {envelope.event_id}"
        assert wire_bytes(envelope) == envelope.to_json_bytes(), f"wire form of {envelope.event_id}"
    last: dict[str, EventEnvelope] = {}
    for _, envelope in history.events:
        previous = last.get(envelope.stream_id)
        assert envelope.version == (previous.version + 1 if previous else 1)
        assert envelope.prev_hash == (previous.hash if previous else GENESIS_HASH)
        last[envelope.stream_id] = envelope


# -- publishing ------------------------------------------------------------------------------------------

def publish_history(history: History, settings: Settings, partitions: int = 3, processes: int = 2) -> dict:
    """Every event to its service's topic (key = stream id, so each stream keeps its order); returns figures.

    kafka-python spends most of a send in pure Python (the batch CRC above all), so ``processes`` forked
    producers share the work, each with the streams that hash to it: a stream's events still come from one
    producer, in order.
    """
    from shared.kafka import ensure_topics

    ensure_topics(settings, partitions=partitions)
    started = time.perf_counter()
    if threading.active_count() > 1:  # forking a process with other threads running is not safe
        processes = 1
    if processes <= 1:
        results = [_publish_part(history, settings, 0, 1)]
    else:
        context = multiprocessing.get_context("fork")
        pipes, workers = [], []
        for part in range(processes):
            receiver, sender = context.Pipe(duplex=False)
            worker = context.Process(target=_publish_worker, args=(history, settings, part, processes, sender),
                                     name=f"publish-{part}")
            worker.start()
            sender.close()
            pipes.append(receiver)
            workers.append(worker)
        results = []
        for receiver, worker in zip(pipes, workers, strict=True):
            try:
                results.append(receiver.recv())
            except EOFError:
                results.append({"events": 0, "bytes": 0, "failures": 1, "error": f"{worker.name} died"})
            worker.join()
    seconds = time.perf_counter() - started
    failures = sum(r["failures"] for r in results)
    if failures:
        raise RuntimeError(f"{failures} events were not published: {next(r['error'] for r in results if r['failures'])}")
    return {"events": sum(r["events"] for r in results), "seconds": seconds, "bytes": sum(r["bytes"] for r in results),
            "processes": max(1, processes)}


def _publish_worker(history: History, settings: Settings, part: int, parts: int, sender) -> None:
    try:
        sender.send(_publish_part(history, settings, part, parts))
    except BaseException as error:  # noqa: BLE001 - reported to the parent, which raises
        sender.send({"events": 0, "bytes": 0, "failures": 1, "error": repr(error)})
    finally:
        sender.close()


def _publish_part(history: History, settings: Settings, part: int, parts: int) -> dict:
    from shared.kafka import make_producer

    producer = make_producer(settings, acks=1, linger_ms=50, batch_size=1024 * 1024, max_request_size=8 * 1024 * 1024,
                             client_id=f"duban-bench-history-{part}")
    topics = {service: settings.topic(service) for service in ("tasks", "notices", "followups")}
    failures: list[BaseException] = []
    sent = sent_bytes = 0
    try:
        for service, envelope in history.events:
            key = envelope.stream_id.encode("utf-8")
            if parts > 1 and zlib.crc32(key) % parts != part:
                continue
            value = wire_bytes(envelope)
            sent += 1
            sent_bytes += len(value)
            producer.send(topics[service], key=key, value=value).add_errback(failures.append)
        producer.flush()
    finally:
        producer.close()
    return {"events": sent, "bytes": sent_bytes, "failures": len(failures),
            "error": repr(failures[0]) if failures else None}


if __name__ == "__main__":
    import argparse

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=100_000)
    args = parser.parse_args()
    made = generate_history(args.events)
    print(made.summary())
    print(f"generated in {made.generate_seconds:.1f} s, sealed in {made.seal_seconds:.1f} s")
    print(dict(made.types.most_common()))
    check(made)
    print("sample checked against shared.envelope")
