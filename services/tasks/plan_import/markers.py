"""Heading and item markers of Chinese official documents, and numeral helpers.

Official documents number their levels in a fixed order (GB/T 9704):
``第一部分`` > ``一、`` > ``（一）`` > ``1.`` > ``（1）`` > ``①``. Each marker is
given a *rank* in that order so that a tree can be built from any subset of them.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

CJK_DIGITS = {"零": 0, "〇": 0, "○": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4,
              "五": 5, "六": 6, "七": 7, "八": 8, "九": 9}
CJK_NUMERAL_CHARS = "一二三四五六七八九十"

RANK_PART = 0      # 第一部分
RANK_CHAPTER = 1   # 一、
RANK_PAREN_CJK = 2  # （一）
RANK_ARABIC = 3    # 1.  1．  1、
RANK_PAREN_ARABIC = 4  # （1）  1）
RANK_CIRCLED = 5   # ①

CIRCLED = "①②③④⑤⑥⑦⑧⑨⑩⑪⑫⑬⑭⑮⑯⑰⑱⑲⑳"
PAREN_DIGITS = "⑴⑵⑶⑷⑸⑹⑺⑻⑼⑽⑾⑿⒀⒁⒂⒃⒄⒅⒆⒇"
DOT_DIGITS = "⒈⒉⒊⒋⒌⒍⒎⒏⒐⒑⒒⒓⒔⒕⒖⒗⒘⒙⒚⒛"
PAREN_CJK = "㈠㈡㈢㈣㈤㈥㈦㈧㈨㈩"

_CJK_NUM = f"[{CJK_NUMERAL_CHARS}][{CJK_NUMERAL_CHARS}百零〇]{{0,4}}"

# Each pattern matches a marker at the start of a string. The content must begin
# right after it; the lookaheads refuse decimals ("1.5亿元") and "一、二年级".
_MARKER_PATTERNS: list[tuple[int, re.Pattern[str]]] = [
    (RANK_PART, re.compile(rf"第(?P<n>{_CJK_NUM})(?:部分|章|篇)[、，,.\s]*")),
    (RANK_CHAPTER, re.compile(rf"(?P<n>{_CJK_NUM})\s*[、.]\s*(?![{CJK_NUMERAL_CHARS}](?:[、.]|年级))")),
    (RANK_PAREN_CJK, re.compile(rf"[（(]\s*(?P<n>{_CJK_NUM})\s*[）)]\s*[、.，,]?\s*")),
    (RANK_PAREN_CJK, re.compile(rf"(?P<n>[{PAREN_CJK}])\s*")),
    (RANK_ARABIC, re.compile(r"(?P<n>\d{1,3})\s*[.、](?![\d.])\s*")),
    (RANK_ARABIC, re.compile(rf"(?P<n>[{DOT_DIGITS}])\s*")),
    (RANK_PAREN_ARABIC, re.compile(r"(?:[（(]\s*(?P<n>\d{1,3})\s*[）)]|(?P<n2>\d{1,2})[）)])\s*[、.，,]?\s*")),
    (RANK_PAREN_ARABIC, re.compile(rf"(?P<n>[{PAREN_DIGITS}])\s*")),
    (RANK_CIRCLED, re.compile(rf"(?P<n>[{CIRCLED}])\s*")),
]


@dataclass(frozen=True)
class Marker:
    """A numbering marker found at the start of a paragraph (or inside one)."""

    rank: int
    value: int     # numeric value, used to check the sequence
    number: str    # the number as printed, without its punctuation: "一", "1", "①"
    raw: str       # the marker exactly as printed, e.g. "（一）" or "1．"
    end: int       # offset where the content starts


def cjk_to_int(text: str) -> int | None:
    """Convert a Chinese numeral up to 999 ("十一", "二十", "一百零五") to an int."""
    if not text:
        return None
    if all(ch in CJK_DIGITS for ch in text) and len(text) > 1:
        # "二〇二三" style: digit by digit
        return int("".join(str(CJK_DIGITS[ch]) for ch in text))
    total, current = 0, 0
    for ch in text:
        if ch in CJK_DIGITS:
            current = CJK_DIGITS[ch]
        elif ch == "十":
            total += (current or 1) * 10
            current = 0
        elif ch == "百":
            total += (current or 1) * 100
            current = 0
        else:
            return None
    return total + current


def int_to_cjk(value: int) -> str:
    """Write 1..999 as a Chinese numeral ("一", "十一", "二十三", "一百零五")."""
    digits = "零一二三四五六七八九"
    if value < 10:
        return digits[value]
    if value < 100:
        tens, ones = divmod(value, 10)
        head = "" if tens == 1 else digits[tens]
        return head + "十" + (digits[ones] if ones else "")
    hundreds, rest = divmod(value, 100)
    if rest == 0:
        return digits[hundreds] + "百"
    if rest < 10:
        return digits[hundreds] + "百零" + digits[rest]
    tail = int_to_cjk(rest)
    return digits[hundreds] + "百" + (tail if rest >= 20 else "一" + tail)


def _value_of(raw_number: str) -> int | None:
    if raw_number.isascii() and raw_number.isdigit():  # "①".isdigit() is True too
        return int(raw_number)
    for table in (CIRCLED, PAREN_DIGITS, DOT_DIGITS, PAREN_CJK):
        index = table.find(raw_number)
        if index >= 0:
            return index + 1
    return cjk_to_int(raw_number)


def _display_number(raw_number: str) -> str:
    """The number as it should be reported: enclosed forms of digits become digits."""
    for table in (PAREN_DIGITS, DOT_DIGITS):
        index = table.find(raw_number)
        if index >= 0:
            return str(index + 1)
    index = PAREN_CJK.find(raw_number)
    if index >= 0:
        return int_to_cjk(index + 1)
    return raw_number


# Every marker starts with one of these characters: a cheap first test.
_MARKER_FIRST = frozenset("第（(0123456789" + CJK_NUMERAL_CHARS + CIRCLED + PAREN_DIGITS + DOT_DIGITS + PAREN_CJK)


def match_marker(text: str, pos: int = 0) -> Marker | None:
    """Return the marker that starts ``text`` at ``pos``, if any."""
    if pos >= len(text) or text[pos] not in _MARKER_FIRST:
        return None
    if pos == 0:
        return _match_at_start(text)
    return _match(text, pos)


@lru_cache(maxsize=4096)
def _match_at_start(text: str) -> Marker | None:
    # The same paragraph is asked about several times (joining, tail, tree).
    return _match(text, 0)


def _match(text: str, pos: int) -> Marker | None:
    for rank, pattern in _MARKER_PATTERNS:
        m = pattern.match(text, pos)
        if not m:
            continue
        raw_number = m.group("n") if m.group("n") is not None else m.groupdict().get("n2")
        if raw_number is None:
            continue
        value = _value_of(raw_number)
        if value is None or value <= 0:
            continue
        end = m.end()
        return Marker(rank, value, _display_number(raw_number), text[pos:end].strip(), end)
    return None


# Inline markers: a marker that follows a sentence end inside a flattened paragraph.
INLINE_MARKER_START = re.compile(
    rf"(?<=[。；;！？!?：:])\s*(?=第{_CJK_NUM}部分|{_CJK_NUM}[、.]|[（(]\s*(?:{_CJK_NUM}|\d{{1,3}})\s*[）)]"
    rf"|\d{{1,3}}[.、](?!\d)|[{CIRCLED}{PAREN_DIGITS}{DOT_DIGITS}{PAREN_CJK}])"
)

# "一是…二是…" enumerations used in narrative reports.
ENUM_SHI = re.compile(r"(?:(?<=^)|(?<=[。；;！？!?，,：:\s]))(?P<n>[一二三四五六七八九十]{1,2})是(?=[\u4e00-\u9fff“《（(\d])")

GOAL_LABEL = re.compile(
    r"^[【\[（(]?\s*(?:目标任务|工作目标|主要目标|任务目标|目标要求|总体目标|年度目标|预期目标)\s*[】\]）)]?\s*[:：]\s*"
)
MEASURES_LABEL = re.compile(
    r"^[【\[（(]?\s*(?:工作措施|主要措施|具体措施|推进措施|重点措施|主要举措|工作举措|具体举措|"
    r"实施措施|落实措施|保障措施|重点工作|主要任务|重点任务|工作任务|具体任务)\s*[】\]）)]?\s*[:：]\s*"
)
# Lines such as "牵头单位：省教育厅" belong to the item above them.
ATTRIBUTE_LABEL = re.compile(
    r"^[【\[（(]?\s*(?:牵头单位|责任单位|配合单位|协办单位|参与单位|责任部门|牵头部门|配合部门|责任处室|"
    r"牵头处室|完成时限|完成时间|时间节点|时间安排|进度安排|责任人)\s*[】\]）)]?\s*[:：]"
)


def starts_with_label(text: str) -> bool:
    """True if the paragraph opens with a block label like 目标任务： or 工作措施：."""
    return bool(GOAL_LABEL.match(text) or MEASURES_LABEL.match(text) or ATTRIBUTE_LABEL.match(text))
