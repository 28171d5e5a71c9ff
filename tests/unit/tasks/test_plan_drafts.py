from pathlib import Path

from services.tasks.plan_import import draft_tasks, parse_plan

DOCUMENTS = Path(__file__).resolve().parent / "documents"


def test_each_numbered_measure_becomes_a_draft_task_numbered_by_section_and_item():
    parsed = parse_plan((DOCUMENTS / "anhui-2020-workplan.txt").read_text(encoding="utf-8"))
    drafts = draft_tasks(parsed)
    expected = [f"{s['number']}.{i['number']}" for s in parsed["sections"] for i in s["items"]]
    expected += [s["number"] for s in parsed["sections"] if not s["items"]]
    assert sorted(d["number"] for d in drafts) == sorted(expected)
    first = parsed["sections"][0]["items"][0]
    assert drafts[0]["text"] == first["text"]


def test_a_section_without_measures_is_one_task_made_of_its_title_and_goal():
    parsed = parse_plan((DOCUMENTS / "langxi-2023-workplan.txt").read_text(encoding="utf-8"))
    section = parsed["sections"][0]
    assert section["items"] == []
    draft = draft_tasks(parsed)[0]
    assert draft["number"] == "一"
    assert draft["text"].startswith(section["title"]) and draft["text"].endswith(section["goal"])


def test_units_and_the_latest_dated_deadline_are_prefilled():
    parsed = {"sections": [{"number": "一", "title": "t", "goal": None, "items": [{
        "number": "1", "text": "省教育厅会同省委组织部于2020年6月底前、2020年底前完成",
        "units": ["省教育厅", "省委组织部", "省教育厅"], "targets": ["95%及以上"],
        "deadlines": [{"text": "2020年底前", "date": "2020-12-31"}, {"text": "2020年6月底前", "date": "2020-06-30"},
                      {"text": "每年", "date": None}]}]}]}
    [draft] = draft_tasks(parsed)
    assert (draft["lead_unit"], draft["partner_units"], draft["due_date"]) == ("省教育厅", ["省委组织部"], "2020-12-31")
    assert draft["targets"] == ["95%及以上"]
