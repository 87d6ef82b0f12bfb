"""A staff member in a real browser: sets a password from the link, signs in, sees their name, signs out;
and a page from another origin cannot make the browser sign them out."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Any

import pytest

from domain.actors import Role
from services.api.authentication import credentials
from services.bootstrap import Container
from tests.browser.conftest import LAPTOP, PHONE, screenshot_path

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page

pytestmark = pytest.mark.integration
PASSWORD = "老房子改造要好好监督"
TIMEOUT_MS = 10_000


def person(container: Container, phone: str, name: str = "李建国") -> str:
    """A station inspector made like an admin would, and the path of their set-password link."""
    user = container.users.create(Role.STATION, name, phone, "徐汇区")
    return f"/set-password?token={credentials(container).issue_link(user.user_id).token}"


def with_password(container: Container, role: Role, name: str, phone: str, district: str | None) -> None:
    """A person who has set PASSWORD, as an admin's link and the person's first visit make one."""
    user = container.users.create(role, name, phone, district)
    creds = credentials(container)
    creds.set_password(creds.issue_link(user.user_id).token, PASSWORD)


def page_for(browser: Browser, viewport: dict[str, int]) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": viewport["width"], "height": viewport["height"]},
                                  locale="zh-CN")
    page = context.new_page()
    page.set_default_timeout(TIMEOUT_MS)
    yield page
    context.close()


@pytest.fixture(params=[("phone", PHONE), ("laptop", LAPTOP)], ids=["phone", "laptop"])
def page(request: pytest.FixtureRequest, browser: Browser) -> Iterator[Page]:
    yield from page_for(browser, request.param[1])


def sign_in(page: Page, server: str, phone: str) -> None:
    page.goto(f"{server}/sign-in")
    page.get_by_label("手机号码").fill(phone)
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录", exact=True).click()
    page.wait_for_url(lambda url: "/sign-in" not in url)  # on to the person's own home page
    page.goto(f"{server}/account")


def test_staff_sets_a_password_signs_in_sees_their_name_and_signs_out(
        page: Page, server: str, container: Container) -> None:
    size = "phone" if page.viewport_size and page.viewport_size["width"] == PHONE["width"] else "laptop"
    page.goto(server + person(container, "13800000021"))
    page.screenshot(path=screenshot_path(f"set-password-{size}"), full_page=True)
    page.get_by_label("新密码").fill("short")
    page.get_by_label("再输入一次").fill("short")
    page.get_by_role("button", name="保存密码").click()  # the browser's own minlength check stops it
    assert "/set-password" in page.url
    page.get_by_label("新密码").fill(PASSWORD)
    page.get_by_label("再输入一次").fill(PASSWORD)
    page.get_by_role("button", name="保存密码").click()
    page.wait_for_url(f"{server}/sign-in?done=password")
    assert "密码已设置" in page.get_by_role("status").inner_text()

    page.get_by_label("手机号码").fill("13800000021")
    page.get_by_label("密码").fill("不是这个密码不是这个")
    page.get_by_role("button", name="登录", exact=True).click()
    assert "手机号码或密码不正确" in page.get_by_role("alert").inner_text()
    page.screenshot(path=screenshot_path(f"sign-in-refused-{size}"), full_page=True)

    sign_in(page, server, "13800000021")
    assert page.locator("#account-name").inner_text() == "李建国"
    [(user_id,)] = container.db.query("SELECT user_id FROM users WHERE phone = ?", ("13800000021",))
    container.users.issue(user_id, device="3号楼监理平板", bound_device_id="tablet-4f2a9c1e")
    page.reload()
    assert "3号楼监理平板" in page.get_by_role("region", name="登记的平板设备").inner_text()
    assert "本设备" in page.get_by_role("region", name="已登录的设备").inner_text()
    page.screenshot(path=screenshot_path(f"account-{size}"), full_page=True)
    cookie = next(c for c in page.context.cookies() if c["name"] == "siteledger_session")
    assert cookie["httpOnly"] and cookie["sameSite"] == "Lax"
    assert page.evaluate("document.cookie") == ""  # a script on the page cannot read the session

    page.get_by_role("button", name="退出登录").click()
    page.wait_for_url(f"{server}/sign-in")
    page.goto(f"{server}/account")
    assert page.url == f"{server}/sign-in"  # signed out: the account page sends you to sign in


@contextmanager
def foreign_site(html: str) -> Iterator[str]:
    """Another origin (same host, another port: the same *site*, so SameSite=Lax still sends the cookie)."""
    body = html.encode()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: Any) -> None:
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}"
    finally:
        httpd.shutdown()
        thread.join(timeout=5)


def test_a_forged_cross_site_post_is_refused(browser: Browser, server: str, container: Container) -> None:
    for page in page_for(browser, PHONE):
        page.goto(server + person(container, "13800000022"))
        page.get_by_label("新密码").fill(PASSWORD)
        page.get_by_label("再输入一次").fill(PASSWORD)
        page.get_by_role("button", name="保存密码").click()
        page.wait_for_url(f"{server}/sign-in?done=password")
        sign_in(page, server, "13800000022")
        session_id = page.locator("form[action^='/account/sessions/']").count()
        assert session_id == 0  # only this device so far
        forged = (f'<form id="f" method="post" action="{server}/sign-out">'
                  '<input name="csrf_token" value="guessed"></form>'
                  '<script>document.getElementById("f").submit()</script>')
        with foreign_site(forged) as evil:
            page.goto(evil)
            page.wait_for_url(f"{server}/sign-out")
            assert "其他网站" in page.get_by_role("alert").inner_text()
            page.screenshot(path=screenshot_path("forged-post-refused-phone"), full_page=True)
        page.goto(f"{server}/account")
        assert page.locator("#account-name").inner_text() == "李建国"  # still signed in


def test_a_resident_opens_the_invitation_link_on_a_phone_and_lands_signed_in(
        browser: Browser, server: str, container: Container) -> None:
    from uuid import uuid4

    from services.api.authentication import invitations

    resident = container.users.create(Role.RESIDENT, "张桂英")
    invitation = invitations(container).issue(resident.user_id, uuid4())
    for page in page_for(browser, PHONE):
        page.goto(f"{server}/invite/{invitation.link_token}")
        assert "张桂英" in page.locator(".greeting").inner_text()
        page.screenshot(path=screenshot_path("invitation-phone"), full_page=True)
        page.get_by_role("button", name="用这部手机登录").click()
        page.wait_for_url(f"{server}/residents")
        page.goto(f"{server}/account")
        assert page.locator("#account-name").inner_text() == "张桂英"
        assert page.locator("#account-role").inner_text() == "居民监督小组成员"
        page.screenshot(path=screenshot_path("account-resident-phone"), full_page=True)
        page.goto(f"{server}/sign-in")  # signed in: the sign-in page sends the resident on
        assert page.url == f"{server}/residents"
    for page in page_for(browser, PHONE):  # the code box on the sign-in page, on another phone
        page.goto(f"{server}/sign-in")
        page.get_by_role("textbox", name="邀请码").fill("aaa aaa")
        page.get_by_role("button", name="用邀请码登录").click()
        assert "邀请码不正确或已失效" in page.get_by_role("alert").inner_text()
        page.screenshot(path=screenshot_path("sign-in-code-refused-phone"), full_page=True)
