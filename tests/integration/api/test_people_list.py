"""The people list (`GET /api/v1/users`), on SQLite and on PostgreSQL: an admin lists the people it
administers (a city-wide admin everyone, a district admin its district's), filtered and paged by keyset in
SQL; phone numbers are whole only to the person's own district admin; erased people show as 已删除; everyone
else is refused."""

from __future__ import annotations

from typing import Any

import pytest

from tests.http_support import DISTRICT, ApiWorld
from tests.integration.api.test_lists import api, every_page, problem  # noqa: F401  (api: the stores' fixture)

OTHER = "平谷区"


def person(world: ApiWorld, role: str, name: str, phone: str | None = None, **extra: Any) -> tuple[str, str]:
    """A person made by the city-wide admin: (their id, their token)."""
    body = {"name": name, "role": role, **({"phone": phone} if phone else {}), **extra}
    made = world.ok("POST", "/api/v1/users", world.admin, json=body)
    return str(made["user"]["id"]), str(made["token"])


def listed(world: ApiWorld, token: str, query: str = "") -> dict[str, dict[str, Any]]:
    return {row["id"]: row for row in every_page(world, f"/api/v1/users{query}", token, limit=3)}


def test_admins_list_the_people_they_administer_phones_masked_beyond_their_district(
        api: ApiWorld) -> None:  # noqa: F811
    admin_id = api.me(api.admin)["id"]
    district_admin, district_admin_token = person(api, "admin", "李娜", "13900000001", district=DISTRICT)
    other_admin, other_admin_token = person(api, "admin", "赵磊", "13900000002", district=OTHER)
    inspector, _ = person(api, "station", "陈静", "13812341234", district=DISTRICT)
    elsewhere, _ = person(api, "station", "刘洋", "+86 138 5678 5678", district=OTHER)
    roaming, _ = person(api, "supervisor", "周杰", "13700007777")  # of no district
    station_id = api.me(api.station)["id"]

    everyone = listed(api, api.admin)
    made_here = {api.me(token)["id"] for token in (api.supervisor, api.contractor, *api.residents)}
    assert set(everyone) == {admin_id, district_admin, other_admin, inspector, elsewhere, roaming, station_id,
                             *made_here}
    assert list(everyone) == [r["id"] for r in api.ok("GET", "/api/v1/users?limit=100", api.admin)["items"]]
    assert everyone[inspector]["phone"] == "138****1234" and everyone[inspector]["phone_masked"] is True
    assert everyone[elsewhere]["phone"] == "138****5678"  # stored as 13856785678
    assert (everyone[roaming]["phone"], everyone[roaming]["phone_masked"]) == ("13700007777", False)
    assert everyone[inspector]["role_zh"] == "安全质量监督站" and everyone[inspector]["name"] == "陈静"

    mine = listed(api, district_admin_token)
    assert set(mine) == {district_admin, inspector, station_id}  # its district's people, itself among them
    assert (mine[inspector]["phone"], mine[inspector]["phone_masked"]) == ("13812341234", False)
    assert listed(api, district_admin_token, f"?district={OTHER}") == {}  # another district: nobody
    assert set(listed(api, other_admin_token)) == {other_admin, elsewhere}
    assert listed(api, other_admin_token)[elsewhere]["phone"] == "13856785678"

    assert set(listed(api, api.admin, "?role=station")) == {inspector, elsewhere, station_id}
    assert set(listed(api, api.admin, f"?role=station&district={OTHER}")) == {elsewhere}
    assert set(listed(api, api.admin, "?q=陈")) == {inspector}
    assert set(listed(api, api.admin, "?q=1234")) == {inspector}  # phone digits, found though shown masked
    assert set(listed(api, api.admin, "?q=138-5678")) == {elsewhere}
    assert set(listed(api, district_admin_token, "?q=5678")) == set()  # not its district
    assert set(listed(api, api.admin, "?q=%")) == set()  # taken literally

    api.ok("DELETE", f"/api/v1/users/{inspector}/personal-data", district_admin_token)
    erased = listed(api, district_admin_token)[inspector]
    assert (erased["name"], erased["erased"], erased["phone"], erased["phone_masked"]) == ("已删除", True, None, False)
    assert set(listed(api, api.admin, "?q=已删除")) == {inspector}
    assert set(listed(api, api.admin, "?q=陈")) == set()


def test_the_people_list_reads_rows_not_people_one_by_one(api: ApiWorld,  # noqa: F811
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    for n in range(5):
        person(api, "station", f"检查员{n}", f"1360000000{n}", district=DISTRICT)

    def refused(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("the list loaded a person by id")

    monkeypatch.setattr(api.container.users, "get", refused)
    pages = every_page(api, "/api/v1/users?role=station", api.admin, limit=2)
    assert len(pages) == 6 and len({r["id"] for r in pages}) == 6


def test_only_admins_list_people(api: ApiWorld) -> None:  # noqa: F811
    problem(api.client.get("/api/v1/users"), 401, "unauthenticated")
    for token in (api.residents[0], api.supervisor, api.contractor, api.station):
        problem(api.call("GET", "/api/v1/users", token), 403, "role_not_permitted")
    problem(api.call("GET", "/api/v1/users?role=mayor", api.admin), 422, "validation_error")
    problem(api.call("GET", "/api/v1/users?cursor=nonsense", api.admin), 422, "invalid_cursor")
    first = api.call("GET", "/api/v1/users?limit=1", api.admin)
    cursor = first.headers["link"].split("cursor=")[1].split(">")[0]
    problem(api.call("GET", f"/api/v1/projects?cursor={cursor}", api.admin), 422, "invalid_cursor")


def test_a_district_admin_manages_the_supervisors_it_adds(api: ApiWorld) -> None:  # noqa: F811
    """Added by a district admin without a district, a supervisor is that district's: its admin lists it and
    issues its tokens; another district's admin does neither."""
    _, district_admin = person(api, "admin", "李娜", district=DISTRICT)
    _, other_admin = person(api, "admin", "赵磊", district=OTHER)
    made = api.ok("POST", "/api/v1/users", district_admin, json={"name": "孙伟", "role": "supervisor"})["user"]
    assert made["district"] == DISTRICT
    assert made["id"] in listed(api, district_admin)
    assert api.call("POST", f"/api/v1/users/{made['id']}/tokens", district_admin).status_code == 201
    assert made["id"] not in listed(api, other_admin)
    assert api.call("POST", f"/api/v1/users/{made['id']}/tokens", other_admin).status_code == 403
