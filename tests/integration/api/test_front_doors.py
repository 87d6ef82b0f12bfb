"""Every front door acts through the one command bus: a refusal the bus makes looks the same from each.

A front door is a function (api, token, command) -> (status, problem body). Adding one (a page's form
handler) is one more line in FRONT_DOORS; every test below then runs through it too.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest

from domain.commands import Command
from services.api.errors import ApiError
from services.commands.bus import CommandBus, Envelope
from services.users import User
from tests.http_support import ApiWorld, inspection_body

pytestmark = pytest.mark.integration


@dataclass(frozen=True)
class Attempt:
    """One command as a client would send it: its route, body and the headers a command may carry."""

    path: str
    body: dict[str, Any]
    if_match: str | None = None
    key: str = field(default_factory=lambda: str(uuid.uuid4()))


def via_route(api: ApiWorld, token: str, attempt: Attempt) -> tuple[int, dict[str, Any]]:
    headers = {"If-Match": attempt.if_match} if attempt.if_match else {}
    response = api.call("POST", attempt.path, token, key=attempt.key, json=attempt.body, headers=headers)
    return response.status_code, response.json()


def via_batch(api: ApiWorld, token: str, attempt: Attempt) -> tuple[int, dict[str, Any]]:
    entry = {"path": attempt.path, "idempotency_key": attempt.key, "body": attempt.body,
             **({"if_match": attempt.if_match} if attempt.if_match else {})}
    result = api.ok("POST", "/api/v1/batch", token, json={"commands": [entry]})["results"][0]
    return result["status"], result["body"]


FrontDoor = Callable[[ApiWorld, str, Attempt], tuple[int, dict[str, Any]]]
FRONT_DOORS: dict[str, FrontDoor] = {"route": via_route, "batch": via_batch}


def refusal(body: dict[str, Any]) -> dict[str, Any]:
    """What a person and a client see of a refusal (the instance is where it was asked, so it differs)."""
    return {k: v for k, v in body.items() if k != "instance"}


def same_refusal_everywhere(api: ApiWorld, token: str, make: Callable[[], Attempt],
                            status: int, code: str) -> dict[str, Any]:
    seen = {name: door(api, token, make()) for name, door in FRONT_DOORS.items()}
    for name, (got, body) in seen.items():
        assert (got, body.get("code")) == (status, code), (name, got, body)
    bodies = [refusal(body) for _, body in seen.values()]
    assert all(body == bodies[0] for body in bodies), seen
    assert bodies[0]["detail"] and not bodies[0]["detail"].isascii()  # a person's Chinese explanation
    return bodies[0]


def test_a_role_the_bus_refuses_is_refused_alike_by_every_front_door(api: ApiWorld) -> None:
    item_id = api.item()
    same_refusal_everywhere(api, api.contractor, lambda: Attempt(
        f"/api/v1/works-items/{item_id}/inspections", inspection_body("survey_and_marking")),
        403, "role_not_permitted")


def test_a_photo_out_of_scope_is_refused_alike_by_every_front_door(api: ApiWorld) -> None:
    elsewhere = api.ok("POST", "/api/v1/projects", api.admin, json={"name": "南小区", "district": "平谷区"})["id"]
    outsider = api.user("supervisor", project_ids=[elsewhere])
    foreign = api.photo("foreign-photo", token=outsider, project_id=elsewhere)
    item_id = api.item()
    body = same_refusal_everywhere(api, api.station, lambda: Attempt(
        f"/api/v1/works-items/{item_id}/defects", {"severity": "minor", "description": "围挡缺口",
                                                  "photos": [foreign]}),
        403, "photo_out_of_scope")
    assert foreign[:64] in body["detail"]
    never_uploaded = "1" * 64
    body = same_refusal_everywhere(api, api.station, lambda: Attempt(
        f"/api/v1/works-items/{item_id}/defects", {"severity": "minor", "description": "x",
                                                  "photos": [never_uploaded]}),
        422, "photo_not_found")
    assert body["photo"] == never_uploaded


def test_a_stale_if_match_is_refused_alike_by_every_front_door(api: ApiWorld) -> None:
    item_id = api.item()
    api.ok("POST", f"/api/v1/works-items/{item_id}/defects", api.supervisor,
           json={"severity": "minor", "description": "围挡缺口"})
    version = api.ok("GET", f"/api/v1/works-items/{item_id}", api.admin)["version"]
    body = same_refusal_everywhere(api, api.supervisor, lambda: Attempt(
        f"/api/v1/works-items/{item_id}/defects", {"severity": "minor", "description": "警示灯缺失"},
        if_match=f'"{version - 1}"'),
        409, "version_conflict")
    assert (body["current"], body["expected"]) == (version, version - 1)
    assert api.ok("GET", f"/api/v1/works-items/{item_id}", api.admin)["version"] == version


class ClosedBus(CommandBus):
    """The real bus, closed for the test: whatever reaches it is refused with a code nothing else uses."""

    def admit(self, user: User, command: Command, envelope: Envelope) -> Any:
        raise ApiError(503, "bus_closed_for_test", "closed", f"测试：命令总线已关闭（{type(command).__name__}）")


@pytest.mark.parametrize("door", FRONT_DOORS)
def test_every_front_door_acts_only_through_the_container_s_bus(api: ApiWorld, door: str,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    item_id = api.item()
    container = api.container
    monkeypatch.setattr(container, "commands", ClosedBus(container.ledger, container.photos, 24))
    status, body = FRONT_DOORS[door](api, api.supervisor, Attempt(
        f"/api/v1/works-items/{item_id}/defects", {"severity": "minor", "description": "围挡缺口"}))
    assert (status, body["code"], body["detail"]) == (503, "bus_closed_for_test", "测试：命令总线已关闭（RaiseDefect）")
    monkeypatch.undo()
    assert api.ok("GET", f"/api/v1/works-items/{item_id}", api.admin)["version"] == 1  # nothing was saved
