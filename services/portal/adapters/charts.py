"""Charts drawn on the server (SVG or PNG) so pages and .docx reports print without scripts: matplotlib's
object API (no pyplot: its global state is not safe under gunicorn threads), Agg backend, a CJK font."""
from __future__ import annotations

import io
import subprocess
import threading
from functools import lru_cache
from typing import Sequence

import matplotlib

matplotlib.use("Agg")  # no display on a server; must come before any figure is made

from matplotlib import font_manager  # noqa: E402
from matplotlib.backends.backend_agg import FigureCanvasAgg  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

PREFERRED_FONT_FILE = "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc"  # installed by the Makefile
FORMATS = ("svg", "png")
PNG_DPI = 100
# Colours that stay distinct when printed in grey as well as in colour.
PALETTE = ("#2b6cb0", "#dd6b20", "#2f855a", "#c53030", "#6b46c1", "#718096", "#b7791f", "#00838f")
# rcParams are process-wide; matplotlib's rc_context is not thread-safe, so drawing is serialised.
_DRAW_LOCK = threading.Lock()
_DETERMINISTIC = {
    "svg.hashsalt": "duban",  # ids in the SVG no longer random: same input, same bytes
    "svg.fonttype": "path",  # glyphs as paths: the image reads the same where the font is missing
    "path.simplify": True,
}


@lru_cache(maxsize=1)
def cjk_font_family() -> str | None:
    """The family name of a font that can draw Chinese, registered with matplotlib; None when the machine has none."""
    for path in [PREFERRED_FONT_FILE, *_fontconfig_cjk_files()]:
        try:
            font_manager.fontManager.addfont(path)
            return font_manager.FontProperties(fname=path).get_name()
        except (OSError, RuntimeError, ValueError):
            continue
    return None


def _fontconfig_cjk_files():
    """Whatever fontconfig knows that covers Chinese (asked only when the preferred font is missing)."""
    try:
        listed = subprocess.run(["fc-list", ":lang=zh", "file"], capture_output=True, text=True, timeout=5)
    except (OSError, subprocess.SubprocessError):
        return
    for line in listed.stdout.splitlines():
        if line.strip():
            yield line.split(":")[0].strip()


def _font_rc() -> dict:
    family = cjk_font_family()
    if family is None:  # draw anyway: Chinese shows as boxes, numbers and bars stay right
        return {"font.family": "sans-serif"}
    # WenQuanYi ships one weight (500): asking for exactly that keeps matplotlib from warning on every draw.
    return {"font.family": "sans-serif", "font.sans-serif": [family, "DejaVu Sans"], "axes.unicode_minus": False,
            "font.weight": 500, "axes.titleweight": 500, "axes.labelweight": 500}


def _check(fmt: str, labels: Sequence[str], series: dict[str, Sequence[float]]) -> None:
    if fmt not in FORMATS:
        raise ValueError(f"unknown chart format {fmt!r}: use one of {FORMATS}")
    for name, values in series.items():
        if len(values) != len(labels):
            raise ValueError(f"series {name!r} has {len(values)} values for {len(labels)} labels")


def _wrap(label: str, width: int = 10) -> str:
    """Long Chinese unit names on several lines rather than cut off or overlapping."""
    return "\n".join(label[i:i + width] for i in range(0, len(label), width)) or " "


def _value_text(value: float, percent: bool) -> str:
    if percent:
        return f"{value:.1f}%"
    return f"{value:g}" if value != int(value) else f"{int(value)}"


def _render(fig: Figure, fmt: str) -> bytes:
    out = io.BytesIO()
    FigureCanvasAgg(fig)
    metadata = {"Date": None, "Creator": None} if fmt == "svg" else {"Software": None}
    fig.savefig(out, format=fmt, dpi=PNG_DPI, metadata=metadata)
    return out.getvalue()


def _frozen(series: dict[str, list[float]]) -> tuple:
    return tuple((name, tuple(float(v) for v in values)) for name, values in series.items())


def bar_chart(title: str, labels: list[str], series: dict[str, list[float]], *, fmt: str = "svg",
              percent: bool = False) -> bytes:
    """Grouped bars, one colour per series, each bar labelled with its value; horizontal when there are many or
    long labels (unit names), the value axis from 0 (to 100 when `percent`)."""
    _check(fmt, labels, series)
    return _bar_chart(title, tuple(labels), _frozen(series), fmt, percent)


# Drawing takes 0.1–0.3 s and the same figures are asked again on every reload of a page: the same input gives the
# same bytes, so recent answers are kept (a few MB at most).
@lru_cache(maxsize=64)
def _bar_chart(title: str, labels: tuple[str, ...], frozen: tuple, fmt: str, percent: bool) -> bytes:
    series = dict(frozen)
    names = list(series)
    horizontal = len(labels) > 6 or any(len(label) > 6 for label in labels)
    n_rows = max(len(labels), 1)
    n_series = max(len(names), 1)
    group = 0.8 if len(labels) > 3 else 0.5  # one or two groups: not a wall of colour
    band = group / n_series
    largest = max((v for values in series.values() for v in values), default=0)
    top = 100.0 if percent else max(float(largest), 1.0)
    with _DRAW_LOCK, matplotlib.rc_context({**_DETERMINISTIC, **_font_rc()}):
        if horizontal:
            line_count = max((len(_wrap(label).splitlines()) for label in labels), default=1)
            fig = Figure(figsize=(8, max(2.5, 0.45 * n_rows * max(n_series * 0.7, 1) * (1 + 0.3 * (line_count - 1)))))
        else:
            fig = Figure(figsize=(max(6, 0.9 * n_rows * max(n_series * 0.6, 1)), 4.5))
        ax = fig.add_subplot()
        positions = list(range(len(labels)))
        for index, name in enumerate(names):
            offsets = [p - group / 2 + band * (index + 0.5) for p in positions]
            values = [float(v) for v in series[name]]
            colour = PALETTE[index % len(PALETTE)]
            if horizontal:
                bars = ax.barh(offsets, values, height=band, color=colour, label=name)
            else:
                bars = ax.bar(offsets, values, width=band, color=colour, label=name)
            ax.bar_label(bars, labels=[_value_text(v, percent) for v in values], padding=2, fontsize=8)
        wrapped = [_wrap(label) for label in labels]
        if horizontal:
            ax.set_yticks(positions, wrapped)
            ax.invert_yaxis()  # first label on top, as in a table
            ax.set_xlim(0, top * 1.12)
        else:
            ax.set_xticks(positions, wrapped)
            ax.set_ylim(0, top * 1.12)
        value_axis = ax.xaxis if horizontal else ax.yaxis
        if percent:
            value_axis.set_major_formatter("{x:.0f}%")
        else:  # counts: no 0.5 of a case on the axis
            value_axis.get_major_locator().set_params(integer=True)
        ax.set_title(title)
        ax.spines[["top", "right"]].set_visible(False)
        if len(names) > 1:
            ax.legend(loc="best", fontsize=8, frameon=False)
        fig.tight_layout()
        return _render(fig, fmt)


def line_chart(title: str, labels: list[str], series: dict[str, list[float]], *, fmt: str = "svg") -> bytes:
    """One line per series over ordered labels (e.g. closings by month), each point labelled, the axis from 0."""
    _check(fmt, labels, series)
    return _line_chart(title, tuple(labels), _frozen(series), fmt)


@lru_cache(maxsize=64)
def _line_chart(title: str, labels: tuple[str, ...], frozen: tuple, fmt: str) -> bytes:
    series = dict(frozen)
    largest = max((v for values in series.values() for v in values), default=0)
    with _DRAW_LOCK, matplotlib.rc_context({**_DETERMINISTIC, **_font_rc()}):
        fig = Figure(figsize=(max(6, 0.6 * len(labels)), 4))
        ax = fig.add_subplot()
        positions = list(range(len(labels)))
        for index, (name, values) in enumerate(series.items()):
            floats = [float(v) for v in values]
            ax.plot(positions, floats, marker="o", color=PALETTE[index % len(PALETTE)], label=name)
            for x, y in zip(positions, floats, strict=True):
                ax.annotate(_value_text(y, False), (x, y), textcoords="offset points", xytext=(0, 5),
                            ha="center", fontsize=8)
        ax.set_xticks(positions, labels)
        ax.set_ylim(0, max(float(largest), 1.0) * 1.15)
        ax.yaxis.get_major_locator().set_params(integer=True)
        ax.set_title(title)
        ax.spines[["top", "right"]].set_visible(False)
        if len(series) > 1:
            ax.legend(loc="best", fontsize=8, frameon=False)
        if len(labels) > 8:
            for tick in ax.get_xticklabels():
                tick.set_rotation(45)
                tick.set_ha("right")
        fig.tight_layout()
        return _render(fig, fmt)
