"""A tablet's own credential: bound to its device id, named, listed, revocable as a lost tablet."""

from __future__ import annotations

import re
from typing import Any

import pytest

from tests.http_support import ApiWorld
from tests.integration.api.test_sign_in import signed_in

pytestmark = pytest.mark.integration
TABLET = "tablet-4f2a9c1e"


def enrol(api: ApiWorld, token: str, device_id: str = TABLET, name: str = "3号楼监理平板") -> dict[str, Any]:
    return api.ok("POST", "/api/v1/me/devices", token, json={"device_id": device_id, "name": name})


def me(api: ApiWorld, token: str, device: str | None) -> Any:
    headers = {"Authorization": f"Bearer {token}", **({"X-Device-Id": device} if device else {})}
    return api.client.get("/api/v1/users/me", headers=headers)


def test_a_device_credential_works_only_on_its_device(api: ApiWorld) -> None:
    credential = enrol(api, api.supervisor)
    assert credential["device_id"] == TABLET and "只显示这一次" in credential["note_zh"]
    assert me(api, credential["token"], TABLET).status_code == 200
    for device in (None, "tablet-other-1"):
        refused = me(api, credential["token"], device)
        assert refused.status_code == 401 and refused.json()["code"] == "device_mismatch"
        assert "设备" in refused.json()["detail"]
    listed = api.ok("GET", "/api/v1/me/devices", api.supervisor)
    assert [(d["device_id"], d["name"]) for d in listed["items"]] == [(TABLET, "3号楼监理平板")]
    assert "token" not in listed["items"][0]


def test_a_lost_tablet_is_revoked_by_its_owner_or_an_admin(api: ApiWorld) -> None:
    first, second = enrol(api, api.supervisor), enrol(api, api.supervisor, "tablet-5b3c0d2f", "备用平板")
    api.ok("DELETE", f"/api/v1/me/tokens/{first['id']}", api.supervisor)
    assert me(api, first["token"], TABLET).json()["code"] == "invalid_token"
    supervisor_id = api.me(api.supervisor)["id"]
    api.ok("DELETE", f"/api/v1/users/{supervisor_id}/tokens/{second['id']}", api.admin)
    assert me(api, second["token"], "tablet-5b3c0d2f").json()["code"] == "invalid_token"
    assert api.ok("GET", "/api/v1/me/devices", api.supervisor)["total"] == 0
    assert me(api, api.supervisor, None).status_code == 200  # the person's own token is untouched


def test_a_tablet_is_enrolled_from_a_signed_in_browser_with_the_csrf_token(api: ApiWorld) -> None:
    signed_in(api, "13800000031")
    body = {"device_id": TABLET, "name": "站长平板"}
    assert api.client.post("/api/v1/me/devices", json=body).json()["code"] == "csrf_refused"
    page = api.client.get("/account").text
    found = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert found
    enrolled = api.client.post("/api/v1/me/devices", json=body, headers={"X-CSRF-Token": found.group(1)})
    assert enrolled.status_code == 201
    assert me(api, enrolled.json()["token"], TABLET).json()["name"] == "李建国"


def test_who_may_enrol_and_what_is_refused(api: ApiWorld) -> None:
    refused = api.call("POST", "/api/v1/me/devices", api.residents[0], json={"device_id": TABLET, "name": "x"})
    assert refused.status_code == 403 and refused.json()["code"] == "role_not_permitted"
    assert api.call("POST", "/api/v1/me/devices", "slt_nope", json={"device_id": TABLET, "name": "x"}) \
        .status_code == 401
    for body in ({"device_id": "short", "name": "x"}, {"device_id": TABLET, "name": ""},
                 {"device_id": "bad id with spaces", "name": "x"}, {"device_id": TABLET, "name": "a\nb"},
                 {"device_id": TABLET, "name": "x", "extra": 1}):
        answer = api.call("POST", "/api/v1/me/devices", api.supervisor, json=body)
        assert answer.status_code == 422 and answer.json()["code"] == "validation_error", body
    assert api.call("GET", "/api/v1/me/devices", "slt_nope").status_code == 401


def test_the_account_page_lists_tablets_and_stops_a_lost_one(api: ApiWorld) -> None:
    signed_in(api, "13800000032")
    page = api.client.get("/account").text
    found = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert found and "登记的平板设备" not in page
    csrf = found.group(1)
    tablet = api.client.post("/api/v1/me/devices", json={"device_id": TABLET, "name": "站长平板"},
                             headers={"X-CSRF-Token": csrf}).json()
    page = api.client.get("/account").text
    assert "站长平板" in page and TABLET in page
    action = f"/account/devices/{tablet['id']}/revoke"
    assert api.client.post(action, data={"csrf_token": "forged"}, follow_redirects=False).status_code == 403
    assert me(api, tablet["token"], TABLET).status_code == 200
    done = api.client.post(action, data={"csrf_token": csrf}, follow_redirects=False)
    assert done.status_code == 303 and done.headers["location"] == "/account?done=device"
    assert me(api, tablet["token"], TABLET).json()["code"] == "invalid_token"
    assert "已停用该平板的凭据" in api.client.get("/account?done=device").text
