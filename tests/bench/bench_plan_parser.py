"""Benchmark the work-plan parser at 320 KB, 1 MB, 2 MB and 5 MB: time and throughput per input shape.

Run: ``python tests/bench/bench_plan_parser.py [--size-mb 1.0] [--repeat 3] [--shape plan]``
(without ``--size-mb``: every size; without ``--shape``: every shape).

Shapes:

* ``plan``: everything the parser has to cope with: page boilerplate, a red header
  with a doc number, 目标任务/工作措施 blocks, （一） groups over ① items,
  multi-paragraph measures, traditional characters, pinyin annotations and a
  PDF-wrapped stretch with full-width digits. The target is under one second for 1 MB.
* ``numbered``: the upload of issue #12, measures "1." "2." … numbered straight
  through the document, one a line. Markers stop at 999, so everything after
  item 999 became one ever longer text, and parse time grew with the square of
  the size (1 MB took 10 s, 5 MB minutes).
* ``numbered-long``: the same with long measures (eight sentences a line).
* ``numbered-flat``: （一）…（二十） groups over measures "1." to "12.", repeated,
  without a single line break; the last measure takes in the rest, which was
  quadratic too.

Time per MB should stay about the same from 320 KB to 5 MB: the parser is linear.
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from services.tasks.plan_import import parse_plan
from services.tasks.plan_import.markers import int_to_cjk

HEADER = """网站地图 服务指南 校长信箱
当前位置：首页 > 政务公开 > 通知公告
发布机构：示例市人民政府教育督导委员会办公室    生成日期：2024-02-21
文号：示教督办〔2024〕2号    成文日期：2024-02-18
【字体：大 中 小】 【打印】 【关闭】

示例市人民政府教育督导委员会办公室2024年教育督导工作要点

2024年，全市教育督导工作坚持以习近平新时代中国特色社会主义思想为指导，深化教育督导体制机制改革，强化督政、督学、评估监测职能，为建设教育强市提供有力保障。
"""

FOOTER = """
示例市人民政府教育督导委员会办公室
2024年2月18日

上一篇：关于开展春季开学工作专项督导的通知
下一篇：示例市2023年教育督导工作总结
版权所有：示例市教育局  皖ICP备05001234号-1  网站标识码：3418000012
"""

MEASURES = [
    "会同市委组织部、市财政局督促各县（市、区）政府落实教育优先发展战略，{year}年6月底前完成履职自评，评价结果达到95%及以上。",
    "組織開展責任督學掛牌督導，每年培訓督學200人次，實現中小學幼兒園責任督學全覆蓋，專職督學與學校數之比不低於1∶5。",
    "指导各地做好县域义务教育优质均衡发展督导评估，{year}—{end}年分年度推进，新建、改扩建学校3所，新增学位1200个。",
    "落实督导问责办法，对整改不力的单位依法依规予以约谈、通报和问责，问责情况每半年通报一次，9月底前完成问题整改。",
    "开展(kāi)展(zhǎn)校园安全专项督导，会同县公安局、县市场监管局对学校食堂、校车、消防安全开展联合检查，持续消除安全隐患。",
]


def _wrap_pdf(paragraph: str, width: int = 28) -> str:
    full = paragraph.translate({ord(c): chr(ord(c) + 0xFEE0) for c in "0123456789%"})
    return "\n".join(full[i:i + width] for i in range(0, len(full), width))


def build_document(target_bytes: int) -> str:
    """A plan of many sections and measures, about ``target_bytes`` of UTF-8."""
    parts = [HEADER]
    size = len(HEADER.encode("utf-8")) + len(FOOTER.encode("utf-8"))
    section = 0
    while size < target_bytes:
        section += 1
        number = (section - 1) % 999 + 1  # numerals stop at 九百九十九: past it, the next year's plan follows
        lines = [f"\n{int_to_cjk(number)}、推进第{section}项重点督导任务\n",
                 f"目标任务：到{2024}年底前，第{section}项任务完成率达到100%，督导覆盖率达到95%以上。\n",
                 "工作措施：\n"]
        if number == 1 and section > 1:
            lines.insert(0, f"\n示例市人民政府教育督导委员会办公室{2024 + section // 999}年教育督导工作要点\n")
        for group in range(1, 4):
            lines.append(f"（{int_to_cjk(group)}）第{group}类工作\n")
            for item in range(1, 5):
                text = MEASURES[(section + group + item) % len(MEASURES)].format(year=2024, end=2026)
                mark = "①②③④"[item - 1]
                if (section + item) % 7 == 0:
                    lines.append(_wrap_pdf(mark + text) + "\n")
                else:
                    lines.append(f"{mark}{text}\n")
                if item == 2:
                    lines.append("整改情况于10月15日前报市政府教育督导委员会办公室，确保问题整改率达到100%。\n")
        chunk = "".join(lines)
        parts.append(chunk)
        size += len(chunk.encode("utf-8"))
    parts.append(FOOTER)
    return "".join(parts)


NUMBERED_MEASURES = [
    "加强教育督导队伍建设，会同市委组织部、市财政局督促各县（市、区）政府落实教育优先发展战略，6月底前完成履职自评工作。",
    "深入推进县域义务教育优质均衡发展督导评估，新建、改扩建学校3所，新增学位1200个，确保评价结果达到95%及以上。",
    "组织开展责任督学挂牌督导，每年培训督学200人次，实现中小学幼儿园责任督学全覆盖，专职督学与学校数之比不低于1∶5。",
    "落实《教育督导问责办法》，对整改不力的单位依法依规予以约谈、通报和问责，问责情况每半年通报一次，9月底前完成问题整改。",
    "开展校园安全专项督导，会同县公安局、县市场监管局对学校食堂、校车、消防安全开展联合检查，2024年底前消除安全隐患。",
]

NUMBERED_HEADER = """示例市教育局2024年教育督导工作要点

2024年，全市教育督导工作坚持以习近平新时代中国特色社会主义思想为指导，强化督政、督学、评估监测职能。
"""


def build_numbered_document(target_bytes: int, shape: str = "numbered") -> str:
    """About ``target_bytes`` of numbered measures in one of the ``numbered`` shapes (see the module docstring)."""
    parts = [NUMBERED_HEADER]
    size = len(NUMBERED_HEADER.encode("utf-8"))
    block = 0
    while size < target_bytes:
        lines = []
        if shape == "numbered-flat":
            lines.append(f"（{int_to_cjk(block % 20 + 1)}）第{block + 1}类重点工作。")
        for item in range(1, 13):
            number = item if shape == "numbered-flat" else block * 12 + item
            text = NUMBERED_MEASURES[(block + item) % len(NUMBERED_MEASURES)]
            if shape == "numbered-long":
                text = "".join(NUMBERED_MEASURES[(block + item + k) % len(NUMBERED_MEASURES)] for k in range(8))
            lines.append(f"{number}. {text}" + ("" if shape == "numbered-flat" else "\n"))
        chunk = "".join(lines)
        parts.append(chunk)
        size += len(chunk.encode("utf-8"))
        block += 1
    return "".join(parts)


SHAPES = {
    "plan": build_document,
    "numbered": build_numbered_document,
    "numbered-long": lambda target: build_numbered_document(target, "numbered-long"),
    "numbered-flat": lambda target: build_numbered_document(target, "numbered-flat"),
}
SIZES_MB = (320 / 1024, 1.0, 2.0, 5.0)


def measure(shape: str, size_mb: float, repeat: int) -> None:
    document = SHAPES[shape](int(size_mb * 1024 * 1024))
    size_bytes = len(document.encode("utf-8"))
    timings, cpu_timings = [], []
    result = None
    for _ in range(repeat):
        started, cpu_started = time.perf_counter(), time.process_time()
        result = parse_plan(document)
        timings.append(time.perf_counter() - started)
        cpu_timings.append(time.process_time() - cpu_started)
    best, cpu = min(timings), min(cpu_timings)
    megabytes = size_bytes / 1024 / 1024
    sections = len(result["sections"])
    items = sum(len(s["items"]) for s in result["sections"])
    # CPU time too: on a shared machine the wall time also measures the neighbours
    print(f"{shape:<14} {megabytes:5.2f} MB {len(document):>9,} chars {sections:>4} sections {items:>5} items  "
          f"best {best:6.2f} s ({cpu:6.2f} s CPU)  {megabytes / best:5.2f} MB/s  {best / megabytes:6.3f} s/MB "
          f"({cpu / megabytes:6.3f} s/MB CPU)  runs {', '.join(f'{t:.2f}' for t in timings)}", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size-mb", type=float, default=None, help="one size instead of 320 KB, 1, 2 and 5 MB")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--shape", choices=sorted(SHAPES), action="append", help="repeatable; default: every shape")
    args = parser.parse_args()

    parse_plan(build_document(64 * 1024))  # load OpenCC's dictionaries before timing
    sizes = (args.size_mb,) if args.size_mb else SIZES_MB
    print("plan parser: best of", args.repeat, "runs; s/MB should stay about the same as the size grows")
    for shape in args.shape or list(SHAPES):
        for size_mb in sizes:
            measure(shape, size_mb, args.repeat)


if __name__ == "__main__":
    main()
