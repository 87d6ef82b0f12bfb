"""A lift is added to building 3 of 金牛花苑, told over HTTP from registration to close-out."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from services.bootstrap import Container, build
from services.seaweed import SeaweedS3
from tests.http_support import ApiWorld, live_server
from tests.integration.api.conftest import settings_for

pytestmark = pytest.mark.e2e


@pytest.fixture
def world(tmp_path: Path, s3_server: SeaweedS3) -> Iterator[ApiWorld]:
    container: Container = build(settings_for(tmp_path, s3_server))
    with live_server(container) as base, httpx.Client(base_url=base, timeout=30) as client:
        yield ApiWorld(client, container)
    container.close()


def test_an_elevator_from_registration_to_close_out(world: ApiWorld) -> None:
    api = world
    item = lambda item_id: api.ok("GET", f"/api/v1/works-items/{item_id}", api.admin)  # noqa: E731

    # The street office registers the pipe relocation that clears the shaft's footprint, and the lift.
    pipe = api.item("pipe_relocation", title="3号楼代为管线移位")
    lift = api.item("elevator_installation", title="3号楼加装电梯", links={"pipe_relocation_cleared": pipe})

    # The owners voted (8 of 12 took part, 6 of them agreed: exactly 2/3 and 3/4); the start is notified.
    api.pass_all(lift, until="pipe_relocation_cleared")

    # The supervisor cannot clear the pipes before the water company has accepted the relocated line.
    refused = api.inspect(lift, "pipe_relocation_cleared")
    assert refused.status_code == 409 and refused.json()["code"] == "linked_work_not_handed_over"
    api.pass_all(pipe)
    assert api.inspect(lift, "pipe_relocation_cleared").status_code == 201

    # The foundation fails: the rebar is short. A defect is raised with the failed inspection.
    failed = api.inspect(lift, "foundation", result="fail", notes="钢筋间距超标",
                         defects=[{"severity": "major", "description": "基础钢筋间距超标", "due_date": "2026-12-05",
                                   "photos": [api.photo("rebar")]}])
    assert failed.status_code == 201, failed.text
    defect_id = failed.json()["defect_ids"][0]

    # The contractor rectifies with after-photos; the supervisor verifies and closes the defect.
    api.ok("POST", f"/api/v1/works-items/{lift}/defects/{defect_id}/rectifications", api.contractor,
           json={"description": "已按设计补筋", "photos": [api.photo("rebar-after", api.contractor)]})
    api.ok("POST", f"/api/v1/works-items/{lift}/defects/{defect_id}/close", api.supervisor, json={"notes": "复查合格"})

    # Every remaining hold point passes in order, then the works are declared complete.
    api.pass_all(lift)
    assert api.ok("POST", f"/api/v1/works-items/{lift}/completion", api.supervisor)["events"][0]["type"] == \
        "WorksCompleted"

    # First acceptance round: one of three residents rejects, with a reason. With three members, one
    # rejection makes 80% acceptance impossible, so the round is decided at once.
    round1 = api.ok("POST", f"/api/v1/works-items/{lift}/acceptance-rounds", api.supervisor)
    sign = lambda token, round_no, subject, decision, reason="": api.call(  # noqa: E731
        "POST", f"/api/v1/works-items/{lift}/acceptance-rounds/{round_no}/signatures", token,
        json={"decision": decision, "reason": reason, "subject_hash": subject})
    assert sign(api.residents[0], 1, round1["subject_hash"], "reject", "候梯厅地面未恢复").status_code == 201
    late_signature = sign(api.residents[1], 1, round1["subject_hash"], "accept")
    assert late_signature.status_code == 409 and late_signature.json()["code"] == "acceptance_round_not_open"
    view = item(lift)
    assert view["acceptance_rounds"][0]["status"] == "rejected" and view["state"] == "in_progress"
    rework = [d for d in view["defects"] if d["status"] == "open"]
    assert [d["severity"] for d in rework] == ["major"]

    # Rework: the contractor fixes it, the supervisor closes it and completes again.
    for defect in rework:
        api.ok("POST", f"/api/v1/works-items/{lift}/defects/{defect['defect_id']}/rectifications", api.contractor,
               json={"description": "已修复", "photos": [api.photo(defect["defect_id"], api.contractor)]})
        api.ok("POST", f"/api/v1/works-items/{lift}/defects/{defect['defect_id']}/close", api.supervisor)
    api.ok("POST", f"/api/v1/works-items/{lift}/completion", api.supervisor)

    # Second round: all three accept; the round is granted as soon as it is certain.
    round2 = api.ok("POST", f"/api/v1/works-items/{lift}/acceptance-rounds", api.supervisor)
    assert round2["round_no"] == 2
    for resident in api.residents:
        assert sign(resident, 2, round2["subject_hash"], "accept").status_code == 201
    view = item(lift)
    assert view["state"] == "accepted" and view["acceptance_rounds"][1]["tally"]["accepts"] == 3

    # The admin closes the item out; nothing but a station's reopen is accepted after that.
    api.ok("POST", f"/api/v1/works-items/{lift}/close-out", api.admin, json={"notes": "销号"})
    late = api.inspect(lift, "trial_run")
    assert late.status_code == 409 and late.json()["code"] == "item_closed_out"

    # The station checks the log: every event is there, chained, and verifies.
    report = api.ok("GET", f"/api/v1/works-items/{lift}/verify", api.station)
    log = api.ok("GET", f"/api/v1/works-items/{lift}/events?limit=1000", api.station)["items"]
    assert report["valid"] and report["events"] == len(log) == item(lift)["version"]
    assert [e["type"] for e in log][-2:] == ["AcceptanceGranted", "ClosedOut"]
    assert item(lift)["quantities"] == {"elevators_registered": 1}
