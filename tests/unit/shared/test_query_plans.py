"""Reading each engine's explain answer: does the lookup scan the whole collection?"""
import pytest

from shared.query_plans import scans_whole_collection


class TestMongoDBPlans:
    def test_a_collection_scan_is_a_full_scan(self):
        assert scans_whole_collection({"queryPlanner": {"winningPlan": {"stage": "COLLSCAN"}}})

    def test_an_index_scan_under_a_fetch_is_not(self):
        plan = {"stage": "FETCH", "inputStage": {"stage": "IXSCAN", "indexName": "stream_order"}}
        assert not scans_whole_collection({"queryPlanner": {"winningPlan": plan}})

    def test_a_collection_scan_deep_in_an_or_is_found(self):
        plan = {"stage": "SUBPLAN", "inputStage": {"stage": "OR", "inputStages": [
            {"stage": "IXSCAN"}, {"stage": "COLLSCAN"}]}}
        assert scans_whole_collection({"queryPlanner": {"winningPlan": plan}})


class TestFerretDBOnPostgreSQLPlans:
    def test_a_sequential_scan_is_a_full_scan(self):
        assert scans_whole_collection({"queryPlanner": {"Plan": {"Node Type": "Seq Scan", "Relation Name": "events_1"}}})

    def test_a_bitmap_scan_of_a_gin_index_is_not(self):
        plan = {"Node Type": "Bitmap Heap Scan", "Plans": [{"Node Type": "Bitmap Index Scan", "Index Name": "x_gin"}]}
        assert not scans_whole_collection({"queryPlanner": {"Plan": plan}})


class TestFerretDBOnSQLitePlans:
    def test_a_scan_row_is_a_full_scan(self):
        assert scans_whole_collection({"queryPlanner": {"Plan": ["id=2 parent=0 notused=0 detail=SCAN events_1"]}})

    def test_a_search_using_an_index_is_not(self):
        row = "id=3 parent=0 notused=0 detail=SEARCH events_1 USING INDEX events_1_duban_id (<expr>=?)"
        assert not scans_whole_collection({"queryPlanner": {"Plan": [row]}})


def test_an_answer_of_no_known_shape_is_an_error_not_a_pass():
    with pytest.raises(ValueError):
        scans_whole_collection({"queryPlanner": {"something": "else"}})
