"""The first slice through all three services over HTTP, real Kafka and the real MongoDB-protocol server."""
from __future__ import annotations

import json
from datetime import timedelta

from shared.clock import SystemClock

from tests.helpers import eventually

TODAY = SystemClock().today()  # deadlines must not lie before the issue date, so they are relative to today
IN_20_DAYS, IN_40_DAYS = ((TODAY + timedelta(days=n)).isoformat() for n in (20, 40))

NOTICE = {
    "kind": "督办通知",
    "title": "关于校舍安全隐患整改的督办通知",
    "doc_number": "巴教督〔2020〕7号",
    "issuer_unit": "巴中市人民政府教育督导委员会办公室",
    "target_units": ["巴州区人民政府", "恩阳区人民政府"],
    "problems": [
        {"description": "部分学校D级危房未拆除", "requirement": "限期拆除并报送影像资料", "responsible_unit": "巴州区教育局",
         "deadline": IN_40_DAYS},
        {"description": "食堂从业人员健康证过期", "requirement": "全部更新健康证", "responsible_unit": "恩阳区教育局",
         "deadline": IN_20_DAYS},
        {"description": "寄宿制学校消防通道堵塞", "requirement": "立即清理", "responsible_unit": "巴州区教育局"},
    ],
}


class TestThinSlice:
    def test_a_plan_with_tasks_is_recorded_and_listed(self, services):
        tasks = services.client("tasks")
        created = tasks.post("/plans", json={
            "title": "2020年教育督导工作要点", "year": 2020, "issuer": "巴中市教育督导委员会办公室",
            "tasks": [{"number": "1", "text": "开展县域义务教育优质均衡发展督导评估", "lead_unit": "市教育局",
                       "partner_units": ["市财政局"], "due_date": "2020-12-31"},
                      {"number": "2", "text": "开展校园安全专项督导"}],
        })
        assert created.status_code == 201, created.text
        plan = created.json()
        assert len(plan["task_ids"]) == 2
        listed = tasks.get("/tasks", params={"plan_id": plan["id"]}).json()
        assert [(t["number"], t["lead_unit"]) for t in listed] == [("1", "市教育局"), ("2", None)]

    def test_a_notice_posted_to_notices_opens_one_case_per_problem_in_followups(self, services):
        issued = services.client("notices").post("/notices", json=NOTICE)
        assert issued.status_code == 201, issued.text
        notice = issued.json()
        assert notice["status"] == "issued" and [p["problem_id"] for p in notice["problems"]] == ["P1", "P2", "P3"]

        followups = services.client("followups", role="auditor")

        def three_cases():
            response = followups.get("/cases", params={"notice_id": notice["id"]})
            assert response.status_code == 200
            cases = response.json()
            assert len(cases) == 3, cases
            return cases

        cases = eventually(three_cases, timeout=30)
        default_deadline = (TODAY + timedelta(days=30)).isoformat()  # the office's default rectification period
        assert sorted((c["problem_id"], c["responsible_unit"], c["deadline"], c["status"]) for c in cases) == [
            ("P1", "巴州区教育局", IN_40_DAYS, "open"),
            ("P2", "恩阳区教育局", IN_20_DAYS, "open"),
            ("P3", "巴州区教育局", default_deadline, "open"),
        ]
        by_unit = followups.get("/cases", params={"unit": "恩阳区教育局", "notice_id": notice["id"]}).json()
        assert [c["problem_id"] for c in by_unit] == ["P2"]

    def test_bad_input_gets_422_naming_each_field_and_nothing_is_written(self, services):
        notices = services.client("notices")
        before = json.loads(notices.get("/notices").headers["X-Pagination"])["total"]
        response = notices.post("/notices", json={**NOTICE, "kind": "通知", "problems": [{"description": ""}]})
        assert response.status_code == 422
        errors = response.json()["errors"]["json"]
        assert set(errors) == {"kind", "problems"}
        assert set(errors["problems"]["0"]) == {"description", "responsible_unit"}
        not_json = notices.post("/notices", data=b"\xff\xfe", headers={"Content-Type": "application/json"})
        assert not_json.status_code == 422
        after = json.loads(notices.get("/notices").headers["X-Pagination"])["total"]
        assert after == before

    def test_identity_and_role_are_checked_before_anything_else(self, services):
        anonymous = services.client("notices")
        anonymous.token = None
        assert anonymous.post("/notices", json={}).status_code == 401
        assert anonymous.get("/notices").status_code == 401
        forged = services.client("notices").as_("not-a-token")
        assert forged.get("/notices").status_code == 401
        handler = services.client("notices", role="unit_handler", unit="巴州区教育局")
        refused = handler.post("/notices", json={})
        assert refused.status_code == 403 and refused.json()["message_zh"]

    def test_unknown_ids_are_404(self, services):
        assert services.client("notices").get("/notices/notice-missing").status_code == 404
        assert services.client("followups").get("/cases/missing:P1").status_code == 404
        assert services.client("tasks").get("/plans/plan-missing").status_code == 404

    def test_every_web_process_serves_health_readiness_metrics_and_openapi(self, services):
        for name in services.urls:
            client = services.client(name)
            assert client.get("/healthz").json() == {"status": "ok", "service": name}
            assert client.get("/readyz").json()["status"] == "ready"
            metrics = client.get("/metrics")
            assert metrics.status_code == 200 and "duban_http_requests_total" in metrics.text
            if name == "portal":
                continue  # pages for people, not an API: no OpenAPI document
            spec = client.get("/openapi.json").json()
            assert spec["openapi"].startswith("3.") and spec["paths"]
            docs = client.get("/docs")  # interactive docs whose scripts are served locally (no internet needed)
            assert docs.status_code == 200 and "/docs/static/swagger-ui-bundle.js" in docs.text
            assert client.get("/docs/static/swagger-ui-bundle.js").status_code == 200
