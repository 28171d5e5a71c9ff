"""Regenerate the derived sample documents in this folder.

The variants are checked in; this script only documents how they were made and
lets them be rebuilt: ``python tests/unit/tasks/documents/make_variants.py``.
It needs OpenCC and, for the care-mode files, ``pypinyin`` (not a project
dependency: install it in a throwaway virtualenv).

* ``anhui-2020-traditional.txt``: the Anhui plan in traditional characters.
* ``langxi-2023-caremode.txt``: the Langxi plan as a "care mode" page shows it,
  every character followed by its pinyin in parentheses.
* ``bazhong-2020-traditional-pinyin.txt``: the Bazhong report in traditional
  characters with pinyin after each converted character, as some sites show it.
* ``ningguo-2021-pdf.txt``: the Ningguo document as a PDF extraction gives it:
  lines wrapped at 28 characters mid-sentence, full-width digits and
  punctuation, page numbers between pages.
* ``anhui-2020-flattened.txt``: the Anhui plan with every line break of its body
  lost, as some sites render it.
"""
from __future__ import annotations

from pathlib import Path

import opencc

HERE = Path(__file__).resolve().parent
WRAP = 28
LINES_PER_PAGE = 22


def _read(name: str) -> str:
    return (HERE / name).read_text(encoding="utf-8")


def _write(name: str, text: str) -> None:
    (HERE / name).write_text(text, encoding="utf-8")


def traditional(text: str) -> str:
    return opencc.OpenCC("s2t").convert(text)


def care_mode(text: str, only_changed_from: str | None = None) -> str:
    """Annotate Han characters with toned pinyin: 机(jī)构(gòu).

    With ``only_changed_from``, only characters that differ from that text (the
    traditional ones) are annotated.
    """
    from pypinyin import Style, pinyin

    out = []
    for position, char in enumerate(text):
        out.append(char)
        if not ("\u4e00" <= char <= "\u9fff"):
            continue
        if only_changed_from is not None and only_changed_from[position] == char:
            continue
        out.append(f"({pinyin(char, style=Style.TONE)[0][0]})")
    return "".join(out)


def _full_width(text: str) -> str:
    table = {ord(c): chr(ord(c) + 0xFEE0) for c in "0123456789%"}
    table[ord(".")] = "．"
    return text.translate(table)


def _width(char: str) -> float:
    return 0.5 if ord(char) < 128 else 1.0


def pdf_extraction(text: str) -> str:
    """Wrap every paragraph at WRAP characters and paginate like pdftotext."""
    lines: list[str] = []
    for paragraph in text.split("\n"):
        paragraph = _full_width(paragraph.strip())
        if not paragraph:
            continue
        line, width = "", 0.0
        for char in paragraph:
            if width + _width(char) > WRAP:
                lines.append(line)
                line, width = "", 0.0
            line += char
            width += _width(char)
        lines.append(line)
    pages = [lines[i:i + LINES_PER_PAGE] for i in range(0, len(lines), LINES_PER_PAGE)]
    out = []
    for number, page in enumerate(pages, start=1):
        out.extend(page)
        out.extend(["", f"— {number} —", "", "\f"])
    return "\n".join(out)


def flattened(text: str) -> str:
    """Keep the page's header lines, run the body (from the intro on) into one line."""
    lines = [line for line in text.split("\n") if line.strip()]
    start = next(i for i, line in enumerate(lines) if line.startswith("教育督导是推动"))
    return "\n".join(lines[:start] + ["".join(lines[start:])]) + "\n"


def main() -> None:
    anhui = _read("anhui-2020-workplan.txt")
    _write("anhui-2020-traditional.txt", traditional(anhui))
    _write("anhui-2020-flattened.txt", flattened(anhui))
    _write("langxi-2023-caremode.txt", care_mode(_read("langxi-2023-workplan.txt")))
    bazhong = _read("bazhong-2020-report.txt")
    bazhong_traditional = traditional(bazhong)
    _write("bazhong-2020-traditional-pinyin.txt", care_mode(bazhong_traditional, only_changed_from=bazhong))
    _write("ningguo-2021-pdf.txt", pdf_extraction(_read("ningguo-2021-official.txt")))


if __name__ == "__main__":
    main()
