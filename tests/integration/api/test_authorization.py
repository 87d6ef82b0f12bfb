"""Every command route × every role, plus attempts across projects, districts and communities."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from tests.http_support import ApiWorld

pytestmark = pytest.mark.integration

ROLES = ("admin", "supervisor", "contractor", "station", "resident")

# (route, allowed roles, body)
ITEM_ROUTES: list[tuple[str, set[str], dict[str, Any]]] = [
    ("inspections", {"supervisor", "station"}, {"hold_point": "survey_and_marking", "result": "pass"}),
    ("defects", {"supervisor", "station"}, {"severity": "minor", "description": "x"}),
    ("defects/d1/rectifications", {"contractor"}, {"description": "x"}),
    ("defects/d1/close", {"supervisor", "station"}, {}),
    ("defects/d1/reject-rectification", {"supervisor", "station"}, {"reason": "x"}),
    ("stop-work", {"station"}, {"reason": "x"}),
    ("stop-work/lift", {"station"}, {}),
    ("completion", {"supervisor"}, {}),
    ("acceptance-rounds", {"supervisor"}, {}),
    ("acceptance-rounds/1/signatures", {"resident"}, {"decision": "accept", "subject_hash": "a" * 64}),
    ("acceptance-rounds/1/close", {"admin"}, {}),
    ("close-out", {"admin"}, {}),
    ("reopen", {"station"}, {"reason": "x"}),
]


def tokens(api: ApiWorld) -> dict[str, str]:
    return {"admin": api.admin, "supervisor": api.supervisor, "contractor": api.contractor,
            "station": api.station, "resident": api.residents[0]}


@pytest.mark.parametrize(("route", "allowed", "body"), ITEM_ROUTES, ids=[r[0] for r in ITEM_ROUTES])
def test_item_command_routes_by_role(api: ApiWorld, route: str, allowed: set[str], body: dict[str, Any]) -> None:
    item_id = api.item()
    api.ok("POST", f"/api/v1/works-items/{item_id}/defects", api.station,
           json={"defect_id": "d1", "severity": "minor", "description": "x"})
    for role, token in tokens(api).items():
        response = api.call("POST", f"/api/v1/works-items/{item_id}/{route}", token, json=body)
        if role in allowed:
            assert response.status_code not in (401, 403), (role, route, response.text)
        else:
            assert response.status_code == 403, (role, route, response.text)
            assert response.json()["code"] == "role_not_permitted"


PROJECT_ROUTES: list[tuple[str, str, dict[str, Any]]] = [
    ("POST", "", {"name": "x", "district": "徐汇区"}),
    ("POST", "/{p}/works-items", {"kind": "pipe_relocation", "location": "x"}),
    ("POST", "/{p}/assignments", {"user_id": "{supervisor}"}),
    ("DELETE", "/{p}/assignments/{supervisor}", {}),
    ("POST", "/{p}/residents-group/members", {"user_id": "{new_resident}", "building": "1"}),
    ("DELETE", "/{p}/residents-group/members/nobody", {}),
    ("PUT", "/{p}/acceptance-rule", {"min_signed": "2/3", "min_accept": "4/5"}),
]


@pytest.mark.parametrize(("method", "path", "body"), PROJECT_ROUTES, ids=[f"{m} {p}" for m, p, _ in PROJECT_ROUTES])
def test_project_command_routes_are_for_admins_only(api: ApiWorld, method: str, path: str,
                                                    body: dict[str, Any]) -> None:
    values = {"p": api.project_id, "supervisor": api.me(api.supervisor)["id"],
              "new_resident": api.me(api.user("resident"))["id"]}
    fill = lambda text: text.format(**values)  # noqa: E731
    concrete = {k: fill(v) if isinstance(v, str) else v for k, v in body.items()}
    for role, token in tokens(api).items():
        if role == "admin":
            continue
        response = api.call(method, f"/api/v1/projects{fill(path)}", token, json=concrete or None)
        assert response.status_code == 403, (role, path, response.text)
    response = api.call(method, f"/api/v1/projects{fill(path)}", api.admin, json=concrete or None)
    assert response.status_code not in (401, 403), response.text


def test_across_projects_districts_and_communities(api: ApiWorld) -> None:
    item_id = api.item()
    elsewhere = api.ok("POST", "/api/v1/projects", api.admin, json={"name": "南小区", "district": "平谷区"})["id"]
    outsider = {
        "supervisor": api.user("supervisor", project_ids=[elsewhere]),
        "contractor": api.user("contractor", project_ids=[elsewhere]),
        "station": api.user("station", district="平谷区"),
        "resident": api.user("resident"),
    }
    attempts = [
        ("supervisor", "inspections", {"hold_point": "survey_and_marking", "result": "pass"}),
        ("supervisor", "defects", {"severity": "minor", "description": "x"}),
        ("contractor", "defects/d/rectifications", {"description": "x"}),
        ("station", "stop-work", {"reason": "x"}),
        ("resident", "acceptance-rounds/1/signatures", {"decision": "accept", "subject_hash": "a" * 64}),
    ]
    before = api.ok("GET", f"/api/v1/works-items/{item_id}", api.admin)["version"]
    for role, route, body in attempts:
        response = api.call("POST", f"/api/v1/works-items/{item_id}/{route}", outsider[role], json=body)
        assert response.status_code == 403 and response.json()["code"] == "out_of_scope", (role, response.text)
        for read in ("", "/events", "/verify"):
            response = api.call("GET", f"/api/v1/works-items/{item_id}{read}", outsider[role])
            assert response.status_code == 403, (role, read)
    assert api.ok("GET", f"/api/v1/works-items/{item_id}", api.admin)["version"] == before
    district_admin = api.user("admin", district="平谷区")
    response = api.call("POST", f"/api/v1/projects/{api.project_id}/works-items", district_admin,
                        json={"kind": "pipe_relocation", "location": "x"})
    assert response.status_code == 403
    response = api.call("GET", f"/api/v1/works-items/{uuid.uuid4()}", outsider["station"])
    assert response.status_code == 404
