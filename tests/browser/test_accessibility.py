"""axe-core (npm, served from node_modules, never a CDN) finds no WCAG 2 A/AA violation on the sign-in pages,
on a phone and on a laptop."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any
from uuid import uuid4

import pytest

from domain.actors import Role
from services.api.authentication import invitations
from services.bootstrap import Container
from tests.browser.conftest import LAPTOP, PHONE
from tests.browser.test_sign_in_browser import PASSWORD, TIMEOUT_MS, person, sign_in

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page

pytestmark = pytest.mark.integration
AXE = Path(__file__).parents[2] / "node_modules" / "axe-core" / "axe.min.js"


@pytest.fixture(params=[PHONE, LAPTOP], ids=["phone", "laptop"])
def page(request: pytest.FixtureRequest, browser: Browser) -> Iterator[Page]:
    if not AXE.exists():
        reason = f"axe-core is not installed at {AXE} (npm ci)"
        if os.environ.get("SITELEDGER_REQUIRE_BROWSER") == "1":
            pytest.fail(reason)
        pytest.skip(reason)
    # The pages' CSP allows no script at all; only the test's axe-core is let in, by bypassing it here.
    context = browser.new_context(viewport={"width": request.param["width"], "height": request.param["height"]},
                                  locale="zh-CN", bypass_csp=True)
    opened = context.new_page()
    opened.set_default_timeout(TIMEOUT_MS)
    yield opened
    context.close()


def violations(page: Page) -> list[dict[str, Any]]:
    page.add_script_tag(path=str(AXE))
    found: list[dict[str, Any]] = page.evaluate(
        "async () => (await axe.run(document, {runOnly: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']}))"
        ".violations.map(v => ({id: v.id, impact: v.impact, nodes: v.nodes.map(n => n.target.join(' '))}))")
    return found


def test_the_sign_in_pages_have_no_accessibility_violations(page: Page, server: str, container: Container) -> None:
    link = person(container, "13800000041")
    checked = {}
    page.goto(server + link)
    checked["set-password"] = violations(page)
    page.get_by_label("新密码").fill(PASSWORD)
    page.get_by_label("再输入一次").fill(PASSWORD)
    page.get_by_role("button", name="保存密码").click()
    page.wait_for_url(f"{server}/sign-in?done=password")
    checked["sign-in"] = violations(page)
    page.get_by_label("手机号码").fill("13800000041")
    page.get_by_label("密码").fill("not the password at all")
    page.get_by_role("button", name="登录", exact=True).click()
    checked["sign-in refused"] = violations(page)
    sign_in(page, server, "13800000041")
    [(user_id,)] = container.db.query("SELECT user_id FROM users WHERE phone = ?", ("13800000041",))
    container.users.issue(user_id, device="监理平板", bound_device_id="tablet-0000041")
    page.reload()
    checked["account"] = violations(page)
    resident = container.users.create(Role.RESIDENT, "张桂英")
    page.goto(f"{server}/invite/{invitations(container).issue(resident.user_id, uuid4()).link_token}")
    checked["invitation"] = violations(page)
    assert {name: found for name, found in checked.items() if found} == {}
