"""Who leads a measure and who partners, read from the measure's own words.

A plan writes responsibility in a few ways: "由A牵头，B、C配合", "（A牵头，B配合）", "由A、B负责",
"A会同B", "（责任单位：A、B）", "牵头单位：A；配合单位：B". Where none is used, the body that is the
subject of the sentence (or stands alone in a responsibility parenthesis) is taken. Bodies the text only
mentions are never the lead: higher authorities ("报省政府审定", "国务院教育督导委员会对省政府…评价")
and bodies the action is done to ("督促各区县政府", "向市政府反馈", "将区委组织部纳入成员单位").
"""
from __future__ import annotations

import bisect
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import Enum
from typing import Protocol

from .extract import without_titles


class UnitResolver(Protocol):
    """Maps a unit name as a plan writes it ("省教育厅") to the canonical name of a registered unit."""

    def __call__(self, name: str) -> str: ...


def same_name(name: str) -> str:
    """The resolver used until a directory is wired in: every name stands for itself."""
    return name


@dataclass(frozen=True)
class Roles:
    """The lead unit of a measure (None if the text names none) and its partner units."""

    lead: str | None
    partners: tuple[str, ...] = ()

    def resolved(self, resolve: UnitResolver) -> Roles:
        """The same roles in canonical names; two names of one unit count once, the lead first."""
        lead = resolve(self.lead) if self.lead is not None else None
        partners = dict.fromkeys(resolve(name) for name in self.partners)
        partners.pop(lead, None)
        return Roles(lead, tuple(partners))


# ====================================================================== whose plan it is

# Rank of an administrative level; the national level is above all.
_LEVEL_RANK = {"省": 3, "自治区": 3, "市": 2, "州": 2, "盟": 2, "县": 1, "区": 1, "旗": 1, "乡": 0, "镇": 0, "街道": 0}
NATIONAL = 4
_LEVEL = r"(?:自治区|街道|[省市州盟县区旗乡镇])"
# A place name: two or three characters, none of them a level or a word that cannot begin a name
# ("2023年郎溪县…" is 郎溪县, not 年郎溪县; "县市区政府" names no place).
_PLACE_CHAR = r"(?:(?![年的和与及在对我本全各该省市县区旗乡镇级])[\u4e00-\u9fff])"
_PLACE = re.compile(rf"(?P<name>{_PLACE_CHAR}{{2,3}}?)(?P<level>{_LEVEL})")
_NATIONAL_BODY = re.compile(
    r"^(?:国务院|中共中央|党中央|中央|国家|全国|教育部|财政部|人力资源和?社会保障部|民政部|公安部|司法部|审计署|"
    r"国家发展改革委|国家发展和改革委员会)"
)


@dataclass(frozen=True)
class PlanScope:
    """The administrative place and level of the body that issued a plan.

    ``places`` are the place names in the issuer's name, the plan's own last ("宣城市宣州区" →
    宣城, 宣州); ``level`` is the rank of the last one (None when unknown).
    """

    places: tuple[str, ...] = ()
    level: int | None = None

    @property
    def place(self) -> str | None:
        return self.places[-1] if self.places else None


UNKNOWN_SCOPE = PlanScope()


def plan_scope(parsed: dict) -> PlanScope:
    """Whose plan: from the issuer's name, else the title, else the first sentence."""
    for source in (parsed.get("issuer"), parsed.get("title"), parsed.get("intro")):
        if not source:
            continue
        if _NATIONAL_BODY.match(source):
            return PlanScope((), NATIONAL)
        # the places that open the name: 宣城市宣州区教育体育局 → 宣城, 宣州
        text = re.sub(r"^[\s\d]*年?[度，,、\s]*", "", source)
        places: list[tuple[str, str]] = []
        position = 0
        while (m := _PLACE.match(text, position)) is not None:
            places.append((m["name"], m["level"]))
            position = m.end()
        if not places and (m := _PLACE.search(text[:12])) is not None:
            places.append((m["name"], m["level"]))
        if places:
            return PlanScope(tuple(name for name, _level in places), _LEVEL_RANK[places[-1][1]])
    return UNKNOWN_SCOPE


# A party committee or government itself, or one of its deciding meetings, named by level:
# 省政府, 省委, 省委省政府, 市委、市政府, 县级人民政府, 省政府常务会议, 省委全面深化改革委员会.
# Its offices, departments and the education-supervision committee (the plan's own body) are not.
_TOP = r"(?:委|政府|人民政府|党委|党委政府|党委和政府|人大(?:常委会)?|政协)"
_TOP_BODY = re.compile(
    rf"^级?(?:{_TOP}(?:[、和]?[省市州县区]?级?{_TOP})?|"
    rf"(?:委|政府|人民政府)(?!教育督导委员会)[\u4e00-\u9fff]{{0,10}}(?:委员会|常务会议|常委会|会议))$"
)


def is_authority(name: str, scope: PlanScope) -> bool:
    """True for a body above the plan's issuer, or the government or party committee it answers to.

    Such bodies appear in a plan as the source of a requirement, the body that approves or
    evaluates, or the one evaluated: they lead a measure only when the text says so in words.
    """
    if _NATIONAL_BODY.match(name):
        return scope.level != NATIONAL
    named = _PLACE.match(name)
    if named is not None:
        if scope.level == NATIONAL:
            return False
        if scope.place is None:
            return bool(_TOP_BODY.match(name[named.end():]))  # whose place it is cannot be told
        if named["name"] in scope.places[:-1]:
            return True  # a higher place of the issuer: 宣城市… in a plan of 宣城市宣州区
        if named["name"] != scope.place:
            # another place at the issuer's level or above (宣城市… in 宁国市's plan): never ours
            return scope.level is None or _LEVEL_RANK[named["level"]] >= scope.level
        rest = name[named.end():]
        return bool(_TOP_BODY.match(rest))
    level = re.match(_LEVEL, name)
    if level is None:
        return False
    rank = _LEVEL_RANK[level.group()]
    if scope.level is not None and rank > scope.level:
        return True
    top = bool(_TOP_BODY.match(name[level.end():]))
    return top and (scope.level is None or rank == scope.level)


# ====================================================================== the measure's words

class Role(Enum):
    """What the words around a group of bodies say about it."""

    LEAD = "lead"          # 由A牵头 / A负责 / A会同… / 牵头单位：A
    SHARED = "shared"      # 由A、B负责 / 责任单位：A、B — the first leads, the others partner
    PARTNER = "partner"    # 会同B / B配合 / 配合单位：B
    TAIL = "tail"          # alone in a responsibility parenthesis: （A、B）
    SUBJECT = "subject"    # opens its clause: "A要…", "A将…"
    MENTION = "mention"    # anything else: an object, a possessor, a recipient


_CLAUSE_END = re.compile(r"[。；;！？!?\n，,（()）]")
# Bodies of one list: "A、B", "A和B", "A及B" (not a comma: "报省政府，省教育厅负责" are two clauses).
_JOINER = re.compile(r"^\s*(?:、|和|与|及|以及)\s*$")
_ETC = r"(?:等[\u4e00-\u9fff]{0,6}?(?:单位|部门|机构|方面))?\s*"
_LEAD_AFTER = re.compile(rf"^{_ETC}(?:共同|要|应|将)?(?:牵头|负责(?!同志|人))")
_PARTNER_AFTER = re.compile(rf"^{_ETC}(?:共同|积极|要|应|按职责)?(?:配合|参与|协同|协助|协办)")
_SUBJECT_OF_WITH = re.compile(r"^(?:要|应|将|牵头)?(?:会同|联合)")
_PARTNER_BEFORE = re.compile(r"(?:会同|协同|联合|配合|协助|参与|联同)$")
_LEAD_LABEL = re.compile(r"(?:牵头单位|牵头部门|主责单位|牵头)\s*[:：]$")
_SHARED_LABEL = re.compile(r"(?:责任单位|责任部门|负责单位|责任主体)\s*[:：]$")
_PARTNER_LABEL = re.compile(r"(?:配合单位|配合部门|协办单位|参与单位|协同单位)\s*[:：]$")
# Words before a clause's subject that leave it the subject: "同时，A将…" is split at the comma.
_SUBJECT_BEFORE = re.compile(r"^(?:并|同时|另|此外|其中|首先|其次|最后|再|今年|年内|\d{4}年)?$")
# After a body: it is only mentioned ("省委省政府要求", "市政府履行教育职责评价", "省委主要领导的批示").
_MENTIONED_AFTER = re.compile(
    r"^(?:的|之|主要领导|领导|要求|部署|决策|精神|批示|交办|履行|文件|审定|审议|批准|备案|同意|为)"
)
_ROLE_WORDS = re.compile(r"牵头|负责(?!同志|人)|配合|会同|协同|协助|参与|责任单位|责任部门")


# Bounds on the text and units read word by word; a real measure is far below both.
MAX_MEASURE = 20_000
MAX_UNITS = 200


@dataclass(frozen=True)
class _Group:
    names: tuple[str, ...]
    start: int
    end: int


def _locate(text: str, names: Sequence[str]) -> tuple[list[tuple[int, int, str]], list[str]]:
    """Where each name occurs (longest names first, no overlaps), and the names not found."""
    taken = bytearray(len(text))
    found: list[tuple[int, int, str]] = []
    missing: list[str] = []
    for name in sorted(names, key=len, reverse=True):
        hit = False
        position = 0
        while name and (start := text.find(name, position)) >= 0:
            position = start + 1
            end = start + len(name)
            if taken.find(1, start, end) >= 0:
                continue
            taken[start:end] = b"\x01" * (end - start)
            found.append((start, end, name))
            hit = True
        if not hit:
            missing.append(name)
    return sorted(found), missing


def _groups(text: str, mentions: list[tuple[int, int, str]]) -> list[_Group]:
    groups: list[_Group] = []
    for start, end, name in mentions:
        if groups and _JOINER.match(text[groups[-1].end:start]):
            last = groups[-1]
            groups[-1] = _Group((*last.names, name), last.start, end)
        else:
            groups.append(_Group((name,), start, end))
    return groups


def _responsibility_parentheses(text: str) -> list[tuple[int, int]]:
    """Parentheses that say who is responsible: the one closing the measure, or any with a role word."""
    closing = len(text.rstrip(" \t\n。；;."))
    return [
        m.span() for m in re.finditer(r"[（(][^（）()]{2,120}[）)]", text)
        if m.end() >= closing or _ROLE_WORDS.search(text, m.start(), m.end())
    ]


def _role(text: str, group: _Group, clause_ends: list[int], parentheses: list[tuple[int, int]]) -> Role:
    preceding = bisect.bisect_left(clause_ends, group.start)
    following = bisect.bisect_left(clause_ends, group.end)
    clause_start = clause_ends[preceding - 1] + 1 if preceding else 0
    clause_end = clause_ends[following] if following < len(clause_ends) else len(text)
    before = text[clause_start:group.start].strip()
    after = text[group.end:clause_end].strip()
    if before.endswith("由"):
        return Role.SHARED if len(group.names) > 1 else Role.LEAD
    if _LEAD_LABEL.search(before):
        return Role.LEAD
    if _SHARED_LABEL.search(before):
        return Role.SHARED
    if _PARTNER_LABEL.search(before) or _PARTNER_BEFORE.search(before):
        return Role.PARTNER
    if _LEAD_AFTER.match(after):
        return Role.SHARED if len(group.names) > 1 else Role.LEAD
    if _PARTNER_AFTER.match(after):
        return Role.PARTNER
    if _SUBJECT_BEFORE.match(before) and _SUBJECT_OF_WITH.match(after):
        return Role.LEAD
    if not _SUBJECT_BEFORE.match(before) or _MENTIONED_AFTER.match(after):
        return Role.MENTION
    inside = any(start < group.start and group.end < end for start, end in parentheses)
    return Role.TAIL if inside else Role.SUBJECT


def assign_roles(text: str, units: Iterable[str], scope: PlanScope = UNKNOWN_SCOPE) -> Roles:
    """The lead and partner units of a measure, from the units found in its text.

    A body its words mark as the doer leads, even a higher authority; without such a mark the
    first body of a responsibility parenthesis leads, else the subject of a clause. Bodies named
    as partners (会同B, B配合) partner, higher authorities excepted. Units that cannot be found in
    the text (a caller's own list) come last, in their order, as before.
    """
    names = list(dict.fromkeys(units))
    if len(text or "") > MAX_MEASURE or len(names) > MAX_UNITS:
        # not one measure but a page the parser could not split: the old rule, minus the authorities
        kept = [name for name in names if not is_authority(name, scope)]
        return Roles(kept[0] if kept else None, tuple(kept[1:]))
    masked = without_titles(text or "")
    mentions, missing = _locate(masked, names)
    clause_ends = [m.start() for m in _CLAUSE_END.finditer(masked)]
    parentheses = _responsibility_parentheses(masked)
    read = [(group, _role(masked, group, clause_ends, parentheses)) for group in _groups(masked, mentions)]
    marked = [group for group, role in read if role in (Role.LEAD, Role.SHARED)]
    if marked:
        lead: str | None = marked[0].names[0]
        # what the words mark as doer is kept whoever it is; the other bodies that take part
        # (partners, the rest of a responsibility parenthesis, other clauses' subjects) unless authorities
        involved = [
            name for group, role in read for name in group.names
            if role in (Role.LEAD, Role.SHARED)
            or (role in (Role.PARTNER, Role.TAIL, Role.SUBJECT) and not is_authority(name, scope))
        ] + [name for name in missing if not is_authority(name, scope)]
    else:
        doers = [group for group, role in read if role is Role.TAIL] + [
            group for group, role in read if role is Role.SUBJECT]
        candidates = [name for group in doers for name in group.names if not is_authority(name, scope)]
        candidates += [name for name in missing if not is_authority(name, scope)]
        lead = candidates[0] if candidates else None
        involved = [
            name for group, role in read for name in group.names
            if role in (Role.TAIL, Role.SUBJECT, Role.PARTNER) and not is_authority(name, scope)
        ] + candidates
    return Roles(lead, tuple(name for name in dict.fromkeys(involved) if name != lead))
