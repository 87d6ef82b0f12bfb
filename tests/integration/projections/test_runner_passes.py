"""The live runner's passes: the read models at one position go on together and are not caught up again alone
in the same round; under load events gather longer between passes, but a reader waiting for its own write is
served at once."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from domain import commands as c
from projections import runner as runner_module
from projections.driver import EventStoreDriver, Stuck
from projections.runner import Failing, ProjectionRunner
from services.bootstrap import Container, build
from services.settings import Settings
from tests.support import World, inspection

pytestmark = pytest.mark.integration


@pytest.fixture
def container(tmp_path: Path) -> Iterator[Container]:
    built = build(Settings(data_dir=tmp_path / "data", s3_endpoint="127.0.0.1:9"))
    yield built
    built.close()


def alone_counter(runner: ProjectionRunner, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The names of the read models caught up on their own (each call still does the work)."""
    alone: list[str] = []
    real = EventStoreDriver.catch_up

    def counted(driver: EventStoreDriver, *args: object, **kwargs: object) -> int:
        alone.append(driver.name)
        return real(driver, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(EventStoreDriver, "catch_up", counted)
    return alone


def test_read_models_brought_up_together_are_not_caught_up_again_alone(
        container: Container, monkeypatch: pytest.MonkeyPatch) -> None:
    runner = container.projections
    world = World(container.ledger)
    item_id = world.new_item()
    alone = alone_counter(runner, monkeypatch)
    runner.run_once()
    for _ in range(3):
        world.run(world.supervisor, inspection(item_id, "survey_and_marking"))

    runner.run_once()

    assert alone == []  # one pass, one commit for all of them: none read, decoded and committed alone
    assert all(p["state"] == "caught_up" for p in runner.status())


def test_a_failing_read_model_that_succeeds_in_a_pass_together_is_no_longer_failing(container: Container) -> None:
    runner = container.projections
    world = World(container.ledger)
    world.new_item()
    name = "timeline"
    runner.failing[name] = Failing(Stuck(None, None, "RuntimeError: a flaky disk"), datetime.now(UTC), 1,
                                   retry_at=runner.clock() - 1)

    runner.run_once()

    assert name not in runner.failing
    assert runner.status([name])[0]["state"] == "caught_up"


def test_a_reader_waiting_for_its_write_does_not_wait_for_the_gap_between_passes(container: Container) -> None:
    runner = container.projections
    runner.min_gap_s = runner.max_gap_s = 30.0  # events would gather for half a minute between passes
    world = World(container.ledger)
    item_id = world.new_item()
    runner.start()
    try:
        time.sleep(0.5)  # the first pass is done: the runner waits out its gap
        outcome = world.run(world.station, c.RaiseDefect(item_id=item_id, severity="minor", description="井盖松动"))
        runner.nudge()  # as the command bus does after a save
        assert outcome.position is not None
        started = time.monotonic()

        assert runner.wait_for(outcome.position, timeout_s=10) == 0

        assert time.monotonic() - started < 5
    finally:
        runner.stop()
    assert time.monotonic() - started < 10  # stopping cuts the gap short too


def test_the_pause_between_rounds_grows_only_while_rounds_keep_finding_busy_batches(container: Container) -> None:
    runner = container.projections
    busy, quiet = runner.busy_batch, runner.busy_batch - 1
    assert runner._next_gap(quiet) == runner.min_gap_s == 0.05  # light load: as fresh as a pass per few commands
    assert [runner._next_gap(busy) for _ in range(4)] == [0.1, 0.2, 0.2, 0.2]  # under load: up to max_gap_s
    assert runner._next_gap(quiet) == 0.05


def test_a_round_says_how_many_events_it_applied_together(container: Container) -> None:
    runner = container.projections
    world = World(container.ledger)
    item_id = world.new_item()
    runner.run_once()
    outcomes = [world.run(world.supervisor, inspection(item_id, "survey_and_marking")) for _ in range(3)]

    applied = runner.run_once()

    assert applied == 6  # each inspection and its command receipt
    assert all(o.position is not None for o in outcomes)


def test_read_models_split_apart_during_a_pass_are_caught_up_alone_not_counted_as_caught_up(
        container: Container, monkeypatch: pytest.MonkeyPatch) -> None:
    """A reader's `refresh` can move one read model on while the pass holds none of the locks: the pass then stops
    with the models at two positions, and each must go on alone this round."""
    runner = container.projections
    world = World(container.ledger)
    item_id = world.new_item()
    runner.run_once()
    real = runner_module.step_together
    calls: list[int] = []

    def then_a_reader_moves_the_listing(group: list[EventStoreDriver]) -> int:
        calls.append(1)
        if len(calls) == 1:
            world.run(world.supervisor, inspection(item_id, "survey_and_marking"))
            runner.drivers["listing"].step()  # as `refresh("listing")` does, between two steps of the pass
        return real(group)

    monkeypatch.setattr(runner_module, "step_together", then_a_reader_moves_the_listing)
    alone = alone_counter(runner, monkeypatch)
    runner.run_once()

    assert "dashboard" in alone and "timeline" in alone  # not counted as caught up: caught up alone
    head = container.ledger.recorder.max_notification_id()
    assert all(d.position() == head for d in runner.drivers.values())
