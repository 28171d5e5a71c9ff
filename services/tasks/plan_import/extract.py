"""Facts pulled out of the text: document metadata and per-item deadlines, targets, units."""
from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import date

from .boilerplate import DATE_ONLY, is_metadata_line, is_page_chrome, is_tail_marker
from .markers import CJK_DIGITS, cjk_to_int, match_marker

# ====================================================================== dates

_CN_DATE = re.compile(r"(?P<y>\d{4})\s*年\s*(?P<m>\d{1,2})\s*月\s*(?P<d>\d{1,2})\s*日")
_CJK_DATE = re.compile(r"(?P<y>[〇零○一二三四五六七八九]{4})年(?P<m>[一二三四五六七八九十]{1,3})月(?P<d>[一二三四五六七八九十]{1,3})日")
_NUM_DATE = re.compile(r"(?<!\d)(?P<y>(?:19|20)\d{2})\s*[-/.]\s*(?P<m>\d{1,2})\s*[-/.]\s*(?P<d>\d{1,2})(?!\d)")


def _safe_date(year: int, month: int, day: int) -> date | None:
    try:
        return date(year, month, day)
    except ValueError:
        return None


def _month_end(year: int, month: int) -> date | None:
    if not 1 <= month <= 12:
        return None
    return date(year, month, calendar.monthrange(year, month)[1])


def parse_date(text: str) -> date | None:
    """The first date in ``text``: 2023年5月5日, 二〇二三年五月五日 or 2023-05-05."""
    candidates = []
    for pattern in (_CN_DATE, _NUM_DATE):
        m = pattern.search(text)
        if m:
            candidates.append((m.start(), _safe_date(int(m["y"]), int(m["m"]), int(m["d"]))))
    m = _CJK_DATE.search(text)
    if m:
        year = int("".join(str(CJK_DIGITS[ch]) for ch in m["y"]))
        month, day = cjk_to_int(m["m"]), cjk_to_int(m["d"])
        if month and day:
            candidates.append((m.start(), _safe_date(year, month, day)))
    candidates = [c for c in candidates if c[1] is not None]
    return min(candidates)[1] if candidates else None


# ====================================================================== metadata

_DOC_NUMBER = re.compile(
    r"(?P<org>[\u4e00-\u9fff]{1,12}?)\s*[〔\[［(（【﹝]\s*(?P<year>(?:19|20)\d{2})\s*[〕\]］)）】﹞]\s*(?P<no>\d{1,5})\s*号"
)
_DOC_NUMBER_LABEL = re.compile(r"(?:文号|发文字号|发文编号)\s*[:：]")
_RED_HEAD = re.compile(r"^(?P<org>.{4,40}?)(?:文件|函件)$")
_ORG_SUFFIX = re.compile(
    r"(?:人民政府|政府|委员会|办公室|办公厅|督导室|教育厅|教育局|厅|局|委|办|部|中心|院|学校|学院|大学|督导组|小组|处|室)$"
)
_LABELLED_ISSUER = re.compile(r"(?:发布机构|发文机关|发文单位|发布单位|信息来源|来源)\s*[:：]\s*(?P<org>[^\s:：]{2,40})")
_LABELLED_SIGN_DATE = re.compile(r"(?:成文日期|签发日期|印发日期)\s*[:：]\s*(?P<v>.{6,24})")
_LABELLED_PUB_DATE = re.compile(r"(?:发布时间|发布日期|发文日期|日期|时间)\s*[:：]\s*(?P<v>.{6,24})")
_GENERATED = re.compile(r"生成|打印|访问|浏览|更新")
_PLAN_WORDS = re.compile(r"工作要点|工作计划|工作安排|工作思路|工作重点|工作方案|实施方案|要点|计划|总结|报告|意见|方案|规划|安排")
_NOTICE_TITLE = re.compile(r"^关于(?:印发|转发|下发)(?P<inner>《[^》]{4,80}》)的通知$")
_TITLE_REJECT_START = re.compile(r"^(?:现将|根据|为了?|按照|经|请|各|依据|结合|现就|附件|主送|抄送)")
_YEAR_IN_TITLE = re.compile(r"(?<!\d)((?:19|20)\d{2})\s*(?:年|—|-|～|~)")
_INTRO_YEAR = re.compile(r"^((?:19|20)\d{2})\s*年")


@dataclass
class Metadata:
    """Document-level facts."""

    title: str
    issuer: str | None
    doc_number: str | None
    date: str | None
    year: int | None
    intro: str | None


def find_doc_number(header: list[str]) -> str | None:
    """The document's own number (文号), e.g. 郎教督〔2023〕3号, from the lines above the body.

    Only a line that is (almost) just the number, or labelled 文号, counts: a number
    cited inside a sentence is another document's.
    """
    for line in header:
        # the first label is found once per line, not once per number in it (a long line cites many)
        label = _DOC_NUMBER_LABEL.search(line)
        for m in _DOC_NUMBER.finditer(line):
            labelled = label is not None and label.end() <= m.start()
            # alone on its line, labelled, or heading the line ("凌政办发[2020]35号凌海市…的通知")
            if labelled or m.start() == 0 or len(line) - (m.end() - m.start()) <= 12:
                org = m["org"]
                if labelled:
                    org = org[-8:]
                return f"{org}〔{m['year']}〕{int(m['no'])}号"
    return None


def _plausible_title(line: str) -> bool:
    if not 4 <= len(line) <= 80 or len(re.findall(r"[\u4e00-\u9fff]", line)) < 4:
        return False
    if match_marker(line) is not None or is_metadata_line(line) or is_tail_marker(line) or is_page_chrome(line):
        return False
    if DATE_ONLY.match(line) or _DOC_NUMBER.search(line) and len(line) <= 30 or _RED_HEAD.match(line):
        return False
    if re.search(r"[。；;！!]", line) or line[-1] in "：:，,、":
        return False
    return not _TITLE_REJECT_START.match(line)


def _is_org_name(line: str) -> bool:
    return (
        4 <= len(line) <= 40
        and bool(_ORG_SUFFIX.search(line))
        and not re.search(r"[，,。；;：:、《》“”\s\d]", line)
    )


def find_title(header: list[str]) -> tuple[str, int | None]:
    """The plan's title and its index in ``header``.

    Preference: the last line above the body that names a plan (工作要点, 工作计划…),
    which is the plan's own title even when a covering notice precedes it; then
    the plan named by a "关于印发《…》的通知"; then, for a news page, the line just
    above its "发布时间/来源" line, or the first plausible line.
    """
    plan_lines, notice_inner, plain = [], None, []
    first_metadata = next((i for i, line in enumerate(header) if is_metadata_line(line)), None)
    for index, line in enumerate(header):
        if not _plausible_title(line):
            continue
        notice = _NOTICE_TITLE.match(line)
        if notice:
            notice_inner = notice_inner or (notice["inner"][1:-1], index)
            continue
        if _PLAN_WORDS.search(line):
            plan_lines.append(index)
        elif not _is_org_name(line):
            plain.append(index)
    if plan_lines:
        index = plan_lines[-1]
        return _strip_book_marks(_with_title_head(header, index)), index
    if notice_inner:
        return _strip_book_marks(notice_inner[0]), notice_inner[1]
    if plain:
        above_metadata = [i for i in plain if first_metadata is not None and i < first_metadata]
        index = above_metadata[-1] if above_metadata else plain[0]
        return _strip_book_marks(header[index]), index
    return "", None


def _with_title_head(header: list[str], index: int) -> str:
    """Re-join a title printed over two lines ("…优质均衡发展" / "督导评估规划实施细则")."""
    title = header[index]
    if index == 0:
        return title
    previous = header[index - 1]
    # A PDF may print the organ and "2020年工作要点" on two lines.
    if re.match(r"^(?:(?:19|20)\d{2}年|工作|要点)", title) and _is_org_name(previous):
        return previous + title
    if (
        _plausible_title(previous)
        and not _PLAN_WORDS.search(previous)
        and not _is_org_name(previous)
        and not _NOTICE_TITLE.match(previous)
        and len(previous) + len(title) <= 60
        and not re.match(r"^(?:19|20)\d{2}年", title)
    ):
        return previous + title
    return title


def _strip_book_marks(title: str) -> str:
    title = title.strip()
    if title.startswith("《") and title.endswith("》") and title.count("《") == 1:
        title = title[1:-1]
    return title


def find_issuer(header: list[str], tail: list[str], title: str) -> str | None:
    """Who issued the document: signature, red header, labelled source, or title prefix."""
    for lines in (tail, header):
        for index in range(len(lines) - 1):
            if DATE_ONLY.match(lines[index + 1]) and _is_org_name(lines[index]):
                return lines[index]
    for line in header:
        m = _RED_HEAD.match(line)
        if m and _ORG_SUFFIX.search(m["org"]):
            return m["org"]
    for line in header:
        m = _LABELLED_ISSUER.search(line)
        if m:
            org = re.split(r"(?:发布时间|发布日期|时间|日期|作者|浏览|点击|字号|【)", m["org"])[0]
            if _ORG_SUFFIX.search(org) and len(org) >= 4:
                return org
    m = re.match(r"^(?P<org>[\u4e00-\u9fff]{4,40}?)(?:(?:19|20)\d{2}\s*年|关于)", title)
    if m and _ORG_SUFFIX.search(m["org"]):
        return m["org"]
    return None


def find_date(header: list[str], tail: list[str]) -> str | None:
    """The document's own date: signature (成文) date, else its published date.

    A page's generation, print or update time is ignored.
    """
    for line in header + tail:
        m = _LABELLED_SIGN_DATE.search(line)
        if m and (d := parse_date(m["v"])):
            return d.isoformat()
    for lines in (tail, header):
        for line in reversed(lines) if lines is tail else lines:
            if DATE_ONLY.match(line) and (d := parse_date(line)):
                return d.isoformat()
    for lines in (tail, header):
        for line in lines:
            if re.search(r"印发$", line) and (d := parse_date(line)):
                return d.isoformat()
    for line in header:
        for m in _LABELLED_PUB_DATE.finditer(line):
            label_area = line[max(0, m.start() - 4):m.start() + 4]
            if _GENERATED.search(label_area):
                continue
            if d := parse_date(m["v"]):
                return d.isoformat()
    for line in header:
        if is_metadata_line(line) and not _GENERATED.search(line) and (d := parse_date(line)):
            return d.isoformat()
    return None


def find_year(title: str, intro: str | None, iso_date: str | None) -> int | None:
    """The plan's year: from its title, else the intro's opening "2020年，", else its date.

    A report published in February 2021 about 2020 says "2020年，…" in its first
    sentence; that is the year its content (and any "9月底前") refers to.
    """
    m = _YEAR_IN_TITLE.search(title)
    if m:
        return int(m.group(1))
    m = re.search(r"([〇零○一二三四五六七八九]{4})年", title)  # 二〇二三年工作要点
    if m:
        return int("".join(str(CJK_DIGITS[ch]) for ch in m.group(1)))
    if intro:
        m = _INTRO_YEAR.match(intro)
        if m:
            return int(m.group(1))
    if iso_date:
        return int(iso_date[:4])
    return None


def extract_metadata(paragraphs: list[str], first_index: int, end_index: int) -> Metadata:
    """Title, issuer, doc number, date, year and intro from the text around the sections."""
    header = paragraphs[:first_index]
    tail = paragraphs[end_index:]
    title, title_index = find_title(header)
    intro_lines = []
    start = 0 if title_index is None else title_index + 1
    for line in header[start:]:
        if (
            len(line) >= 20
            and re.search(r"[。；;！!]", line)
            and not is_metadata_line(line)
            and not is_page_chrome(line)
            and not _NOTICE_TITLE.match(line)
        ):
            intro_lines.append(line)
    intro = "\n".join(intro_lines) or None
    iso_date = find_date(header, tail)
    return Metadata(
        title=title,
        issuer=find_issuer(header, tail, title),
        doc_number=find_doc_number(header),
        date=iso_date,
        year=find_year(title, intro, iso_date),
        intro=intro,
    )


# ====================================================================== deadlines

_Y = r"(?P<y>(?:19|20)\d{2})\s*年"
_DEADLINE_RULES: list[tuple[str, re.Pattern[str]]] = [
    ("range", re.compile(
        r"(?P<y1>(?:19|20)\d{2})\s*年?\s*(?:[-—–~～－]+|至|到)\s*(?P<y2>(?:19|20)\d{2})\s*(?:年度?|(?=[）)]))")),
    ("day", re.compile(_Y + r"\s*(?P<m>\d{1,2})\s*月\s*(?P<d>\d{1,2})\s*日\s*(?:前|之前|以前|止)")),
    ("until_day", re.compile(r"(?:截至|截止|到|至)\s*" + _Y + r"\s*(?P<m>\d{1,2})\s*月\s*(?P<d>\d{1,2})\s*日")),
    ("xun", re.compile(_Y + r"\s*(?P<m>\d{1,2})\s*月\s*(?:份)?\s*(?P<x>上旬|中旬|下旬)\s*(?:前|之前|以前|末)?")),
    ("month_end", re.compile(_Y + r"\s*(?P<m>\d{1,2})\s*月\s*(?:份)?\s*(?:底|末)\s*(?:前|之前|以前)?")),
    ("before_month", re.compile(_Y + r"\s*(?P<m>\d{1,2})\s*月\s*(?:份)?\s*(?:前|之前|以前)")),
    ("until_month", re.compile(r"(?:截至|截止|到|至)\s*" + _Y + r"\s*(?P<m>\d{1,2})\s*月(?:份|底|末)?")),
    ("year_end", re.compile(_Y + r"\s*(?:底|末|年底|年末|内|度内)\s*(?:前|之前|以前)?")),
    ("half1", re.compile(_Y + r"\s*(?:上半年|年中)\s*(?:前|之前|以前)?")),
    ("half2", re.compile(_Y + r"\s*下半年")),
    ("quarter", re.compile(_Y + r"\s*(?:第)?(?P<q>[一二三四1-4])\s*季度\s*(?:末|底)?\s*(?:前|之前|以前)?")),
    ("before_year", re.compile(_Y + r"\s*(?:前|之前|以前)")),
    ("until_year", re.compile(r"(?:截至|截止|到|至)\s*" + _Y)),
    # Without a year: the document's year.
    ("day_noyear", re.compile(r"(?<![\d年])(?P<m>\d{1,2})\s*月\s*(?P<d>\d{1,2})\s*日\s*(?:前|之前|以前|止)")),
    ("xun_noyear", re.compile(r"(?<![\d年])(?P<m>\d{1,2})\s*月\s*(?:份)?\s*(?P<x>上旬|中旬|下旬)\s*(?:前|之前|以前|末)?")),
    ("month_end_noyear", re.compile(r"(?<![\d年])(?P<m>\d{1,2})\s*月\s*(?:份)?\s*(?:底|末)\s*(?:前|之前|以前)?")),
    ("before_month_noyear", re.compile(r"(?<![\d年])(?P<m>\d{1,2})\s*月\s*(?:份)?\s*(?:前|之前|以前)")),
    ("year_end_noyear", re.compile(r"(?<![\d年一二三两四五六七八九十几])(?:年底|年末)\s*(?:前|之前|以前)?|(?<![\d一二三两四五六七八九十几])年内")),
    ("half1_noyear", re.compile(r"(?<![\d年])上半年")),
    ("half2_noyear", re.compile(r"(?<![\d年])下半年")),
    ("ongoing", re.compile(r"每年|每学年|每学期|每季度|每半年|每月|每周|长期|持续")),
]


def _combine(rules: list[tuple[str, re.Pattern[str]]]) -> re.Pattern[str]:
    """One alternation of all rules, each wrapped in a group named after its kind.

    At any position the rules are tried in order, and the leftmost match wins:
    one pass over the text instead of one per rule.
    """
    parts = []
    for number, (kind, pattern) in enumerate(rules):
        body = re.sub(r"\(\?P<(\w+)>", rf"(?P<\1_{number}>", pattern.pattern)
        parts.append(f"(?P<{kind}>{body})")
    # Every rule starts with a digit or one of these characters; the lookahead
    # lets the scan skip all other positions at once.
    return re.compile(r"(?=[\d截到至年上下每长持])(?:" + "|".join(parts) + ")")


_DEADLINE = _combine(_DEADLINE_RULES)
_RULE_NUMBER = {kind: number for number, (kind, _pattern) in enumerate(_DEADLINE_RULES)}


def _deadline_date(kind: str, m: re.Match[str], year: int | None) -> date | None:
    number = _RULE_NUMBER[kind]

    def group(name: str) -> str | None:
        try:
            return m.group(f"{name}_{number}")
        except IndexError:
            return None

    y = int(group("y")) if group("y") else year
    if kind == "range":
        y1, y2 = int(group("y1")), int(group("y2"))
        return date(y2, 12, 31) if y2 > y1 else None
    if kind == "ongoing" or y is None:
        return None
    base = kind.replace("_noyear", "")
    if base in ("day", "until_day"):
        return _safe_date(y, int(group("m")), int(group("d")))
    if base == "xun":
        month = int(group("m"))
        day = {"上旬": 10, "中旬": 20}.get(group("x"))
        return _safe_date(y, month, day) if day else _month_end(y, month)
    if base in ("month_end", "until_month"):
        return _month_end(y, int(group("m")))
    if base == "before_month":
        # "6月前" is literally "before June": the end of May.
        month = int(group("m"))
        return date(y - 1, 12, 31) if month == 1 else _month_end(y, month - 1)
    if base in ("year_end", "half2", "until_year"):
        return date(y, 12, 31)
    if base == "half1":
        return date(y, 6, 30)
    if base == "quarter":
        q = group("q")
        quarter = int(q) if q.isascii() else cjk_to_int(q)
        return _month_end(y, quarter * 3) if quarter and 1 <= quarter <= 4 else None
    if base == "before_year":
        return date(y - 1, 12, 31)
    return None


def without_titles(text: str) -> str:
    """Blank out 《…》 spans (names of other documents) keeping offsets."""
    if "《" not in text:
        return text
    return re.sub(r"《[^《》]{0,120}》", lambda m: " " * len(m.group()), text)


def extract_deadlines(text: str, year: int | None) -> list[dict]:
    """Deadlines in an item: [{"text": "2020年底前", "date": "2020-12-31"}, {"text": "每年", "date": None}]."""
    found: list[dict] = []
    seen: set[str] = set()
    for m in _DEADLINE.finditer(without_titles(text)):
        phrase = text[m.start():m.end()].strip()
        if phrase in seen:
            continue
        seen.add(phrase)
        when = _deadline_date(m.lastgroup, m, year)
        found.append({"text": phrase, "date": when.isoformat() if when else None})
    return found


# ====================================================================== targets

_QUALIFIER_BEFORE = re.compile(
    r"(?:(?:均|全部|力争|确保)?(?:达到|达|不低于|不少于|不高于|不超过|超过|高于|低于|提高到|提高至|提高|提升到|提升至|提升|"
    r"增长|增加|下降到|下降|降低到|降低|降至|保持在|稳定在|控制在))\s*$"
)
_NUMBER_CORE = r"\d+(?:\.\d+)?(?:\s*(?:至|到|-|—|~|～)\s*\d+(?:\.\d+)?)?"
_PERCENT = re.compile(r"(?<![\d.])" + _NUMBER_CORE + r"\s*%(?:\s*(?:及以上|以上|及以下|以下|左右|以内|之内))?")
_RATIO = re.compile(r"(?<![\d.:∶])\d{1,3}(?:\.\d+)?\s*[∶:比]\s*\d{1,3}(?:\.\d+)?(?![\d.:∶])")
_COUNT_UNITS = (
    "万人次|人次|万人|名|人|所学校|所|个|场次|场|项|件|份|条|家|期|篇|批|类|支|亿元|万元|元|套|台|间|"
    "平方米|万册|册|本|门|节|课时|学时|小时|天|次|轮|户|乡镇|村|校|园"
)
_COUNT = re.compile(
    r"(?<![\d.〔\[（(-])" + _NUMBER_CORE + rf"\s*(?:余|多)?\s*(?:{_COUNT_UNITS})(?![\u4e00-\u9fff]?[年月日号])"
)
_VERB_BEFORE = re.compile(
    r"(?:培训|新增|新建|建成|改扩建|招聘|聘任|聘请|遴选|评选|认定|创建|打造|抽查|开展|完成|覆盖|培养|举办|召开|推荐|"
    r"发现|下发|印发|申报|投资|投入|补充|配备|走访|查看|提出|组织|检查|督导|核查|选派|派出|评估|监测|约|共计|共|累计|"
    r"合计|不少于|不低于|超过|达到|达)\s*$"
)


def extract_targets(text: str) -> list[str]:
    """Quantitative targets: "95%及以上", "达到100%", "培训200人次", "3所", "1∶5".

    The number is found first; a qualifier or verb right before it ("达到",
    "培训") is then taken along, which keeps the scan linear.
    """
    masked = without_titles(text)
    # One flag per character says what an earlier match took: an overlap check costs the match's own
    # length, where comparing with every span taken so far made a long section quadratic.
    taken = bytearray(len(masked))
    found: list[tuple[int, str]] = []
    for pattern, before in ((_PERCENT, _QUALIFIER_BEFORE), (_RATIO, None), (_COUNT, _VERB_BEFORE)):
        for m in pattern.finditer(masked):
            start, end = m.span()
            if taken.find(1, start, end) >= 0:
                continue
            if before is not None:
                lead = before.search(masked, max(0, start - 8), start)
                if lead:
                    start = lead.start()
            taken[start:end] = b"\x01" * (end - start)
            found.append((start, text[start:end].strip()))
    # dict keys: first occurrence kept, in order, without a list scan per target
    return list(dict.fromkeys(target for _start, target in sorted(found)))


# ====================================================================== units

_PROVINCES = (
    "北京|天津|上海|重庆|河北|山西|辽宁|吉林|黑龙江|江苏|浙江|安徽|福建|江西|山东|河南|湖北|湖南|广东|海南|四川|"
    "贵州|云南|陕西|甘肃|青海|内蒙古|广西|西藏|宁夏|新疆"
)
_ADMIN = r"(?:省|市|县|区|州|镇|乡|街道)"
_ADMIN_LIST = rf"{_ADMIN}(?:级)?(?:[、]?{_ADMIN}(?:级)?|[（(]{_ADMIN}(?:[、]{_ADMIN})*[）)])*"
_GOVERNMENT = r"(?:人民政府|政府|党委和政府|党委、政府|党委政府|教育局|教育行政部门|教育主管部门|教育督导部门|教育督导机构)"
_LIST_UNIT = re.compile(rf"各?{_ADMIN_LIST}(?:两级|三级|四级)?{_GOVERNMENT}")

_SUFFIX = (
    r"(?:人民政府|政府|委员会|办公室|办公厅|办事处|领导小组|督导室|督导组|教研室|研究室|研究院|评估院|评估中心|中心|"
    r"学院|大学|学校|"
    r"[\u4e00-\u9fff]{1,6}(?<!大|餐|客|格|布|全|当|结|开|终|时|棋|邮)(?:厅|局)|"
    r"(?:组织|宣传|统战|政法|教育|财政|民政|公安|司法|商务|科技|工信|人社|文旅|文化|农业|水利|卫生|体育|应急|交通|审计|"
    r"人力资源社会保障|人力资源和社会保障|住房城乡建设|住房和城乡建设|工业和信息化|自然资源|生态环境|退役军人事务|"
    r"文化和旅游|农业农村|交通运输|网信|外交|国防|武装)部|"
    r"(?:省|市|县|区|州|党|工|编|团|纪|监|教|改|革|健|计|法|信)委|"
    r"(?:政府|党委|省委|市委|县委|区委|编|督导|督查|绩效|目标|考核|扶贫|综治|文明|网信|外|侨|台|法制|教育督导委员会)办)"
)
_LOCAL_HEAD = (
    rf"(?:(?:{_PROVINCES})(?:省|市|自治区|壮族自治区|回族自治区|维吾尔自治区)?|国务院|中共中央|党中央|中央|国家|全国|"
    r"[省市县区州](?![域内外情场])|各(?:省|市|县|区|州|镇|乡|街道|地)|"
    r"(?P<place>(?:(?![了的和与及在对向为把等或并由从是将就报聘任情况推进加强开展落实完成组织督促指导])[\u4e00-\u9fff]){2,3}"
    r"(?:省|市|县|区|州|旗)))"
)
# Name characters: Chinese, but not the function words that join two names
# ("省政府和省委…"), except inside fixed names such as 人力资源和社会保障.
_NAME_CHAR = (
    r"(?:(?![和与及的对在将向为把等或并由从]|健全|加强|推动|开展|落实|完善|建立|做好|指导|督促|组织(?!部)|协调|制定|"
    r"印发|实施|推进|配合|会同|牵头|负责|参与|确保|按照|根据|通过|围绕|聚焦|加快|提升|提高|召开|举办|成立|"
    r"设立|调整|充实|报送|上报|反馈|开展|接受|迎接|履行|督导检查)[\u4e00-\u9fff]|和(?=社会保障|城乡|信息化|旅游|改革))"
)
# The lookahead skips, cheaply, positions where no unit name can start.
_PROVINCE_FIRST = "".join(sorted({name[0] for name in _PROVINCES.split("|")}))
_ORG_START = rf"(?=[各国中党全{_PROVINCE_FIRST}]|[\u4e00-\u9fff]{{0,3}}[省市县区州旗])"
_ORG = re.compile(rf"{_ORG_START}(?P<org>{_LOCAL_HEAD}{_NAME_CHAR}{{0,14}}{_SUFFIX})(?![\u4e00-\u9fff]{{0,2}}(?:长|主任|同志|书记))")
_DEPARTMENT = re.compile(
    r"(?:发改|发展改革|财政|人社|人力资源社会保障|编制|机构编制|教育|公安|卫生健康|卫健|民政|住建|"
    r"自然资源|市场监管|审计|税务|统计|体育|文旅|交通|水利|农业农村|应急管理|司法|宣传|组织|共青团|妇联|残联)部门"
)
# A unit name starts after one of these (or at a clause start); this keeps
# "城市…", "社区…", "县域…" from being read as 市…/区…/县….
_UNIT_LEAD = re.compile(
    r"(?:会同|配合|联合|协同|牵头|由|和|与|及|同|向|对|在|将|为|请|经|报|给|至|等|了|是|并|或|的|按|各|以|从|"
    r"推动|督促|指导|协调|要求|支持|组织|依托|争取|邀请|提请|商请|加强|新增|开展|召开|接受|迎接|完成|落实|"
    r"责任单位|牵头单位|配合单位)$"
)
_SPLIT_CLAUSE = re.compile(r"[，,。；;：:、！？!?“”\"《》（）()\s]")
_JUNK_UNIT = re.compile(r"(?:干部|内部|全部|局部|学校学校)$|^(?:各级各类|有关|相关)")


# "推进城市…", "加强县…" are not place names.
_NOT_A_PLACE = re.compile(
    r"^(?:推进|加强|推动|开展|落实|完善|建立|做好|指导|督促|组织|协调|制定|实施|配合|会同|牵头|负责|确保|按照|根据|"
    r"通过|围绕|聚焦|加快|深化|强化|提升|提高|全面|积极|进一|调整|充实|完成|开展|建立|召开|新增|新建|城|社|地|县|区|市|省|"
    r"[各全在对向由和与及的本我该])"
)


_PLACE_LEAD = re.compile(r"(?:会同|配合|联合|协同|牵头|由|向|报|和|与|及|对|请|商|经|[、，,：:；;。（(])$")


def _place_ok(text: str, start: int, place: str) -> bool:
    """A name like 宣城市 is only taken after a clear lead ("配合宣城市…"):

    an item opens with a verb ("调整市政府…"), which must not pass for a place.
    """
    return start > 0 and bool(_PLACE_LEAD.search(text, max(0, start - 2), start)) and not _NOT_A_PLACE.match(place)


def _lead_ok(text: str, start: int) -> bool:
    if start == 0:
        return True
    if text[start - 1] == "、" and start >= 2 and text[start - 2] in "省市县区州镇乡":
        return False  # the tail of a list such as "市、县两级政府"
    if _SPLIT_CLAUSE.match(text[start - 1]):
        return True
    return bool(_UNIT_LEAD.search(text[max(0, start - 6):start]))


def extract_units(text: str) -> list[str]:
    """Organisations an item names as lead or partner ("会同省委组织部" → "省委组织部")."""
    masked = without_titles(text)
    candidates: list[tuple[int, int]] = []
    for m in _LIST_UNIT.finditer(masked):
        if _lead_ok(masked, m.start()) and (m.group().startswith("各") or len(m.group()) >= 3):
            candidates.append(m.span())
    position = 0
    while (m := _ORG.search(masked, position)) is not None:
        start = m.start()
        position = start + 1  # a rejected start must not hide a unit that begins inside it
        needs_lead = masked[start] in "省市县区州" or m.group("place") is not None
        if needs_lead and not _lead_ok(masked, start):
            continue
        if m.group("place") is not None and not _place_ok(masked, start, m.group("place")):
            continue
        candidates.append(m.span())
        position = m.end()
    for m in _DEPARTMENT.finditer(masked):
        if _lead_ok(masked, m.start()):
            candidates.append(m.span())
    # Longest first, so "市政府目标绩效办" wins over the "市政府" inside it. Chosen characters are flagged
    # (as in extract_targets) so that the overlap check does not grow with the number of units found.
    taken = bytearray(len(masked))
    chosen: list[tuple[int, int]] = []
    for start, end in sorted(candidates, key=lambda span: (span[0] - span[1], span[0])):
        if taken.find(1, start, end) >= 0 or _JUNK_UNIT.search(text[start:end]):
            continue
        taken[start:end] = b"\x01" * (end - start)
        chosen.append((start, end))
    return list(dict.fromkeys(text[start:end] for start, end in sorted(chosen)))
