"""The errors the plan parser raises for input it cannot use (or cannot finish in time)."""
from __future__ import annotations


class PlanParseError(ValueError):
    """Input that is not a usable plan document (empty, binary, not Chinese, too large...).

    The message is bilingual, Chinese first, e.g. ``文档为空 / the document is empty``.
    ``code`` is a short stable identifier for callers that branch on the reason.
    """

    def __init__(self, code: str, zh: str, en: str) -> None:
        super().__init__(f"{zh} / {en}")
        self.code = code
        self.zh = zh
        self.en = en


class PlanParseTimeout(PlanParseError):
    """The parse ran past its deadline (``ParseDeadline``) and was stopped."""

    def __init__(self, seconds: float) -> None:
        super().__init__(
            "too_slow",
            f"文档解析超过 {seconds:g} 秒仍未完成，已停止；请删去与工作要点无关的内容或拆分文档后重试",
            f"parsing the document took longer than {seconds:g} s and was stopped; "
            "remove text that is not part of the plan or split the document, then retry",
        )
        self.seconds = seconds
