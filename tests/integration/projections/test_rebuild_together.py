"""Rebuilding every read model in one pass over the log ends where rebuilding each on its own ends; a read model
that cannot apply an event is reported and holds back no other."""

from __future__ import annotations

import gc
import logging
from typing import Any, ClassVar

import pytest

from domain import commands as c
from projections import driver as pass_driver
from projections.driver import REBUILD_GC_THRESHOLD, Batch, EventStoreDriver, rebuild_together
from projections.read_ahead import ReadAhead
from services.bootstrap import Container
from services.cli import main
from tests.integration.projections.test_failing_projection import Poisoned
from tests.integration.projections.test_rebuild_property import dump
from tests.support import World, inspection

pytestmark = pytest.mark.integration


def fill(container: Container) -> int:
    world = World(container.ledger)
    done = world.completed_item()
    round_no, subject = world.open_round(done)
    world.sign(world.residents[0], done, round_no, subject)
    other = world.new_item("flying_wire_burial", planned_end="2026-12-31")
    world.run(world.supervisor, inspection(other, "route_survey", "fail", defects=[
        {"severity": "major", "description": "埋深不足", "photos": [], "due_date": "2026-12-01"}]))
    raised = world.run(world.station, c.RaiseDefect(item_id=other, severity="minor", description="警示带缺失"))
    assert raised.position is not None
    return raised.position


def test_one_pass_equals_each_read_model_rebuilt_alone(container: Container) -> None:
    fill(container)
    runner = container.projections
    runner.run_once()
    live = {name: dump(container, name) for name in runner.drivers}
    statuses = runner.rebuild_all()
    assert all(s["state"] == "caught_up" and s["position"] == s["head"] for s in statuses)
    assert {name: dump(container, name) for name in runner.drivers} == live
    for name, driver in runner.drivers.items():
        driver.rebuild()
        assert dump(container, name) == live[name], name


class Watched(ReadAhead):
    """The real decoder process, counting the batches it hands over; `die_after` kills the child after that many."""

    made: ClassVar[list[Watched]] = []
    die_after: ClassVar[int | None] = None

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.batches = 0
        Watched.made.append(self)

    def batch(self, start: int) -> Any | None:
        got = super().batch(start)
        self.batches += got is not None
        if self.batches == Watched.die_after:
            self._process.kill()
            self._process.wait(timeout=10)
        return got


@pytest.fixture
def watched(monkeypatch: pytest.MonkeyPatch) -> type[Watched]:
    monkeypatch.setattr(pass_driver, "ReadAhead", Watched)
    monkeypatch.setattr(pass_driver, "REBUILD_BATCH", 7)  # several batches, so that one is read ahead
    monkeypatch.setattr(Watched, "made", [])
    monkeypatch.setattr(Watched, "die_after", None)
    return Watched


def rebuilt_with_decoder(container: Container, env: dict[str, str]) -> dict[str, Any]:
    assert rebuild_together(list(container.projections.drivers.values()), decoder_env=env, read_ahead_from=0) == {}
    return {name: dump(container, name) for name in container.projections.drivers}


def test_a_decoder_process_hands_the_pass_exactly_the_events_it_would_decode(
        container: Container, watched: type[Watched]) -> None:
    head = fill(container)
    container.projections.run_once()
    live = {name: dump(container, name) for name in container.projections.drivers}
    assert rebuilt_with_decoder(container, container.settings.event_store_env()) == live
    (decoder,) = watched.made
    assert decoder.batches == -(-head // 7) - 1  # every batch of the log but the first came from the child
    assert decoder._process.poll() is not None  # and the pass ended it


def test_a_decoder_process_that_dies_or_cannot_start_leaves_the_pass_to_this_process(
        container: Container, watched: type[Watched], caplog: pytest.LogCaptureFixture) -> None:
    fill(container)
    container.projections.run_once()
    live = {name: dump(container, name) for name in container.projections.drivers}
    watched.die_after = 2  # the first batch is this process's, the next two the child's
    with caplog.at_level(logging.WARNING, "siteledger.projections"):
        assert rebuilt_with_decoder(container, container.settings.event_store_env()) == live
    assert watched.made[0].batches == 2
    assert "the decoder process failed" in caplog.text and "exited" in caplog.text
    caplog.clear()
    with caplog.at_level(logging.WARNING, "siteledger.projections"):
        assert rebuilt_with_decoder(container, {"PERSISTENCE_MODULE": "no.such.module"}) == live
    assert "the decoder process failed" in caplog.text and "exited" in caplog.text


class Watching(Poisoned):
    """Notes the collector's settings at every event it applies."""

    name = "watching"

    def __init__(self) -> None:
        super().__init__()
        self.thresholds: set[tuple[int, ...]] = set()

    def apply(self, event: Any, position: int, batch: Batch) -> None:
        self.thresholds.add(gc.get_threshold())
        super().apply(event, position, batch)


def test_a_rebuild_collects_garbage_less_often_and_leaves_the_collector_as_it_was(container: Container) -> None:
    fill(container)
    watching = Watching()
    driver = container.projections.drivers["watching"] = EventStoreDriver(watching, container.ledger, container.db)
    before = gc.get_threshold()
    statuses = {s["name"]: s for s in container.projections.rebuild_all()}
    assert statuses["watching"]["state"] == "failing"  # a failed rebuild too leaves the collector as it was
    with pytest.raises(ValueError, match="no column"):
        driver.rebuild()
    assert watching.thresholds == {REBUILD_GC_THRESHOLD}
    assert gc.get_threshold() == before != REBUILD_GC_THRESHOLD
    assert gc.get_freeze_count() == 0  # nothing left out of later collections


def test_a_read_model_failing_in_the_pass_is_reported_and_the_others_reach_the_head(container: Container) -> None:
    raised_at = fill(container)
    poisoned = Poisoned()
    container.projections.drivers["poisoned"] = EventStoreDriver(poisoned, container.ledger, container.db)
    statuses = {s["name"]: s for s in container.projections.rebuild_all()}
    assert statuses["poisoned"]["state"] == "failing"
    assert statuses["poisoned"]["failure"]["error"] == "ValueError: no column for a defect"
    first_defect = min(int(r[0]) for r in container.db.query(
        "SELECT position FROM timeline_events WHERE type = 'DefectRaised'"))
    assert statuses["poisoned"]["position"] == first_defect - 1 < raised_at
    assert all(s["state"] == "caught_up" for n, s in statuses.items() if n != "poisoned")
    poisoned.fixed = True
    assert container.projections.rebuild_all()[-1]["state"] == "caught_up"


def test_the_command_rebuilds_every_read_model_in_one_pass(
        container: Container, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    fill(container)
    for name, value in container.settings.model_dump().items():
        if value is not None:
            monkeypatch.setenv(f"SITELEDGER_{name.upper()}", str(value))
    head, names = container.ledger.recorder.max_notification_id(), list(container.projections.drivers)
    container.close()
    assert main(["projections", "rebuild"]) == 0
    err = capsys.readouterr().err
    for name in names:
        assert f"{name}: rebuilt to position {head}" in err
    assert f"{len(names)} of {len(names)} rebuilt in " in err


def test_the_runner_reads_and_decodes_new_events_once_for_the_read_models_at_one_position(
        container: Container, monkeypatch: pytest.MonkeyPatch) -> None:
    runner = container.projections
    fill(container)
    runner.run_once()
    head_before = container.ledger.recorder.max_notification_id()
    world = World(container.ledger)
    world.run(world.station, c.RaiseDefect(item_id=world.new_item(), severity="minor", description="井盖松动"))
    new = [n for n in container.ledger.recorder.select_notifications(head_before, 100, inclusive_of_start=False)
           if not n.topic.startswith("siteledger.receipt:")]
    decoded: list[int] = []
    real = container.ledger.mapper.to_domain_event

    def counted(note: Any) -> Any:
        decoded.append(note.id)
        return real(note)

    monkeypatch.setattr(container.ledger.mapper, "to_domain_event", counted)
    runner.run_once()
    assert sorted(decoded) == sorted(n.id for n in new)  # once each, not once per read model
    assert all(s["state"] == "caught_up" for s in runner.status())
