"""佐证材料 files on a case's steps: the step's event records each file's hash, size, type and name; a step
refuses more than twenty files and files that were never stored; events stored before files existed still decode."""
from __future__ import annotations

from datetime import date

import pytest

from shared.backfill import StepDate
from shared.bus import CommandContext, UnitOfWork
from shared.clock import FixedClock
from shared.envelope import Actor
from shared.errors import InvalidInput
from shared.evidence import MAX_FILES_PER_STEP, EvidenceFile
from shared.eventstore.memory import InMemoryEventStore
from shared.policy import OfficePolicy, PolicyBook
from services.followups import handlers
from services.followups.domain import commands as c
from services.followups.domain.events import REGISTRY, RectificationReported
from services.followups.domain.model import RectificationCase

UNIT = "巴州区教育局"
DAY = StepDate.today(date(2020, 9, 1))
PHOTO = EvidenceFile(sha256="a" * 64, size=1234, type="image/png", name="整改后.png")


def planned_case() -> RectificationCase:
    case = RectificationCase("n1:P1")
    case.open(notice_id="n1", problem_id="P1", description="危房", responsible_unit=UNIT, deadline="2020-12-31",
              issuer_unit="巴中市教育督导室")
    case.submit_plan(plan="拆除", measures=[], planned_completion=None, when=DAY)
    return case


class TestAStepRecordsItsFiles:
    def test_the_report_records_each_files_hash_size_type_and_name(self):
        case = planned_case()
        case.report_completion(summary="已拆除", evidence=["照片"], when=DAY, policy=OfficePolicy(), files=[PHOTO])
        event = case.pending[-1]
        assert event.files == [{"sha256": "a" * 64, "size": 1234, "type": "image/png", "name": "整改后.png"}]
        assert event.evidence == ["照片"]  # the text descriptions stay as they were

    def test_more_than_twenty_files_on_one_step_are_refused_and_nothing_is_recorded(self):
        case = planned_case()
        before = len(case.pending)
        with pytest.raises(InvalidInput) as refused:
            case.report_progress(summary="进展", evidence=[], when=DAY, files=[PHOTO] * (MAX_FILES_PER_STEP + 1))
        assert refused.value.details["field"] == "files" and len(case.pending) == before

    def test_an_event_stored_before_files_existed_decodes_with_no_files(self):
        old = RectificationReported.from_data({"case_id": "n1:P1", "summary": "已拆除", "evidence": ["照片"]})
        assert old.files == []


class Catalogue:  # the store's lookup, as the handlers use it
    def __init__(self, *stored: EvidenceFile):
        self.stored = {f.sha256: {"size": f.size, "type": f.type, "name": f.name} for f in stored}
        self.referenced: list[str] = []

    def reference(self, sha256: str) -> dict | None:
        if sha256 in self.stored:
            self.referenced.append(sha256)
        return self.stored.get(sha256)


class TestTheHandlerTakesSizeAndTypeFromTheStore:
    def setup_method(self):
        self.store = InMemoryEventStore()
        self.context = CommandContext(Actor("zhao", "unit_handler", UNIT, "赵伟"), correlation_id="c1")
        case = planned_case()
        UnitOfWork("followups", self.store, REGISTRY).save(case, self.context)

    def report(self, files: tuple, catalogue) -> str:
        return handlers.report_completion(c.ReportCompletion("n1:P1", "已拆除", files=files),
                                          UnitOfWork("followups", self.store, REGISTRY), self.context,
                                          FixedClock(date(2020, 9, 2)), PolicyBook(), catalogue)

    def test_a_stored_file_is_recorded_as_stored_under_the_name_the_step_gives(self):
        catalogue = Catalogue(PHOTO)
        self.report((c.FileRef("a" * 64, "现场/照片一.png"),), catalogue)
        event = self.store.read_stream("n1:P1")[-1]
        assert event.data["files"] == [{"sha256": "a" * 64, "size": 1234, "type": "image/png", "name": "照片一.png"}]
        assert catalogue.referenced == ["a" * 64]  # kept for good: the sweep of abandoned uploads passes it by

    def test_a_file_never_stored_is_refused_naming_it(self):
        with pytest.raises(InvalidInput) as refused:
            self.report((c.FileRef("b" * 64, "方案.pdf"),), Catalogue(PHOTO))
        assert "方案.pdf" in refused.value.message_zh and refused.value.details["sha256"] == "b" * 64
        assert [e.type for e in self.store.read_stream("n1:P1")][-1] == "RectificationPlanSubmitted"
