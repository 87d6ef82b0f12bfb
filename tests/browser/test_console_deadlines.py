"""Deadlines on the console in Chromium, at the station's laptop sizes: the overview's 期限已过 and 即将到期 read in
Chinese, nothing cut off, no serious or critical axe-core violation, and a project's own clock one click from its
project page; the city page lists another district's breached clock too."""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING

from domain.actors import Role
from services.bootstrap import Container
from services.web.console.overview import clock
from tests.browser.conftest import screenshot_path
from tests.browser.test_console_accessibility import page, serious, sign_in_as, size, world
from tests.integration.web.console_world import ConsoleWorld, person, user_id
from tests.support import World
from tests.unit.domain.test_completion_acceptance import accepted, hold, notify, survey

if TYPE_CHECKING:
    from playwright.sync_api import Page

__all__ = ["page", "world"]  # the fixtures, shared with the accessibility test


def with_deadlines(container: Container, world: ConsoleWorld) -> str:
    """An item past its planned end, a defect and an item due within three days, a project accepted on 13 October
    2025 and never filed, and another district's item past its planned end; returns the unfiled project's id."""
    api, today = world.api, clock(container).today()
    api.item(title="6号楼雨污分流改造", location="6号楼西侧", planned_end=(today - timedelta(days=2)).isoformat())
    soon = api.item(title="7号楼弱电架空线入地", location="7号楼", planned_end=(today + timedelta(days=2)).isoformat())
    api.ok("POST", f"/api/v1/works-items/{soon}/defects", api.station, json={
        "severity": "minor", "description": "检查井井盖缺失", "due_date": (today + timedelta(days=1)).isoformat()})
    api.ok("POST", f"/api/v1/projects/{world.foreign_project}/works-items", api.admin, json={
        "kind": "pipe_relocation", "title": "外滩花园燃气管", "location": "2号楼",
        "planned_end": (today - timedelta(days=9)).isoformat()})
    unfiled = World(container.ledger)
    notify(unfiled)
    accepted(unfiled)
    survey(unfiled)
    hold(unfiled, "2025-10-13")
    return str(unfiled.project_id)


def test_the_overview_lists_deadlines_breached_and_approaching_readably(
        page: Page, server: str, container: Container, world: ConsoleWorld) -> None:
    unfiled = with_deadlines(container, world)
    sign_in_as(page, server, container, user_id(world.api, world.api.station))
    page.goto(f"{server}/console/districts/徐汇区")
    page.wait_for_load_state("networkidle")
    breached = page.locator("table", has=page.locator("caption", has_text="已过期限仍未办理的事项"))
    approaching = page.locator("table", has=page.locator("caption", has_text="即将到期的事项"))
    assert page.get_by_role("heading", name="期限已过（2 项）").is_visible()
    assert page.get_by_role("heading", name="即将到期（3 天内，2 项）").is_visible()
    assert breached.locator("tbody tr").count() == 2 and approaching.locator("tbody tr").count() == 2
    assert "竣工验收后 15 日内备案" in breached.inner_text() and "整改期限：检查井井盖缺失" in approaching.inner_text()
    for table in (breached, approaching):  # nothing cut off: every table fits the page's width
        box, width = table.bounding_box(), page.viewport_size
        assert box is not None and width is not None and box["x"] + box["width"] <= width["width"]
    assert serious(page) == []
    breached.scroll_into_view_if_needed()
    page.screenshot(path=screenshot_path(f"console-deadlines-{size(page)}"), full_page=True)
    breached.get_by_role("link", name="金牛花苑").click()
    page.wait_for_url(f"{server}/console/projects/{unfiled}")

    sign_in_as(page, server, container, person(container, Role.ADMIN, name="市住建委"))
    page.goto(f"{server}/console/city")
    page.wait_for_load_state("networkidle")
    assert page.get_by_role("heading", name="期限已过（3 项）").is_visible()
    assert "外滩花园燃气管" in page.locator("#attention").inner_text()
    assert serious(page) == []
    page.screenshot(path=screenshot_path(f"console-deadlines-city-{size(page)}"), full_page=True)
