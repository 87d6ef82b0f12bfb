"""The console's pages and actions over HTTP: what the station sees, what it records (once), and what everyone
else is refused — an anonymous visitor sent to sign in, a resident and another district's station shown nothing."""

from __future__ import annotations

import io
import re
import zipfile
from datetime import UTC, date, datetime, timedelta
from typing import Any
from urllib.parse import unquote

import httpx
import pytest
from fastapi.testclient import TestClient

from domain.actors import Role
from services.bootstrap import Container
from services.web.console import item_page, overview, queries
from tests.integration.web.console_world import OTHER_DISTRICT, ConsoleWorld, person, seed, session_for, user_id
from tests.support import World
from tests.unit.domain.test_completion_acceptance import accepted, hold, notify, survey

pytestmark = pytest.mark.integration


class Browser:
    """One signed-in person: their cookie on every request, their CSRF token for forms."""

    def __init__(self, client: TestClient, cookie: str | None, csrf: str = "") -> None:
        self.client, self.csrf = client, csrf
        self.headers = {"Cookie": f"siteledger_session={cookie}"} if cookie else {}

    def get(self, path: str) -> httpx.Response:
        return self.client.get(path, headers=self.headers)

    def post(self, path: str, data: dict[str, str], csrf: bool = True) -> httpx.Response:
        form = {"csrf_token": self.csrf, **data} if csrf else data
        return self.client.post(path, data=form, headers=self.headers)


@pytest.fixture
def world(client: TestClient, container: Container) -> ConsoleWorld:
    return seed(client, container)


def signed_in(client: TestClient, container: Container, user: str) -> Browser:
    return Browser(client, *session_for(container, user))


@pytest.fixture
def station(client: TestClient, container: Container, world: ConsoleWorld) -> Browser:
    return signed_in(client, container, user_id(world.api, world.api.station))


def key(page: httpx.Response, form: str) -> str:
    """The idempotency key the page put in the form posting to `form`."""
    section = page.text[page.text.index(f'action="{form}"'):]
    found = re.search(r'name="idempotency_key" value="([^"]+)"', section)
    assert found, form
    return found.group(1)


def test_the_overview_lists_the_late_and_the_overdue_items_and_not_the_clean_one(
        station: Browser, world: ConsoleWorld) -> None:
    page = station.get("/console")
    assert page.status_code == 303 and unquote(page.headers["location"]) == "/console/districts/徐汇区"
    page = station.get("/console/districts/徐汇区")
    assert page.status_code == 200
    attention = page.text[page.text.index('id="attention"'):page.text.index('id="projects-title"')]
    assert world.late in attention and "记录时间与到达服务器时间相差过久" in attention
    assert world.overdue in attention and "沟槽未设置围挡" in attention and "3 天" in attention
    assert world.clean not in attention
    assert "金牛花苑" in page.text and "外滩花园" not in page.text
    assert "built-in method" not in page.text  # a name that Jinja took for a dict's method
    assert "script-src 'self'" in page.headers["content-security-policy"]
    assert "<script>" not in page.text  # charts come as JSON, drawn by /static/console/console.js
    assert 'type="application/json" id="chart-kinds"' in page.text


def test_the_item_page_tells_the_whole_record_in_chinese(station: Browser, world: ConsoleWorld) -> None:
    page = station.get(f"/console/items/{world.late}")
    assert page.status_code == 200
    text = page.text
    assert "现状管线探测与放线" in text and "现场监理" in text and "设备时间" in text and "服务器时间" in text
    assert "记录时间与到达服务器时间相差过久" in text
    assert f"/api/v1/photos/{world.photo}?size=thumb" in text and 'loading="lazy"' in text
    only = station.get(f"/console/items/{world.late}?flagged=1")
    assert "有异常标记的记录（1 条）" in only.text and "登记工程事项" not in only.text
    photo = station.get(f"/console/photos/{world.photo}?item={world.late}")
    assert photo.status_code == 200
    assert "2026-11-20 09:30:00" in photo.text and "HUAWEI MatePad 11" in photo.text and "31.18320" in photo.text
    thumb = station.get(f"/api/v1/photos/{world.photo}?size=thumb")
    assert thumb.status_code == 200 and thumb.content[:2] == b"\xff\xd8"


def test_a_long_record_opens_on_its_newest_entries_and_shows_every_one_on_request(
        station: Browser, world: ConsoleWorld, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(item_page, "SHOWN_ENTRIES", 1)
    page = station.get(f"/console/items/{world.overdue}")
    assert "完整记录（共 2 条" in page.text and "最新的 1 条" in page.text and "显示全部 2 条" in page.text
    assert "开具整改通知</strong>" in page.text and "登记工程事项</strong>" not in page.text
    assert "沟槽未设置围挡" in page.text  # the defect's own panel reads every entry it needs
    everything = station.get(f"/console/items/{world.overdue}?all=1")
    assert "登记工程事项</strong>" in everything.text and "最新的" not in everything.text


def test_a_passed_pressure_test_reads_against_the_templates_limits(
        station: Browser, world: ConsoleWorld) -> None:
    api = world.api
    api.pass_all(world.clean, until="concealed_works")
    page = station.get(f"/console/items/{world.clean}")
    assert "试验压力 0.6 MPa ≥ 0.6 MPa 合格" in page.text


def test_stop_work_ordered_from_the_page_records_once_however_often_it_is_sent(
        station: Browser, world: ConsoleWorld, container: Container) -> None:
    item = f"/console/items/{world.overdue}"
    assert world.api.inspect(world.overdue, "survey_and_marking").status_code == 201
    page = station.get(item)
    form = {"idempotency_key": key(page, f"{item}/stop-work"), "reason": "围挡缺失，存在坠落风险"}
    first = station.post(f"{item}/stop-work", form)
    assert first.status_code == 303 and "done=stop_work" in first.headers["location"]
    again = station.post(f"{item}/stop-work", form)  # the double click
    assert again.status_code == 303
    types = [type(e).__name__ for e in container.ledger.item_events(world.overdue)]
    assert types.count("StopWorkOrdered") == 1
    shown = station.get(first.headers["location"])
    assert "停工令已下达" in shown.text and "停工令生效中" in shown.text and "围挡缺失" in shown.text

    refused = world.api.inspect(world.overdue, "excavation")
    assert refused.status_code == 409 and refused.json()["code"] == "stop_work_in_force"

    page = station.get(item)
    lifted = station.post(f"{item}/stop-work/lift", {"idempotency_key": key(page, f"{item}/stop-work/lift"),
                                                     "notes": "围挡已补设"})
    assert lifted.status_code == 303
    assert container.ledger.get_item(world.overdue).stop_work is None


def test_a_refused_action_shows_the_domains_chinese_message_by_its_form(
        station: Browser, world: ConsoleWorld) -> None:
    item = f"/console/items/{world.clean}"
    page = station.get(item)
    lift = station.post(f"{item}/stop-work/lift", {"idempotency_key": key(page, f"{item}/stop-work"), "notes": ""})
    assert lift.status_code == 409 and "操作未完成：</strong>当前没有生效的停工令" in lift.text
    empty = station.post(f"{item}/defects", {"idempotency_key": key(page, f"{item}/defects"), "severity": "major",
                                             "description": ""})
    assert empty.status_code == 422
    assert 'id="defect-error">问题描述：' in empty.text and 'role="alert"><strong>操作未完成' in empty.text
    stale = station.post(f"{item}/defects", {"severity": "major", "description": "井盖缺失"})
    assert stale.status_code == 422 and "表单已失效" in stale.text


def test_a_defect_raised_from_the_page_reaches_the_overview(
        station: Browser, world: ConsoleWorld) -> None:
    item = f"/console/items/{world.clean}"
    page = station.get(item)
    raised = station.post(f"{item}/defects", {"idempotency_key": key(page, f"{item}/defects"), "severity": "critical",
                                              "description": "回填前未做隐蔽验收", "due_date": "2020-01-06"})
    assert raised.status_code == 303
    assert "整改通知已开具" in station.get(raised.headers["location"]).text
    overview = station.get("/console/districts/徐汇区/attention")
    assert world.clean in overview.text and "回填前未做隐蔽验收" in overview.text


def test_a_spot_check_from_the_page_is_the_stations_inspection(
        station: Browser, world: ConsoleWorld, container: Container) -> None:
    item = f"/console/items/{world.clean}"
    page = station.get(f"{item}?spot=survey_and_marking")
    assert 'name="m_utility_owner"' in page.text
    sent = station.post(f"{item}/spot-check", {
        "idempotency_key": key(page, f"{item}/spot-check"), "hold_point": "survey_and_marking", "result": "fail",
        "m_utility_owner": "燃气公司", "c_utilities_located": "on", "notes": "抽查发现燃气管线未标识",
        "defect_description": "燃气管线走向未放线标识", "defect_severity": "major"})
    assert sent.status_code == 303, sent.text
    events = container.ledger.item_events(world.clean)
    spot = [e for e in events if type(e).__name__ == "InspectionRecorded" and e.spot_check]
    assert len(spot) == 1 and spot[0].actor_role == "station"
    assert "监督抽查" in station.get(sent.headers["location"]).text


def test_the_signed_pdf_record_is_a_click_away(station: Browser, world: ConsoleWorld) -> None:
    page = station.get(f"/console/items/{world.late}")
    link = f"/api/v1/works-items/{world.late}/record.pdf"
    assert f'href="{link}"' in page.text
    record = station.get(link)  # the API's own route, reached with the console's session
    assert record.status_code == 200 and record.content.startswith(b"%PDF")


def test_verify_and_the_record_zip(station: Browser, world: ConsoleWorld) -> None:
    verified = station.client.get(f"/console/items/{world.late}/verify",
                                  headers={**station.headers, "HX-Request": "true"})
    assert verified.status_code == 200 and "哈希链完整" in verified.text and "<html" not in verified.text
    record = station.get(f"/console/items/{world.late}/record.zip")
    assert record.status_code == 200 and record.headers["content-type"] == "application/zip"
    names = zipfile.ZipFile(io.BytesIO(record.content)).namelist()
    assert {"events.json", "manifest.json", "verification.json", f"photos/{world.photo}.jpg"} <= set(names)


def test_the_project_page_filters_and_searches(station: Browser, world: ConsoleWorld) -> None:
    page = station.get(f"/console/projects/{world.project}")
    assert page.status_code == 200 and all(i in page.text for i in (world.late, world.overdue, world.clean))
    found = station.get(f"/console/projects/{world.project}?q=5号楼")
    assert world.overdue in found.text and world.late not in found.text
    in_progress = station.get(f"/console/projects/{world.project}?state=in_progress")
    assert world.late in in_progress.text and world.overdue not in in_progress.text
    assert "居民监督小组（3 人）" in page.text


def test_the_kinds_page_reads_each_template(station: Browser) -> None:
    page = station.get("/console/kinds")
    assert page.status_code == 200
    assert "压力试验" in page.text and "试验压力 ≥ 0.6 MPa" in page.text and "须先通过：" in page.text


def test_the_city_page_is_the_city_wide_admins(client: TestClient, container: Container, world: ConsoleWorld,
                                               station: Browser) -> None:
    admin = signed_in(client, container, person(container, Role.ADMIN, name="市住建委"))
    page = admin.get("/console/city")
    assert page.status_code == 200 and "徐汇区" in page.text and OTHER_DISTRICT in page.text
    assert world.overdue in page.text  # the attention list across districts
    assert "built-in method" not in page.text
    assert admin.get("/console").headers["location"] == "/console/city"
    assert station.get("/console/city").status_code == 403


def _every_page(world: ConsoleWorld) -> list[str]:
    item = f"/console/items/{world.late}"
    return ["/console/districts/徐汇区", "/console/districts/徐汇区/attention", f"/console/projects/{world.project}",
            item, f"{item}/verify", f"{item}/record.zip", f"/console/photos/{world.photo}"]


def _every_action(world: ConsoleWorld) -> list[tuple[str, dict[str, str]]]:
    item = f"/console/items/{world.late}"
    return [(f"{item}/stop-work", {"reason": "越权停工"}), (f"{item}/stop-work/lift", {}),
            (f"{item}/defects", {"severity": "major", "description": "越权整改"}),
            (f"{item}/spot-check", {"hold_point": "excavation", "result": "pass"}),
            (f"{item}/reopen", {"reason": "越权"}), (f"{item}/defects/d1/close", {})]


def _nothing_of(world: ConsoleWorld, response: httpx.Response) -> bool:
    return all(secret not in response.text for secret in ("2号楼给水管线迁移", "金牛花苑", "沟槽未设置围挡"))


def test_an_anonymous_visitor_is_sent_to_sign_in_from_every_page_and_action(
        client: TestClient, world: ConsoleWorld, container: Container) -> None:
    anonymous = Browser(client, None)
    for path in [*_every_page(world), "/console", "/console/city", "/console/kinds"]:
        response = anonymous.get(path)
        assert (response.status_code, response.headers.get("location")) == (303, "/sign-in"), path
    for path, form in _every_action(world):
        response = anonymous.post(path, {"idempotency_key": "anonymous-0001", **form}, csrf=False)
        assert (response.status_code, response.headers.get("location")) == (303, "/sign-in"), path
    photo = client.get(f"/api/v1/photos/{world.photo}?size=thumb")
    assert photo.status_code == 401
    refreshing = client.get("/console/districts/徐汇区/attention", headers={"HX-Request": "true"})
    assert (refreshing.status_code, refreshing.headers["hx-redirect"], refreshing.text) == (204, "/sign-in", "")
    assert len(container.ledger.item_events(world.late)) == 2


@pytest.mark.parametrize("who", ["resident", "other_station"])
def test_a_resident_and_another_districts_station_are_shown_nothing(
        client: TestClient, container: Container, world: ConsoleWorld, who: str) -> None:
    if who == "resident":
        user = user_id(world.api, world.api.residents[0])
    else:
        user = person(container, Role.STATION, OTHER_DISTRICT, name="黄浦站")
    browser = signed_in(client, container, user)
    for path in _every_page(world):
        response = browser.get(path)
        assert response.status_code in (403, 404), (path, response.status_code)
        assert _nothing_of(world, response), path
    for path, form in _every_action(world):
        response = browser.post(path, {"idempotency_key": f"intruder-{abs(hash(path))}", **form})
        assert response.status_code in (403, 404), (path, response.status_code)
        assert _nothing_of(world, response), path
    assert len(container.ledger.item_events(world.late)) == 2
    thumb = browser.get(f"/api/v1/photos/{world.photo}?size=thumb")
    # the photo itself follows the API's scope: the community's own residents see their works (they sign over
    # them), another district's station does not; the console's photo page above is refused to both
    assert thumb.status_code == (200 if who == "resident" else 403)


def test_the_other_districts_station_sees_its_own_district(
        client: TestClient, container: Container, world: ConsoleWorld) -> None:
    browser = signed_in(client, container, person(container, Role.STATION, OTHER_DISTRICT, name="黄浦站"))
    page = browser.get(f"/console/districts/{OTHER_DISTRICT}")
    assert page.status_code == 200 and "外滩花园" in page.text and "金牛花苑" not in page.text


def test_a_form_without_the_sessions_csrf_token_or_from_another_origin_is_refused(
        station: Browser, world: ConsoleWorld, container: Container) -> None:
    item = f"/console/items/{world.late}"
    page = station.get(item)
    form: dict[str, Any] = {"idempotency_key": key(page, f"{item}/stop-work"), "reason": "伪造的停工令"}
    assert station.post(f"{item}/stop-work", form, csrf=False).status_code == 403
    foreign = station.client.post(f"{item}/stop-work", data={"csrf_token": station.csrf, **form},
                                  headers={**station.headers, "Origin": "https://evil.example"})
    assert foreign.status_code == 403
    assert container.ledger.get_item(world.late).stop_work is None


def test_a_stalled_round_is_listed_and_a_closed_out_item_is_reopened_from_the_page(
        station: Browser, world: ConsoleWorld, container: Container) -> None:
    api, item_id = world.api, world.clean
    api.pass_all(item_id)
    api.ok("POST", f"/api/v1/works-items/{item_id}/completion", api.supervisor)
    opened = api.ok("POST", f"/api/v1/works-items/{item_id}/acceptance-rounds", api.supervisor)
    container.projections.run_once()
    fortnight_on = datetime.now(UTC) + timedelta(days=15)
    stalled = queries.attention(container.db, "徐汇区", fortnight_on.date(), fortnight_on).stalled
    assert [(r["item_id"], r["round_no"], r["signed"], r["electorate"]) for r in stalled] == [(item_id, 1, 0, 3)]
    assert queries.attention(container.db, "徐汇区", date.today(), datetime.now(UTC)).stalled == []

    for resident in api.residents:
        api.ok("POST", f"/api/v1/works-items/{item_id}/acceptance-rounds/1/signatures", resident,
               json={"decision": "accept", "subject_hash": opened["subject_hash"]})
    api.ok("POST", f"/api/v1/works-items/{item_id}/close-out", api.admin, json={"notes": "资料齐全"})
    item = f"/console/items/{item_id}"
    page = station.get(item)
    assert "已销号" in page.text and "第 1 轮" in page.text and "验收通过" in page.text
    reopened = station.post(f"{item}/reopen", {"idempotency_key": key(page, f"{item}/reopen"),
                                               "reason": "住户反映回填处路面塌陷"})
    assert reopened.status_code == 303
    assert container.ledger.get_item(item_id).state == "in_progress"
    assert "工程事项已重新开启" in station.get(reopened.headers["location"]).text


def test_a_reported_rectification_is_reviewed_from_the_page_with_its_before_and_after_photos(
        station: Browser, world: ConsoleWorld, container: Container) -> None:
    api, item_id = world.api, world.overdue
    [defect_id] = container.ledger.get_item(item_id).defects
    after = api.photo("围挡补设后", api.contractor)
    api.ok("POST", f"/api/v1/works-items/{item_id}/defects/{defect_id}/rectifications", api.contractor,
           json={"description": "已补设围挡与警示灯", "photos": [after]})
    item = f"/console/items/{item_id}"
    page = station.get(item)
    assert "已报整改，待复查" in page.text and "整改后" in page.text
    assert f"/api/v1/photos/{after}?size=thumb" in page.text
    reject = f"{item}/defects/{defect_id}/reject"
    rejected = station.post(reject, {"idempotency_key": key(page, reject), "reason": "警示灯不亮"})
    assert rejected.status_code == 303
    assert container.ledger.get_item(item_id).defects[defect_id]["status"] == "open"
    api.ok("POST", f"/api/v1/works-items/{item_id}/defects/{defect_id}/rectifications", api.contractor,
           json={"description": "已更换警示灯", "photos": [after]})
    page = station.get(item)
    closed = station.post(f"{item}/defects/{defect_id}/close",
                          {"idempotency_key": key(page, f"{item}/defects/{defect_id}/close"), "notes": "复查合格"})
    assert closed.status_code == 303
    assert container.ledger.get_item(item_id).defects[defect_id]["status"] == "closed"
    assert "沟槽未设置围挡" not in station.get("/console/districts/徐汇区/attention").text


def test_deadlines_breached_and_approaching_are_listed_each_linking_to_its_item_or_project(
        client: TestClient, container: Container, world: ConsoleWorld, station: Browser) -> None:
    """The clocks of issue 18 on the overview: an item past its planned end and a project not filed within 15 days
    of its completion acceptance (breached), a defect and an item due within three days (approaching); the defect
    three days overdue stays in its own list, and another district's breached clock is not shown here."""
    api, today = world.api, overview.clock(container).today()
    behind = api.item(title="6号楼雨污分流", location="6号楼西侧", planned_end=(today - timedelta(days=2)).isoformat())
    soon = api.item(title="7号楼弱电入地", location="7号楼", planned_end=(today + timedelta(days=2)).isoformat())
    api.ok("POST", f"/api/v1/works-items/{soon}/defects", api.station, json={
        "severity": "minor", "description": "井盖缺失", "due_date": (today + timedelta(days=1)).isoformat()})
    api.ok("POST", f"/api/v1/projects/{world.foreign_project}/works-items", api.admin, json={
        "kind": "pipe_relocation", "title": "外滩花园燃气管", "location": "2号楼",
        "planned_end": (today - timedelta(days=9)).isoformat()})
    unfiled = World(container.ledger)  # accepted on 13 October 2025, never filed (due 28 October 2025)
    notify(unfiled)
    accepted(unfiled)
    survey(unfiled)
    hold(unfiled, "2025-10-13")

    page = station.get("/console/districts/徐汇区")
    assert page.status_code == 200
    attention = page.text[page.text.index('id="attention"'):page.text.index('id="projects-title"')]
    breached = attention[attention.index("期限已过（2 项）"):attention.index("即将到期")]
    assert f'href="/console/items/{behind}"' in breached and "计划完工日期" in breached and "2 天" in breached
    assert f'href="/console/projects/{unfiled.project_id}"' in breached and "竣工验收后 15 日内备案" in breached
    assert "2025-10-28" in breached and "项目整体" in breached
    assert world.overdue not in breached and "外滩花园" not in attention
    approaching = attention[attention.index("即将到期（3 天内，2 项）"):]
    assert approaching.count(f'href="/console/items/{soon}"') == 2
    assert "整改期限：井盖缺失" in approaching and "还剩 1 天" in approaching and "还剩 2 天" in approaching
    assert station.get("/console/districts/徐汇区/attention").text.count("期限已过（2 项）") == 1  # htmx's refresh

    admin = signed_in(client, container, person(container, Role.ADMIN, name="市住建委"))
    city = admin.get("/console/city").text
    assert "期限已过（3 项）" in city and "外滩花园燃气管" in city
    assert signed_in(client, container, person(container, Role.STATION, district=OTHER_DISTRICT)).get(
        "/console/districts/徐汇区").status_code == 403
