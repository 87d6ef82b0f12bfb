"""Given a works item, when an inspection is recorded, then the template's rules decide."""

import pytest

from domain import commands as c
from domain.actors import Actor
from domain.errors import DomainError
from domain.rules import (
    FailedInspectionNeedsDefect,
    HoldPointOutOfOrder,
    IncompleteChecklist,
    InvalidMeasurement,
    InvalidPhotoReference,
    LinkedWorkNotHandedOver,
    MissingMeasurements,
    MissingRequiredPhotos,
    StopWorkInForce,
    UnknownHoldPoint,
)
from domain.works_item_events import InspectionRecorded
from tests.support import World, inspection, photo

DEFECT = {"severity": "major", "description": "沟槽支护不足"}


def refused(world: World, error: type[DomainError], command: c.Command, actor: Actor | None = None) -> DomainError:
    item_id = getattr(command, "item_id", None)
    before = world.event_types(item_id) if item_id else None
    with pytest.raises(error) as raised:
        world.run(actor or world.supervisor, command)
    if item_id:
        assert world.event_types(item_id) == before, "a refused command records nothing"
    return raised.value


def test_a_passing_inspection_is_recorded_with_its_metadata(world: World) -> None:
    item_id = world.new_item()
    world.run(world.supervisor, inspection(item_id, "survey_and_marking"))
    event = world.events(item_id)[-1]
    assert type(event).__name__ == "InspectionRecorded"
    assert event.actor_id == world.supervisor.user_id and event.actor_role == "supervisor"
    assert event.device_id == "tablet-01" and len(event.event_hash) == 64
    item = world.app.get_item(item_id)
    assert item.is_passed("survey_and_marking") and item.state == "in_progress"


def test_hold_point_not_in_template(world: World) -> None:
    item_id = world.new_item()
    refused(world, UnknownHoldPoint, c.RecordInspection(item_id=item_id, hold_point="foundation", result="pass"))


def test_hold_point_cannot_pass_before_its_predecessors(world: World) -> None:
    item_id = world.new_item()
    world.pass_through(item_id, until="concealed_works")
    error = refused(world, HoldPointOutOfOrder, inspection(item_id, "backfill_restoration"))
    assert "concealed_works" in error.detail_zh
    # a failure may be recorded out of order: it passes nothing
    world.run(world.supervisor, inspection(item_id, "backfill_restoration", result="fail", defects=[DEFECT]))


def test_required_photos_and_measurements_and_checklist(world: World) -> None:
    item_id = world.new_item()
    world.pass_through(item_id, until="excavation")
    refused(world, MissingRequiredPhotos, inspection(item_id, "excavation", photos=[]))
    refused(world, MissingMeasurements, inspection(item_id, "excavation", measurements={"depth_m": "1"}))
    refused(world, InvalidMeasurement, inspection(item_id, "excavation",
                                                  measurements={"depth_m": "deep", "width_m": "1"}))
    refused(world, InvalidMeasurement, inspection(item_id, "excavation",
                                                  measurements={"depth_m": "-1", "width_m": "1"}))
    refused(world, IncompleteChecklist, inspection(item_id, "excavation", checklist={"shoring_in_place": True}))
    refused(world, InvalidPhotoReference, inspection(item_id, "excavation", photos=["not-a-hash"]))
    world.run(world.supervisor, inspection(item_id, "excavation"))


def test_a_failed_or_conditional_inspection_raises_a_defect(world: World) -> None:
    item_id = world.new_item()
    refused(world, FailedInspectionNeedsDefect, inspection(item_id, "survey_and_marking", result="fail"))
    refused(world, FailedInspectionNeedsDefect, inspection(item_id, "survey_and_marking", result="conditional"))
    out = world.run(world.supervisor, inspection(item_id, "survey_and_marking", result="fail", defects=[DEFECT]))
    assert [e["type"] for e in out.events] == ["InspectionRecorded", "DefectRaised"]
    item = world.app.get_item(item_id)
    assert not item.is_passed("survey_and_marking")
    assert item.defects[out.result["defect_ids"][0]]["hold_point"] == "survey_and_marking"


def test_a_conditional_pass_counts_once_its_defects_close(world: World) -> None:
    item_id = world.new_item()
    out = world.run(world.supervisor, inspection(item_id, "survey_and_marking", result="conditional",
                                                 defects=[{**DEFECT, "severity": "minor"}]))
    defect_id = out.result["defect_ids"][0]
    assert not world.app.get_item(item_id).is_passed("survey_and_marking")
    world.run(world.contractor, c.ReportRectification(item_id=item_id, defect_id=defect_id,
                                                      description="已补标识", photos=[photo("after")]))
    world.run(world.supervisor, c.CloseDefect(item_id=item_id, defect_id=defect_id))
    assert world.app.get_item(item_id).is_passed("survey_and_marking")


def test_no_construction_hold_point_passes_during_stop_work(world: World) -> None:
    item_id = world.new_item()
    world.pass_through(item_id, until="excavation")
    world.run(world.station, c.OrderStopWork(item_id=item_id, reason="沟槽未设围挡"))
    refused(world, StopWorkInForce, inspection(item_id, "excavation"))
    refused(world, StopWorkInForce, c.CompleteWorks(item_id=item_id))
    world.run(world.station, c.LiftStopWork(item_id=item_id, notes="已整改"))
    world.run(world.supervisor, inspection(item_id, "excavation"))


def test_non_construction_hold_points_pass_during_stop_work(world: World) -> None:
    item_id = world.new_item("elevator_installation")
    world.run(world.station, c.OrderStopWork(item_id=item_id, reason="安全隐患"))
    world.run(world.supervisor, inspection(item_id, "owner_consent"))


def test_elevator_waits_for_the_linked_pipe_relocation_hand_over(world: World) -> None:
    pipe_id = world.new_item("pipe_relocation")
    lift_id = world.new_item("elevator_installation", links={"pipe_relocation_cleared": pipe_id})
    world.pass_through(lift_id, until="pipe_relocation_cleared")
    world.pass_through(pipe_id, until="utility_handover")
    refused(world, LinkedWorkNotHandedOver, inspection(lift_id, "pipe_relocation_cleared"))
    world.run(world.supervisor, inspection(pipe_id, "utility_handover"))
    world.run(world.supervisor, inspection(lift_id, "pipe_relocation_cleared"))
    assert world.app.get_item(lift_id).is_passed("pipe_relocation_cleared")


def test_an_elevator_without_a_linked_pipe_item_cannot_clear_it(world: World) -> None:
    from domain.rules import MissingLinkedItem

    lift_id = world.new_item("elevator_installation")
    world.pass_through(lift_id, until="pipe_relocation_cleared")
    refused(world, MissingLinkedItem, inspection(lift_id, "pipe_relocation_cleared"))


def test_station_inspections_are_spot_checks(world: World) -> None:
    item_id = world.new_item()
    world.run(world.station, inspection(item_id, "survey_and_marking"))
    event = world.events(item_id)[-1]
    assert isinstance(event, InspectionRecorded) and event.spot_check is True


def test_quantities_come_from_passing_measurements(world: World) -> None:
    item_id = world.new_item()
    world.pass_through(item_id)
    assert str(world.app.get_item(item_id).quantities["pipe_laid_m"]) == "42.5"
