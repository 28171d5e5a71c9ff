"""The one error the plan parser raises for input it cannot use."""
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
