"""Issue 18 §1 over HTTP: each loose end answers with a 4xx, a stable code and a Chinese refusal."""

from __future__ import annotations

import pytest

from tests.http_support import ApiWorld
from tests.integration.api.test_users_and_projects import problem

pytestmark = pytest.mark.integration


def items(item_id: str) -> str:
    return f"/api/v1/works-items/{item_id}"


def accepted_item(api: ApiWorld) -> str:
    item_id = api.item()
    api.pass_all(item_id)
    api.ok("POST", f"{items(item_id)}/completion", api.supervisor)
    opened = api.ok("POST", f"{items(item_id)}/acceptance-rounds", api.supervisor)
    for resident in api.residents:
        api.ok("POST", f"{items(item_id)}/acceptance-rounds/{opened['round_no']}/signatures", resident,
               json={"decision": "accept", "subject_hash": opened["subject_hash"]})
    assert api.ok("GET", items(item_id), api.admin)["state"] == "accepted"
    return item_id


def test_close_out_is_refused_while_stopped_and_the_order_can_then_be_lifted(api: ApiWorld) -> None:
    item_id = accepted_item(api)
    api.ok("POST", f"{items(item_id)}/stop-work", api.station, json={"reason": "基坑边堆土超高"})
    body = problem(api.call("POST", f"{items(item_id)}/close-out", api.admin, json={"notes": "销号"}),
                   409, "stop_work_in_force")
    assert "停工令" in body["detail"] and "销号" in body["detail"]
    assert api.ok("GET", items(item_id), api.admin)["state"] == "accepted"
    api.ok("POST", f"{items(item_id)}/stop-work/lift", api.station, json={"notes": "已整改"})
    api.ok("POST", f"{items(item_id)}/close-out", api.admin, json={"notes": "销号"})
    view = api.ok("GET", items(item_id), api.admin)
    assert view["state"] == "closed_out" and view["stop_work"] is None


def test_acceptance_is_not_requested_while_stopped(api: ApiWorld) -> None:
    item_id = api.item()
    api.pass_all(item_id)
    api.ok("POST", f"{items(item_id)}/completion", api.supervisor)
    api.ok("POST", f"{items(item_id)}/stop-work", api.station, json={"reason": "未设围挡"})
    body = problem(api.call("POST", f"{items(item_id)}/acceptance-rounds", api.supervisor), 409,
                   "stop_work_in_force")
    assert "发起验收" in body["detail"]
