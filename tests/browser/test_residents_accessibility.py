"""axe-core on every residents' page, at 375 and 320 px: no serious or critical WCAG 2.1 A/AA violation."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

import pytest

from domain import commands as c
from services.bootstrap import Container
from tests.browser.conftest import PHONE
from tests.browser.test_accessibility import AXE, violations
from tests.browser.test_residents_story import SMALL_PHONE, phone, shot
from tests.integration.web.test_residents_pages import Community

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page

pytestmark = pytest.mark.integration


def serious(page: Page) -> list[dict[str, object]]:
    return [v for v in violations(page) if v["impact"] in ("serious", "critical")]


@pytest.mark.parametrize("viewport", [PHONE, SMALL_PHONE], ids=["375", "320"])
def test_every_residents_page_passes_axe(browser: Browser, server: str, container: Container,
                                         viewport: dict[str, int]) -> None:
    if not AXE.exists():
        if os.environ.get("SITELEDGER_REQUIRE_BROWSER") == "1":
            pytest.fail(f"axe-core is not installed at {AXE}")
        pytest.skip(f"axe-core is not installed at {AXE} (npm ci)")
    community = Community(container)
    item_id, stale_item = community.completed(), community.completed(with_history=False)
    community.open_round(item_id)
    community.open_round(stale_item)
    checked: dict[str, list[dict[str, object]]] = {}
    with phone(browser, server, container, community.residents[0], community, viewport, bypass_csp=True) as page:
        checked["awaiting"] = serious(page)
        page.goto(f"{server}/residents/items/{item_id}")
        checked["item"] = serious(page)
        page.get_by_role("link", name="整改前照片1，点开看大图").click()
        checked["photo"] = serious(page)
        page.goto(f"{server}/residents/items/{item_id}/photos/{'0' * 64}")
        checked["no such photo"] = serious(page)
        page.goto(f"{server}/residents/items/{item_id}/rounds/1/sign?decision=reject")
        checked["reject"] = serious(page)
        page.get_by_label("不同意的理由（必须填写）").fill("  ")
        page.get_by_role("button", name="下一步：确认").click()
        checked["reject refused"] = serious(page)
        page.get_by_label("不同意的理由（必须填写）").fill("井盖松动")
        page.get_by_role("button", name="下一步：确认").click()
        checked["confirm"] = serious(page)
        page.get_by_role("button", name="确认签字").click()
        page.wait_for_url("**/receipt")
        checked["receipt"] = serious(page)
        page.goto(f"{server}/residents/mine")
        checked["mine"] = serious(page)
        page.goto(f"{server}/residents/results")
        checked["results"] = serious(page)
        assert "井盖松动" in page.inner_text("main")  # the rejected round's defect, raised from the reason
        shot(page, "results-rejected")
        page.goto(f"{server}/residents/items/{stale_item}/rounds/1/sign?decision=accept")
        community.run(community.station, c.OrderStopWork(item_id=stale_item, reason="停电检修"))
        page.get_by_role("button", name="确认签字").click()
        checked["stale"] = serious(page)
    assert {name: found for name, found in checked.items() if found} == {}
