"""Importing a published work plan through the tasks service: preview, edit, confirm."""
from __future__ import annotations

from pathlib import Path

DOCUMENTS = Path(__file__).resolve().parents[1] / "unit" / "tasks" / "documents"


class TestPlanImport:
    def test_a_pasted_plan_is_previewed_edited_and_imported_as_tasks(self, services):
        tasks = services.client("tasks")
        text = (DOCUMENTS / "anhui-2020-workplan.txt").read_text(encoding="utf-8")
        preview = tasks.post("/plans/preview", json={"text": text})
        assert preview.status_code == 200, preview.text
        body = preview.json()
        assert body["document"]["sections"][0]["number"] == "一"
        draft = body["draft"]
        assert draft["year"] == 2020 and len(draft["source_sha256"]) == 64 and draft["tasks"]

        edited = dict(draft, tasks=[dict(t) for t in draft["tasks"]])
        edited["tasks"][0].update(lead_unit="省教育厅", partner_units=["省委组织部"], due_date="2020-12-31")
        for task in edited["tasks"]:
            task.pop("targets")
        imported = tasks.post("/plans/import", json=edited)
        assert imported.status_code == 201, imported.text
        plan = imported.json()
        assert plan["source"] == "imported" and len(plan["task_ids"]) == len(draft["tasks"])

        listed = tasks.get("/tasks", params={"plan_id": plan["id"], "page_size": 100}).json()
        first = next(t for t in listed if t["id"] == plan["task_ids"][0])
        assert (first["number"], first["lead_unit"], first["partner_units"], first["due_date"]) == (
            draft["tasks"][0]["number"], "省教育厅", ["省委组织部"], "2020-12-31")
        assert first["text"] == draft["tasks"][0]["text"]

    def test_an_uploaded_file_in_traditional_characters_previews_in_simplified_chinese(self, services):
        tasks = services.client("tasks")
        raw = (DOCUMENTS / "anhui-2020-traditional.txt").read_bytes()
        preview = tasks.post("/plans/preview/upload", files={"file": ("plan.txt", raw, "text/plain")})
        assert preview.status_code == 200, preview.text
        assert "督導" not in preview.text and "督导" in preview.text

    def test_unusable_documents_get_422_with_a_reason_and_nothing_is_stored(self, services):
        tasks = services.client("tasks")
        before = tasks.get("/plans").headers["X-Pagination"]
        for payload in ({"text": "   "}, {"text": "This is an English memo with no Chinese in it at all."},
                        {"text": "督" * (5 * 1024 * 1024 // 3 + 10)}):
            response = tasks.post("/plans/preview", json=payload)
            assert response.status_code == 422, response.text[:200]
            body = response.json()  # the parser's reason, or the schema's for text too short to be a plan
            assert body["message_zh"] and (body.get("details", {}).get("field") == "text" or "text" in body["errors"]["json"])
        binary = tasks.post("/plans/preview/upload", files={"file": ("x.pdf", b"%PDF-1.7\x00\x01\x02" * 100)})
        assert binary.status_code == 422 and binary.json()["details"]["field"] == "file"
        missing = tasks.post("/plans/import", json={"title": "空", "tasks": []})
        assert missing.status_code == 422 and "tasks" in missing.json()["errors"]["json"]
        assert tasks.get("/plans").headers["X-Pagination"] == before

    def test_only_office_staff_may_import(self, services):
        handler = services.client("tasks", role="unit_handler", unit="巴州区教育局")
        assert handler.post("/plans/preview", json={"text": "x"}).status_code == 403
        assert handler.post("/plans/import", json={}).status_code == 403
