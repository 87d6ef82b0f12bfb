"""Every list answers from the listing read model, on SQLite and on PostgreSQL: scope, filters, keyset pages
and search in SQL, and no aggregate is loaded to answer a list."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

from domain.permissions import may_see
from projections import listing_queries
from services.api.app import create_app
from services.bootstrap import build
from services.seaweed import SeaweedS3
from tests.http_support import DISTRICT, ApiWorld
from tests.integration.api.conftest import settings_for

LISTS = ("/api/v1/projects", "/api/v1/works-items", "/api/v1/defects", "/api/v1/stop-work-orders",
         "/api/v1/acceptance-rounds")


@pytest.fixture
def api(store_env: dict[str, str], tmp_path: Path, s3_server: SeaweedS3) -> Iterator[ApiWorld]:
    """The API over the parametrised store: SQLite files, or a throw-away PostgreSQL database."""
    extra: dict[str, Any] = {}
    if store_env["PERSISTENCE_MODULE"] == "eventsourcing.postgres":
        extra = {"event_store": "postgres", "postgres_host": store_env["POSTGRES_HOST"],
                 "postgres_port": int(store_env["POSTGRES_PORT"]), "postgres_db": store_env["POSTGRES_DBNAME"],
                 "postgres_user": store_env["POSTGRES_USER"], "postgres_password": store_env["POSTGRES_PASSWORD"]}
    container = build(settings_for(tmp_path, s3_server, **extra))
    try:
        with TestClient(create_app(container)) as client:
            yield ApiWorld(client, container)
    finally:
        container.close()


def problem(response: httpx.Response, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    body: dict[str, Any] = response.json()
    assert body["code"] == code and body["detail"], body
    return body


def project(api: ApiWorld, name: str, district: str = DISTRICT, **details: Any) -> str:
    body = {"name": name, "district": district, "street_office": "长桥街道", "address": "龙吴路",
            "buildings": 3, "households": 90, "categories": ["basic"], **details}
    return str(api.ok("POST", "/api/v1/projects", api.admin, json=body)["id"])


def item_in(api: ApiWorld, project_id: str, title: str, location: str = "3号楼北侧", **extra: Any) -> str:
    return str(api.ok("POST", f"/api/v1/projects/{project_id}/works-items", api.admin,
                      json={"kind": "pipe_relocation", "title": title, "location": location, **extra})["id"])


def every_page(api: ApiWorld, path: str, token: str, limit: int = 2) -> list[dict[str, Any]]:
    """Follow the `Link: rel=next` headers from the first page to the last."""
    rows: list[dict[str, Any]] = []
    url: str | None = f"{path}{'&' if '?' in path else '?'}limit={limit}"
    while url:
        response = api.call("GET", url, token)
        assert response.status_code == 200, response.text
        page = response.json()
        assert len(page["items"]) <= limit
        rows += page["items"]
        link = response.headers.get("link")
        url = link[1:link.index(">")] if link else None
    return rows


def ids(api: ApiWorld, path: str, token: str, key: str = "id") -> set[str]:
    return {row[key] for row in every_page(api, path, token, limit=1000)}


def test_each_list_shows_what_may_see_allows_and_nothing_else(api: ApiWorld) -> None:
    elsewhere = project(api, "南小区", district="平谷区")
    alone = project(api, "西苑")
    items = [api.item(), item_in(api, elsewhere, "平谷燃气"), item_in(api, alone, "西苑管线")]
    for item_id in items:
        api.ok("POST", f"/api/v1/works-items/{item_id}/defects", _station_for(api, item_id),
               json={"severity": "minor", "description": "沟槽未设警示"})
    district_admin = api.user("admin", district="平谷区")
    users = {"admin": api.admin, "district admin": district_admin, "station": api.station,
             "other station": api.user("station", district="平谷区"), "supervisor": api.supervisor,
             "contractor": api.contractor, "idle supervisor": api.user("supervisor"), "resident": api.residents[0],
             "stranger resident": api.user("resident")}
    projects = [api.container.ledger.get_project(uuid.UUID(p)) for p in (api.project_id, elsewhere, alone)]
    for who, token in users.items():
        actor = api.container.users.authenticate(token).actor
        visible = {str(p.id) for p in projects if may_see(actor, p)}
        assert {r["id"] for r in every_page(api, "/api/v1/projects", token)} == visible, who
        listed = every_page(api, "/api/v1/works-items", token)
        assert {r["project_id"] for r in listed} == visible, who
        assert {r["project_id"] for r in every_page(api, "/api/v1/defects", token)} == visible, who
    assert visible == set()  # the last, a resident of no group, sees nothing at all


def _station_for(api: ApiWorld, item_id: str) -> str:
    district = api.container.ledger.get_project(
        api.container.ledger.get_item(uuid.UUID(item_id)).project_id).district
    return api.station if district == DISTRICT else api.user("station", district=district)


def test_no_list_or_search_loads_an_aggregate(api: ApiWorld, monkeypatch: pytest.MonkeyPatch) -> None:
    item_id = api.item(title="燃气管线改造")
    api.ok("POST", f"/api/v1/works-items/{item_id}/stop-work", api.station, json={"reason": "未设围挡"})
    api.ok("POST", f"/api/v1/works-items/{item_id}/defects", api.station,
           json={"severity": "major", "description": "沟槽未设警示"})

    def refused(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("a list loaded an aggregate")

    for name in ("get_project", "get_item", "project_in_scope", "item_in_scope"):
        monkeypatch.setattr(api.container.ledger, name, refused)
    for path in (*LISTS, f"/api/v1/projects/{api.project_id}/works-items", "/api/v1/projects?q=金牛花",
                 "/api/v1/works-items?q=燃气", "/api/v1/defects?q=警示"):
        for token in (api.admin, api.station, api.supervisor, api.residents[0]):
            assert api.ok("GET", path, token)["total"] >= (0 if "rounds" in path else 1), path
    assert api.call("GET", f"/api/v1/works-items/{item_id}", api.admin).status_code == 500  # the trap is live


def test_keyset_pages_walk_every_row_once_and_offset_still_works(api: ApiWorld) -> None:
    made = [api.item(title=f"第{n}段管线") for n in range(7)]
    path = f"/api/v1/projects/{api.project_id}/works-items"
    walked = every_page(api, path, api.supervisor, limit=3)
    assert [r["id"] for r in walked] == made
    assert every_page(api, "/api/v1/works-items?kind=pipe_relocation", api.station, limit=2) == walked
    last = api.call("GET", f"{path}?limit=7", api.admin)
    assert "link" not in last.headers and last.json()["total"] == 7
    second = api.ok("GET", f"{path}?limit=3&offset=3", api.admin)
    assert [r["id"] for r in second["items"]] == made[3:6] and second["offset"] == 3
    first = api.call("GET", f"{path}?limit=3", api.admin)
    cursor = first.headers["link"].split("cursor=")[1].split(">")[0]
    problem(api.call("GET", f"/api/v1/defects?cursor={cursor}", api.admin), 422, "invalid_cursor")
    problem(api.call("GET", f"{path}?cursor=not-a-cursor", api.admin), 422, "invalid_cursor")
    assert walked[0]["state"] == "registered" and walked[0]["state_zh"] == "已登记"
    assert walked[0]["kind_zh"] == "管线迁移" and len(walked[0]["template_digest"]) == 64


def test_search_finds_chinese_names_titles_and_descriptions_in_scope(api: ApiWorld) -> None:
    elsewhere = project(api, "南苑小区", district="平谷区", address="府前街100%号")
    mine = api.item(title="雨污分流管线", location="5号楼东侧")
    theirs = item_in(api, elsewhere, "雨污分流改造")
    api.ok("POST", f"/api/v1/works-items/{mine}/defects", api.station,
           json={"severity": "minor", "description": "回填土未分层夯实"})
    found = lambda path, token=api.admin: {r.get("id") or r["item_id"]  # noqa: E731
                                           for r in api.ok("GET", path, token)["items"]}
    assert found("/api/v1/projects?q=金牛花苑") == {api.project_id}
    assert found("/api/v1/projects?q=龙川北路") == {api.project_id}  # the address
    assert found("/api/v1/projects?q=小区") == {elsewhere}  # two characters: shorter than a trigram
    assert found("/api/v1/projects?q=100%号") == {elsewhere}  # % is a character, not a wildcard
    assert found("/api/v1/projects?q=%") == {elsewhere}
    assert found("/api/v1/projects?q=_") == set()
    assert found("/api/v1/works-items?q=雨污分流") == {mine, theirs}
    assert found("/api/v1/works-items?q=雨污分流", api.station) == {mine}  # scope still applies
    assert found("/api/v1/works-items?q=5号楼东") == {mine}  # the location
    assert found(f"/api/v1/projects/{api.project_id}/works-items?q=分流") == {mine}
    assert found("/api/v1/defects?q=未分层夯实") == {mine}
    assert found("/api/v1/defects?q=夯实", api.residents[0]) == {mine}
    assert found("/api/v1/defects?q=夯实", api.user("resident")) == set()
    assert found("/api/v1/works-items?q=不存在的字") == set()
    latin = project(api, "Sunny花园")
    assert found("/api/v1/projects?q=sUNNY花") == {latin}  # letters' case is ignored on both stores
    assert found("/api/v1/projects?q=NY") == {latin}
    assert found("/api/v1/projects?q=ny花园") == {latin}


def test_filters_narrow_each_list(api: ApiWorld) -> None:
    other = project(api, "东苑", street_office="田林街道", categories=["upgrade"])
    lift = item_in(api, other, "加装电梯", kind="elevator_installation")
    pipe = api.item(title="给水管线")
    api.ok("POST", f"/api/v1/works-items/{pipe}/stop-work", api.station, json={"reason": "未设围挡"})
    api.ok("POST", f"/api/v1/works-items/{lift}/stop-work", api.station, json={"reason": "无证作业"})
    api.ok("POST", f"/api/v1/works-items/{lift}/stop-work/lift", api.station, json={})
    assert ids(api, "/api/v1/projects?street_office=田林街道", api.admin) == {other}
    assert ids(api, "/api/v1/projects?category=upgrade", api.admin) == {other}
    assert ids(api, "/api/v1/projects?category=improvement", api.admin) == {api.project_id}
    assert ids(api, "/api/v1/projects?district=平谷区", api.admin) == set()
    assert ids(api, "/api/v1/projects?registered_to=2000-01-01", api.admin) == set()
    today = api.ok("GET", "/api/v1/projects", api.admin)["items"][0]["registered_at"][:10]
    assert len(ids(api, f"/api/v1/projects?registered_from={today}&registered_to={today}", api.admin)) == 2
    assert ids(api, "/api/v1/works-items?kind=elevator_installation", api.admin) == {lift}
    assert ids(api, "/api/v1/works-items?street_office=长桥街道", api.admin) == {pipe}
    assert ids(api, "/api/v1/works-items?state=registered", api.admin) == {pipe, lift}
    assert ids(api, "/api/v1/works-items?state=closed_out", api.admin) == set()
    assert ids(api, "/api/v1/stop-work-orders?in_force=true", api.station, "item_id") == {pipe}
    assert ids(api, "/api/v1/stop-work-orders?in_force=false", api.station, "item_id") == {lift}
    assert ids(api, "/api/v1/stop-work-orders", api.supervisor, "item_id") == {pipe}
    listed = api.ok("GET", f"/api/v1/works-items?project_id={api.project_id}", api.admin)["items"]
    assert listed[0]["stop_since"] is not None and listed[0]["open_defects"] == 0
    problem(api.call("GET", "/api/v1/works-items?state=nonsense", api.admin), 422, "validation_error")


def test_defects_and_rounds_follow_their_events(api: ApiWorld) -> None:
    item_id = api.item()
    raised = api.ok("POST", f"/api/v1/works-items/{item_id}/defects", api.supervisor,
                    json={"severity": "major", "description": "管道接口渗漏"})
    defect = f"/api/v1/works-items/{item_id}/defects/{raised['defect_id']}"
    after = [api.photo("after", api.contractor)]
    api.ok("POST", f"{defect}/rectifications", api.contractor, json={"description": "已更换密封圈", "photos": after})
    assert api.ok("GET", "/api/v1/defects", api.contractor)["items"][0]["status"] == "rectification_reported"
    api.ok("POST", f"{defect}/close", api.supervisor, json={})
    api.pass_all(item_id)
    api.ok("POST", f"/api/v1/works-items/{item_id}/completion", api.supervisor, json={})
    api.ok("POST", f"/api/v1/works-items/{item_id}/acceptance-rounds", api.supervisor, json={})
    defects = api.ok("GET", "/api/v1/defects?status=closed", api.station)["items"]
    assert [(d["defect_id"], d["status_zh"]) for d in defects] == [(raised["defect_id"], "已关闭")]
    assert defects[0]["closed_at"] is not None
    assert api.ok("GET", "/api/v1/defects?status=open", api.station)["total"] == 0
    rounds = api.ok("GET", "/api/v1/acceptance-rounds?status=open", api.residents[0])["items"]
    assert [(r["item_id"], r["round_no"], r["electorate"], r["signed"]) for r in rounds] == [(item_id, 1, 3, 0)]
    entry = api.ok("GET", f"/api/v1/works-items?project_id={api.project_id}", api.admin)["items"][0]
    assert entry["state"] == "awaiting_acceptance" and entry["open_defects"] == 0
    assert entry["version"] == api.ok("GET", f"/api/v1/works-items/{item_id}", api.admin)["version"]
    assert api.ok("GET", "/api/v1/acceptance-rounds", api.user("resident"))["total"] == 0


def test_lists_refuse_strangers_and_a_project_out_of_scope(api: ApiWorld) -> None:
    elsewhere = project(api, "南小区", district="平谷区")
    for path in LISTS:
        problem(api.client.get(path), 401, "unauthenticated")
    problem(api.call("GET", f"/api/v1/projects/{elsewhere}/works-items", api.station), 403, "out_of_scope")
    problem(api.call("GET", f"/api/v1/projects/{elsewhere}/works-items", api.supervisor), 403, "out_of_scope")
    problem(api.call("GET", f"/api/v1/projects/{uuid.uuid4()}/works-items", api.admin), 404, "project_not_found")
    problem(api.call("GET", "/api/v1/projects/not-a-uuid/works-items", api.admin), 404, "project_not_found")


def test_category_and_funding_source_filters_fall_back_from_item_to_project(api: ApiWorld) -> None:
    own, inherits = api.item(title="自筹加装"), api.item(title="中央资金管线")
    bare = project(api, "未登记资金的小区")
    funding = f"/api/v1/projects/{api.project_id}/funding"
    api.ok("POST", funding, api.admin, json={"category": "upgrade", "funding_sources": ["central_budget"]})
    api.ok("POST", funding, api.admin, json={"item_id": own, "category": "basic",
                                             "funding_sources": ["resident_contributions"]})
    assert ids(api, "/api/v1/projects?funding_source=central_budget", api.admin) == {api.project_id}
    assert ids(api, "/api/v1/projects?category=upgrade", api.admin) == {api.project_id}  # its funding's category
    assert ids(api, "/api/v1/projects?category=basic", api.admin) == {api.project_id, bare}  # as registered
    assert ids(api, "/api/v1/works-items?funding_source=central_budget", api.admin) == {inherits}
    assert ids(api, "/api/v1/works-items?funding_source=resident_contributions", api.station) == {own}
    assert ids(api, "/api/v1/works-items?category=upgrade", api.admin) == {inherits}
    listed = {r["id"]: r for r in api.ok("GET", "/api/v1/works-items", api.admin)["items"]}
    assert (listed[own]["category"], listed[own]["funding_sources"]) == ("basic", ["resident_contributions"])
    assert (listed[inherits]["category"], listed[inherits]["funding_sources"]) == (None, ["central_budget"])
    problem(api.call("GET", "/api/v1/works-items?funding_source=gold", api.admin), 422, "validation_error")


def test_a_count_stops_at_its_cap_and_says_so_and_every_row_is_still_reached(
        api: ApiWorld, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(listing_queries, "COUNT_CAP", 3)  # 1,000 in service: six rows are "many" here
    made = [api.item(title=f"雨污分流第{n}段") for n in range(6)]
    api.item(title="燃气管道")
    for path in ("/api/v1/works-items?q=雨污分流", f"/api/v1/projects/{api.project_id}/works-items?q=雨污分流",
                 "/api/v1/works-items?q=分流"):  # a trigram walk on SQLite; two characters: the list's own order
        first = api.ok("GET", f"{path}&limit=2", api.station)
        assert (first["total"], first["total_exact"]) == (4, False), path  # at least the cap + 1
        assert [r["id"] for r in every_page(api, path, api.station, limit=2)] == made, path  # registration order
        held: list[dict[str, Any]] = []
        while True:  # an old client paging by offset until it holds `total` (field_client/api.py `paged`)
            page = api.ok("GET", f"{path}&limit=4&offset={len(held)}", api.station)
            held += page["items"]
            if not page["items"] or len(held) >= page["total"]:
                break
        assert [r["id"] for r in held] == made and (page["total"], page["total_exact"]) == (6, True), path
    few = api.ok("GET", "/api/v1/works-items?q=第4段", api.admin)
    assert ([r["id"] for r in few["items"]], few["total"], few["total_exact"]) == ([made[4]], 1, True)
    under = api.ok("GET", "/api/v1/works-items?q=燃气管道&limit=1", api.admin)
    assert (under["total"], under["total_exact"]) == (1, True)
