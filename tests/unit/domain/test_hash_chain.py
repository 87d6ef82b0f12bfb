"""The log is tamper-evident: replay gives the same state, and any altered event breaks verification."""

import contextlib
import dataclasses
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from domain import commands as c
from domain.application import SiteLedger
from domain.chain import verify_chain
from domain.errors import DomainError
from domain.works_item import WorksItem
from tests.support import World, inspection, photo

HOLD_POINTS = [hp for hp in (
    "survey_and_marking", "excavation", "pipe_laying", "pressure_test", "concealed_works",
    "backfill_restoration", "utility_handover")]

step = st.one_of(
    st.tuples(st.just("pass"), st.sampled_from(HOLD_POINTS)),
    st.tuples(st.just("fail"), st.sampled_from(HOLD_POINTS)),
    st.tuples(st.just("defect"), st.sampled_from([*HOLD_POINTS, None])),
    st.tuples(st.just("rectify"), st.integers(0, 5)),
    st.tuples(st.just("close"), st.integers(0, 5)),
    st.tuples(st.just("stop"), st.none()),
    st.tuples(st.just("lift"), st.none()),
    st.tuples(st.just("complete"), st.none()),
)


def apply_step(world: World, item_id: Any, action: str, arg: Any) -> None:
    item = world.app.get_item(item_id)
    defects = sorted(item.defects)
    commands = {
        "pass": lambda: (world.supervisor, inspection(item_id, arg)),
        "fail": lambda: (world.supervisor, inspection(item_id, arg, result="fail",
                                                      defects=[{"severity": "major", "description": "x"}])),
        "defect": lambda: (world.station, c.RaiseDefect(item_id=item_id, severity="minor", description="y",
                                                        hold_point=arg)),
        "rectify": lambda: (world.contractor, c.ReportRectification(
            item_id=item_id, defect_id=defects[arg % len(defects)], description="z", photos=[photo("r")])),
        "close": lambda: (world.supervisor, c.CloseDefect(item_id=item_id, defect_id=defects[arg % len(defects)])),
        "stop": lambda: (world.station, c.OrderStopWork(item_id=item_id, reason="s")),
        "lift": lambda: (world.station, c.LiftStopWork(item_id=item_id)),
        "complete": lambda: (world.supervisor, c.CompleteWorks(item_id=item_id)),
    }
    if action in ("rectify", "close") and not defects:
        return
    actor, command = commands[action]()
    with contextlib.suppress(DomainError):  # a refused command is part of a valid sequence: it records nothing
        world.run(actor, command)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(steps=st.lists(step, min_size=1, max_size=25), victim=st.integers(0, 10_000), field=st.integers(0, 50))
def test_replay_gives_the_same_state_and_any_alteration_breaks_the_chain(
        steps: list[tuple[str, Any]], victim: int, field: int) -> None:
    world = World(SiteLedger(env={"PERSISTENCE_MODULE": "eventsourcing.popo"}))
    item_id = world.new_item()
    for action, arg in steps:
        apply_step(world, item_id, action, arg)
    live = world.app.get_item(item_id)
    events = world.events(item_id)
    replayed = None
    for event in events:
        replayed = event.mutate(replayed)
    assert isinstance(replayed, WorksItem)
    assert {k: v for k, v in vars(replayed).items() if k != "_pending_events"} == {
        k: v for k, v in vars(live).items() if k != "_pending_events"}
    assert verify_chain(events).valid and verify_chain(events).events == len(events)
    assert verify_chain(events).head == live.chain_head

    # alter one field of one event: the chain no longer verifies
    target = events[victim % len(events)]
    names = [f.name for f in dataclasses.fields(target) if f.name not in ("event_hash",)]
    name = names[field % len(names)]
    value = getattr(target, name)
    altered_value = _alter(value)
    tampered = list(events)
    tampered[victim % len(events)] = dataclasses.replace(target, **{name: altered_value})
    report = verify_chain(tampered)
    assert not report.valid and report.broken_at_version is not None


def _alter(value: Any) -> Any:
    import datetime
    import uuid

    if isinstance(value, bool):
        return not value
    if isinstance(value, int):
        return value + 1
    if isinstance(value, str):
        return value + "x"
    if isinstance(value, uuid.UUID):
        return uuid.uuid4()
    if isinstance(value, datetime.datetime):
        return value + datetime.timedelta(microseconds=1)
    if isinstance(value, dict):
        return {**value, "tampered": True}
    if isinstance(value, list):
        return [*value, "tampered"]
    if value is None:
        return "tampered"
    return repr(value) + "x"


def test_a_deleted_event_in_the_middle_breaks_the_chain(world: World) -> None:
    item_id = world.new_item()
    world.pass_through(item_id)
    events = list(world.app.events.get(item_id))
    report = verify_chain(events[:3] + events[4:])
    assert not report.valid and report.reason == "version_gap" and report.broken_at_version == 4
