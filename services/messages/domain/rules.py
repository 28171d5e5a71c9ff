"""Who is told what, when, and how: the rule table (data, per office; services/messages/rules.yaml has the defaults)."""
from __future__ import annotations

from dataclasses import dataclass
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
class RuleBook:
    """The default rules and each office's own."""

    default: tuple[Rule, ...]
    offices: dict[str, tuple[Rule, ...]]

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


def parse_rules(data: dict, source: str = "rules") -> RuleBook:
    default = tuple(_rule(entry, f"{source}:default[{n}]") for n, entry in enumerate(data.get("default") or ()))
    offices = {office: tuple(_rule(entry, f"{source}:{office}[{n}]") for n, entry in enumerate(entries or ()))
               for office, entries in (data.get("offices") or {}).items()}
    return RuleBook(default, offices)


def load_rules(path: str | None = None) -> RuleBook:
    """The defaults, with the offices' own rules from ``path`` (DUBAN_MESSAGE_RULES) when given."""
    book = _read(DEFAULT_RULES_FILE)
    if path:
        own = _read(Path(path))
        book = RuleBook(own.default or book.default, own.offices)
    return book


def _read(path: Path) -> RuleBook:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError) as error:
        raise InvalidInput(f"message rules {path} are unreadable: {error}", f"消息规则文件 {path} 无法读取") from error
    return parse_rules(data, path.name)
