"""Issue 18 §1 over HTTP: the registry of districts and streets, and projects refused outside it.

The registry's routes (services/api/routers/divisions.py) are mounted here as the app will mount them."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from domain.city_divisions import shanghai
from services.api.app import create_app
from services.bootstrap import Container
from tests.http_support import ApiWorld
from tests.integration.api.test_users_and_projects import problem

pytestmark = pytest.mark.integration


@pytest.fixture
def api(container: Container) -> Iterator[ApiWorld]:
    app = create_app(container)
    with TestClient(app) as client:
        yield ApiWorld(client, container)


def project(api: ApiWorld, district: str, street: str = "") -> dict[str, object]:
    return {"name": "南小区", "district": district, "street_office": street}


def test_the_registry_is_kept_by_a_city_admin_only(api: ApiWorld) -> None:
    assert api.ok("GET", "/api/v1/divisions", api.supervisor) == {"loaded": False, "items": []}
    body = {"districts": shanghai()}
    problem(api.call("POST", "/api/v1/divisions", api.station, json=body), 403, "role_not_permitted")
    district_admin = api.user("admin", district="徐汇区")
    refused = problem(api.call("POST", "/api/v1/divisions", district_admin, json=body), 403, "city_admin_only")
    assert "市级" in refused["detail"]
    loaded = api.ok("POST", "/api/v1/divisions", api.admin, json=body)
    assert (loaded["districts"], loaded["streets"]) == (16, 13)
    listed = api.ok("GET", "/api/v1/divisions", api.contractor)
    assert listed["loaded"] and len(listed["items"]) == 16 and listed["items"][0] == {
        "name_zh": "黄浦区", "code": "310101", "streets": []}
    xuhui = next(d for d in listed["items"] if d["name_zh"] == "徐汇区")
    assert xuhui["code"] == "310104" and {"name_zh": "长桥街道", "code": None} in xuhui["streets"]
    problem(api.call("POST", "/api/v1/divisions", api.admin, json={"districts": [
        {"name_zh": "徐汇", "code": "310104"}]}), 422, "division_code_taken")
    problem(api.call("POST", "/api/v1/divisions", api.admin, json={"districts": [
        {"name_zh": "徐汇区", "code": "3101"}]}), 422, "validation_error")


def test_a_project_outside_the_loaded_registry_is_refused_in_chinese(api: ApiWorld) -> None:
    api.ok("POST", "/api/v1/projects", api.admin, json=project(api, "徐汇"))  # free text until a registry is loaded
    api.ok("POST", "/api/v1/divisions", api.admin, json={"districts": shanghai()})
    body = problem(api.call("POST", "/api/v1/projects", api.admin, json=project(api, "徐汇")), 422,
                   "unknown_district")
    assert body["detail"] == "未知的区：徐汇（不在本市区县名录中）；您是否要找“徐汇区”？"
    body = problem(api.call("POST", "/api/v1/projects", api.admin, json=project(api, "徐汇区", "长桥")), 422,
                   "unknown_street")
    assert "长桥街道" in body["detail"]
    api.ok("POST", "/api/v1/projects", api.admin, json=project(api, "徐汇区", "长桥街道"))
    api.ok("POST", "/api/v1/divisions/delist", api.admin,
           json={"district_zh": "徐汇区", "street_zh": "长桥街道", "reason": "街道撤并"})
    problem(api.call("POST", "/api/v1/projects", api.admin, json=project(api, "徐汇区", "长桥街道")), 422,
            "unknown_street")
    problem(api.call("POST", "/api/v1/divisions/delist", api.supervisor,
                     json={"district_zh": "徐汇区", "reason": "x"}), 403, "role_not_permitted")
