"""Three neighbours on three phones, in Debian's Chromium: each scans the invitation, sees what awaits, looks at
the photos and signs — one rejects with a reason and a photo from the camera, one with JavaScript off — the tally
moves and the result page shows the round granted. A page shown before a stop-work order is not signed blindly.
Screenshots of every page at 375 and 320 px go to tests/artifacts/."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

import pytest

from domain import commands as c
from services.api.authentication import invitations
from services.bootstrap import Container
from services.users import User
from tests import images
from tests.browser.conftest import PHONE, screenshot_path
from tests.integration.web.test_residents_pages import Community

if TYPE_CHECKING:
    from playwright.sync_api import Browser, FilePayload, Page

pytestmark = pytest.mark.integration
SMALL_PHONE = {"width": 320, "height": 640}
TIMEOUT_MS = 15_000


@contextmanager
def phone(browser: Browser, server: str, container: Container, person: User, community: Community,
          viewport: dict[str, int] = PHONE, javascript: bool = True, bypass_csp: bool = False) -> Iterator[Page]:
    """A phone that scanned its invitation's QR code and pressed 用这部手机登录; its console must stay clean
    (a script or style the pages' CSP refused would show there). The sign-in pages have no icon: not ours.
    `bypass_csp` only to let axe-core in."""
    context = browser.new_context(viewport={"width": viewport["width"], "height": viewport["height"]},
                                  locale="zh-CN", java_script_enabled=javascript, bypass_csp=bypass_csp)
    page = context.new_page()
    page.set_default_timeout(TIMEOUT_MS)
    errors: list[str] = []
    page.on("console", lambda message: errors.append(message.text) if message.type == "error"
            and not message.text.startswith("Failed to load resource") else None)  # those: the next line
    page.on("response", lambda answer: errors.append(f"{answer.status} {answer.url}") if answer.status >= 400
            and "/residents/" not in answer.url else None)  # the pages' own 409 and 422 are what is tested

    token = invitations(container).issue(person.user_id, community.project_id).link_token
    page.goto(f"{server}/invite/{token}")
    page.get_by_role("button", name="用这部手机登录").click()
    page.wait_for_url(f"{server}/residents")  # a resident lands on 待我签字
    yield page
    context.close()
    assert errors == []


def shot(page: Page, name: str) -> None:
    """The page as the phone shows it, saved to be looked at; and checked for what an old hand needs."""
    width = page.viewport_size["width"] if page.viewport_size else 0
    page.screenshot(path=screenshot_path(f"residents-{name}-{width}"), full_page=True)
    fits(page)
    large_enough(page)


def fits(page: Page) -> None:
    """Nothing wider than the phone: no sideways scrolling, nothing cut off."""
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"), page.url


def large_enough(page: Page) -> None:
    """Every link, button and field at least 48 px tall, and the base text at least 18 px."""
    small = page.evaluate("""() => [...document.querySelectorAll('a, button, input, textarea, label.button')]
        .filter(e => e.type !== 'hidden' && e.getBoundingClientRect().width > 1)
        .map(e => [(e.textContent || e.name || e.tagName).trim().slice(0, 20), e.getBoundingClientRect().height])
        .filter(([, height]) => height < 48)""")
    assert small == [], (page.url, small)
    assert page.evaluate("parseFloat(getComputedStyle(document.body).fontSize)") >= 18


def images_loaded(page: Page) -> int:
    count: int = page.evaluate("""async () => {
        const imgs = [...document.querySelectorAll('img')];
        imgs.forEach(i => i.loading = 'eager');
        await Promise.all(imgs.map(i => i.decode().catch(() => null)));
        return imgs.filter(i => i.naturalWidth > 0).length === imgs.length ? imgs.length : -1; }""")
    assert count >= 0, f"an image did not load on {page.url}"
    return count


def accept(page: Page, name: str) -> str:
    page.get_by_role("link", name="同意", exact=True).click()
    assert page.get_by_role("heading", name="请确认您的签字").is_visible()
    code = page.locator(".code").inner_text()
    shot(page, f"confirm-accept-{name}")
    page.get_by_role("button", name="确认签字").click()
    page.wait_for_url("**/receipt")
    assert page.locator("#receipt-code").inner_text() == code
    return code


def test_three_neighbours_sign_on_their_phones_and_the_round_is_granted(
        browser: Browser, server: str, container: Container) -> None:
    community = Community(container)
    community.run(community.admin, c.SetAcceptanceRule(project_id=community.project_id, min_signed="2/3",
                                                       min_accept="2/3"))
    item_id = community.completed()
    community.open_round(item_id)
    first, second, third = community.residents

    # 张桂英, on a 375 px phone: what awaits, the item in plain words, a photo full screen, 同意.
    with phone(browser, server, container, first, community) as page:
        card = page.locator(".card").first
        assert "12号楼给水管线迁移" in card.inner_text() and "已有 0 位邻居签字，共 3 位" in card.inner_text()
        shot(page, "awaiting")
        page.get_by_role("link", name="查看并签字").click()
        assert "试验压力 0.6 MPa，要求不低于 0.6 MPa，合格" in page.inner_text("main")
        assert images_loaded(page) == 5
        shot(page, "item")
        page.get_by_role("link", name="整改后照片1，点开看大图").click()
        assert images_loaded(page) == 1
        shot(page, "photo")
        page.get_by_role("link", name="返回工程记录").first.click()
        code = accept(page, "first")
        assert page.locator("#tally-signed").inner_text() == "1"
        shot(page, "receipt")

    # 刘德明, on a 320 px phone: 不同意 needs a reason; a photo from the camera goes with it, made smaller first.
    with phone(browser, server, container, second, community, SMALL_PHONE) as page:
        assert "已有 1 位邻居签字" in page.locator(".card").first.inner_text()
        shot(page, "awaiting")
        page.get_by_role("link", name="查看并签字").click()
        shot(page, "item")
        page.get_by_role("link", name="不同意", exact=True).click()
        page.get_by_label("不同意的理由（必须填写）").fill("   ")  # passes the browser's own check; not ours
        page.get_by_role("button", name="下一步：确认").click()
        assert "请写下不同意的理由" in page.get_by_role("alert").inner_text()
        shot(page, "reject-error")
        page.get_by_label("不同意的理由（必须填写）").fill("北侧路面没有恢复平整，下雨积水")
        camera: FilePayload = {"name": "IMG_2041.jpg", "mimeType": "image/jpeg",
                               "buffer": images.jpeg("puddle", size=(3200, 2400))}
        page.get_by_label("拍照（可以不拍，最多 3 张）").set_input_files(files=[camera])
        page.get_by_role("button", name="下一步：确认").click()
        page.wait_for_url("**/reject")
        assert "北侧路面没有恢复平整" in page.locator(".reason").inner_text()
        assert images_loaded(page) == 1
        shot(page, "confirm-reject")
        page.get_by_role("button", name="确认签字").click()
        page.wait_for_url("**/receipt")
        assert page.locator("#receipt-code").inner_text() == code  # the same content, the same code
        assert page.locator("#tally-signed").inner_text() == "2"
        shot(page, "receipt-reject")
    [signed] = [e for e in container.ledger.item_events(item_id, 0, 1000)
                if type(e).__name__ == "ResidentSigned" and e.decision == "reject"]
    meta = container.photos.store.meta(signed.photos[0])
    assert meta is not None and max(meta["width"], meta["height"]) == 1600  # shrunk on the phone

    # 陈秀兰, with JavaScript off (a restrictive in-app browser): reads and signs all the same.
    with phone(browser, server, container, third, community, javascript=False) as page:
        assert "已有 2 位邻居签字" in page.locator(".card").first.inner_text()
        page.get_by_role("link", name="查看并签字").click()
        assert "沟槽东侧未设围挡" in page.inner_text("main")
        accept(page, "nojs")
        assert "验收通过" in page.inner_text("main")
        shot(page, "receipt-granted")
        page.get_by_role("link", name="结果").click()
        result = page.locator(".card").first.inner_text()
        assert "第 1 轮：验收通过" in result and "2 位" in result and "1 位" in result
        shot(page, "results")
        page.get_by_role("link", name="我的签字").click()
        assert "✓ 与记录一致" in page.inner_text("main")
        shot(page, "mine")


def test_a_page_shown_before_a_stop_work_order_gets_the_refresh_message(
        browser: Browser, server: str, container: Container) -> None:
    community = Community(container)
    item_id = community.completed(with_history=False)
    community.open_round(item_id)
    with phone(browser, server, container, community.residents[0], community, SMALL_PHONE) as page:
        page.get_by_role("link", name="查看并签字").click()
        page.get_by_role("link", name="同意", exact=True).click()
        community.run(community.station, c.OrderStopWork(item_id=item_id, reason="塔吊基础出现裂缝"))
        page.get_by_role("button", name="确认签字").click()
        assert page.get_by_role("heading", name="内容已更新，请刷新后再签").is_visible()
        shot(page, "stale")
        page.get_by_role("link", name="刷新，看最新内容").click()
        main = page.inner_text("main")
        assert "塔吊基础出现裂缝" in main and "已取消，因为监督站下了停工令" in main and "您同意验收吗" not in main
        assert "停工中" in main
        shot(page, "item-cancelled")
    assert container.ledger.get_item(item_id).rounds[0]["signatures"] == {}
