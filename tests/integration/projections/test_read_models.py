"""Each read model equals a fresh rebuild from the log, survives a crash mid-way, on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from domain import commands as c
from domain.actors import CommandContext
from domain.works_item_events import InspectionRecorded
from projections.driver import EventStoreDriver
from services.bootstrap import Container
from tests.support import World, inspection, photo

pytestmark = pytest.mark.integration


def scenario(world: World) -> None:
    """A bit of everything: two items, failures, defects, stop-work, an acceptance round."""
    pipe = world.new_item("pipe_relocation")
    world.pass_through(pipe, until="pressure_test")
    out = world.run(world.supervisor, inspection(pipe, "pressure_test", result="fail", defects=[
        {"severity": "critical", "description": "压力降超标", "due_date": "2020-01-01"}]))
    world.run(world.station, c.OrderStopWork(item_id=pipe, reason="渗漏"))
    world.run(world.contractor, c.ReportRectification(item_id=pipe, defect_id=out.result["defect_ids"][0],
                                                      description="已更换接头", photos=[photo("joint")]))
    wires = world.completed_item("flying_wire_burial")
    round_no, subject = world.open_round(wires)
    world.sign(world.residents[0], wires, round_no, subject)
    world.sign(world.residents[1], wires, round_no, subject, decision="reject", reason="线盒松动")


def dump(container: Container, driver: EventStoreDriver) -> dict[str, list[Any]]:
    tables = {}
    for table in driver.model.tables:
        rows = container.db.query(f"SELECT * FROM {table}")
        tables[table] = sorted(tuple(str(v) for v in row) for row in rows)
    return tables


def test_every_read_model_equals_a_fresh_rebuild(container: Container) -> None:
    world = World(container.ledger)
    scenario(world)
    container.projections.run_once()
    for name, driver in container.projections.drivers.items():
        live = dump(container, driver)
        assert any(live.values()), name
        driver.rebuild()
        assert dump(container, driver) == live, name
        assert driver.position() == driver.head()


class Crash(Exception):
    pass


def test_a_projection_killed_mid_way_neither_skips_nor_double_counts(container: Container) -> None:
    world = World(container.ledger)
    scenario(world)
    for name, driver in container.projections.drivers.items():
        real_apply = driver.model.apply
        seen = {"n": 0}

        def counting(event: Any, position: int, batch: Any,
                     real: Callable[[Any, int, Any], None] = real_apply, seen: dict[str, int] = seen) -> None:
            seen["n"] += 1
            if seen["n"] == seen.get("crash_at"):
                raise Crash("killed between two events")
            real(event, position, batch)

        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(driver.model, "apply", counting)
            driver.rebuild()
            expected = dump(container, driver)
            # start again from nothing and crash half-way, after some batches of 3 have committed
            seen.update(n=0, crash_at=seen["n"] // 2 + 1)
            with container.db.transaction() as tx:
                tx.execute("UPDATE projection_tracking SET position = 0 WHERE name = ?", (name,))
                for table in driver.model.tables:
                    tx.execute(f"DELETE FROM {table}")
            crashing = EventStoreDriver(driver.model, container.ledger, container.db, batch=3)
            with pytest.raises(Crash):
                crashing.catch_up()
            assert 0 < crashing.position() < crashing.head(), name
        EventStoreDriver(driver.model, container.ledger, container.db, batch=3).catch_up()  # the restart
        assert dump(container, driver) == expected, name


def test_two_runners_never_apply_the_same_batch_twice(container: Container) -> None:
    world = World(container.ledger)
    scenario(world)
    driver = container.projections.drivers["dashboard"]
    driver.rebuild()
    expected = dump(container, driver)
    with container.db.transaction() as tx:
        tx.execute("UPDATE projection_tracking SET position = 0 WHERE name = 'dashboard'")
        for table in driver.model.tables:
            tx.execute(f"DELETE FROM {table}")
    import threading

    others = [EventStoreDriver(driver.model, container.ledger, container.db, batch=5) for _ in range(3)]
    threads = [threading.Thread(target=d.catch_up) for d in others]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert dump(container, driver) == expected


def test_the_timeline_flags_an_old_event_that_passed_out_of_order(container: Container) -> None:
    world = World(container.ledger)
    item_id = world.new_item()
    # an event written before the rule existed: the aggregate's guard is bypassed on purpose
    item = container.ledger.get_item(item_id, for_update=True)
    ctx = CommandContext(actor=world.supervisor, command_id="legacy-import")
    item.record(InspectionRecorded, ctx, inspection_id="old", hold_point="backfill_restoration", result="pass",
                checklist={}, measurements={}, notes="", photos=[], gps=None, spot_check=False)
    container.ledger.save(item)
    container.projections.run_once()
    flags = container.db.query("SELECT type, flags FROM timeline_events WHERE item_id = ? ORDER BY position",
                               (str(item_id),))
    assert flags[-1] == ("InspectionRecorded", '["out_of_order"]')
