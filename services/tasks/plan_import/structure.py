"""Sections and items of a plan, from its clean paragraphs.

How sections and items are decided
----------------------------------
1. The body starts at the first "一、"/"（一）" (or, without one, the first long
   paragraph) and ends at the first footer line after it (上一篇, 版权所有, 附件…)
   or at a signature date after the last section, whichever comes first; what a
   site put before or after it never reaches a section. An "附件" line followed by
   a new "一、" run (a covering notice, then the attached plan) is not an end.
2. Every paragraph that starts with a numbering marker (``一、`` ``（一）`` ``1.``
   ``（1）`` ``①``…) opens a node; nodes nest by rank (see ``markers``), and a plain
   paragraph belongs to the deepest open node, so a measure that runs over several
   paragraphs stays whole. A marker is only accepted when its number continues the
   sequence of its level (1 → 2 → 3, or the document-wide count for plans that
   number measures straight through, like 1…21 across sections), which keeps a
   stray "7." or a wrapped "3.5亿元" from opening a node. Markers flattened into a
   paragraph ("…。二、…") are split out when they are exactly the next number.
3. Sections are the nodes of the highest level that occurs at least twice (or
   a single top node that holds everything else). When a notice precedes the
   plan and both are numbered, the longest numbered run wins.
4. Items are a section's numbered children, numbered as printed without their
   punctuation ("1." → "1", "（一）" → "一", "①" → "①"). A child that is only a
   short heading (no sentence of its own) over numbered children is a *group*
   (``（一）健全督导机构`` over ``①…②…``): its children become the items and
   carry the group. Anything deeper is folded, with its printed numbers, into
   the item's text.
5. ``目标任务：`` text becomes the section's goal; ``工作措施：`` only marks where the
   measures begin. Without a goal label, the paragraphs before the first item are
   the goal; a section with no numbered items keeps ``items: []`` and its whole
   body is its goal (the section itself is the task).
6. Narrative reports (no ``一、``/``（一）`` numbering at all) use their short
   stand-alone heading paragraphs, like ``深化体制机制改革,保障督导规范运行。``, as
   sections, numbered 一, 二, 三 in order (``numbered: false`` says the number was
   not printed). Within any section that has no numbered items, a ``一是…二是…``
   enumeration becomes the items, numbered "一是", "二是"…, and the text before
   ``一是`` is the goal. A report with neither headings nor numbers but one
   such enumeration becomes a single section.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

from .boilerplate import (
    DATE_ONLY,
    DOC_NUMBER_ONLY,
    is_metadata_line,
    is_page_chrome,
    is_tail_marker,
)
from .deadline import NO_DEADLINE, ParseDeadline
from .markers import (
    ENUM_SHI,
    GOAL_LABEL,
    INLINE_MARKER_START,
    MEASURES_LABEL,
    Marker,
    cjk_to_int,
    int_to_cjk,
    match_marker,
)

_TRAILING_MEASURES_LABEL = re.compile(
    r"[【\[（(]?(?:工作措施|主要措施|具体措施|推进措施|重点措施|主要举措|工作举措|具体举措|实施措施|落实措施)"
    r"[】\]）)]?\s*[:：]\s*$"
)
_INLINE_GOAL_LABEL = re.compile(r"(?:目标任务|工作目标|主要目标|任务目标|目标要求|总体目标|年度目标)\s*[:：]")
_ATTACHMENT = re.compile(r"^附件\s*\d*\s*(?:[:：].{0,60})?$")
_SENTENCE_END = re.compile(r"[。！？!?]")
_TITLE_SPLIT = re.compile(r"[。！？!?：:]")
_PLAN_TITLE_WORDS = re.compile(r"工作要点|工作计划|工作安排|工作思路|工作重点|实施方案|工作方案|要点$|计划$|总结$|报告$")
_ORG_LINE = re.compile(r"(?:政府|委员会|办公室|厅|局|委|办|部|中心|学校|学院|大学|室|处|督导组|小组)$")

LONG_PARAGRAPH = 50


@dataclass
class Node:
    """A numbered block: a section, a group heading or an item."""

    rank: int
    value: int
    number: str
    raw_marker: str
    index: int
    inline: bool = False
    synthetic: bool = False  # a narrative heading: the number was not printed
    head: str = ""
    paras: list[tuple[str, str]] = field(default_factory=list)  # (kind, text); kind: text|goal|measures
    children: list[Node] = field(default_factory=list)
    parent: Node | None = None
    mode: str = "text"
    last_index: int = 0
    # the last child of each rank: placing a marker looks up its previous sibling without scanning children
    last_child: dict[int, Node] = field(default_factory=dict)

    def iter_tree(self):
        yield self
        for child in self.children:
            yield from child.iter_tree()


@dataclass
class Section:
    """A section as the parser reports it, before per-item extraction."""

    number: str
    title: str
    goal: str | None
    body: str
    items: list[dict]
    numbered: bool
    index: int


@dataclass
class Structure:
    """Sections plus the paragraph ranges the metadata extraction needs."""

    sections: list[Section]
    first_index: int   # paragraph index of the first section
    end_index: int     # paragraph index after the last paragraph used by sections


class TreeBuilder:
    """Build the marker tree paragraph by paragraph, checking number sequences."""

    def __init__(self, deadline: ParseDeadline = NO_DEADLINE) -> None:
        self.deadline = deadline
        self.root = Node(rank=-1, value=0, number="", raw_marker="", index=-1)
        self.stack: list[Node] = [self.root]
        self.last_value: dict[int, int] = {}
        self.restart_allowed = True
        self.header: list[tuple[int, str]] = []  # plain paragraphs before any node

    # ------------------------------------------------------------------ placement
    def _parent_depth(self, marker: Marker, inline: bool) -> int | None:
        depth = len(self.stack) - 1
        while self.stack[depth].rank >= marker.rank:
            depth -= 1
        parent = self.stack[depth]
        previous = parent.last_child.get(marker.rank)
        value = marker.value
        if previous is not None:
            step = 1 if inline else 3
            if previous.value < value <= previous.value + step or (not inline and value == previous.value):
                return depth
            if parent is self.root and value == 1 and not inline and self.restart_allowed:
                return depth  # a new numbered run: the plan after its covering notice
            return None
        last = self.last_value.get(marker.rank)
        if value == 1 or (last is not None and value == last + 1):
            return depth
        if not inline and last is None and value <= 2:
            return depth
        return None

    def _open(self, marker: Marker, depth: int, index: int, inline: bool) -> Node:
        del self.stack[depth + 1:]
        parent = self.stack[depth]
        node = Node(marker.rank, marker.value, marker.number, marker.raw, index, inline=inline,
                    parent=parent, last_index=index)
        parent.children.append(node)
        parent.last_child[node.rank] = node
        self.stack.append(node)
        self.last_value[marker.rank] = marker.value
        self.restart_allowed = False
        return node

    def open_synthetic(self, index: int, ordinal: int, heading: str) -> None:
        """Open a section for an unnumbered narrative heading."""
        del self.stack[1:]
        node = Node(1, ordinal, int_to_cjk(ordinal), "", index, synthetic=True, parent=self.root,
                    head=heading, last_index=index)
        self.root.children.append(node)
        self.root.last_child[node.rank] = node
        self.stack.append(node)

    def note_boundary(self) -> None:
        """A title, date or signature line was seen: a new numbered run may start."""
        self.restart_allowed = True

    # ------------------------------------------------------------------ text
    def _append(self, index: int, fragment: str, head_slot: bool) -> None:
        """Add a paragraph (or the head after a marker) to the innermost open node."""
        node = self.stack[-1]
        fragment = fragment.strip()
        if not fragment:
            return
        if node is self.root:
            self.header.append((index, fragment))
            return
        if head_slot:
            # A flattened page runs the heading into its label: "…工作目标任务：…".
            inline_goal = _INLINE_GOAL_LABEL.search(fragment, 1)
            if inline_goal:
                self._append(index, fragment[:inline_goal.start()], head_slot)
                node.mode = "goal"
                self._append(index, fragment[inline_goal.end():], False)
                return
        node.last_index = index
        for label, mode in ((GOAL_LABEL, "goal"), (MEASURES_LABEL, "measures")):
            m = label.match(fragment)
            if m:
                node.mode = mode
                fragment = fragment[m.end():].strip()
                head_slot = False
                break
        trailing = _TRAILING_MEASURES_LABEL.search(fragment)
        if trailing:
            fragment = fragment[:trailing.start()].rstrip()
        if fragment:
            if head_slot and not node.head and not node.paras:
                node.head = fragment
            else:
                node.paras.append((node.mode, fragment))
        if trailing:
            node.mode = "measures"

    def feed(self, index: int, text: str) -> None:
        """Add one paragraph, opening nodes for its marker and any inline markers."""
        pos = 0
        head_slot = False
        marker = match_marker(text)
        if marker is not None:
            depth = self._parent_depth(marker, inline=False)
            if depth is not None:
                self._open(marker, depth, index, inline=False)
                pos = marker.end
                head_slot = True
        if pos == 0 and _PLAN_TITLE_WORDS.search(text) and len(text) <= 60 and not _SENTENCE_END.search(text):
            self.restart_allowed = True  # a plan title: its numbering starts afresh
        for found in INLINE_MARKER_START.finditer(text, pos):
            self.deadline.check()  # one flattened paragraph may hold a whole document
            start = found.end()
            if start <= pos:
                continue
            inline_marker = match_marker(text, start)
            if inline_marker is None:
                continue
            depth = self._parent_depth(inline_marker, inline=True)
            if depth is None:
                continue
            self._append(index, text[pos:start], head_slot)
            self._open(inline_marker, depth, index, inline=True)
            pos = inline_marker.end
            head_slot = True
        self._append(index, text[pos:], head_slot)


# ---------------------------------------------------------------------- rendering

def render(node: Node, with_marker: bool) -> str:
    """The node's full text: head, paragraphs, then descendants with their numbers.

    Paragraphs are joined with newlines; a child found inside a flattened
    paragraph ("…：（1）…；（2）…") is joined without one, as it was printed.
    """
    # Pieces are joined once at the end: growing one string per paragraph copied it again each time,
    # quadratic for a node that collects thousands of paragraphs.
    pieces: list[str] = []
    has_text = False

    def add(separator: str, piece: str) -> None:
        nonlocal has_text
        if has_text:
            pieces.append(separator)
        pieces.append(piece)
        has_text = has_text or bool(piece)

    add("", (node.raw_marker if with_marker else "") + node.head)
    for _kind, para in node.paras:
        add("\n", para)
    for child in node.children:
        add("" if child.inline else "\n", render(child, with_marker=True))
    return "".join(pieces).strip()


def _is_group_heading(node: Node) -> bool:
    """A short heading with numbered children and no sentence of its own."""
    if not node.children:
        return False
    head = node.head.strip()
    if not head or len(head) > 40:
        return False
    if head[-1] in "：:，,；;":
        return False  # "开展专项督导：" introduces the parts of one measure
    return not _SENTENCE_END.search(head.rstrip("。！？!?"))


def _collect_items(node: Node, group: Node | None = None) -> list[dict]:
    items: list[dict] = []
    # the group's own intro, so that nothing is dropped; joined once, not once per item
    group_text = "\n".join(text for _kind, text in group.paras) if group is not None and group.paras else None
    for child in node.children:
        if _is_group_heading(child):
            items.extend(_collect_items(child, group=child))
            continue
        item = {"number": child.number, "text": render(child, with_marker=False)}
        if not item["text"]:
            continue  # a bare number with nothing after it is no measure
        if group is not None:
            item["group"] = {"number": group.number, "title": group.head}
            if group_text is not None:
                item["group"]["text"] = group_text
        items.append(item)
    return items


def split_title(head: str) -> tuple[str, str]:
    """Split "加强党的建设。坚持…" into a title and the text that follows it."""
    head = head.strip()
    match = _TITLE_SPLIT.search(head)
    if match and match.end() < len(head) and match.start() <= 40:
        title = head[:match.start()] + (match.group() if match.group() in "。！？!?" else "")
        return title, head[match.end():].strip()
    return head, ""


def split_enumeration(text: str) -> tuple[str | None, list[dict]] | None:
    """Split "…一是…。二是…。" into (text before 一是, items); None without 一是 and 二是."""
    chain: list[re.Match[str]] = []
    expected = 1
    for match in ENUM_SHI.finditer(text):
        if cjk_to_int(match.group("n")) == expected:
            chain.append(match)
            expected += 1
    if len(chain) < 2:
        return None
    before = text[:chain[0].start()].strip() or None
    items = []
    for position, match in enumerate(chain):
        end = chain[position + 1].start() if position + 1 < len(chain) else len(text)
        items.append({"number": match.group("n") + "是", "text": text[match.end():end].strip()})
    items = [item for item in items if item["text"]]
    return (before, items) if items else None


def _to_section(node: Node) -> Section:
    title, rest = (node.head.strip(), "") if node.synthetic else split_title(node.head)
    goal_paras = [text for kind, text in node.paras if kind == "goal"]
    intro_paras = ([rest] if rest else []) + [text for kind, text in node.paras if kind == "text"]
    measure_paras = [text for kind, text in node.paras if kind == "measures"]
    items = _collect_items(node)
    goal: str | None
    if items:
        goal = "\n".join(goal_paras or intro_paras) or None
    else:
        loose = "\n".join(intro_paras + measure_paras)
        enumeration = split_enumeration(loose) if loose else None
        if enumeration is not None:
            before, items = enumeration
            goal = "\n".join(goal_paras) or before
        else:
            goal = "\n".join(goal_paras or intro_paras + measure_paras) or None
    body_parts = ([rest] if rest else []) + [text for _kind, text in node.paras]
    body = "\n".join(body_parts)
    children_text = "\n".join(render(child, with_marker=True) for child in node.children)
    body = "\n".join(part for part in (body, children_text) if part)
    return Section(node.number, title, goal, body, items, not node.synthetic, node.index)


# ---------------------------------------------------------------------- document level

def is_fixed_paragraph(text: str) -> bool:
    """Dates, doc numbers, metadata and page chrome: never part of a section."""
    length = len(text)
    if length > 150:
        return False
    if _ATTACHMENT.match(text):
        return True
    return bool(
        (length <= 30 and (DATE_ONLY.match(text) or DOC_NUMBER_ONLY.match(text)))
        or (match_marker(text) is None and (is_metadata_line(text) or (length <= 30 and is_page_chrome(text))))
    )


def is_signature_org(paragraphs: list[str], index: int) -> bool:
    """An issuing organ's name on its own line, right above a date line."""
    text = paragraphs[index]
    return (
        len(text) <= 40
        and bool(_ORG_LINE.search(text))
        and not re.search(r"[，,。；;：:、]", text)
        and index + 1 < len(paragraphs)
        and bool(DATE_ONLY.match(paragraphs[index + 1]))
    )


def _is_long_content(text: str) -> bool:
    return len(text) >= LONG_PARAGRAPH and bool(re.search(r"[。！？!?；;]", text)) and not is_metadata_line(text)


def _has_high_level_markers(paragraphs: list[str]) -> bool:
    counts: dict[int, int] = {}
    for text in paragraphs:
        marker = match_marker(text)
        if marker is not None and marker.rank <= 2:
            counts[marker.rank] = counts.get(marker.rank, 0) + 1
    return any(count >= 2 for count in counts.values())


def _opens_numbering(text: str) -> bool:
    marker = match_marker(text)
    return marker is not None and marker.rank <= 2 and marker.value == 1


def find_tail(paragraphs: list[str], deadline: ParseDeadline = NO_DEADLINE) -> int:
    """Index of the first footer line after the body has started (len if none)."""
    # The body starts at the first "一、"/"（一）"; without one, at the first long paragraph.
    anchor = next((i for i, text in enumerate(paragraphs) if _opens_numbering(text)), None)
    if anchor is None:
        anchor = next((i for i, text in enumerate(paragraphs) if _is_long_content(text)), None)
    if anchor is None:
        return len(paragraphs)
    for index in range(anchor + 1, len(paragraphs)):
        deadline.check()
        if is_tail_marker(paragraphs[index]):
            # "附件" before the attached plan itself (a covering notice first) does
            # not end the document: the plan's own numbering starts after it.
            if _ATTACHMENT.match(paragraphs[index]) and _numbering_restarts(paragraphs, index + 1):
                continue
            return index
    return len(paragraphs)


def _numbering_restarts(paragraphs: list[str], start: int) -> bool:
    """True if a new "一、" run begins within a few lines, before any footer."""
    for index in range(start, min(len(paragraphs), start + 12)):
        text = paragraphs[index]
        if _opens_numbering(text):
            return True
        if is_tail_marker(text) and not _ATTACHMENT.match(text):
            return False
    return False


def _narrative_heading(paragraphs: list[str], index: int, end: int) -> bool:
    text = paragraphs[index]
    if len(text) > 36 or len(text) < 4 or is_fixed_paragraph(text) or match_marker(text) is not None:
        return False
    if GOAL_LABEL.match(text) or MEASURES_LABEL.match(text) or ENUM_SHI.match(text):
        return False
    if text[-1] in "：:，,；;、" or len(_SENTENCE_END.findall(text.rstrip("。！？!?"))) > 0:
        return False
    if text.count("，") + text.count(",") > 2:
        return False
    # by index, not a slice: copying the rest of the document for every candidate heading was quadratic
    following = next((paragraphs[i] for i in range(index + 1, end) if not is_fixed_paragraph(paragraphs[i])), None)
    return following is not None and len(following) >= max(40, 1.5 * len(text))


def _narrative_headings(paragraphs: list[str], end: int, deadline: ParseDeadline = NO_DEADLINE) -> list[int]:
    first_long = next((i for i in range(end) if _is_long_content(paragraphs[i])), None)
    if first_long is None:
        return []
    first_text = next((i for i in range(end) if not is_fixed_paragraph(paragraphs[i])), None)
    start = first_long + 1
    if first_long > 0 and first_long - 1 != first_text and _narrative_heading(paragraphs, first_long - 1, end):
        start = first_long - 1
    headings = []
    for index in range(start, end):
        deadline.check()
        if _narrative_heading(paragraphs, index, end):
            headings.append(index)
    return headings


def _build(paragraphs: list[str], end: int, narrative: list[int], deadline: ParseDeadline = NO_DEADLINE) -> TreeBuilder:
    builder = TreeBuilder(deadline)
    narrative_set = set(narrative)
    ordinal = 0
    for index in range(end):
        deadline.check()
        text = paragraphs[index]
        if index in narrative_set:
            ordinal += 1
            builder.open_synthetic(index, ordinal, text)
            continue
        if is_fixed_paragraph(text) or is_signature_org(paragraphs, index):
            builder.note_boundary()
            continue
        builder.feed(index, text)
    return builder


def _select_sections(builder: TreeBuilder) -> list[Node]:
    nodes = [node for node in builder.root.iter_tree() if node is not builder.root]
    counts: dict[int, int] = {}
    for node in nodes:
        counts[node.rank] = counts.get(node.rank, 0) + 1
    if not counts:
        return []
    repeated = [rank for rank, count in counts.items() if count >= 2]
    section_rank = min(repeated) if repeated else min(counts)
    top = builder.root.children
    top_rank = min(node.rank for node in top)
    if top_rank < section_rank and [n.rank for n in top].count(top_rank) == 1 and top[-1].rank == top_rank:
        section_rank = top_rank  # a plan with a single "一、" that holds all the rest
    candidates = [node for node in nodes if node.rank == section_rank]
    runs: list[list[Node]] = [[]]
    for node in candidates:
        if runs[-1] and node.value <= runs[-1][-1].value and node.parent is builder.root:
            runs.append([])
        runs[-1].append(node)
    best = max(range(len(runs)), key=lambda i: (len(runs[i]), i))
    return runs[best]


def _last_index(node: Node) -> int:
    return max((n.last_index for n in node.iter_tree()), default=node.index)


def _signature_cut(paragraphs: list[str], end: int, narrative: list[int]) -> int:
    """Cut at a signature date after the last section heading.

    The signature closes the document, so whatever a site appended after it
    cannot reach an item, even without a recognisable footer.
    """
    if narrative:
        last_heading = narrative[-1]
    else:
        ranks: dict[int, list[int]] = {}
        for index in range(end):
            marker = match_marker(paragraphs[index])
            if marker is not None:
                ranks.setdefault(marker.rank, []).append(index)
        if not ranks:
            return end
        repeated = [rank for rank, found in ranks.items() if len(found) >= 2]
        last_heading = ranks[min(repeated) if repeated else min(ranks)][-1]
    for index in range(last_heading + 1, end):
        if DATE_ONLY.match(paragraphs[index]):
            return index - 1 if is_signature_org(paragraphs, index - 1) else index
    return end


def build_structure(paragraphs: list[str], deadline: ParseDeadline = NO_DEADLINE) -> Structure:
    """Find the sections and items of a document's paragraphs."""
    end = find_tail(paragraphs, deadline)
    structured = _has_high_level_markers(paragraphs[:end])
    narrative = [] if structured else _narrative_headings(paragraphs, end, deadline)
    if len(narrative) < 2:
        narrative = []
    end = _signature_cut(paragraphs, end, narrative)
    deadline.check()
    builder = _build(paragraphs, end, narrative, deadline)
    nodes = _select_sections(builder)
    if not nodes:
        return _fallback_structure(builder, paragraphs, end)
    sections = []
    for node in nodes:
        deadline.check()
        sections.append(_to_section(node))
    end_index = max(_last_index(node) for node in nodes) + 1
    return Structure(sections, nodes[0].index, end_index)


def _fallback_structure(builder: TreeBuilder, paragraphs: list[str], end: int) -> Structure:
    """No numbered or headed sections: one "一是…二是…" enumeration, or nothing.

    The enumeration may run over several paragraphs; its last item ends with its
    paragraph, since what follows ("会议要求，…") is no longer part of it.
    """
    body = [(index, text) for index, text in builder.header if _is_long_content(text) or ENUM_SHI.search(text)]
    joined = "\n".join(text for _index, text in body)
    enumeration = split_enumeration(joined) if joined else None
    if enumeration is None:
        return Structure([], end, end)
    before, items = enumeration
    last = items[-1]["text"]
    if "\n" in last:
        items[-1]["text"] = last[:last.index("\n")].strip()
    start = next(index for index, text in body if ENUM_SHI.search(text))
    before_lines = (before or "").split("\n")
    goal = before_lines[-1].strip() or None if before else None
    section = Section("一", "", goal, joined, items, False, start)
    return Structure([section], start, end)
