"""Users, tokens, projects, assignments and the residents' group over HTTP, with their error cases."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest

from tests.http_support import ApiWorld, auth

pytestmark = pytest.mark.integration


def problem(response: httpx.Response, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body = response.json()
    assert body["code"] == code and body["title"] and body["detail"] and body["status"] == status
    return body


def test_a_user_is_created_by_an_admin_and_sees_only_themselves(api: ApiWorld) -> None:
    me = api.me(api.supervisor)
    assert me["role"] == "supervisor" and me["name"].startswith("supervisor")
    problem(api.call("POST", "/api/v1/users", api.supervisor, json={"name": "x", "role": "admin"}),
            403, "role_not_permitted")
    problem(api.call("POST", "/api/v1/users", api.admin, json={"name": "x", "role": "station"}),
            422, "district_required")
    problem(api.call("POST", "/api/v1/users", api.admin, json={"name": "x", "role": "pilot"}),
            422, "validation_error")
    problem(api.call("POST", "/api/v1/users", api.admin, json={"name": "x", "role": "resident",
                                                               "project_ids": [api.project_id]}),
            422, "project_scope_not_applicable")
    problem(api.call("POST", "/api/v1/users", api.admin, json={"name": "x", "role": "supervisor",
                                                               "project_ids": [str(uuid.uuid4())]}),
            404, "project_not_found")


def test_missing_bad_and_revoked_tokens_are_401(api: ApiWorld) -> None:
    body = problem(api.client.get("/api/v1/users/me"), 401, "unauthenticated")
    assert "Bearer" in body["detail"]
    problem(api.client.get("/api/v1/users/me", headers={"Authorization": "Bearer nope"}), 401, "invalid_token")
    problem(api.client.get("/api/v1/users/me", headers={"Authorization": "Basic abc"}), 401, "unauthenticated")
    user_id = api.me(api.contractor)["id"]
    problem(api.call("DELETE", f"/api/v1/users/{user_id}/tokens", api.supervisor), 403, "role_not_permitted")
    assert api.ok("DELETE", f"/api/v1/users/{user_id}/tokens", api.admin)["revoked"] == 1
    problem(api.client.get("/api/v1/users/me", headers=auth(api.contractor)), 401, "invalid_token")
    fresh = api.ok("POST", f"/api/v1/users/{user_id}/tokens", api.admin)["token"]
    assert api.me(fresh)["id"] == user_id
    problem(api.call("DELETE", f"/api/v1/users/{uuid.uuid4()}/tokens", api.admin), 404, "user_not_found")


def test_projects_are_listed_in_scope(api: ApiWorld) -> None:
    other = api.ok("POST", "/api/v1/projects", api.admin, json={"name": "南小区", "district": "平谷区"})["id"]
    ids = lambda token: {p["id"] for p in api.ok("GET", "/api/v1/projects", token)["items"]}  # noqa: E731
    assert ids(api.admin) == {api.project_id, other}
    assert ids(api.supervisor) == {api.project_id}
    assert ids(api.station) == {api.project_id}
    assert ids(api.residents[0]) == {api.project_id}
    assert ids(api.user("supervisor")) == set()
    view = api.ok("GET", f"/api/v1/projects/{api.project_id}", api.station)
    assert view["name"] == "金牛花苑" and view["households"] == 430 and len(view["residents_group"]) == 3
    problem(api.call("GET", f"/api/v1/projects/{other}", api.station), 403, "out_of_scope")
    problem(api.call("GET", f"/api/v1/projects/{uuid.uuid4()}", api.admin), 404, "project_not_found")
    problem(api.call("GET", "/api/v1/projects/not-a-uuid", api.admin), 404, "project_not_found")


def test_registration_is_validated(api: ApiWorld) -> None:
    body = problem(api.call("POST", "/api/v1/projects", api.admin, json={"name": "", "district": "徐汇区"}),
                   422, "validation_error")
    assert "name" in body["detail"]
    problem(api.call("POST", "/api/v1/projects", api.admin, json={"name": "x", "district": "d",
                                                                  "categories": ["luxury"]}),
            422, "validation_error")


def test_assignments_and_members_need_the_right_kind_of_user(api: ApiWorld) -> None:
    resident_id = api.me(api.residents[0])["id"]
    problem(api.call("POST", f"/api/v1/projects/{api.project_id}/assignments", api.admin,
                     json={"user_id": resident_id}), 422, "assignee_not_supervisor_or_contractor")
    supervisor2 = api.user("supervisor")
    api.ok("POST", f"/api/v1/projects/{api.project_id}/assignments", api.admin,
           json={"user_id": api.me(supervisor2)["id"]})
    assert api.ok("GET", f"/api/v1/projects/{api.project_id}", supervisor2)["id"] == api.project_id
    api.ok("DELETE", f"/api/v1/projects/{api.project_id}/assignments/{api.me(supervisor2)['id']}", api.admin)
    problem(api.call("GET", f"/api/v1/projects/{api.project_id}", supervisor2), 403, "out_of_scope")
    problem(api.call("POST", f"/api/v1/projects/{api.project_id}/residents-group/members", api.admin,
                     json={"user_id": api.me(api.supervisor)["id"], "building": "1"}), 422, "member_must_be_resident")
    problem(api.call("POST", f"/api/v1/projects/{api.project_id}/residents-group/members", api.admin,
                     json={"user_id": resident_id, "building": "1"}), 409, "duplicate_member")
    problem(api.call("DELETE", f"/api/v1/projects/{api.project_id}/residents-group/members/nope", api.admin),
            404, "member_not_found")
    member = api.ok("GET", f"/api/v1/projects/{api.project_id}", api.admin)["residents_group"][0]["member_id"]
    api.ok("DELETE", f"/api/v1/projects/{api.project_id}/residents-group/members/{member}", api.admin)


def test_acceptance_rule(api: ApiWorld) -> None:
    problem(api.call("PUT", f"/api/v1/projects/{api.project_id}/acceptance-rule", api.admin,
                     json={"min_signed": "3/2", "min_accept": "4/5"}), 422, "invalid_acceptance_rule")
    api.ok("PUT", f"/api/v1/projects/{api.project_id}/acceptance-rule", api.admin,
           json={"min_signed": "1/2", "min_accept": "3/4"})
    rule = api.ok("GET", f"/api/v1/projects/{api.project_id}", api.admin)["acceptance_rule"]
    assert rule == {"min_signed": "1/2", "min_accept": "3/4"}


def test_health_and_docs(api: ApiWorld) -> None:
    assert api.client.get("/healthz").json() == {"status": "ok"}
    assert api.client.get("/api/v1/readyz").json()["status"] == "ready"
    assert "/api/v1/works-items/{item_id}/inspections" in api.client.get("/openapi.json").json()["paths"]
    problem(api.client.get("/api/v1/nothing-here"), 404, "not_found")


def test_erasing_a_person_keeps_the_log_whole(api: ApiWorld) -> None:
    item_id = api.item()
    api.inspect(item_id, "survey_and_marking")
    supervisor_id = api.me(api.supervisor)["id"]
    problem(api.call("DELETE", f"/api/v1/users/{supervisor_id}/personal-data", api.station), 403, "role_not_permitted")
    api.ok("DELETE", f"/api/v1/users/{supervisor_id}/personal-data", api.admin)
    log = api.ok("GET", f"/api/v1/works-items/{item_id}/events", api.station)["items"]
    assert log[-1]["actor_id"] == supervisor_id and log[-1]["actor_name"] == "已删除"
    assert api.ok("GET", f"/api/v1/works-items/{item_id}/verify", api.station)["valid"] is True
    problem(api.client.get("/api/v1/users/me", headers=auth(api.supervisor)), 401, "invalid_token")  # tokens go too


def test_a_district_admin_manages_only_its_district(api: ApiWorld) -> None:
    district_admin = api.user("admin", district="平谷区")
    city_admin_id = api.me(api.admin)["id"]
    station_id = api.me(api.station)["id"]  # 徐汇区
    problem(api.call("POST", f"/api/v1/users/{city_admin_id}/tokens", district_admin), 403, "out_of_scope")
    problem(api.call("DELETE", f"/api/v1/users/{station_id}/tokens", district_admin), 403, "out_of_scope")
    problem(api.call("DELETE", f"/api/v1/users/{city_admin_id}/personal-data", district_admin), 403, "out_of_scope")
    local = api.user("station", district="平谷区")
    assert api.ok("POST", f"/api/v1/users/{api.me(local)['id']}/tokens", district_admin)["token"]


def test_malformed_ids_and_dates_are_4xx_not_500(api: ApiWorld) -> None:
    item_id = api.item()
    problem(api.call("POST", f"/api/v1/works-items/{item_id}/acceptance-rounds/0/signatures", api.residents[0],
                     json={"decision": "accept", "subject_hash": "a" * 64}), 422, "validation_error")
    response = api.client.post("/api/v1/photos", headers={"Authorization": f"Bearer {api.supervisor}"},
                               files={"file": ("p.jpg", b"x", "image/jpeg")}, data={"project_id": "nope"})
    problem(response, 422, "invalid_id")
    assert api.ok("GET", f"/api/v1/projects/{api.project_id}/timeline?until=9999-12-31", api.station)["total"] >= 1
