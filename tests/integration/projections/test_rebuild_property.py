"""Property: whatever the commands, their device times (any zone, or none stored by an old API), the
driver's batch size and a crash mid-way, every read model ends equal to a rebuild and none is failing."""

from __future__ import annotations

import tempfile
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any
from uuid import uuid4

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from domain.actors import Actor, CommandContext
from domain.commands import Command
from services.bootstrap import Container, build
from services.commands.unit_of_work import Outcome, UnitOfWork
from services.settings import Settings
from tests.support import World
from tests.unit.domain.test_hash_chain import apply_step, step

pytestmark = pytest.mark.integration

MODELS = ("dashboard", "timeline", "acceptance_board", "deadlines", "listing", "statistics")
wall_clock = st.datetimes(min_value=datetime(2025, 1, 1), max_value=datetime(2027, 12, 31))
device_time = st.one_of(
    st.none(),
    wall_clock,  # naive: what the API accepted before it refused them, already in the log
    st.builds(lambda moment, minutes: moment.replace(tzinfo=timezone(timedelta(minutes=minutes))),
              wall_clock, st.integers(-12 * 60, 14 * 60)),
)


class TimedWorld(World):
    """Commands carry the device time the test chose, straight to the application (no API in between)."""

    device_time: datetime | None = None

    def run(self, actor: Actor, command: Command, command_id: str | None = None,
            expected_version: int | None = None) -> Outcome:
        ctx = CommandContext(actor=actor, command_id=command_id or uuid4().hex, device_id="tablet-01",
                             device_time=self.device_time, expected_version=expected_version)
        return UnitOfWork.for_app(self.app).execute(ctx, command)


class Crash(Exception):
    pass


def crash_once(container: Container, name: str, at: int) -> dict[str, int]:
    """The `at`-th event this read model applies raises, once: a process killed mid-batch."""
    model = container.projections.drivers[name].model
    real, seen = model.apply, {"n": 0, "crashed": 0}

    def apply(event: Any, position: int, batch: Any) -> None:
        seen["n"] += 1
        if seen["n"] == at and not seen["crashed"]:
            seen["crashed"] = 1
            raise Crash(f"killed at the {at}th event")
        real(event, position, batch)

    pytest.MonkeyPatch().setattr(model, "apply", apply)  # never undone: the container is this example's own
    return seen


def dump(container: Container, name: str) -> dict[str, list[tuple[str, ...]]]:
    tables = container.projections.drivers[name].model.tables
    return {t: sorted(tuple(str(v) for v in row) for row in container.db.query(f"SELECT * FROM {t}")) for t in tables}


class Clock:
    now = 0.0

    def __call__(self) -> float:
        return self.now


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(steps=st.lists(st.tuples(st.integers(0, 1), step, device_time, st.booleans()), min_size=1, max_size=25),
       batch=st.integers(1, 40), crash=st.tuples(st.sampled_from(MODELS), st.integers(1, 24)))
def test_read_models_equal_a_rebuild_and_none_is_failing(
        steps: list[tuple[int, tuple[str, Any], datetime | None, bool]], batch: int, crash: tuple[str, int]) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        container = build(Settings(data_dir=Path(tmp), s3_endpoint="127.0.0.1:9"))
        try:
            runner, clock = container.projections, Clock()
            runner.clock = clock  # back-off is waited out by moving this clock, never by sleeping
            for driver in runner.drivers.values():
                driver.batch = batch
            crashes = crash_once(container, *crash)  # beyond the events applied: no crash
            world = TimedWorld(container.ledger)
            items = [world.new_item("pipe_relocation"), world.new_item("flying_wire_burial")]
            for which, (action, arg), moment, catch_up_now in steps:
                world.device_time = moment
                apply_step(world, items[which], action, arg)
                if catch_up_now:
                    runner.run_once()
            for _ in range(3):  # a crashed read model retries after its back-off
                clock.now += 3600
                runner.run_once()

            event(f"crashed mid-way: {bool(crashes['crashed'])}")
            crashes["crashed"] = 1  # the rebuilds below run without a crash
            status = runner.status()
            assert [p["name"] for p in status if p["lag"]] == [], status
            assert [p["name"] for p in status if p["state"] != "caught_up"] == [], status
            timeline_times = container.db.query("SELECT device_time FROM timeline_events WHERE device_time IS NOT NULL")
            assert all(datetime.fromisoformat(t).utcoffset() is not None for (t,) in timeline_times)
            for name in MODELS:
                live = dump(container, name)
                runner.drivers[name].rebuild()
                assert dump(container, name) == live, name
        finally:
            container.close()
