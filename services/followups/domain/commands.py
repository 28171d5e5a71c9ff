"""Commands the followups service accepts."""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class OpenRectification:  # 建立整改事项（每个问题一个）
    case_id: str
    notice_id: str
    problem_id: str
    description: str
    responsible_unit: str
    deadline: str | None = None
