"""Turn raw page or PDF text into clean simplified-Chinese paragraphs.

Steps, in order: decode and check the input; read pasted page source as text;
fold full-width digits, letters and a few symbols to ASCII (Chinese punctuation
is kept as printed), drop control and zero-width characters; remove the pinyin
that "care mode" pages put after characters; convert traditional to simplified
characters (OpenCC ``t2s``); remove layout spaces; then re-join lines that a PDF
extraction or a page break cut mid-sentence.
"""
from __future__ import annotations

import bisect
import html
import re
import unicodedata
from functools import lru_cache

from .boilerplate import (
    DATE_ONLY,
    DOC_NUMBER_ONLY,
    is_metadata_line,
    is_page_chrome,
    is_page_number,
    is_tail_marker,
)
from .deadline import NO_DEADLINE, ParseDeadline
from .errors import PlanParseError
from .markers import match_marker, starts_with_label

MAX_BYTES = 5 * 1024 * 1024
MAX_CHARS = 5 * 1024 * 1024

CJK = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
_CJK_CHAR = re.compile(f"[{CJK}]")


# --------------------------------------------------------------------------- input checks

_CONTROL = re.compile(r"[\x00-\x08\x0e-\x1f]")
_WHITESPACE = re.compile(r"\s")


def _sample(text: str) -> str:
    """Start, middle and end of a long text: enough to judge what it is."""
    if len(text) <= 60_000:
        return text
    middle = len(text) // 2
    return text[:20_000] + text[middle - 10_000:middle + 10_000] + text[-20_000:]


def decode_document(data: bytes) -> str:
    """Decode a document's bytes (UTF-8, UTF-8 with BOM, UTF-16 with BOM or GB18030).

    Raises PlanParseError for empty, oversized or binary input.
    """
    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise PlanParseError("bad_type", "输入必须是字节串", "input must be bytes")
    data = bytes(data)
    if len(data) > MAX_BYTES:
        raise _too_large(len(data), "bytes")
    if not data.strip():
        raise _empty()
    if data[:2] in (b"\xff\xfe", b"\xfe\xff"):
        try:
            return data.decode("utf-16")
        except UnicodeDecodeError:
            pass
    if b"\x00" in data:
        raise _binary()
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    text = data.decode("utf-8", errors="replace")
    if text.count("\ufffd") > max(3, len(text) // 100):
        raise _binary()
    return text.replace("\ufffd", "")


def check_text(text: str) -> None:
    """Reject text that cannot be a Chinese plan: empty, too large, binary, not Chinese."""
    if not isinstance(text, str):
        raise PlanParseError("bad_type", "输入必须是文本", "input must be text")
    if len(text) > MAX_CHARS:
        raise _too_large(len(text), "characters")
    if not text.strip():
        raise _empty()
    sample = _sample(text)
    controls = len(_CONTROL.findall(sample))
    if "\x00" in sample or controls > max(2, len(sample) // 200) or sample.count("\ufffd") > max(3, len(sample) // 100):
        raise _binary()


def check_chinese(text: str) -> None:
    """Reject cleaned text that is not (mostly) Chinese."""
    sample = _sample(text)
    visible = len(sample) - len(_WHITESPACE.findall(sample))
    cjk = len(_CJK_CHAR.findall(sample))
    if cjk < 10 and visible < 40:
        raise PlanParseError(
            "too_short",
            "文档内容过少，不是工作要点",
            "the document has too little text to be a work plan",
        )
    if cjk < 10 or cjk < visible * 0.2:
        raise PlanParseError(
            "not_chinese",
            "文档不是中文文本，无法识别为工作要点",
            "the document is not Chinese text, so it cannot be a work plan",
        )


def _empty() -> PlanParseError:
    return PlanParseError("empty", "文档为空", "the document is empty")


def _binary() -> PlanParseError:
    return PlanParseError("binary", "文档是二进制数据或编码无法识别，不是文本",
                          "the document is binary or in an unknown encoding, not text")


def _too_large(size: int, unit: str) -> PlanParseError:
    return PlanParseError("too_large", f"文档过大（{size} {unit}），上限为 5 MB",
                          f"the document is too large ({size} {unit}); the limit is 5 MB")


# --------------------------------------------------------------------------- character cleanup

_INVISIBLE = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u200e\u200f\u2060\ufeff\u00ad"), None)
_SPACES = dict.fromkeys(map(ord, "\u00a0\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a\u202f\u205f\u3000\t\v"), " ")
_NEWLINES = {ord("\r"): "\n", ord("\f"): "\n", ord("\u2028"): "\n", ord("\u2029"): "\n", ord("\x85"): "\n"}


def _build_fold_table() -> dict[int, str]:
    """Full-width digits, letters and a few symbols to ASCII; PDF radicals to ideographs.

    Chinese punctuation (，。：；（）“”) is kept: it is part of the text as printed.
    """
    table: dict[int, str] = {}
    for code in range(0xFF10, 0xFF1A):
        table[code] = chr(code - 0xFEE0)
    for code in list(range(0xFF21, 0xFF3B)) + list(range(0xFF41, 0xFF5B)):
        table[code] = chr(code - 0xFEE0)
    for full, half in zip("％．／＋＝＜＞＆＠＃＿－", "%./+=<>&@#_-", strict=True):
        table[ord(full)] = half
    # Kangxi radicals and compatibility ideographs come out of some PDF fonts.
    for code in list(range(0x2F00, 0x2FD6)) + list(range(0x2E80, 0x2EF4)) + list(range(0xF900, 0xFADA)):
        folded = unicodedata.normalize("NFKC", chr(code))
        if len(folded) == 1 and folded != chr(code) and _CJK_CHAR.match(folded):
            table[code] = folded
    table.update(_INVISIBLE)
    table.update(_SPACES)
    table.update(_NEWLINES)
    for code in range(32):
        if chr(code) not in "\n":
            table.setdefault(code, None)
    table[0x7F] = None
    for code in range(0xD800, 0xE000):  # lone surrogates cannot be written out as UTF-8
        table[code] = None
    return table


_FOLD = _build_fold_table()


@lru_cache(maxsize=1)
def _t2s():
    import opencc  # imported lazily: it loads dictionaries

    return opencc.OpenCC("t2s")


def to_simplified(text: str) -> str:
    """Traditional to simplified Chinese with OpenCC."""
    return _t2s().convert(text) if text else text


# --------------------------------------------------------------------------- pinyin ("care mode")

_TONED = "āáǎàēéěèīíǐìōóǒòūúǔùǖǘǚǜńňǹḿ"
_PY_LETTERS = "a-zü" + _TONED + "ɑɡ"
_PINYIN_GROUP = re.compile(
    rf"(?<=[{CJK}])\s?[（(]\s*(?P<py>[{_PY_LETTERS}]{{1,6}}[1-5]?(?:[\s']+[{_PY_LETTERS}]{{1,6}}[1-5]?){{0,7}})\s*[)）]"
)
_TONE_BASE = str.maketrans("āáǎàēéěèīíǐìōóǒòūúǔùǖǘǚǜńňǹḿɑɡ", "aaaaeeeeiiiioooouuuuüüüünnnmag")
_SYLLABLE = re.compile(
    r"^(?:zh|ch|sh|[bpmfdtnlgkhjqxrzcsyw])?"
    r"(?:iang|iong|uang|ang|eng|ing|ong|ian|iao|uai|uan|üan|ai|an|ao|ei|en|er|ia|ie|in|iu|ou|ua|ue|üe|ui|un|ün|uo|"
    r"a|e|i|o|u|ü|v|n|ng|m)[1-5]?$"
)


def remove_pinyin(text: str) -> str:
    """Drop pinyin put in parentheses after characters, e.g. ``機(jī)構(gòu)`` → ``機構``.

    A group with tone marks is always pinyin. A toneless one ("的(de)") is only
    removed when the document already shows toned annotations, so that "(ai)" or
    "(app)" in an ordinary document is left alone.
    """
    if "(" not in text and "（" not in text:
        return text
    toned = sum(1 for m in _PINYIN_GROUP.finditer(text) if any(ch in _TONED for ch in m.group("py")))
    if toned == 0:
        return text
    care_mode = toned >= 2

    def replace(match: re.Match[str]) -> str:
        syllables = re.split(r"[\s']+", match.group("py").strip())
        if any(ch in _TONED for ch in match.group("py")):
            return ""
        if care_mode and all(_SYLLABLE.match(s.translate(_TONE_BASE)) for s in syllables):
            return ""
        return match.group(0)

    return _PINYIN_GROUP.sub(replace, text)


# --------------------------------------------------------------------------- lines and paragraphs

_SPACE_RUN = re.compile(r" {2,}")
# Spaces next to Chinese text are layout, not content ("2023 年", "教育督导 工作计划").
_CJK_SIDE = f"{CJK}\u3000-\u303f\uff00-\uffef“”‘’《》〔〕【】、"
_SPACE_NEAR_CJK = re.compile(rf"(?<=[{_CJK_SIDE}]) +(?=[{_CJK_SIDE}\w(\[])|(?<=[\w)\]%]) +(?=[{_CJK_SIDE}])")

_TERMINAL_END = re.compile(r"[。！？!?；;：:…][”’」』）)\]】]*$")
_CONTINUES = re.compile(r"[，,、（(《“‘—\-/·]$")
_STARTS_AS_CONTINUATION = re.compile(r"^[，,。、；;：:）)》”’…%]")


def tidy_line(line: str) -> str:
    """Trim a line and remove layout spaces around Chinese characters."""
    line = line.strip()
    if " " in line:
        line = _SPACE_RUN.sub(" ", line)
        line = _SPACE_NEAR_CJK.sub("", line)
    return line


def display_width(text: str) -> float:
    """Width as printed: a Chinese character counts 1, an ASCII character 0.5."""
    ascii_count = len(text.encode("ascii", "ignore"))
    return len(text) - ascii_count * 0.5


_HTML_BLOCK = re.compile(r"<\s*(?:br|/p|/div|/li|/tr|/h\d|/td|p|div|li|tr|h\d)\b[^<>]{0,200}>", re.IGNORECASE)
_HTML_TAG = re.compile(r"<\s*/?\s*[a-zA-Z][a-zA-Z0-9]*\b[^<>]{0,500}>")
_HTML_HINT = re.compile(r"<\s*/?\s*(?:p|div|br|span|td|tr|li|h\d|a|font|strong|b)\b", re.IGNORECASE)
_ENTITY_HINT = re.compile(r"&(?:#\d{2,6}|#x[0-9a-fA-F]{2,5}|[a-zA-Z]{2,8});")


def strip_markup(text: str) -> str:
    """Text pasted as page source: block tags become line breaks, entities characters."""
    if _HTML_HINT.search(text):
        text = _HTML_BLOCK.sub("\n", text)
        text = _HTML_TAG.sub("", text)
    if _ENTITY_HINT.search(text):
        text = html.unescape(text)
    return text


def clean_text(text: str) -> str:
    """Character-level cleanup of the whole document (no line logic)."""
    text = strip_markup(text)
    text = text.translate(_FOLD)
    text = remove_pinyin(text)
    return to_simplified(text)


@lru_cache(maxsize=8192)
def _is_fixed_line(line: str) -> bool:
    """Lines that never join a neighbour: dates, doc numbers, metadata, page furniture."""
    return bool(
        DATE_ONLY.match(line)
        or DOC_NUMBER_ONLY.match(line)
        or is_metadata_line(line)
        or is_tail_marker(line)
        or (len(line) <= 30 and is_page_chrome(line))
    )


def _starts_block(line: str) -> bool:
    return match_marker(line) is not None or starts_with_label(line) or _is_fixed_line(line)


def estimate_wrap_width(lines: list[str]) -> float | None:
    """Width at which a PDF extraction wrapped its lines, or None for web text.

    PDF text has a cluster of lines at one maximal width and (almost) none wider;
    web text has one line per paragraph, of widely varying width.
    """
    widths = sorted(display_width(line) for line in lines if len(line) >= 8)
    if len(widths) < 6:
        return None
    best_width, best_count = None, 0
    for position, width in enumerate(widths):
        # lines within 1.5 of this width, at or below it
        count = position + 1 - bisect.bisect_left(widths, width - 1.5)
        if count >= best_count:
            best_width, best_count = width, count
    if best_width is None or best_count < max(5, 0.15 * len(widths)):
        return None
    wider = len(widths) - bisect.bisect_right(widths, best_width + 1)
    if wider > max(2, 0.05 * len(widths)):
        return None
    return best_width


def _should_join(first_line: str, last_line: str, length: int, nxt: str, wrap_width: float | None) -> bool:
    """Decide whether ``nxt`` continues the paragraph so far.

    Only the paragraph's first line (its marker, if any), its last line and its
    length are looked at, so joining stays linear however long a paragraph gets.
    """
    if _starts_block(nxt) or _is_fixed_line(first_line):
        return False
    if _STARTS_AS_CONTINUATION.match(nxt):
        return True
    marker = match_marker(first_line)
    # Digits were folded to ASCII after the PDF was laid out in full-width glyphs,
    # so a full line may now measure narrower: count characters as well.
    width = max(display_width(last_line), float(len(last_line)))
    full = wrap_width is not None and width >= wrap_width - (1.0 if marker is not None and marker.rank <= 2 else 2.5)
    if _TERMINAL_END.search(last_line):
        # A PDF line that ends a sentence exactly at the margin usually goes on;
        # a short heading-like line after it is left alone.
        heading_like = len(nxt) <= 20 and "，" not in nxt and "," not in nxt
        return bool(full and width >= wrap_width - 0.5 and last_line[-1] in "。；;" and not heading_like)
    if marker is not None and length == len(first_line) and not first_line[marker.end:].strip():
        return True  # a number alone on its line: its text follows
    if _CONTINUES.search(last_line):
        return True
    if full:
        return True
    # A long web paragraph that stops mid-sentence was cut by a page break; a
    # heading is short. (In PDF text the margin rule above already decided.)
    if marker is not None:
        limit = 50
    elif "，" in last_line or "," in last_line:
        limit = 25  # a clause already ended inside it: a sentence in progress
    else:
        limit = 40
    return (length if wrap_width is None else len(last_line)) >= limit


def to_paragraphs(text: str, deadline: ParseDeadline = NO_DEADLINE) -> list[str]:
    """Split cleaned text into paragraphs, re-joining lines broken mid-sentence."""
    lines = [tidy_line(line) for line in text.split("\n")]
    deadline.check()
    lines = ["" if is_page_number(line) else line for line in lines]
    wrap_width = estimate_wrap_width([line for line in lines if line])
    paragraphs: list[str] = []
    parts: list[str] = []
    length = 0
    for line in lines:
        if not line:
            continue
        deadline.check()
        if parts and _should_join(parts[0], parts[-1], length, line, wrap_width):
            previous = parts[-1]
            # English words broken across lines keep a space; Chinese and digits do not.
            if previous[-1].isascii() and previous[-1].isalpha() and line[0].isascii() and line[0].isalpha():
                parts.append(" ")
                length += 1
            parts.append(line)
            length += len(line)
        else:
            if parts:
                paragraphs.append("".join(parts))
            parts, length = [line], len(line)
    if parts:
        paragraphs.append("".join(parts))
    return paragraphs
