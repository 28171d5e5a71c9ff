"""The configurable clocks of an office: published defaults, overridable per issuing office."""
from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import asdict, dataclass, fields, replace
from types import MappingProxyType

import yaml

from shared.deadlines import DayKind, Period
from shared.errors import InvalidInput

POLICY_FILE_ENV = "DUBAN_POLICY_FILE"


def _whole_days(value: object, path: str) -> int:
    """value, if it is a whole number of working days >= 0."""
    # YAML reads `yes` as True and `"3"` as a string; neither should silently become a time limit.
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise _bad_value(path, value, "a whole number of working days >= 0", "不小于 0 的整数（工作日）")
    return value


def _known_keys(settings: object, data: Mapping, where: str) -> None:
    """Refuse a key the settings dataclass does not have (a misspelt key must not be ignored silently)."""
    known = {spec.name for spec in fields(settings)}
    for key in data:
        if key not in known:
            path = f"{where}.{key}"
            raise InvalidInput(f"unknown policy key {path!r}", f"督办时限配置中有未知的配置项 {path!r}", field=path)


def _bad_value(path: str, value: object, expected_en: str, expected_zh: str) -> InvalidInput:
    """The error for a policy key with a value of the wrong shape."""
    return InvalidInput(
        f"policy key {path!r} must be {expected_en}, got {value!r}",
        f"督办时限配置项 {path!r} 必须是{expected_zh}，当前为 {value!r}",
        field=path,
    )


@dataclass(frozen=True)
class EvaluationWeights:  # 考评权重
    """How the 考评 of units scores a period (services/portal/domain/evaluation.py): the points of each part, which
    sum to 100 by default, and what costs points. Rates earn their share of the points; 用时 earns all at or under
    ``target_working_days`` on average and none at twice that; failed 复查 and 督办升级 deduct points per event,
    each part's deductions capped at its own points (a unit never scores below 0 in a part)."""

    sign_for: int = 15  # 签收: on-time 签收 rate × points
    rectified_on_time: int = 40  # 整改按时: rectified within the deadline in force, rate × points
    days_to_close: int = 15  # 用时: average working days from issue to 销号
    reinspection: int = 15  # 复查: less failed_reinspection_deduction per failed 复查
    escalations: int = 15  # 督办升级: less the deduction of each escalation's level
    target_working_days: int = 20
    failed_reinspection_deduction: int = 5
    reminder_deduction: int = 1  # 催办
    warning_deduction: int = 2  # 预警
    interview_deduction: int = 5  # 约谈
    circulation_deduction: int = 8  # 通报
    accountability_deduction: int = 15  # 问责

    def __post_init__(self) -> None:
        for spec in fields(self):
            _whole_days(getattr(self, spec.name), f"evaluation.{spec.name}")
        if self.target_working_days == 0:
            raise _bad_value("evaluation.target_working_days", 0, "at least 1", "至少为 1")

    def deduction(self, level: str) -> int:
        """The points one escalation of this level (shared.vocabulary EscalationLevel) costs."""
        return getattr(self, f"{level}_deduction", 0)

    def overridden(self, data: object, *, where: str) -> EvaluationWeights:
        if not isinstance(data, Mapping):
            raise _bad_value(where, data, "a mapping of evaluation weights", "由考评权重组成的映射")
        _known_keys(self, data, where)
        return replace(self, **{key: _whole_days(value, f"{where}.{key}") for key, value in data.items()})


@dataclass(frozen=True)
class OfficePolicy:
    """The time limits one issuing office applies."""

    # 整改时限: used when a problem in a notice gives no deadline of its own.
    rectification_period: Period = Period(30, DayKind.CALENDAR)
    # 签收时限: the unit must sign for a notice within this.
    sign_for_period: Period = Period(3, DayKind.WORKING)
    # 黄灯: a deadline this many working days away or closer shows yellow.
    yellow_within_working_days: int = 3
    # 预警: 催办 is raised when the deadline is missed; 预警 follows this many working days later.
    warning_after_working_days: int = 5
    # 复查: the office answers an 整改报告 within this.
    reinspection_period: Period = Period(30, DayKind.CALENDAR)
    # 考评: the weights units are evaluated with.
    evaluation: EvaluationWeights = EvaluationWeights()

    def __post_init__(self) -> None:
        for spec in fields(self):
            value = getattr(self, spec.name)
            if spec.name == "evaluation":
                if not isinstance(value, EvaluationWeights):
                    raise _bad_value(spec.name, value, "evaluation weights", "考评权重")
            elif spec.name.endswith("_period"):
                if not isinstance(value, Period):
                    raise _bad_value(spec.name, value, "a period {amount, kind}", "期限 {amount, kind}")
            elif isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise _bad_value(spec.name, value, "a whole number of working days >= 0", "不小于 0 的整数（工作日）")

    def to_dict(self) -> dict:
        """The policy as plain data, in the shape from_mapping reads."""
        return {
            spec.name: value.to_dict() if isinstance(value, Period) else asdict(value)
            if isinstance(value, EvaluationWeights) else value
            for spec in fields(self)
            for value in [getattr(self, spec.name)]
        }

    def overridden(self, data: object, *, where: str = "default") -> OfficePolicy:
        """This policy with the keys data gives replaced; errors name the key under where."""
        if data is None:
            return self
        if not isinstance(data, Mapping):
            raise _bad_value(where, data, "a mapping of policy keys", "由配置项组成的映射")
        _known_keys(self, data, where)
        changes = {}
        for key, value in data.items():
            path = f"{where}.{key}"
            if key == "evaluation":
                changes[key] = self.evaluation.overridden(value, where=path)
            else:
                changes[key] = Period.from_dict(value, field=path) if key.endswith("_period") else _whole_days(value, path)
        return replace(self, **changes)


class PolicyBook:
    """A default policy plus overrides keyed by the issuing office's unit name."""

    def __init__(self, default: OfficePolicy | None = None, offices: Mapping[str, OfficePolicy] | None = None):
        self.default = default or OfficePolicy()
        # Read-only so that a book shared between threads cannot change under a request.
        self.offices: Mapping[str, OfficePolicy] = MappingProxyType(dict(offices or {}))

    def for_office(self, unit: str | None) -> OfficePolicy:
        """The policy of the office with this unit name, or the default."""
        if unit is None:
            return self.default
        return self.offices.get(unit, self.default)

    @classmethod
    def from_mapping(cls, data: object) -> PolicyBook:
        """A book from {"default": {...}, "offices": {unit: {...}}}; office entries override only the keys they give."""
        if data is None:
            return cls()
        if not isinstance(data, Mapping):
            raise _bad_value("policy", data, "a mapping with default and offices", "包含 default 和 offices 的映射")
        for key in data:
            if key not in ("default", "offices"):
                raise InvalidInput(f"unknown policy key {key!r}", f"督办时限配置中有未知的配置项 {key!r}", field=str(key))
        default = OfficePolicy().overridden(data.get("default"), where="default")
        offices_data = data.get("offices") or {}
        if not isinstance(offices_data, Mapping):
            raise _bad_value("offices", offices_data, "a mapping from unit name to policy", "由单位名称到配置的映射")
        offices = {}
        for unit, entry in offices_data.items():
            if not isinstance(unit, str) or not unit.strip():
                raise _bad_value("offices", unit, "keyed by non-empty unit names", "以非空的单位名称为键")
            # Offices start from the book's default, not the built-in one, so a province-wide change reaches them all.
            offices[unit] = default.overridden(entry, where=f"offices.{unit}")
        return cls(default, offices)

    def __repr__(self) -> str:
        return f"PolicyBook(default={self.default!r}, offices={dict(self.offices)!r})"


def load_policy_book(path: str | None = None) -> PolicyBook:
    """The book in a YAML file: path, else $DUBAN_POLICY_FILE, else the published defaults."""
    path = path or os.environ.get(POLICY_FILE_ENV) or None
    if path is None:
        return PolicyBook()
    with open(path, encoding="utf-8") as handle:
        try:
            data = yaml.safe_load(handle)
        except yaml.YAMLError as error:
            raise InvalidInput(
                f"policy file {path} is not valid YAML: {error}",
                f"督办时限配置文件 {path} 不是有效的 YAML：{error}",
                field="policy_file",
            ) from error
    return PolicyBook.from_mapping(data)
