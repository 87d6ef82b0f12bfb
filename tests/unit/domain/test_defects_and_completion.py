"""Defects from raising to closing, separation of duties, and what completion requires."""

from uuid import UUID

import pytest

from domain import commands as c
from domain.actors import Actor, Role
from domain.rules import (
    DefectNotFound,
    DefectNotOpen,
    HoldPointsNotPassed,
    NoRectificationReported,
    OpenDefectsBlockCompletion,
    SeparationOfDuties,
    StopWorkAlreadyInForce,
    StopWorkNotInForce,
)
from tests.support import World, inspection, photo


def raise_defect(world: World, item_id: UUID, hold_point: str | None = None) -> str:
    out = world.run(world.station, c.RaiseDefect(item_id=item_id, severity="critical", description="燃气管距离不足",
                                                 hold_point=hold_point, due_date="2026-12-01"))
    return out.result["defect_id"]


def rectify(world: World, item_id: UUID, defect_id: str, actor: Actor | None = None) -> None:
    world.run(actor or world.contractor, c.ReportRectification(
        item_id=item_id, defect_id=defect_id, description="已迁移", photos=[photo("fixed")]))


def test_rectification_reported_then_closed(world: World) -> None:
    item_id = world.new_item()
    defect_id = raise_defect(world, item_id)
    with pytest.raises(NoRectificationReported):
        world.run(world.supervisor, c.CloseDefect(item_id=item_id, defect_id=defect_id))
    rectify(world, item_id, defect_id)
    with pytest.raises(DefectNotOpen):
        rectify(world, item_id, defect_id)
    world.run(world.station, c.CloseDefect(item_id=item_id, defect_id=defect_id, notes="复查合格"))
    assert world.app.get_item(item_id).defects[defect_id]["status"] == "closed"
    assert world.event_types(item_id)[-3:] == ["DefectRaised", "RectificationReported", "DefectClosed"]


def test_rejected_rectification_reopens_the_defect(world: World) -> None:
    item_id = world.new_item()
    defect_id = raise_defect(world, item_id)
    rectify(world, item_id, defect_id)
    world.run(world.station, c.RejectRectification(item_id=item_id, defect_id=defect_id, reason="照片不清"))
    assert world.app.get_item(item_id).defects[defect_id]["status"] == "open"
    rectify(world, item_id, defect_id)
    world.run(world.station, c.CloseDefect(item_id=item_id, defect_id=defect_id))


def test_whoever_reported_the_rectification_cannot_close_it() -> None:
    # The same person holding two accounts is outside the model; the same user id is not.
    from domain.application import SiteLedger
    from domain.rules import RoleNotPermitted

    world = World(SiteLedger(env={"PERSISTENCE_MODULE": "eventsourcing.popo"}))
    item_id = world.new_item()
    defect_id = raise_defect(world, item_id)
    rectify(world, item_id, defect_id)
    as_supervisor = Actor(world.contractor.user_id, Role.SUPERVISOR)
    world.app.get_project(world.project_id)  # the contractor is not assigned as supervisor
    world.run(world.admin, c.AssignUser(project_id=world.project_id, user_id=as_supervisor.user_id,
                                        role="supervisor"))
    with pytest.raises(SeparationOfDuties) as error:
        world.run(as_supervisor, c.CloseDefect(item_id=item_id, defect_id=defect_id))
    assert error.value.code == "separation_of_duties"
    with pytest.raises(RoleNotPermitted):
        world.run(world.contractor, c.CloseDefect(item_id=item_id, defect_id=defect_id))


def test_unknown_defect(world: World) -> None:
    item_id = world.new_item()
    with pytest.raises(DefectNotFound):
        rectify(world, item_id, "nope")


def test_an_open_defect_blocks_its_hold_point_and_completion(world: World) -> None:
    item_id = world.new_item()
    world.pass_through(item_id)
    defect_id = raise_defect(world, item_id, hold_point="concealed_works")
    item = world.app.get_item(item_id)
    assert not item.is_passed("concealed_works")
    with pytest.raises(OpenDefectsBlockCompletion):
        world.run(world.supervisor, c.CompleteWorks(item_id=item_id))
    rectify(world, item_id, defect_id)
    world.run(world.station, c.CloseDefect(item_id=item_id, defect_id=defect_id))
    world.run(world.supervisor, c.CompleteWorks(item_id=item_id))
    assert world.app.get_item(item_id).state == "completed"


def test_completion_needs_every_hold_point(world: World) -> None:
    item_id = world.new_item()
    world.pass_through(item_id, until="utility_handover")
    with pytest.raises(HoldPointsNotPassed) as error:
        world.run(world.supervisor, c.CompleteWorks(item_id=item_id))
    assert "utility_handover" in error.value.detail_zh
    world.run(world.supervisor, inspection(item_id, "utility_handover"))
    world.run(world.supervisor, c.CompleteWorks(item_id=item_id))


def test_stop_work_cannot_be_doubled_or_lifted_twice(world: World) -> None:
    item_id = world.new_item()
    with pytest.raises(StopWorkNotInForce):
        world.run(world.station, c.LiftStopWork(item_id=item_id))
    world.run(world.station, c.OrderStopWork(item_id=item_id, reason="无证上岗"))
    with pytest.raises(StopWorkAlreadyInForce):
        world.run(world.station, c.OrderStopWork(item_id=item_id, reason="again"))


def test_a_defect_id_is_never_reused(world: World) -> None:
    from domain.rules import DuplicateDefectId

    item_id = world.new_item()
    world.run(world.station, c.RaiseDefect(item_id=item_id, defect_id="D1", severity="minor", description="x"))
    rectify(world, item_id, "D1")
    world.run(world.station, c.CloseDefect(item_id=item_id, defect_id="D1"))
    with pytest.raises(DuplicateDefectId):
        world.run(world.station, c.RaiseDefect(item_id=item_id, defect_id="D1", severity="critical", description="y"))
    twice = [{"defect_id": "D2", "severity": "minor", "description": "a"},
             {"defect_id": "D2", "severity": "minor", "description": "b"}]
    with pytest.raises(DuplicateDefectId):
        world.run(world.supervisor, inspection(item_id, "survey_and_marking", result="fail", defects=twice))
    assert world.app.get_item(item_id).defects["D1"]["status"] == "closed"
