"""What goes into the portal's official documents (公文, GB/T 9704-2012): the 督办通知书 of a notice, the
整改情况报告 skeleton of a case and the period's 督导工作报告 — their parts, wording, numbering and dates.

Plain data in, plain data out: adapters/official_documents.py lays these out as .docx.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from typing import Any, Iterable, NamedTuple, Sequence

CHINESE_DIGITS = "零一二三四五六七八九"
# A year in any bracket people type (【2026】, [2026], (2026), （2026）) becomes the 六角括号 〔2026〕 the standard asks for.
_YEAR_IN_BRACKETS = re.compile(r"\s*[\[【（(〔［]\s*(\d{4})\s*[\]】）)〕］]\s*")
BLANK = "＿＿＿＿＿＿＿＿"  # a line left for the reporting unit to fill in by hand
STEP_HEADINGS = {  # which 整改报告 section each step of a case fills
    "RectificationPlanSubmitted": "plan",
    "RectificationProgressReported": "progress",
    "RectificationReported": "report",
}


# -- small decisions -------------------------------------------------------------------------------------

def gongwen_date(day: str | date | None) -> str:
    """A date as 公文 write it: 2026年12月4日 (Arabic numerals, no leading zeros); "" when there is none."""
    if day is None or day == "":
        return ""
    value = day if isinstance(day, date) else date.fromisoformat(str(day)[:10])
    return f"{value.year}年{value.month}月{value.day}日"


def doc_number_text(raw: str | None) -> str:
    """A 发文字号 in the standard's form, e.g. 巴教督办〔2026〕3号: year in 〔〕, no 第 before the serial number."""
    text = " ".join((raw or "").split())
    text = _YEAR_IN_BRACKETS.sub(lambda m: f"〔{m.group(1)}〕", text)
    return re.sub(r"〕第(\d+)", r"〕\1", text)


def recipients_line(units: Iterable[str]) -> str:
    """主送机关: the units joined with 、 and ending with a full-width colon."""
    names = [u.strip() for u in units if u and u.strip()]
    return "、".join(names) + "：" if names else ""


def copied_line(units: Iterable[str]) -> str:
    """版记's 抄送 line: 抄送：A，B。 ("" when the document is copied to nobody)."""
    names = [u.strip() for u in units if u and u.strip()]
    return f"抄送：{'，'.join(names)}。" if names else ""


def chinese_number(n: int) -> str:
    """1..99 in Chinese numerals, as 一级标题 number them (一、 二、 … 十一、)."""
    if not 1 <= n <= 99:
        raise ValueError(f"heading number {n} out of range 1..99")
    tens, ones = divmod(n, 10)
    if tens == 0:
        return CHINESE_DIGITS[ones]
    return f"{'' if tens == 1 else CHINESE_DIGITS[tens]}十{CHINESE_DIGITS[ones] if ones else ''}"


def heading(n: int, text: str) -> str:
    """一级标题: 一、整改方案."""
    return f"{chinese_number(n)}、{text}"


def _shorten(text: str, limit: int) -> str:
    text = " ".join((text or "").split()).rstrip("。；;，,.! ！")
    return text if len(text) <= limit else text[: limit - 1] + "…"


# -- the parts ---------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Section:  # 一级标题 and the paragraphs under it (a paragraph starting "（一）" is set as 二级标题)
    title: str
    paragraphs: tuple[str, ...] = ()


@dataclass(frozen=True)
class ProblemItem:  # 问题清单中的一项
    number: int
    description: str  # 问题
    requirement: str  # 整改要求
    responsible_unit: str  # 责任单位
    deadline: str  # 整改时限, in 公文 form


@dataclass(frozen=True)
class Imprint:  # 版记
    copied: str  # 抄送：…。 ("" for none)
    printer: str  # 印发机关
    printed_on: str  # 印发日期, e.g. 2026年12月4日印发


@dataclass(frozen=True)
class NoticeDocument:  # 督办通知书
    issuer_mark: str  # 发文机关标志 (red)
    doc_number: str  # 发文字号
    title: str
    recipients: str  # 主送机关
    opening: str
    problems: tuple[ProblemItem, ...]
    sign_for: str  # 签收时限 sentence
    signature: str  # 发文机关署名
    dated: str  # 成文日期
    imprint: Imprint


@dataclass(frozen=True)
class CaseReportDocument:  # 整改情况报告 (skeleton the responsible unit completes)
    title: str
    recipients: str
    opening: str
    sections: tuple[Section, ...]
    signature: str
    dated: str  # left blank to fill in
    contacts: tuple[str, ...]  # 联系人 / 联系电话 blanks


class Chart(NamedTuple):  # 统计图
    """A figure of the report: its caption (图1 …) and the image as PNG."""

    caption: str
    png: bytes


@dataclass(frozen=True)
class AnnualReportDocument:  # 督导工作报告
    title: str
    period: str
    sections: tuple[Section, ...]
    figures: tuple[tuple[str, str], ...]  # (项目, 数值) rows of the figures table
    charts: tuple[Chart, ...] = ()
    signature: str = ""
    dated: str = ""


@dataclass(frozen=True)
class CaseStep:  # one recorded step of a case, as its report quotes it
    type: str  # the event type
    on: str | None  # the day it happened
    data: dict = field(default_factory=dict)


# -- 督办通知书 ----------------------------------------------------------------------------------------------

def notice_document(notice: Any, problems: Sequence[dict], *, printed_on: str | date) -> NoticeDocument:
    """The 督办通知书 of ``notice`` (a NoticeRecord) listing ``problems`` (the ones its reader may see)."""
    items = tuple(ProblemItem(number=n, description=p.get("description") or "", requirement=p.get("requirement") or "",
                              responsible_unit=p.get("responsible_unit") or "",
                              deadline=gongwen_date(p.get("deadline")) or "—")
                  for n, p in enumerate(problems, start=1))
    issued = gongwen_date(notice.issued_on) or gongwen_date(printed_on)  # 补录 notices may lack one: today's
    kind = notice.kind or "督办通知"
    if items:
        opening = (f"{'经督导检查，' if kind != '工作提示函' else ''}现将发现的{len(items)}个问题及整改要求通知如下，"
                   "请认真组织整改，按时限报送整改情况。")
    else:
        opening = "现将有关事项提示如下，请认真研究落实。"
    sign_for = (f"请于{gongwen_date(notice.sign_for_deadline)}前签收本{kind}。" if notice.sign_for_deadline
                else f"请收到本{kind}后及时签收。")
    return NoticeDocument(
        issuer_mark=f"{notice.issuer_unit}文件", doc_number=doc_number_text(notice.doc_number), title=notice.title,
        recipients=recipients_line(notice.target_units), opening=opening, problems=items, sign_for=sign_for,
        signature=notice.issuer_unit, dated=issued,
        imprint=Imprint(copied=copied_line(notice.copied_units), printer=notice.issuer_unit,
                        printed_on=f"{issued}印发"))


# -- 整改情况报告 ------------------------------------------------------------------------------------------

def case_report_document(case: Any, steps: Sequence[CaseStep], files: Sequence[dict] = ()) -> CaseReportDocument:
    """The 整改情况报告 skeleton of ``case`` (a CaseRecord), pre-filled from its recorded steps and 佐证材料."""
    by_kind: dict[str, list[CaseStep]] = {"plan": [], "progress": [], "report": []}
    for step in steps:
        if step.type in STEP_HEADINGS:
            by_kind[STEP_HEADINGS[step.type]].append(step)
    plan = [f"{_dated(s)}{s.data.get('plan') or ''}" for s in by_kind["plan"]] or [case.plan or "（待填写整改方案）"]
    measures = [f"{n}. {m}" for n, m in enumerate(case.measures or [], start=1)]
    progress = [f"{_dated(s)}{s.data.get('summary') or ''}" for s in by_kind["progress"]] or ["（待填写整改进展）"]
    report = [f"{_dated(s, 'reported_on')}{s.data.get('summary') or ''}" for s in by_kind["report"]] or ["（待填写整改完成情况）"]
    evidence = [text for s in steps for text in (s.data.get("evidence") or []) if isinstance(text, str) and text.strip()]
    evidence += [f"{f.get('name')}（附件）" for f in files if f.get("name")]
    numbered_evidence = [f"{n}. {text}" for n, text in enumerate(evidence, start=1)] or ["（待列明佐证材料）"]
    source = f"《{case.notice_title}》" if case.notice_title else "督办通知"
    if case.doc_number:
        source += f"（{doc_number_text(case.doc_number)}）"
    deadline = f"，整改时限为{gongwen_date(case.deadline)}" if case.deadline else ""
    opening = (f"根据{case.issuer_unit or ''}{source}要求，针对“{_shorten(case.description, 200)}”问题{deadline}，"
               f"我单位认真组织整改。现将整改情况报告如下。")
    sections = (
        Section(heading(1, "整改方案"), tuple(plan)),
        Section(heading(2, "整改措施"), tuple(measures) or ("（待填写整改措施）",)),
        Section(heading(3, "整改进展"), tuple(progress)),
        Section(heading(4, "整改完成情况"), tuple(report)),
        Section(heading(5, "佐证材料"), tuple(numbered_evidence)),
    )
    return CaseReportDocument(
        title=f"关于{_shorten(case.description, 40)}问题整改情况的报告", recipients=recipients_line([case.issuer_unit or ""]),
        opening=opening, sections=sections, signature=case.responsible_unit, dated="　　年　　月　　日",
        contacts=(f"联系人：{BLANK}", f"联系电话：{BLANK}"))


def _dated(step: CaseStep, day_field: str | None = None) -> str:
    day = (step.data.get(day_field) if day_field else None) or step.on
    return f"{gongwen_date(day)}，" if day else ""


# -- 督导工作报告 ------------------------------------------------------------------------------------------

def period_title(start: date | None, end: date | None) -> str:
    """How the report names its period: 2026年 for a part of one year, else 2025年3月1日至2026年2月28日."""
    if start and end and start.year == end.year:
        return f"{start.year}年"
    if start is None and end is None:
        return ""
    return f"{gongwen_date(start) or '开始'}至{gongwen_date(end) or '今'}"


def annual_report_document(statistics: dict, series: dict, figure_labels: Sequence[tuple[str, str]], *,
                           start: date | None, end: date | None, issuer: str, dated: str | date,
                           charts: Sequence[Chart] = ()) -> AnnualReportDocument:
    """The period's 督导工作报告 from what the 统计 page computes (queries.statistics and statistics_series)."""
    figures = statistics["figures"]
    rows = tuple((label, figure_text(key, figures[key])) for key, label in figure_labels if key in figures)
    pending = figures["problems"] - figures["closed"]
    rows += (("未销号（个）", str(pending)),)
    areas = [f"{area}{count}个" for area, count in series.get("areas", [])]
    units = [f"{unit}{rate * 100:.1f}%" for unit, rate in series.get("on_time_by_unit", [])]
    sections = (
        Section(heading(1, "总体情况"), tuple(statistics["sentences"])),
        Section(heading(2, "问题整改情况"), (
            f"跟踪督办问题{figures['problems']}个，已销号{figures['closed']}个，尚未销号{pending}个。",
            "按领域分：" + ("、".join(areas) + "。" if areas else "无。"),
            "各责任单位按期销号率：" + ("、".join(units) + "。" if units else "暂无销号事项。"),
        )),
        Section(heading(3, "存在的问题"), ("（待填写）",)),
        Section(heading(4, "下一步工作打算"), ("（待填写）",)),
    )
    period = period_title(start, end)
    return AnnualReportDocument(title=f"关于{period}督导工作情况的报告", period=statistics["period"], sections=sections,
                                figures=rows, charts=tuple(charts), signature=issuer, dated=gongwen_date(dated))


def figure_text(key: str, value: Any) -> str:
    """A figure as the table prints it: the completion rate as a percentage, counts as they are."""
    if key == "completion_rate":
        return "—" if value is None else f"{value * 100:.1f}%"
    return str(value)
