"""The supervisors' tablet app in a real Chromium at tablet size against the real server (uvicorn, SQLite,
SeaweedFS S3): it opens with no network after the first visit, its forms come from the item's frozen template,
and what is recorded offline reaches the server exactly once through a link that loses requests."""

from __future__ import annotations

import hashlib
import os
import re
from collections import Counter
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING
from uuid import UUID, uuid4

import pytest

from services.api.authentication import credentials
from services.bootstrap import Container
from tests.browser.conftest import screenshot_path
from tests.browser.field_world import (
    PASSWORD,
    TABLET_PORTRAIT,
    FieldWorld,
    enrol,
    field_world,
    jpeg_file,
    local_commands,
    open_app,
    record,
    sync_once,
    sync_until_empty,
    tablet,
)
from tests.support import VALID

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page

pytestmark = pytest.mark.integration
PIPE = ["survey_and_marking", "excavation", "pipe_laying", "pressure_test"]
# The issue's morning is 50 inspections: SITELEDGER_FIELD_APP_ITEMS=12 records 51 (by default 15, ~25 s).
PIPE_ITEMS = int(os.environ.get("SITELEDGER_FIELD_APP_ITEMS", "3"))


@pytest.fixture
def world(container: Container) -> Iterator[FieldWorld]:
    with field_world(container) as built:
        yield built


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    with tablet(browser) as context:
        yield context.new_page()


def snap(page: Page, name: str) -> None:
    """The whole page from the top (the sticky bar would otherwise be drawn where the page was scrolled to)."""
    page.evaluate("window.scrollTo(0, 0)")
    page.screenshot(path=screenshot_path(name), full_page=True)


def _pass(page: Page, tmp_path: Path, item: str, hold_point: str, photos: int = 0) -> list[str]:
    """A pass with the template's valid values and `photos` real JPEGs; their SHA-256s."""
    files = [jpeg_file(tmp_path, f"{item[:8]}-{hold_point}-{n}") for n in range(photos)]
    record(page, item, hold_point, VALID.get(hold_point, {}).get("measurements", {}), [p for p, _ in files])
    return [sha for _, sha in files]


def test_after_the_first_visit_the_app_opens_with_no_network(page: Page, world: FieldWorld) -> None:
    pipe = world.api.item("pipe_relocation")
    enrol(page, world)
    page.context.set_offline(True)
    open_app(page, world)
    assert page.get_by_role("heading", name="我的项目").is_visible()
    card = page.locator(f"a[href='#/item/{pipe}']")
    assert "下一检查点：现状管线探测与放线" in card.inner_text()
    assert page.locator("#network").inner_text() == "离线"
    snap(page, "field-home-offline-1024x768")


def test_a_morning_recorded_offline_arrives_exactly_once_through_a_link_that_drops_a_third_of_requests(
        page: Page, world: FieldWorld, tmp_path: Path) -> None:
    pipes = [world.api.item("pipe_relocation", location=f"{n}号楼北侧") for n in range(3, 3 + PIPE_ITEMS)]
    cables = world.api.item("flying_wire_burial", location="2号楼东侧")
    enrol(page, world)
    page.context.set_offline(True)
    open_app(page, world)  # the stairwell: no network at all
    photos: dict[str, list[str]] = {}
    for hold_point in PIPE:
        for pipe in pipes:
            photos[f"{pipe}/{hold_point}"] = _pass(page, tmp_path, pipe, hold_point,
                                                   photos=1 if hold_point in ("excavation", "pressure_test") else 0)
    _pass(page, tmp_path, cables, "route_survey")
    manhole, manhole_sha = jpeg_file(tmp_path, "manhole")
    duct, duct_sha = jpeg_file(tmp_path, "duct")
    record(page, cables, "conduit_construction", {"depth_m": "0.5"}, photos=[duct], result="fail",
           defect="管道埋深不足，需返工", defect_photos=[manhole])
    fence, fence_sha = jpeg_file(tmp_path, "fence")
    record(page, pipes[0], "concealed_works", photos=[fence], result="fail", defect="隐蔽前管道防腐层破损")
    made_count = 4 * len(pipes) + 3
    assert page.locator("#sync").inner_text() == f"同步（{made_count}）"
    page.goto(f"{world.url}/field/#/queue")
    snap(page, "field-queue-offline-1024x768")
    made = local_commands(page)
    assert len(made) == made_count and {c["state"] for c in made} == {"queued"}

    world.proxy.drop = 0.3  # back in signal, on a link that loses a third of requests, before or after the server
    page.context.set_offline(False)
    presses = sync_until_empty(page)
    assert world.proxy.counts["before"] >= 3 and world.proxy.counts["after"] >= 3, world.proxy.counts

    local = {c["id"]: c for c in local_commands(page)}
    assert {c["state"] for c in local.values()} == {"sent"}, presses
    on_server = [e for item in [*pipes, cables] for e in world.events(item)]
    recorded = Counter(e["command_id"] for e in on_server if e["type"] == "InspectionRecorded")
    assert recorded == Counter({command_id: 1 for command_id in local}), "every command exactly once"
    for event in on_server:
        if event["type"] == "InspectionRecorded":
            made_on_tablet = local[event["command_id"]]
            assert datetime.fromisoformat(event["device_time"]) == datetime.fromisoformat(made_on_tablet["recorded_at"])
            assert event["data"]["photos"] == made_on_tablet["body"]["photos"]
            assert event["device_id"].startswith("tablet-") and event["actor_role"] == "supervisor"
    raised = [e for e in on_server if e["type"] == "DefectRaised"]
    assert sorted(e["data"]["description"] for e in raised) == ["管道埋深不足，需返工", "隐蔽前管道防腐层破损"]
    assert [manhole_sha] in [e["data"]["photos"] for e in raised]
    for sha in [*(s for shas in photos.values() for s in shas), manhole_sha, duct_sha, fence_sha]:
        assert hashlib.sha256(world.photo_bytes(sha)).hexdigest() == sha, "byte-identical"
    world.proxy.drop = 0.0
    assert "同步完成" in sync_once(page)  # nothing left to send; the picture is refreshed
    open_app(page, world)
    page.get_by_role("heading", name="我的项目").wait_for()
    assert re.search(r"下一检查点：隐蔽工程验收", page.locator(f"a[href='#/item/{pipes[1]}']").inner_text())
    shot = sum(len(shas) for shas in photos.values()) + 3
    print(f"{made_count} commands, {shot} photos: {presses} more presses of 同步, proxy {dict(world.proxy.counts)}")
    page.wait_for_function("() => document.getElementById('sync').textContent === '同步'")  # nothing waiting


def test_a_stop_work_order_issued_while_offline_is_shown_in_chinese_holds_that_item_and_retries_after_the_lift(
        page: Page, world: FieldWorld, tmp_path: Path) -> None:
    stopped = world.api.item("pipe_relocation", location="3号楼北侧")
    other = world.api.item("pipe_relocation", location="6号楼南侧")
    enrol(page, world)
    page.context.set_offline(True)
    _pass(page, tmp_path, stopped, "survey_and_marking")  # not construction: allowed under stop-work
    _pass(page, tmp_path, stopped, "excavation", photos=1)
    _pass(page, tmp_path, stopped, "pipe_laying")
    _pass(page, tmp_path, other, "survey_and_marking")
    _pass(page, tmp_path, other, "excavation", photos=1)
    world.api.ok("POST", f"/api/v1/works-items/{stopped}/stop-work", world.api.station,
                 json={"reason": "沟槽未设围挡"})

    page.context.set_offline(False)
    sync_until_empty(page)
    states = [(c["item_id"], c["body"]["hold_point"], c["state"]) for c in local_commands(page)]
    assert states == [(stopped, "survey_and_marking", "sent"), (stopped, "excavation", "refused"),
                      (stopped, "pipe_laying", "blocked"), (other, "survey_and_marking", "sent"),
                      (other, "excavation", "sent")]
    page.goto(f"{world.url}/field/#/queue")
    page.get_by_role("heading", name="同步队列").wait_for()
    refused = page.locator(".command.refused")
    assert "停工" in refused.inner_text() and "停工令解除后点重发" in refused.inner_text()
    assert page.locator(".command.blocked").inner_text().count("暂缓") == 1
    assert "被拒绝" in page.locator("#queue-link").inner_text()
    snap(page, "field-refused-1024x768")
    page.goto(f"{world.url}/field/#/")
    page.get_by_role("heading", name="我的项目").wait_for()
    stopped_card = page.locator(f"a[href='#/item/{stopped}']")
    assert "停工令生效中" in stopped_card.inner_text() and "被拒绝 1 条" in stopped_card.inner_text()
    assert "下一检查点：沟槽开挖" in stopped_card.inner_text(), "a refused pass passes nothing"
    snap(page, "field-home-stop-work-1024x768")

    world.api.ok("POST", f"/api/v1/works-items/{stopped}/stop-work/lift", world.api.station,
                 json={"notes": "围挡已设"})
    page.goto(f"{world.url}/field/#/queue")
    page.locator(".command.refused").get_by_role("button", name="重发").click()
    assert "同步完成" in sync_once(page)
    assert {c["state"] for c in local_commands(page)} == {"sent"}
    ids = [c["id"] for c in local_commands(page) if c["item_id"] == stopped]
    assert [e["command_id"] for e in world.events(stopped) if e["type"] == "InspectionRecorded"] == ids, "same keys"


def test_the_form_comes_from_the_template_and_checks_its_limits_as_typed(
        page: Page, world: FieldWorld, tmp_path: Path) -> None:
    pipe = world.api.item("pipe_relocation")
    enrol(page, world)
    page.context.set_offline(True)
    page.goto(f"{world.url}/field/#/item/{pipe}/hp/pressure_test")
    form = page.locator("form.hold-point-form")
    assert page.locator("#m-test_pressure_mpa").get_attribute("inputmode") == "decimal"
    template = world.api.ok("GET", f"/api/v1/works-items/{pipe}", world.api.admin)["template"]
    medium = next(m for hp in template["hold_points"] for m in hp["measurements"] if m["code"] == "medium")
    assert page.locator("#m-medium option").all_inner_texts() == [
        "请选择…", *(medium["choice_names_zh"][c] for c in medium["choices"])], "the template's Chinese names"
    assert "给水" in page.locator("#m-medium option").all_inner_texts()
    assert "已拍 0 张 / 至少 1 张" in form.inner_text()
    page.locator("#m-medium").select_option("water_supply")
    page.locator("#m-pipe_material").select_option("metal")
    page.locator("#m-working_pressure_mpa").fill("0.4")
    page.locator("#m-test_pressure_mpa").fill("0.5")
    limits = page.locator("#m-test_pressure_mpa-limits").inner_text()
    assert "≥ 0.6 MPa（给水时） ✗ 不满足" in limits and "≥ 1.5 × 工作压力（给水时） ✗ 不满足" in limits
    page.locator("#m-test_pressure_mpa").fill("0.6")  # exactly 1.5 × 0.4: equal is enough, no float error
    assert page.locator("#m-test_pressure_mpa-limits").inner_text().count("✓ 满足") == 2
    page.locator("#m-pressure_drop_mpa").fill("-1")
    assert "压力降不能小于 0" in page.locator("#m-pressure_drop_mpa-error").inner_text()
    page.locator("#m-pressure_drop_mpa").fill("0.03")
    page.locator(".choice-pass").click()
    page.get_by_role("button", name="保存到本机").click()
    alert = page.locator(".errors").inner_text()
    assert "至少需要 1 张照片" in alert and "金属管压力降≤0.02 MPa" in alert and "缺少必填测量值" in alert
    snap(page, "field-form-refused-1024x768")
    page.locator(".choice-fail").click()
    assert page.locator("fieldset.defect").is_visible()
    page.set_viewport_size(TABLET_PORTRAIT)
    snap(page, "field-form-fail-768x1024")
    assert local_commands(page) == [], "nothing the server would refuse is queued"


def test_a_revoked_tablet_says_so_in_chinese_and_keeps_its_queue(
        page: Page, world: FieldWorld, container: Container, tmp_path: Path) -> None:
    pipe = world.api.item("pipe_relocation")
    enrol(page, world)
    page.context.set_offline(True)
    _pass(page, tmp_path, pipe, "survey_and_marking")
    supervisor = UUID(world.supervisor_id)
    [(device_id, info)] = container.users.devices(supervisor)
    assert device_id.startswith("tablet-")
    container.users.revoke_token(supervisor, info.token_id)  # 我的账户 → 停用, as the page does it
    page.context.set_offline(False)  # back in signal: the app syncs by itself and learns it at once
    page.get_by_role("heading", name="此平板已停用，请重新登录").wait_for()
    assert page.locator("#progress").inner_text() == "此平板已停用，请重新登录"
    assert page.locator("#sync").is_disabled()
    assert "1 条未发送的记录" in page.locator("main").inner_text()
    snap(page, "field-revoked-1024x768")
    assert [c["state"] for c in local_commands(page)] == ["queued"]
    assert world.events(pipe) == []

    page.get_by_role("button", name="重新登录").click()  # still signed in on this browser: straight to enrolling
    page.get_by_role("button", name="启用这台平板").click()
    page.get_by_role("heading", name="我的项目").wait_for()
    sync_until_empty(page)
    [command] = local_commands(page)
    assert command["state"] == "sent"
    assert [e["command_id"] for e in world.events(pipe)] == [command["id"]]


def test_a_reported_rectification_is_verified_the_works_completed_and_acceptance_opened_offline(
        page: Page, world: FieldWorld) -> None:
    pipe = world.api.item("pipe_relocation", location="9号楼西侧")
    world.api.pass_all(pipe)
    defect_id = uuid4().hex
    world.api.ok("POST", f"/api/v1/works-items/{pipe}/defects", world.api.supervisor,
                 json={"defect_id": defect_id, "severity": "minor", "description": "路面恢复不平整"})
    world.api.ok("POST", f"/api/v1/works-items/{pipe}/defects/{defect_id}/rectifications", world.api.contractor,
                 json={"description": "已重新铺设", "photos": [world.api.photo("after-repair", world.api.contractor)]})
    enrol(page, world)
    page.context.set_offline(True)
    page.goto(f"{world.url}/field/#/item/{pipe}")
    row = page.locator(f"li[data-defect='{defect_id}']")
    assert "整改已报告，待核验" in row.inner_text()
    assert "路面恢复不平整" in row.inner_text()  # what was wrong, read offline from the snapshot
    snap(page, "field-item-defect-1024x768")
    row.get_by_label("核验意见（选填）").fill("现场复核平整")
    row.get_by_role("button", name="核验合格，关闭整改").click()
    page.locator(".notice", has_text="关闭整改").wait_for()
    page.get_by_role("button", name="报竣工").click()
    page.locator(".notice", has_text="竣工").wait_for()
    page.get_by_role("button", name="申请居民验收").click()
    page.locator(".notice", has_text="申请居民验收").wait_for()
    assert page.locator("#sync").inner_text() == "同步（3）"

    page.context.set_offline(False)
    sync_until_empty(page)
    assert {c["state"] for c in local_commands(page)} == {"sent"}
    types = [e["type"] for e in world.events(pipe)][-3:]
    assert types[0] == "DefectClosed" and types[-1] == "AcceptanceRequested", types
    assert world.api.ok("GET", f"/api/v1/works-items/{pipe}", world.api.admin)["state"] == "awaiting_acceptance"


def test_two_tablets_passing_the_same_hold_point_offline_both_arrive_and_both_show_it(
        browser: Browser, world: FieldWorld, tmp_path: Path) -> None:
    pipe = world.api.item("pipe_relocation", location="4号楼北侧")
    with tablet(browser) as first, tablet(browser) as second:
        pages = [first.new_page(), second.new_page()]
        for page in pages:
            enrol(page, world)
            page.context.set_offline(True)
            _pass(page, tmp_path, pipe, "survey_and_marking")
        for page in pages:
            page.context.set_offline(False)
            sync_until_empty(page)
        recorded = [e for e in world.events(pipe) if e["type"] == "InspectionRecorded"]
        made = [local_commands(page)[0] for page in pages]
        assert [e["command_id"] for e in recorded] == [c["id"] for c in made], "both kept, in the order they came"
        assert len({e["device_id"] for e in recorded}) == 2
        for page in pages:
            sync_once(page)  # the picture after the other tablet's sync
            page.goto(f"{world.url}/field/#/item/{pipe}")
            row = page.locator(".hold-point").first
            assert "已通过" in row.inner_text() and "已检查 2 次" in row.inner_text()
            assert "已发送" in page.locator(".command").inner_text()
        snap(pages[1], "field-two-tablets-1024x768")


def test_a_tablet_closed_mid_sync_resends_under_the_same_keys_and_nothing_is_doubled(
        page: Page, world: FieldWorld, tmp_path: Path) -> None:
    pipes = [world.api.item("pipe_relocation", location=f"{n}号楼北侧") for n in (1, 2)]
    enrol(page, world)
    page.context.set_offline(True)
    for hold_point in PIPE[:3]:
        for pipe in pipes:
            _pass(page, tmp_path, pipe, hold_point, photos=1 if hold_point == "excavation" else 0)
    world.proxy.slow_batch_s = 3.0  # the server has acted; its answer lingers on the way back
    page.context.set_offline(False)
    assert world.proxy.batch_answered.acquire(timeout=60)
    page.close()  # the supervisor swipes the app away mid-sync
    world.proxy.slow_batch_s = 0.0
    reopened = page.context.new_page()
    open_app(reopened, world)  # opening syncs by itself
    sync_until_empty(reopened)
    local = local_commands(reopened)
    assert {c["state"] for c in local} == {"sent"} and len(local) == 6
    on_server = Counter(e["command_id"] for pipe in pipes for e in world.events(pipe))
    assert on_server == Counter({c["id"]: 1 for c in local}), "every command exactly once"
    replayed = [c["body"]["hold_point"] for c in local if c["replayed"]]
    assert replayed == ["survey_and_marking"] * 2, "the round whose answer was lost, sent again under its keys"


def test_a_queued_fail_warns_at_once_about_the_later_pass_that_stands_on_it(
        page: Page, world: FieldWorld, tmp_path: Path) -> None:
    pipe = world.api.item("pipe_relocation", location="8号楼北侧")
    enrol(page, world)
    page.context.set_offline(True)
    _pass(page, tmp_path, pipe, "survey_and_marking")
    _pass(page, tmp_path, pipe, "excavation", photos=1)
    page.goto(f"{world.url}/field/#/item/{pipe}/hp/survey_and_marking")
    from playwright.sync_api import expect

    page.locator(".choice-fail").click()
    warnings = page.locator(".warnings")  # drawn once the queue is read from IndexedDB: waited for, not raced
    expect(warnings).to_contain_text("队列中“沟槽开挖”的合格记录依赖本检查点")
    expect(warnings).to_contain_text("放弃")
    page.locator(".choice-pass").click()
    expect(warnings).to_have_text("")


def test_a_contractor_is_told_the_tablet_app_is_for_supervisors_and_enrols_nothing(
        page: Page, world: FieldWorld, container: Container) -> None:
    created = world.api.ok("POST", "/api/v1/users", world.api.admin, json={
        "name": "赵施工", "role": "contractor", "phone": "13900000017", "project_ids": [world.api.project_id]})
    user_id = UUID(created["user"]["id"])
    store = credentials(container)
    store.set_password(store.issue_link(user_id).token, PASSWORD)
    page.goto(f"{world.url}/sign-in")
    page.get_by_label("手机号码").fill("13900000017")
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录", exact=True).click()
    page.wait_for_url(lambda url: "/sign-in" not in url)
    page.goto(f"{world.url}/field/")
    page.get_by_role("heading", name="平板应用供现场监理使用").wait_for()
    assert container.users.devices(user_id) == []
