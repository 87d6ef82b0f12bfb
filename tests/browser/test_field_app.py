"""The supervisors' tablet app in a real Chromium at tablet size against the real server: it opens with no
network after the first visit, its forms come from the item's frozen template, and what is recorded offline
reaches the server exactly once through a link that loses requests."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest

from services.bootstrap import Container
from tests.browser.conftest import screenshot_path
from tests.browser.field_world import FieldWorld, enrol, field_world, open_app, tablet

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page

pytestmark = pytest.mark.integration


@pytest.fixture
def world(container: Container) -> Iterator[FieldWorld]:
    with field_world(container) as built:
        yield built


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    with tablet(browser) as context:
        yield context.new_page()


def test_after_the_first_visit_the_app_opens_with_no_network(page: Page, world: FieldWorld) -> None:
    pipe = world.api.item("pipe_relocation")
    enrol(page, world)
    page.context.set_offline(True)
    open_app(page, world)
    assert page.get_by_role("heading", name="我的项目").is_visible()
    card = page.locator(f"a[href='#/item/{pipe}']")
    assert "下一检查点：现状管线探测与放线" in card.inner_text()
    assert page.locator("#network").inner_text() == "离线"
    page.screenshot(path=screenshot_path("field-home-offline-1024x768"), full_page=True)
