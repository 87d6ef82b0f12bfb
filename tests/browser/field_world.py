"""The tablet app's world for browser tests and the benchmark: the real server (uvicorn, SQLite, SeaweedFS S3),
reached through the fault-injecting proxy the command-line client's tests use, and a supervisor who signs in on
a tablet-sized Chromium and enrols it, as on site."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any
from uuid import UUID

import httpx

from services.api.authentication import credentials
from services.bootstrap import Container
from tests import images
from tests.faulty_proxy import FaultyProxy
from tests.http_support import ApiWorld, live_server

if TYPE_CHECKING:
    from playwright.sync_api import Browser, BrowserContext, Page, ViewportSize

TABLET: ViewportSize = {"width": 1024, "height": 768}
TABLET_PORTRAIT: ViewportSize = {"width": 768, "height": 1024}
PASSWORD = "老房子改造要好好监督"
TIMEOUT_MS = 15_000


@dataclass
class FieldWorld:
    api: ApiWorld
    proxy: FaultyProxy
    phone: str
    supervisor_id: str
    direct: bool = False  # the benchmark's tablet talks to the server itself, as the command-line client does

    @property
    def url(self) -> str:
        """Where the tablet reaches the server: through the proxy (offline, dropping, or a clean line)."""
        return str(self.api.client.base_url).rstrip("/") if self.direct else self.proxy.url

    def events(self, item: str) -> list[dict[str, Any]]:
        found = self.api.ok("GET", f"/api/v1/works-items/{item}/events?limit=1000", self.api.admin)["items"]
        return [e for e in found if e["type"] != "Registered"]

    def photo_bytes(self, sha: str) -> bytes:
        response = self.api.call("GET", f"/api/v1/photos/{sha}?size=original", self.api.admin)
        assert response.status_code == 200, response.text
        return response.content


@contextmanager
def field_world(container: Container, phone: str = "13900000016") -> Iterator[FieldWorld]:
    with live_server(container) as base, httpx.Client(base_url=base, timeout=30) as client:
        api = ApiWorld(client, container)
        body = {"name": "陈监理", "role": "supervisor", "phone": phone, "project_ids": [api.project_id]}
        created = api.ok("POST", "/api/v1/users", api.admin, json=body)
        supervisor_id = str(created["user"]["id"])
        store = credentials(container)
        store.set_password(store.issue_link(UUID(supervisor_id)).token, PASSWORD)
        proxy = FaultyProxy(base)
        try:
            yield FieldWorld(api, proxy, phone, supervisor_id)
        finally:
            proxy.close()


@contextmanager
def tablet(browser: Browser, viewport: ViewportSize | None = None, **options: Any) -> Iterator[BrowserContext]:
    context = browser.new_context(viewport=viewport or TABLET, locale="zh-CN", timezone_id="Asia/Shanghai",
                                  service_workers="allow", **options)
    context.set_default_timeout(TIMEOUT_MS)
    try:
        yield context
    finally:
        context.close()


def enrol(page: Page, world: FieldWorld) -> None:
    """Sign in as the supervisor (who lands on /field/), enrol the tablet, wait for the projects to show and
    the service worker to control the page (so the next opening works offline)."""
    page.goto(f"{world.url}/sign-in")
    page.get_by_label("手机号码").fill(world.phone)
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录", exact=True).click()
    page.wait_for_url(f"{world.url}/field/")
    page.get_by_role("button", name="启用这台平板").click()
    page.get_by_role("heading", name="我的项目").wait_for()
    page.evaluate("navigator.serviceWorker.ready")
    page.wait_for_function("() => navigator.serviceWorker.controller !== null")


def open_app(page: Page, world: FieldWorld) -> None:
    page.goto(f"{world.url}/field/")
    page.wait_for_selector("html[data-ready=true]")


def jpeg_file(directory: Path, label: str, taken: str = "2026:11:23 09:12:00") -> tuple[Path, str]:
    """A real JPEG with EXIF time, on disk for the file chooser, and its SHA-256."""
    data = images.jpeg(label, size=(320, 240), taken=taken)
    path = directory / f"{label}.jpg"
    path.write_bytes(data)
    return path, hashlib.sha256(data).hexdigest()


# --- the supervisor's hands ---------------------------------------------------------------------------------

def record(page: Page, item: str, hold_point: str, measurements: dict[str, str] | None = None,
           photos: list[Path] | None = None, result: str = "pass", defect: str | None = None,
           defect_photos: list[Path] | None = None) -> None:
    """Open the hold point's form as the supervisor would (from the item), fill it, save it on the tablet."""
    page.goto(f"{page.url.split('#')[0]}#/item/{item}")
    page.locator(".hold-point", has=page.locator(f"a[href='#/item/{item}/hp/{hold_point}']")) \
        .get_by_role("link", name="记录检查").click()
    page.locator("form.hold-point-form").wait_for()
    for code, value in (measurements or {}).items():
        field = page.locator(f"#m-{code}")
        if field.evaluate("e => e.tagName") == "SELECT":
            field.select_option(value)
        else:
            field.fill(value)
    if result == "pass":
        for toggle in page.locator(".checklist .toggle").all():
            toggle.click()
    if photos:
        page.set_input_files("#photos", [str(p) for p in photos])
        page.locator("#photos-count").filter(has_text=f"已拍 {len(photos)} 张").wait_for()
    page.locator(f".choice-{result}").click()
    if defect:
        page.locator("fieldset.defect .choice-major").click()
        page.get_by_label("整改内容").fill(defect)
        if defect_photos:
            page.set_input_files("#defect-photos", [str(p) for p in defect_photos])
            page.locator("#defect-photos-count").filter(has_text=f"已拍 {len(defect_photos)} 张").wait_for()
    page.get_by_role("button", name="保存到本机").click()
    page.locator(".notice, .errors:not(:empty)").first.wait_for()
    assert page.locator(".notice", has_text="已保存到本机").count() == 1, page.locator(".errors").inner_text()


def local_commands(page: Page) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = page.evaluate(
        "async () => (await import('/field/js/db.js')).commands()"
        ".then(list => list.map(({id, state, item_id, recorded_at, body, problem, blocked_by, replayed}) =>"
        " ({id, state, item_id, recorded_at, body, problem, blocked_by, replayed})))")
    return found


def sync_once(page: Page) -> str:
    """Press 同步 and wait for that sync to end; what the progress line then says."""
    page.wait_for_function("() => !document.getElementById('sync').disabled", timeout=120_000)
    before = int(page.evaluate("Number(document.documentElement.dataset.syncs || 0)"))
    page.get_by_role("button", name="同步").click()
    # ended, and none still running (a sync the app began by itself may have ended first)
    page.wait_for_function(f"() => Number(document.documentElement.dataset.syncs || 0) > {before}"
                           " && document.getElementById('sync').textContent !== '同步中…'", timeout=120_000)
    return page.locator("#progress").inner_text()


def sync_until_empty(page: Page, rounds: int = 12) -> int:
    """Press 同步 until nothing is waiting (a sync that meets a bad link stops and keeps the rest); the number
    of presses it took."""
    for press in range(1, rounds + 1):
        page.wait_for_function("() => !document.getElementById('sync').disabled", timeout=120_000)
        if not [c for c in local_commands(page) if c["state"] == "queued"] and page.evaluate(
                "async () => (await (await import('/field/js/db.js')).photos()).every(p => p.state !== 'queued')"):
            return press - 1
        sync_once(page)
    raise AssertionError(f"still waiting after {rounds} syncs: {page.locator('#progress').inner_text()}")
