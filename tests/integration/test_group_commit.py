"""Commands queued on one aggregate are decided one after another and saved in one transaction (group commit),
on SQLite and PostgreSQL: each keeps its own outcome, receipt and log position, a refusal is judged on what the
commands before it decided, and a conflicting save stores nothing of the group and runs each command again.

The tests hold the item's stripe while the commands queue, so the group is certain, then let go."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any
from uuid import UUID, uuid4

import pytest
from eventsourcing.persistence import OperationalError

from domain import commands as c
from domain import handlers
from domain.actors import Actor, CommandContext
from domain.application import SiteLedger
from domain.errors import DomainError
from domain.rules import StopWorkInForce
from services.commands.unit_of_work import LOCK_STRIPES, Outcome, UnitOfWork
from tests.support import World, inspection, ledger

pytestmark = pytest.mark.integration


class Saves:
    """Counts the application's saves (transactions), and may act just before one."""

    def __init__(self, app: SiteLedger, before: Callable[[], None] | None = None) -> None:
        self.count, self.before, self._save = 0, before, app.save
        app.save = self  # type: ignore[method-assign]  # an instance attribute shadows the method

    def __call__(self, *objs: Any, **kwargs: Any) -> Any:
        self.count += 1
        if self.before is not None:
            before, self.before = self.before, None
            before()
        return self._save(*objs, **kwargs)


@contextmanager
def queued(world: World, item_id: UUID, sends: Sequence[tuple[Actor, c.Command, str]],
           results: list[Outcome | Exception]) -> Iterator[None]:
    """Hold the item's stripe, start one thread per command and wait until all are queued; let go on exit."""
    unit = UnitOfWork.for_app(world.app)
    index = hash(item_id) % LOCK_STRIPES
    results.extend([RuntimeError("not run")] * len(sends))

    def send(n: int, actor: Actor, command: c.Command, command_id: str) -> None:
        try:
            results[n] = world.run(actor, command, command_id=command_id)
        except Exception as error:
            results[n] = error

    threads = [threading.Thread(target=send, args=(n, *s)) for n, s in enumerate(sends)]
    with unit._stripes[index]:
        for thread in threads:  # one at a time, so the queue keeps the order they were sent in
            thread.start()
            deadline = time.monotonic() + 10
            while len(unit._queued[index]) < threads.index(thread) + 1:
                assert time.monotonic() < deadline, "a command never queued"
                time.sleep(0.001)
        yield
    for thread in threads:
        thread.join(30)


def test_commands_queued_on_one_item_are_saved_in_one_transaction(store_env: dict[str, str]) -> None:
    world = World(ledger(store_env))
    item_id = world.new_item()
    saves = Saves(world.app)
    results: list[Outcome | Exception] = []
    sends = [(world.supervisor, inspection(item_id, "survey_and_marking"), uuid4().hex) for _ in range(6)]
    with queued(world, item_id, sends, results):
        pass
    assert saves.count == 1
    outcomes = [r for r in results if isinstance(r, Outcome)]
    assert len(outcomes) == 6
    assert [o.version for o in outcomes] == [2, 3, 4, 5, 6, 7]  # in the order they queued
    assert all(len(o.events) == 1 and o.events[0]["version"] == o.version for o in outcomes)
    notes = {n.id: n for n in world.app.recorder.select_notifications(1, 1000)}
    for outcome in outcomes:  # each outcome names its own event's place in the log
        assert outcome.position is not None
        assert (notes[outcome.position].originator_id, notes[outcome.position].originator_version) == \
            (item_id, outcome.version)
    assert world.app.verify(item_id).valid and world.app.get_item(item_id).version == 7
    for (actor, command, command_id), outcome in zip(sends, outcomes, strict=True):  # each kept its receipt
        again = world.run(actor, command, command_id=command_id)
        assert again.replayed and again.version == outcome.version and again.events == outcome.events
    assert world.app.get_item(item_id).version == 7
    world.app.close()


def test_a_refusal_in_a_group_is_judged_on_what_the_commands_before_it_decided(store_env: dict[str, str]) -> None:
    world = World(ledger(store_env))
    item_id = world.new_item()
    results: list[Outcome | Exception] = []
    sends: list[tuple[Actor, c.Command, str]] = [
        (world.supervisor, inspection(item_id, "survey_and_marking"), "first"),
        (world.station, c.OrderStopWork(item_id=item_id, reason="无证上岗"), "stop"),
        (world.supervisor, inspection(item_id, "excavation"), "refused"),  # construction, while stopped
        (world.station, c.LiftStopWork(item_id=item_id, notes="已整改"), "lift"),
        (world.supervisor, inspection(item_id, "survey_and_marking"), "last"),
    ]
    with queued(world, item_id, sends, results):
        pass
    assert isinstance(results[2], StopWorkInForce)
    assert [r.version for r in results if isinstance(r, Outcome)] == [2, 3, 4, 5]
    assert world.event_types(item_id) == ["Registered", "InspectionRecorded", "StopWorkOrdered",
                                          "StopWorkLifted", "InspectionRecorded"]
    again = world.run(world.supervisor, inspection(item_id, "excavation"), command_id="refused")
    assert not again.replayed and again.version == 6  # a refusal keeps no receipt: sent again, judged again
    world.app.close()


def test_a_command_id_given_twice_in_a_group_records_once(store_env: dict[str, str]) -> None:
    world = World(ledger(store_env))
    item_id = world.new_item()
    saves = Saves(world.app)
    results: list[Outcome | Exception] = []
    command = inspection(item_id, "survey_and_marking")
    sends = [(world.supervisor, inspection(item_id, "survey_and_marking"), "a"),
             (world.supervisor, command, "same"), (world.supervisor, command, "same"),
             (world.supervisor, inspection(item_id, "survey_and_marking"), "b")]
    with queued(world, item_id, sends, results):
        pass
    outcomes = [r for r in results if isinstance(r, Outcome)]
    assert len(outcomes) == 4 and saves.count > 1  # the group's save conflicted: each ran on its own
    assert [o.replayed for o in outcomes] == [False, False, True, False]
    assert outcomes[1].events == outcomes[2].events
    assert world.app.get_item(item_id).version == 4 and world.app.verify(item_id).valid
    world.app.close()


def test_a_group_whose_save_meets_another_process_stores_nothing_of_it_and_runs_each_again(
        store_env: dict[str, str]) -> None:
    world = World(ledger(store_env))
    item_id = world.new_item()
    other = ledger(store_env)

    def another_process_writes() -> None:
        UnitOfWork.for_app(other).execute(CommandContext(actor=world.station, command_id=uuid4().hex),
                                          c.RaiseDefect(item_id=item_id, severity="minor", description="另一进程"))

    saves = Saves(world.app, before=another_process_writes)
    results: list[Outcome | Exception] = []
    sends = [(world.supervisor, inspection(item_id, "survey_and_marking"), uuid4().hex) for _ in range(3)]
    with queued(world, item_id, sends, results):
        pass
    outcomes = [r for r in results if isinstance(r, Outcome)]
    assert len(outcomes) == 3 and saves.count == 4  # the group, then each on its own
    assert sorted(o.version for o in outcomes) == [3, 4, 5]
    assert world.event_types(item_id) == ["Registered", "DefectRaised", *["InspectionRecorded"] * 3]
    assert world.app.verify(item_id).valid
    other.close()
    world.app.close()


def test_a_fault_in_one_command_of_a_group_is_that_command_s_alone(store_env: dict[str, str],
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    world = World(ledger(store_env))
    item_id = world.new_item()
    original = handlers.HANDLERS[c.RaiseDefect]

    def broken(app: Any, ctx: Any, cmd: Any) -> Any:
        if cmd.description == "故障":
            raise KeyError("a bug")
        return original(app, ctx, cmd)

    monkeypatch.setitem(handlers.HANDLERS, c.RaiseDefect, broken)  # type: ignore[misc]  # a class key
    results: list[Outcome | Exception] = []
    sends: list[tuple[Actor, c.Command, str]] = [
        (world.station, c.RaiseDefect(item_id=item_id, severity="minor", description="一"), "one"),
        (world.station, c.RaiseDefect(item_id=item_id, severity="minor", description="故障"), "fault"),
        (world.station, c.RaiseDefect(item_id=item_id, severity="minor", description="二"), "two"),
    ]
    with queued(world, item_id, sends, results):
        pass
    assert isinstance(results[1], KeyError) and not isinstance(results[1], DomainError)
    assert [r.version for r in results if isinstance(r, Outcome)] == [2, 3]
    assert len(world.app.get_item(item_id).defects) == 2
    world.app.close()


def test_a_group_whose_save_fails_tells_every_command_and_stores_nothing(store_env: dict[str, str]) -> None:
    world = World(ledger(store_env))
    item_id = world.new_item()

    def the_store_fails() -> None:
        raise OperationalError("disk I/O error")

    Saves(world.app, before=the_store_fails)
    results: list[Outcome | Exception] = []
    sends = [(world.supervisor, inspection(item_id, "survey_and_marking"), uuid4().hex) for _ in range(3)]
    with queued(world, item_id, sends, results):
        pass
    assert all(isinstance(r, OperationalError) for r in results)
    assert world.app.get_item(item_id).version == 1
    for actor, command, command_id in sends:  # nothing was stored: sent again, each records once
        assert not world.run(actor, command, command_id=command_id).replayed
    assert world.app.get_item(item_id).version == 4 and world.app.verify(item_id).valid
    world.app.close()
