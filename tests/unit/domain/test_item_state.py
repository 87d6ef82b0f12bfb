"""The read side's item state is the aggregate's, folded by the same events and read by the same rules."""

import json
from dataclasses import asdict
from typing import Any
from uuid import UUID

import pytest

from domain import commands as c
from domain import works_item_events as e
from domain.item_state import ItemState, fold, from_plain, to_plain
from domain.works_item import WorksItem
from tests.support import World, inspection, photo

FIELDS = ("project_id", "kind", "title", "location", "contractor_id", "links", "planned_end", "state",
          "hold_points", "defects", "stop_work", "rounds", "quantities", "version", "modified_on", "chain_head")


def story(world: World) -> UUID:
    """Every kind of event an item meets: inspections, a failed one with its defect, stop-work, rounds."""
    item_id = world.new_item("pipe_relocation", planned_end="2026-12-31")
    world.pass_through(item_id, until="pressure_test")
    world.run(world.supervisor, inspection(item_id, "pressure_test", "fail", defects=[
        {"severity": "major", "description": "接口渗漏", "photos": [photo("leak")], "due_date": "2026-12-01"}]))
    defect_id = next(iter(world.app.get_item(item_id).defects))
    world.run(world.contractor, c.ReportRectification(item_id=item_id, defect_id=defect_id, description="已更换",
                                                      photos=[photo("fixed")]))
    world.run(world.supervisor, c.CloseDefect(item_id=item_id, defect_id=defect_id))
    world.run(world.station, c.OrderStopWork(item_id=item_id, reason="未设围挡"))
    world.run(world.station, c.LiftStopWork(item_id=item_id, notes="已整改"))
    world.pass_through(item_id)
    world.run(world.supervisor, c.CompleteWorks(item_id=item_id))
    round_no, subject = world.open_round(item_id)
    world.sign(world.residents[0], item_id, round_no, subject)
    world.sign(world.residents[1], item_id, round_no, subject, "reject", "井盖松动")
    return item_id


def item_events(world: World, item_id: UUID) -> list[e.WorksItemEvent]:
    events = world.events(item_id)
    assert all(isinstance(event, e.WorksItemEvent) for event in events)
    return events  # type: ignore[return-value]  # checked above


def facts(item: Any) -> dict[str, Any]:
    return {"passed": item.passed_hold_points(), "open_defects": item.open_defects(),
            "open_round": item.open_round(), **{f: getattr(item, f) for f in FIELDS}}


def test_folding_the_log_gives_the_aggregates_state_and_facts(world: World) -> None:
    item_id = story(world)
    item: WorksItem = world.app.get_item(item_id)
    state = None
    for event in item_events(world, item_id):
        state = fold(state, event)
    assert state is not None
    assert facts(state) == facts(item)
    assert state.template.digest == item.template.digest
    assert state.state == "awaiting_acceptance" and state.quantities  # the story reached what it should test


def test_the_stored_form_is_named_plain_fields_and_reads_back_equal(world: World) -> None:
    item_id = story(world)
    state = None
    for event in item_events(world, item_id):
        state = fold(state, event)
    assert state is not None
    stored = json.dumps(to_plain(state))  # plain JSON: no pickled or transcoded objects
    back = from_plain(json.loads(stored), state.template)
    assert asdict(back) == asdict(state)
    assert back.passed_hold_points() == state.passed_hold_points()
    with pytest.raises(ValueError, match="form"):
        from_plain({**json.loads(stored), "form": 0}, state.template)


def test_an_event_out_of_turn_changes_nothing(world: World) -> None:
    item_id = story(world)
    events = item_events(world, item_id)
    state: ItemState | None = None
    for event in events[:5]:
        state = fold(state, event)
    assert state is not None
    before = asdict(state)
    assert fold(state, events[2]) is state and asdict(state) == before  # replayed
    assert fold(state, events[7]) is state and asdict(state) == before  # a gap: not applied
    assert fold(state, events[0]) is state and asdict(state) == before  # registered again
    assert fold(None, events[3]) is None  # registered before tracking began


@pytest.mark.parametrize(("before", "event", "after"), [
    ("registered", e.InspectionRecorded, "in_progress"), ("accepted", e.DefectRaised, "in_progress"),
    ("registered", e.DefectRaised, "registered"), ("in_progress", e.WorksCompleted, "completed"),
    ("completed", e.AcceptanceRequested, "awaiting_acceptance"),
    ("awaiting_acceptance", e.AcceptanceRejected, "in_progress"), ("accepted", e.ClosedOut, "closed_out"),
    ("closed_out", e.Reopened, "in_progress"), ("awaiting_acceptance", e.AcceptanceRoundCancelled,
                                                "awaiting_acceptance"),
])
def test_each_event_moves_the_state_one_way_for_every_reader(before: str, event: type, after: str) -> None:
    """The lists' state column asks the event itself (projections/listing.py), as the aggregate's fold does."""
    assert object.__new__(event).next_state(before) == after
