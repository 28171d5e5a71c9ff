"""Who is told what, when, and how: the rule table and the daily digest's settings (data, per office;
services/messages/rules.yaml has the defaults)."""
from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import time
from pathlib import Path

import yaml

from shared.errors import InvalidInput

DEFAULT_RULES_FILE = Path(__file__).resolve().parent.parent / "rules.yaml"

AUDIENCES = ("handlers", "leaders", "office", "inspectors")
UNIT_SOURCES = ("targets", "unsigned", "responsible", "issuer")
CHANNEL_KINDS = ("inbox", "email", "sms", "im")
# Findings of the messages worker's own watchers, next to the other services' event types.
SIGN_DUE_SOON = "SignDueSoon"  # 签收时限前一个工作日仍未签收
CASE_DUE_SOON = "CaseDueSoon"  # 整改时限进入黄灯期
# Whom the daily digest (每日待办摘要) may reach: a unit's handlers and leaders are told of their unit's items, the
# issuing office's staff of what is late among theirs; inspectors have no items of their own that fall due.
DIGEST_AUDIENCES = ("handlers", "leaders", "office")
DIGEST_OFFICE_KEYS = ("enabled", "within_working_days", "to")


@dataclass(frozen=True)
class Rule:
    id: str
    title: str
    on: tuple[str, ...]
    units: str
    to: tuple[str, ...]
    channels: tuple[str, ...]
    levels: tuple[str, ...] = ()  # RectificationEscalated only: the 督办级别 it applies to
    copy_to: tuple[str, ...] = ()  # audiences of the issuing office told as well (抄送)

    def applies(self, event_type: str, data: dict) -> bool:
        return event_type in self.on and (not self.levels or data.get("level") in self.levels)


@dataclass(frozen=True)
class DigestSettings:  # 每日待办摘要（一个督导办的设置）
    """Whether the items an office issued go into people's daily digests, and to whom."""

    enabled: bool = False
    # a case is listed as 临近时限 when due within this many working days; None: the office's yellow window
    # (shared/policy.py), so that the digest agrees with the traffic lights
    within_working_days: int | None = None
    to: tuple[str, ...] = DIGEST_AUDIENCES


@dataclass(frozen=True)
class DigestBook:
    """The digest's hour (one for everybody: a person gets one digest a day, whichever offices their items come
    from), the default settings and each office's own."""

    at: time = time(8, 0)  # Beijing time
    default: DigestSettings = DigestSettings()
    offices: dict[str, DigestSettings] = field(default_factory=dict)

    def for_office(self, office: str | None) -> DigestSettings:
        return self.offices.get(office or "", self.default)

    @property
    def enabled_anywhere(self) -> bool:
        return self.default.enabled or any(settings.enabled for settings in self.offices.values())


@dataclass(frozen=True)
class RuleBook:
    """The default rules and each office's own, and the daily digest's settings."""

    default: tuple[Rule, ...]
    offices: dict[str, tuple[Rule, ...]]
    digest: DigestBook = DigestBook()

    def for_office(self, office: str | None) -> tuple[Rule, ...]:
        return self.offices.get(office or "", self.default)

    def matching(self, office: str | None, event_type: str, data: dict) -> list[Rule]:
        return [rule for rule in self.for_office(office) if rule.applies(event_type, data)]


def _rule(entry: dict, where: str) -> Rule:
    try:
        rule = Rule(id=str(entry["id"]), title=str(entry.get("title") or entry["id"]), on=tuple(entry["events"]),
                    units=str(entry["units"]), to=tuple(entry["to"]), channels=tuple(entry.get("channels") or ("inbox",)),
                    levels=tuple(entry.get("levels") or ()), copy_to=tuple(entry.get("copy_to") or ()))
    except (KeyError, TypeError) as error:
        raise InvalidInput(f"message rule {where} lacks {error}", f"消息规则 {where} 缺少字段 {error}") from error
    wrong = ([a for a in rule.to + rule.copy_to if a not in AUDIENCES] + [c for c in rule.channels if c not in CHANNEL_KINDS]
             + ([rule.units] if rule.units not in UNIT_SOURCES else []))
    if wrong:
        raise InvalidInput(f"message rule {rule.id}: unknown {', '.join(wrong)}",
                           f"消息规则 {rule.id} 含未知取值：{'、'.join(wrong)}")
    if "inbox" not in rule.channels:  # the in-portal inbox is always on
        rule = Rule(**{**rule.__dict__, "channels": ("inbox", *rule.channels)})
    return rule


def _digest_invalid(where: str, value: object, expected_en: str, expected_zh: str) -> InvalidInput:
    return InvalidInput(f"digest setting {where} must be {expected_en}, got {value!r}",
                        f"每日待办摘要设置 {where} 必须是{expected_zh}，当前为 {value!r}", field=where)


def _digest_settings(entry: object, base: DigestSettings, where: str) -> DigestSettings:
    """``base`` with the keys ``entry`` gives replaced (an office's entry overrides only what it names)."""
    if entry is None:
        return base
    if not isinstance(entry, dict):
        raise _digest_invalid(where, entry, "a mapping", "映射")
    unknown = [key for key in entry if key not in DIGEST_OFFICE_KEYS]
    if unknown:
        raise InvalidInput(f"digest setting {where} has unknown keys {unknown}",
                           f"每日待办摘要设置 {where} 含未知配置项：{'、'.join(map(str, unknown))}", field=where)
    changes: dict = {}
    if "enabled" in entry:
        if not isinstance(entry["enabled"], bool):
            raise _digest_invalid(f"{where}.enabled", entry["enabled"], "true or false", " true 或 false")
        changes["enabled"] = entry["enabled"]
    if "within_working_days" in entry:
        days = entry["within_working_days"]
        # YAML reads `yes` as True and `"3"` as a string; neither should silently become a window
        if days is not None and (isinstance(days, bool) or not isinstance(days, int) or days < 0):
            raise _digest_invalid(f"{where}.within_working_days", days, "a whole number of working days >= 0",
                                  "不小于 0 的整数（工作日）")
        changes["within_working_days"] = days
    if "to" in entry:
        to = entry["to"]
        if not isinstance(to, list) or not to or any(a not in DIGEST_AUDIENCES for a in to):
            raise _digest_invalid(f"{where}.to", to, f"a list of {', '.join(DIGEST_AUDIENCES)}",
                                  f"由 {'、'.join(DIGEST_AUDIENCES)} 组成的列表")
        changes["to"] = tuple(to)
    return replace(base, **changes)


def parse_digest(data: object, source: str = "rules", base: DigestBook = DigestBook()) -> DigestBook:
    """The ``digest:`` section: ``{enabled, at, within_working_days, to, offices: {<office>: {enabled,
    within_working_days, to}}}``; keys left out keep ``base``'s, and an office's keys override the section's."""
    if data is None:
        return base
    where = f"{source}:digest"
    if not isinstance(data, dict):
        raise _digest_invalid(where, data, "a mapping", "映射")
    at = base.at
    if "at" in data:
        # unquoted 8:00 is a number to YAML (sexagesimal 480): only a quoted "08:00" is a time of day
        try:
            at = time.fromisoformat(data["at"]) if isinstance(data["at"], str) else None
        except ValueError:
            at = None
        if at is None or at.tzinfo is not None:
            raise _digest_invalid(f"{where}.at", data["at"], 'a quoted Beijing time such as "08:00"',
                                  '加引号的北京时间，例如 "08:00"')
    default = _digest_settings({k: v for k, v in data.items() if k not in ("at", "offices")}, base.default, where)
    offices = data.get("offices") or {}
    if not isinstance(offices, dict):
        raise _digest_invalid(f"{where}.offices", offices, "a mapping from office to settings", "由督导办到设置的映射")
    for office, entry in offices.items():
        if isinstance(entry, dict) and "at" in entry:
            raise InvalidInput(f"digest setting {where}.offices.{office}.at: the hour is one for everybody",
                               f"每日待办摘要的发送时间只能统一设置（{where}.at），不能按督导办设置",
                               field=f"{where}.offices.{office}.at")
    # offices start from this section's default, so a change of the default reaches those that do not say otherwise
    return DigestBook(at, default, {**base.offices, **{
        str(office): _digest_settings(entry, default, f"{where}.offices.{office}") for office, entry in offices.items()}})


def parse_rules(data: dict, source: str = "rules", digest: DigestBook = DigestBook()) -> RuleBook:
    """``digest``: the digest settings that the file's ``digest:`` section (if any) amends."""
    default = tuple(_rule(entry, f"{source}:default[{n}]") for n, entry in enumerate(data.get("default") or ()))
    offices = {office: tuple(_rule(entry, f"{source}:{office}[{n}]") for n, entry in enumerate(entries or ()))
               for office, entries in (data.get("offices") or {}).items()}
    return RuleBook(default, offices, parse_digest(data.get("digest"), source, digest))


def load_rules(path: str | None = None) -> RuleBook:
    """The defaults, with the offices' own rules from ``path`` (DUBAN_MESSAGE_RULES) when given; that file's
    ``digest:`` section amends the shipped one."""
    book = parse_rules(_read(DEFAULT_RULES_FILE), DEFAULT_RULES_FILE.name)
    if path:
        own = parse_rules(_read(Path(path)), Path(path).name, book.digest)
        book = RuleBook(own.default or book.default, own.offices, own.digest)
    return book


def _read(path: Path) -> dict:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError) as error:
        raise InvalidInput(f"message rules {path} are unreadable: {error}", f"消息规则文件 {path} 无法读取") from error
    return data
