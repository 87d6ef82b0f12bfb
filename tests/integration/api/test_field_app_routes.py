"""The tablet app's routes: one snapshot of what a caller may see (scoped like the list routes, refused to
residents and strangers), and the app's static shell with its CSP, no-cache and service-worker headers."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from tests.http_support import ApiWorld, auth

pytestmark = pytest.mark.integration


def test_the_snapshot_gives_a_supervisor_their_projects_items_and_each_frozen_template_once(api: ApiWorld) -> None:
    pipes = [api.item("pipe_relocation") for _ in range(2)]
    cables = api.item("flying_wire_burial")
    api.ok("POST", f"/api/v1/works-items/{pipes[0]}/stop-work", api.station, json={"reason": "沟槽未设围挡"})
    response = api.call("GET", "/api/v1/field/snapshot", api.supervisor)
    assert response.status_code == 200 and response.headers["cache-control"] == "no-store"
    body = response.json()
    assert body["user"]["role"] == "supervisor" and [p["id"] for p in body["projects"]] == [api.project_id]
    items = {i["id"]: i for i in body["items"]}
    assert set(items) == {*pipes, cables}
    assert items[pipes[0]]["stop_work"]["reason"] == "沟槽未设围挡" and items[pipes[1]]["stop_work"] is None
    assert set(body["templates"]) == {i["template_digest"] for i in items.values()} and len(body["templates"]) == 2
    frozen = api.ok("GET", f"/api/v1/works-items/{pipes[0]}", api.admin)["template"]
    assert body["templates"][items[pipes[0]]["template_digest"]] == frozen


def test_the_snapshot_shows_nothing_outside_the_callers_scope(api: ApiWorld) -> None:
    api.item("pipe_relocation")
    other = api.ok("POST", "/api/v1/projects", api.admin, json={
        "name": "幸福里", "district": "徐汇区", "street_office": "长桥街道", "address": "龙吴路",
        "year_built": 1990, "buildings": 4, "households": 120, "categories": ["basic"]})["id"]
    api.ok("POST", f"/api/v1/projects/{other}/works-items", api.admin, json={"kind": "pipe_relocation",
                                                                               "location": "1号楼"})
    unassigned = api.user("supervisor")
    body = api.ok("GET", "/api/v1/field/snapshot", unassigned)
    assert body["projects"] == [] and body["items"] == [] and body["templates"] == {}
    mine = api.ok("GET", "/api/v1/field/snapshot", api.supervisor)
    assert [p["id"] for p in mine["projects"]] == [api.project_id] and len(mine["items"]) == 1


def test_residents_and_strangers_get_no_snapshot(api: ApiWorld) -> None:
    refused = api.call("GET", "/api/v1/field/snapshot", api.residents[0])
    assert refused.status_code == 403 and refused.json()["code"] == "role_not_permitted"
    assert refused.headers["content-type"].startswith("application/problem+json")
    anonymous = api.client.get("/api/v1/field/snapshot")
    assert anonymous.status_code == 401 and anonymous.json()["code"] == "unauthenticated"
    forged = api.client.get("/api/v1/field/snapshot", headers=auth("not-a-token"))
    assert forged.status_code == 401


def test_the_shell_is_served_with_its_policy_and_the_worker_with_its_scope(client: TestClient) -> None:
    shell = client.get("/field/")
    assert shell.status_code == 200 and shell.headers["content-type"].startswith("text/html")
    policy = shell.headers["content-security-policy"]
    assert "script-src 'self'" in policy and "connect-src 'self'" in policy and "img-src 'self' blob: data:" in policy
    assert "unsafe-inline" not in policy and shell.headers["cache-control"] == "no-cache"
    assert '<script type="module" src="/field/js/app.js">' in shell.text and "<script>" not in shell.text
    worker = client.get("/field/sw.js")
    assert worker.headers["service-worker-allowed"] == "/field/"
    assert worker.headers["content-type"].startswith("text/javascript")
    assert worker.headers["cache-control"] == "no-cache"
    assert client.get("/field/manifest.webmanifest").headers["content-type"] == "application/manifest+json"
    assert client.get("/field", follow_redirects=False).headers["location"] == "/field/"
    for shell_file in ("/field/js/app.js", "/field/app.css", "/field/icons/icon-192.png",
                       "/static/vendor/idb/index.js"):
        assert client.get(shell_file).status_code == 200, shell_file


def test_the_shell_serves_nothing_outside_its_directory(client: TestClient) -> None:
    for path in ("/field/../services/settings.py", "/field/%2e%2e/%2e%2e/pyproject.toml", "/field/js/../../api.py",
                 "/field/nope.js", "/field/js/"):
        response = client.get(path)
        assert response.status_code == 404, path
        assert "import" not in response.text


def test_the_session_endpoint_gives_no_token_to_a_visitor_who_is_not_signed_in(client: TestClient) -> None:
    response = client.get("/field/session")
    assert response.json() == {"signed_in": False} and response.headers["cache-control"] == "no-store"


def test_the_service_worker_caches_every_file_the_app_loads() -> None:
    """A module missing from the worker's list would load online and break the app offline."""
    web = Path(__file__).parents[3] / "field_client" / "web"
    listed = set(re.findall(r'"(/[^"]+)"', (web / "sw.js").read_text().split("];")[0]))
    needed = {f"/field/{p.relative_to(web).as_posix()}" for p in web.rglob("*")
              if p.suffix in (".js", ".css") and p.name != "sw.js"}
    assert needed <= listed and "/field/" in listed and "/static/vendor/idb/index.js" in listed, needed - listed
