"""``duban notice issue``, ``duban overdue`` and ``duban timeline``: a notice's life from the command line.

``notice issue`` and ``overdue`` talk to the services over HTTP (through ``services.api_client``); ``timeline`` is an
operator command that reads the services' event stores directly, like ``duban verify``. Everything that
does not need the network or a database (loading a notice file, summaries, tables, merging a timeline)
is a plain function, so it can be tested on its own.
"""
from __future__ import annotations

import hashlib
import json
import unicodedata
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator, Mapping, Sequence

import click
import yaml

from services.api_client import ApiError, HttpAnswer, InvalidServiceUrl, ServiceRefused, decode_answer, http_call, service_url
from shared.clock import SHANGHAI, SystemClock
from shared.deadlines import CalendarOutOfRange, overdue_working_days
from shared import event_words
from shared.envelope import Actor, EventEnvelope, format_time
from shared.eventstore.base import EventStore, VerificationResult
from shared.idempotency import HEADER as IDEMPOTENCY_HEADER
from shared.idempotency import MAX_KEY_LENGTH, REPLAYED_HEADER, valid_key
from shared.vocabulary import ESCALATION_ZH, NOTICE_STATUS_ZH

DEFAULT_NOTICES_URL = "http://127.0.0.1:8002"
DEFAULT_FOLLOWUPS_URL = "http://127.0.0.1:8003"
PAGE_SIZE = 100  # flask-smorest's largest page
MAX_PAGES = 10_000  # a guard against a server that never stops answering with more pages
# The order services are shown in when two events carry the same recorded time (a notice causes its cases).
SERVICE_ORDER = ("notices", "followups", "tasks")
LABEL_WIDTH = 20  # terminal columns of the timeline's label column (复查未通过，退回整改)



# -- errors ----------------------------------------------------------------------------------------

class InputError(click.ClickException):
    """Bad input on the command line (an unreadable or invalid file): "Error: …" on stderr, exit 2."""

    exit_code = 2


class ServiceError(click.ClickException):
    """The service could not be reached, or it refused: its message and each field error on stderr (exit 1)."""

    def __init__(self, error: ApiError):
        super().__init__(str(error))
        self.error = error


@contextmanager
def talking_to_services() -> Iterator[None]:
    """api_client's errors as click's: a bad --url is bad input (exit 2), a failed request exits 1."""
    try:
        yield
    except InvalidServiceUrl as error:
        raise InputError(str(error)) from None
    except ApiError as error:
        raise ServiceError(error) from None


# -- notice files --------------------------------------------------------------------------------

def load_notice_file(path: str | Path) -> tuple[dict, bytes]:
    """A notice (the body of POST /notices) from a YAML or JSON file, with the file's bytes."""
    path = Path(path)
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise InputError(f"文件不存在：{path} / no such file: {path}") from None
    except IsADirectoryError:
        raise InputError(f"不是文件：{path} / not a file: {path}") from None
    except OSError as error:
        raise InputError(f"无法读取文件：{path} / cannot read {path}: {error.strerror}") from None
    return parse_notice_document(raw, path.name), raw


def parse_notice_document(raw: bytes, name: str = "notice") -> dict:
    """Parse YAML (JSON files, named *.json, are read as JSON); the top level must be a mapping."""
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise InputError(f"{name} 不是 UTF-8 编码 / {name} is not UTF-8 (byte {error.start})") from None
    if name.lower().endswith(".json"):
        try:
            data = json.loads(text)
        except json.JSONDecodeError as error:
            raise InputError(f"{name} 不是有效的 JSON / {name} is not valid JSON: "
                             f"line {error.lineno}, column {error.colno}: {error.msg}") from None
    else:
        try:
            data = yaml.safe_load(text)
        except yaml.YAMLError as error:
            mark = getattr(error, "problem_mark", None)
            where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark is not None else ""
            problem = getattr(error, "problem", None) or str(error)
            raise InputError(f"{name} 不是有效的 YAML / {name} is not valid YAML: {where}{problem}") from None
    if not isinstance(data, dict):
        found = "nothing" if data is None else type(data).__name__
        raise InputError(f"{name} 应为一个通知（键值映射）/ {name} must hold one notice as a mapping of fields, found {found}")
    return data


def notice_request_body(notice: Mapping[str, Any]) -> bytes:
    """The JSON sent to POST /notices; YAML dates become ISO strings. Same notice, same bytes."""

    def plain(value: Any) -> Any:
        if isinstance(value, (date, datetime)):
            return value.isoformat()
        raise TypeError(type(value).__name__)

    try:
        return json.dumps(notice, ensure_ascii=False, sort_keys=True, default=plain).encode("utf-8")
    except (TypeError, ValueError) as error:
        raise InputError(f"通知中有无法转换为 JSON 的值 / the notice holds a value JSON cannot carry: {error}") from None


def default_idempotency_key(raw: bytes) -> str:
    """sha256 of the file's bytes: running the same file again gets the first answer back."""
    return hashlib.sha256(raw).hexdigest()


def describe_deadline_rule(rule: Any) -> str:
    if not isinstance(rule, Mapping) or not rule.get("amount"):
        return ""
    return f"{rule['amount']}个工作日" if rule.get("kind") == "working" else f"{rule['amount']}日"


def format_issued_notice(notice: Mapping[str, Any], replayed: bool = False) -> str:
    """The answer to POST /notices for people: id, status, and each problem's unit and deadline."""
    status = notice.get("status") or ""
    head = ("此前已用同一文件下发，返回原结果 / already issued from this file (same Idempotency-Key; original answer)"
            if replayed else "督办通知已下发 / notice issued")
    doc_number = f" {notice['doc_number']}" if notice.get("doc_number") else ""
    lines = [f"{head}: {notice.get('id')}",
             f"状态 status: {notice.get('status_zh') or NOTICE_STATUS_ZH.get(status, status)} ({status})",
             f"{notice.get('kind', '')}《{notice.get('title', '')}》{doc_number}"]
    if notice.get("sign_for_deadline"):
        lines.append(f"签收时限 sign-for deadline: {notice['sign_for_deadline']}")
    problems = notice.get("problems") or []
    lines.append(f"问题清单 problems: {len(problems)}")
    rows = []
    for problem in problems:
        rule = describe_deadline_rule(problem.get("deadline_rule"))
        rows.append([problem.get("problem_id") or "", problem.get("responsible_unit") or "",
                     (problem.get("deadline") or "—") + (f"（{rule}）" if rule else ""),
                     shorten(problem.get("description") or "", 40)])
    if rows:
        lines.append(indent(format_table(["问题", "责任单位 unit", "整改时限 deadline", "问题描述"], rows)))
    return "\n".join(lines)


# -- tables and text --------------------------------------------------------------------------------

def display_width(text: str) -> int:
    """Columns a terminal gives the text: CJK characters take two."""
    width = 0
    for char in text:
        if unicodedata.combining(char):
            continue
        width += 2 if unicodedata.east_asian_width(char) in ("W", "F") else 1
    return width


def format_table(headers: Sequence[str], rows: Iterable[Sequence[Any]]) -> str:
    """A plain-text table aligned for CJK text (two spaces between columns)."""
    table = [[str(cell) for cell in headers]] + [["" if cell is None else str(cell) for cell in row] for row in rows]
    widths = [max(display_width(row[i]) for row in table) for i in range(len(headers))]
    lines = []
    for row in table:
        cells = [cell + " " * (widths[i] - display_width(cell)) for i, cell in enumerate(row)]
        lines.append("  ".join(cells).rstrip())
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def indent(text: str, prefix: str = "  ") -> str:
    return "\n".join(prefix + line for line in text.splitlines())


def shorten(text: Any, limit: int = 60) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


# -- overdue ---------------------------------------------------------------------------------------

def fetch_all_pages(base_url: str, path: str, params: Mapping[str, Any], token: str,
                    call: Callable[..., HttpAnswer] = http_call) -> list[dict]:
    """Every item of a paginated list, page by page (X-Pagination: {"total_pages": …}, or {"has_more": …} for a long
    filtered list whose total the service does not count)."""
    items: list[dict] = []
    seen: set = set()
    page = 1
    while page <= MAX_PAGES:
        answer = call("GET", service_url(base_url, path, {**params, "page": page, "page_size": PAGE_SIZE}), token=token)
        batch = decode_answer(answer)
        if not isinstance(batch, list):
            raise ServiceRefused(answer.url, answer.status, None, "expected a list / 服务返回的不是列表")
        for item in batch:
            key = item.get("id") if isinstance(item, Mapping) else None
            if key is None or key not in seen:  # an item may move between pages while we read
                items.append(item)
                seen.add(key)
        if not batch or not _more_pages(answer.header("X-Pagination"), page):
            break
        page += 1
    return items


def _more_pages(header: str | None, page: int) -> bool:
    """Whether a page follows this one; no (or an unreadable) X-Pagination means a single page."""
    try:
        pagination = json.loads(header) if header else {}
        if "has_more" in pagination:
            return bool(pagination["has_more"])
        return page < int(pagination.get("total_pages"))
    except (ValueError, TypeError, AttributeError):
        return False


def overdue_days_text(deadline: str | None, today: date) -> str:
    """Working days past the deadline; "?" when the holiday calendar does not cover the dates."""
    if not deadline:
        return "—"
    try:
        return str(overdue_working_days(date.fromisoformat(deadline), today))
    except (CalendarOutOfRange, ValueError):  # beyond the official calendar's years, or not a date
        return "?"


def overdue_days_value(deadline: str | None, today: date) -> int | None:
    text = overdue_days_text(deadline, today)
    return int(text) if text.isdigit() else None


def escalation_label(level: str | None) -> str:
    if not level:
        return "—"
    return ESCALATION_ZH.get(level, level)


OVERDUE_HEADERS = ["事项 case", "责任单位 unit", "整改时限 deadline", "逾期工作日 overdue", "督办级别 level", "文号 doc no."]


def overdue_rows(cases: Iterable[Mapping[str, Any]], today: date) -> list[list[str]]:
    return [[case.get("id") or "", case.get("responsible_unit") or "", case.get("deadline") or "—",
             overdue_days_text(case.get("deadline"), today), escalation_label(case.get("escalation_level")),
             case.get("doc_number") or "—"] for case in cases]


def format_overdue(cases: Sequence[Mapping[str, Any]], today: date, unit: str | None = None) -> str:
    where = f"，责任单位 {unit}" if unit else ""
    head = f"逾期事项 overdue items: {len(cases)}（截至 {today.isoformat()}{where}）"
    if not cases:
        return f"{head}\n没有逾期事项 / no overdue items"
    return f"{head}\n{format_table(OVERDUE_HEADERS, overdue_rows(cases, today))}"


# -- timeline --------------------------------------------------------------------------------------

@dataclass(frozen=True)
class TimelineEntry:
    service: str
    event: EventEnvelope


@dataclass(frozen=True)
class StreamCheck:
    service: str
    stream_id: str
    result: VerificationResult


@dataclass
class Timeline:
    notice_id: str
    entries: list[TimelineEntry]
    streams: list[tuple[str, str]]  # (service, stream id) of every stream read
    unopened_cases: list[str]  # case streams the notice's problems should have but that hold no event (yet)


class NoticeNotFound(click.ClickException):
    def __init__(self, notice_id: str):
        super().__init__(f"督办通知 {notice_id} 不存在 / notice {notice_id} not found in the notices event store")


def merge_timeline(groups: Iterable[Iterable[TimelineEntry]]) -> list[TimelineEntry]:
    """All entries by recorded time; ties go notices → followups → tasks, then stream and version."""
    def key(entry: TimelineEntry):
        rank = SERVICE_ORDER.index(entry.service) if entry.service in SERVICE_ORDER else len(SERVICE_ORDER)
        return entry.event.recorded_at, rank, entry.event.stream_id, entry.event.version

    return sorted((entry for group in groups for entry in group), key=key)


def related_streams(notice_events: Sequence[EventEnvelope]) -> tuple[list[str], list[str]]:
    """Problem ids (issued ones only: a draft opens no case) and related task ids named by the notice's events."""
    problem_ids: list[str] = []
    task_ids: list[str] = []
    for event in notice_events:
        data = event.data or {}
        if event.type == "NoticeIssued":
            problem_ids += [p.get("problem_id") for p in data.get("problems") or [] if p.get("problem_id")]
        content = data.get("content") if isinstance(data.get("content"), Mapping) else {}
        task_ids += list(data.get("related_task_ids") or []) + list(content.get("related_task_ids") or [])
    return list(dict.fromkeys(problem_ids)), list(dict.fromkeys(task_ids))


def collect_timeline(stores: Mapping[str, EventStore], notice_id: str) -> Timeline:
    """The notice's stream, its cases' streams and its related tasks' events about it."""
    notice_events = stores["notices"].read_stream(notice_id)
    if not notice_events:
        raise NoticeNotFound(notice_id)
    problem_ids, task_ids = related_streams(notice_events)
    groups = [[TimelineEntry("notices", e) for e in notice_events]]
    streams = [("notices", notice_id)]
    unopened = []
    for problem_id in problem_ids:
        case_id = f"{notice_id}:{problem_id}"
        events = stores["followups"].read_stream(case_id)
        if events:
            groups.append([TimelineEntry("followups", e) for e in events])
            streams.append(("followups", case_id))
        else:
            unopened.append(case_id)
    for task_id in task_ids:
        events = [e for e in stores["tasks"].read_stream(task_id) if (e.data or {}).get("notice_id") == notice_id]
        if events:
            groups.append([TimelineEntry("tasks", e) for e in events])
            streams.append(("tasks", task_id))
    return Timeline(notice_id, merge_timeline(groups), streams, unopened)


def verify_streams(stores: Mapping[str, EventStore], streams: Iterable[tuple[str, str]]) -> list[StreamCheck]:
    return [StreamCheck(service, stream_id, stores[service].verify(stream_id)) for service, stream_id in streams]


def shanghai_time(moment: datetime) -> str:
    """``2026-11-23 22:30:11.123`` in Beijing time."""
    return moment.astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M:%S.%f")[:-3]


def format_actor(actor: Actor) -> str:
    return "/".join(part for part in (actor.user_id, actor.role, actor.unit) if part)


def summarize(event_type: str, data: Mapping[str, Any], limit: int = 80) -> str:
    """The event's one-line summary (shared.event_words, as the portal and the messages say it), cut to fit a line."""
    return shorten(event_words.summary(event_type, data or {}), limit)


def format_timeline_line(entry: TimelineEntry) -> str:
    event = entry.event
    backfill = event.data.get("backfill") or {}
    occurred = (f"  [补录 backfilled: occurred {event.data['occurred_on']}, reason: {backfill['reason']}]"
                if backfill.get("reason") and event.data.get("occurred_on") else "")
    label = event_words.label(event.type, event.data or {})
    label += " " * max(0, LABEL_WIDTH - display_width(label))
    return (f"{shanghai_time(event.recorded_at)}  {event.type:<29}  {event.stream_id} v{event.version}  "
            f"{format_actor(event.actor)}  {label}  {summarize(event.type, event.data)}{occurred}")


def format_check(check: StreamCheck) -> str:
    result = check.result
    if result.ok:
        events = f"{result.events_checked} event{'' if result.events_checked == 1 else 's'}"
        return f"  ✓ {check.service:<9} {check.stream_id}: {events}, chain ok / 哈希链完整"
    return (f"  ✗ {check.service:<9} {check.stream_id}: BROKEN / 哈希链不一致 at version {result.first_bad_version} "
            f"(event {result.first_bad_event_id}): {result.reason}")


def format_timeline(timeline: Timeline, checks: Sequence[StreamCheck]) -> str:
    lines = [f"督办通知 {timeline.notice_id} 的时间线 / timeline (Asia/Shanghai): {len(timeline.entries)} events"]
    lines += [format_timeline_line(entry) for entry in timeline.entries]
    lines.append("哈希链校验 / hash-chain verification:")
    lines += [format_check(check) for check in checks]
    lines += [f"  - followups {case_id}: 尚未建立 / not opened (yet)" for case_id in timeline.unopened_cases]
    return "\n".join(lines)


def timeline_to_json(timeline: Timeline, checks: Sequence[StreamCheck]) -> list[dict]:
    verified = {(c.service, c.stream_id): c.result.ok for c in checks}
    return [{
        "recorded_at": format_time(e.event.recorded_at),
        "time_shanghai": e.event.recorded_at.astimezone(SHANGHAI).isoformat(timespec="milliseconds"),
        "service": e.service,
        "stream_id": e.event.stream_id,
        "version": e.event.version,
        "type": e.event.type,
        "event_id": e.event.event_id,
        "actor": e.event.actor.to_dict(),
        "label": event_words.label(e.event.type, e.event.data or {}),
        "summary": event_words.summary(e.event.type, e.event.data or {}),
        "occurred_on": e.event.data.get("occurred_on"),  # the business date of a step (补录 keeps its real day)
        "data": e.event.to_dict()["data"],
        "stream_verified": verified.get((e.service, e.event.stream_id)),
    } for e in timeline.entries]


def open_stores(settings=None) -> dict[str, EventStore]:
    """Each service's event store, bootstrapped from Settings() (MONGO_URL, DUBAN_DB_PREFIX) like ``duban verify``."""
    import importlib

    from shared.config import Settings

    settings = settings or Settings()
    return {name: importlib.import_module(f"services.{name}.bootstrap").bootstrap(settings).store for name in SERVICE_ORDER}


# -- commands --------------------------------------------------------------------------------------

def _require_token(token: str | None) -> str:
    if not token:
        raise InputError("需要身份令牌 / a token is required: pass --token or set DUBAN_TOKEN "
                         "(e.g. DUBAN_TOKEN=$(duban token --user wang.wu --role office_staff --unit 巴中市教育督导室))")
    return token


def _echo_json(value: Any) -> None:
    click.echo(json.dumps(value, ensure_ascii=False, indent=2))


TOKEN_OPTION = click.option("--token", envvar="DUBAN_TOKEN", default=None, show_envvar=True,
                            help="bearer token (see `duban token`)")
JSON_OPTION = click.option("--json", "as_json", is_flag=True, help="print JSON instead of text")


@click.group()
def notice() -> None:
    """督办通知 supervision notices: issue from a file."""


@notice.command("issue")
@click.argument("file", metavar="FILE", type=click.Path(dir_okay=False))
@click.option("--url", envvar="DUBAN_NOTICES_URL", default=DEFAULT_NOTICES_URL, show_default=True, show_envvar=True,
              help="base URL of the notices service")
@TOKEN_OPTION
@click.option("--idempotency-key", default=None, metavar="KEY",
              help="sent as the Idempotency-Key header; default: sha256 of FILE's content, so running the same file "
                   "again (with the same user's token) returns the first answer and issues nothing new")
@JSON_OPTION
def issue(file: str, url: str, token: str | None, idempotency_key: str | None, as_json: bool) -> None:
    """Issue a notice from FILE (YAML or JSON: the body of POST /notices).

    Each problem's deadline is a date (deadline: 2026-12-31) or a number of days from today
    (deadline_days: 5, deadline_kind: working | calendar); without either the office's default applies.
    """
    payload, raw = load_notice_file(file)
    token = _require_token(token)
    key = idempotency_key if idempotency_key is not None else default_idempotency_key(raw)
    if not valid_key(key):
        raise InputError(f"--idempotency-key 须为 1 至 {MAX_KEY_LENGTH} 个可打印 ASCII 字符 / "
                         f"must be 1 to {MAX_KEY_LENGTH} printable ASCII characters")
    with talking_to_services():
        answer = http_call("POST", service_url(url, "/notices"), token=token, body=notice_request_body(payload),
                           headers={IDEMPOTENCY_HEADER: key})
        issued = decode_answer(answer)
    if as_json:
        _echo_json(issued)
    else:
        click.echo(format_issued_notice(issued, replayed=answer.header(REPLAYED_HEADER) == "true"))


@click.command()
@click.option("--unit", default=None, help="only this responsible unit (责任单位)")
@click.option("--url", envvar="DUBAN_FOLLOWUPS_URL", default=DEFAULT_FOLLOWUPS_URL, show_default=True, show_envvar=True,
              help="base URL of the followups service")
@TOKEN_OPTION
@JSON_OPTION
def overdue(unit: str | None, url: str, token: str | None, as_json: bool) -> None:
    """List overdue rectification items (red light): case, unit, deadline, working days overdue, level, 文号."""
    token = _require_token(token)
    with talking_to_services():
        cases = fetch_all_pages(url, "/cases", {"light": "red", "unit": unit}, token)
    cases.sort(key=lambda case: (case.get("deadline") or "", case.get("id") or ""))  # longest overdue first
    today = SystemClock().today()
    if as_json:
        _echo_json([{**case, "overdue_working_days": overdue_days_value(case.get("deadline"), today)} for case in cases])
    else:
        click.echo(format_overdue(cases, today, unit))


@click.command()
@click.argument("notice_id", metavar="NOTICE_ID")
@JSON_OPTION
def timeline(notice_id: str, as_json: bool) -> None:
    """Everything recorded about a notice, from the event stores (MONGO_URL, DUBAN_DB_PREFIX).

    The notice's stream, its cases (NOTICE_ID:P1, …) and its related tasks' events about it, merged by
    recorded time and shown in Beijing time; then each stream's hash-chain check. Exits 1 if the notice is
    unknown or a chain does not verify.
    """
    from pymongo.errors import PyMongoError

    try:
        stores = open_stores()
        found = collect_timeline(stores, notice_id)
        checks = verify_streams(stores, found.streams)
    except PyMongoError as error:
        from shared.config import Settings

        raise click.ClickException(f"无法读取事件库 / cannot read the event stores at {Settings().mongo_url}: {error}") from None
    if as_json:
        _echo_json(timeline_to_json(found, checks))
    else:
        click.echo(format_timeline(found, checks))
    if not all(check.result.ok for check in checks):
        raise SystemExit(1)


COMMANDS = (notice, overdue, timeline)
