"""Every command against every role, and scope: other projects, other districts."""

from typing import Any
from uuid import uuid4

import pytest

from domain import commands as c
from domain.actors import Actor, Role
from domain.permissions import PERMITTED
from domain.rules import OutOfScope, RoleNotPermitted
from tests.support import World

ALLOWED = {
    "RegisterProject": {"admin"}, "AssignUser": {"admin"}, "UnassignUser": {"admin"},
    "AddGroupMember": {"admin"}, "RemoveGroupMember": {"admin"}, "SetAcceptanceRule": {"admin"},
    "RegisterWorksItem": {"admin"}, "RecordInspection": {"supervisor", "station"},
    "RaiseDefect": {"supervisor", "station"}, "ReportRectification": {"contractor"},
    "CloseDefect": {"supervisor", "station"}, "RejectRectification": {"supervisor", "station"},
    "OrderStopWork": {"station"}, "LiftStopWork": {"station"}, "CompleteWorks": {"supervisor"},
    "RequestAcceptance": {"supervisor"}, "SignAcceptance": {"resident"},
    "CloseAcceptanceRound": {"admin"}, "CloseOut": {"admin"}, "Reopen": {"station"},
    "LoadDivisions": {"admin"}, "DelistDivision": {"admin"}, "SetSatisfactionThreshold": {"admin"},
    "NotifyStation": {"admin"}, "RecordSatisfactionSurvey": {"admin"}, "HoldCompletionAcceptance": {"admin"},
    "HoldJointAcceptance": {"admin", "station"}, "FileRecord": {"admin", "station"}, "AttachWorksItems": {"admin"},
    "SetFunding": {"admin"}, "SetAnnualPlan": {"admin"},
}


def test_the_role_table_is_the_one_of_domain_md() -> None:
    assert {k.__name__: {str(r) for r in v} for k, v in PERMITTED.items()} == ALLOWED


def _sample(kind: type[c.Command], world: World) -> c.Command:
    ids: dict[str, Any] = {"project_id": world.project_id, "item_id": uuid4()}
    samples: dict[str, dict[str, Any]] = {
        "RegisterProject": {"name": "x", "district": "徐汇区"},
        "AssignUser": {"user_id": uuid4(), "role": "supervisor"}, "UnassignUser": {"user_id": uuid4()},
        "AddGroupMember": {"user_id": uuid4(), "building": "1"}, "RemoveGroupMember": {"member_id": "m"},
        "SetAcceptanceRule": {}, "RegisterWorksItem": {"kind": "pipe_relocation", "location": "x"},
        "RecordInspection": {"hold_point": "x", "result": "pass"},
        "RaiseDefect": {"severity": "minor", "description": "x"},
        "ReportRectification": {"defect_id": "d", "description": "x"}, "CloseDefect": {"defect_id": "d"},
        "RejectRectification": {"defect_id": "d", "reason": "x"}, "OrderStopWork": {"reason": "x"},
        "SignAcceptance": {"round_no": 1, "decision": "accept", "subject_hash": "a" * 64},
        "CloseAcceptanceRound": {"round_no": 1}, "Reopen": {"reason": "x"},
        "LoadDivisions": {"districts": [{"name_zh": "徐汇区", "code": "310104"}]},
        "DelistDivision": {"district_zh": "徐汇区", "reason": "x"},
        "NotifyStation": {"notice_date": "2026-11-02", "photos": ["a" * 64]},
        "RecordSatisfactionSurvey": {"surveyed_on": "2026-11-02", "sample": 10, "satisfied": 9,
                                     "photos": ["a" * 64]},
        "HoldCompletionAcceptance": {"held_on": "2026-11-20", "parties": ["施工单位"],
                                     "resident_representatives": ["m"], "photos": ["a" * 64]},
        "HoldJointAcceptance": {"held_on": "2026-11-20", "photos": ["a" * 64]},
        "FileRecord": {"filing_no": "BA-1", "filed_on": "2026-11-30"}, "AttachWorksItems": {"item_ids": [uuid4()]},
        "SetAnnualPlan": {"year": 2026, "district": "徐汇区"},
    }
    fields = samples.get(kind.__name__, {})
    names = kind.model_fields
    return kind(**{k: v for k, v in ids.items() if k in names}, **fields)


@pytest.mark.parametrize("kind", list(PERMITTED), ids=lambda k: k.__name__)
@pytest.mark.parametrize("role", list(Role), ids=str)
def test_a_role_outside_the_table_is_refused_before_anything_is_loaded(
        world: World, kind: type[c.Command], role: Role) -> None:
    actor = Actor(uuid4(), role, district="徐汇区")
    if str(role) in ALLOWED[kind.__name__]:
        return  # allowed roles are exercised by the scenario tests
    with pytest.raises(RoleNotPermitted) as error:
        world.run(actor, _sample(kind, world))
    assert error.value.code == "role_not_permitted" and "无权" in error.value.detail_zh


def test_scope_unassigned_supervisor_other_district_station_other_community_resident(world: World) -> None:
    item_id = world.new_item()
    stranger = Actor(uuid4(), Role.SUPERVISOR)
    with pytest.raises(OutOfScope):
        world.run(stranger, c.RaiseDefect(item_id=item_id, severity="minor", description="x"))
    with pytest.raises(OutOfScope):
        world.run(world.other_station, c.OrderStopWork(item_id=item_id, reason="x"))
    contractor_elsewhere = Actor(uuid4(), Role.CONTRACTOR)
    with pytest.raises(OutOfScope):
        world.run(contractor_elsewhere, c.ReportRectification(item_id=item_id, defect_id="d", description="x"))
    district_admin = Actor(uuid4(), Role.ADMIN, district="黄浦区")
    with pytest.raises(OutOfScope):
        world.run(district_admin, c.RegisterWorksItem(project_id=world.project_id, kind="pipe_relocation",
                                                      location="x"))
    with pytest.raises(OutOfScope):
        world.run(district_admin, c.RegisterProject(name="x", district="徐汇区"))
    # a supervisor unassigned loses the project at once
    world.run(world.admin, c.UnassignUser(project_id=world.project_id, user_id=world.supervisor2.user_id))
    with pytest.raises(OutOfScope):
        world.run(world.supervisor2, c.RaiseDefect(item_id=item_id, severity="minor", description="x"))
    world.run(world.station, c.OrderStopWork(item_id=item_id, reason="x"))
