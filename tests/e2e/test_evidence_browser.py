"""佐证材料 in a real browser: the 巴州区 handler attaches two photos to the 整改报告 through the case page's file
input; the inspector opens the case, sees both thumbnails load (served by the portal from the followups service as
the inspector) and passes 复查.

The notice and the plan go through the services' APIs (other tests walk those pages); the services, Kafka and
FerretDB are the session's real ones (tests/e2e/conftest.py).
"""
from __future__ import annotations

import io
import uuid

from PIL import Image
from playwright.sync_api import expect

from tests.e2e.test_portal_browser import (  # noqa: F401 - the module's browser and people fixtures
    BAZHOU,
    ISSUER,
    QUICK,
    accepted,
    browser,
    case_form,
    load_until,
    people,
    reinspect,
    status_is,
)
from tests.helpers import eventually

RUN = uuid.uuid4().hex[:6]


def photo(colour: str) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (800, 600), colour).save(buffer, "PNG")
    return buffer.getvalue()


def test_a_handler_attaches_two_photos_and_the_inspector_sees_them_and_passes_the_reinspection(people, services):  # noqa: F811
    office = services.client("notices", role="office_staff", unit=ISSUER)
    answer = office.post("/notices", json={
        "kind": "督办通知", "title": f"关于校园围墙破损整改的督办通知（佐证材料测试{RUN}）", "issuer_unit": ISSUER,
        "target_units": [BAZHOU], "problems": [{"description": "围墙破损", "requirement": "修复围墙",
                                                "responsible_unit": BAZHOU, "deadline_days": 20}]})
    assert answer.status_code == 201, answer.text
    case_id = f"{answer.json()['id']}:P1"
    handler_api = services.client("followups", role="unit_handler", unit=BAZHOU)

    def planned():  # once followups has opened the case from the topic
        answer = handler_api.post(f"/cases/{case_id}/plan", json={"plan": "修复围墙"})
        assert answer.status_code == 200, answer.text

    eventually(planned, timeout=60, interval=1)
    path = f"/cases/{case_id}"

    bazhou = people("bazhou")
    load_until(bazhou, path, status_is(".case-head", "planned", "已提交整改方案"))
    form = case_form(bazhou, "提交整改报告", "completion")
    form.locator("[name=summary]").fill("围墙已修复")
    form.locator("input[type=file][name=files]").set_input_files([
        {"name": "整改前.png", "mimeType": "image/png", "buffer": photo("red")},
        {"name": "整改后.png", "mimeType": "image/png", "buffer": photo("green")}])
    form.get_by_role("button", name="提交整改报告", exact=True).click()
    accepted(bazhou)
    load_until(bazhou, path, status_is(".case-head", "reported", "待复查"))

    inspector = people("inspector")

    def two_thumbnails(page) -> None:
        expect(page.locator("table.attachments img.thumbnail")).to_have_count(2, timeout=QUICK)

    load_until(inspector, path, two_thumbnails)
    expect(inspector.locator("table.attachments")).to_contain_text("整改前.png")
    expect(inspector.locator("table.attachments")).to_contain_text("整改后.png")
    expect(inspector.locator("table.attachments")).to_contain_text("巴州区经办人")
    # Thumbnails load lazily: bring them into view so the browser fetches them whatever the window's height.
    inspector.locator("table.attachments").scroll_into_view_if_needed()
    inspector.wait_for_function(  # both pictures loaded: the portal served each thumbnail as a PNG
        "() => [...document.querySelectorAll('table.attachments img.thumbnail')]"
        ".every(img => img.complete && img.naturalWidth > 0)", timeout=15_000)
    widths = inspector.locator("table.attachments img.thumbnail").evaluate_all("imgs => imgs.map(i => i.naturalWidth)")
    assert len(widths) == 2 and all(0 < width <= 240 for width in widths), widths

    reinspect(inspector, path, True, "围墙已修复到位")
