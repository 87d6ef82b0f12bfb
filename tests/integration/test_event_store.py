"""The same store tests on SQLite and PostgreSQL: persistence, restarts, concurrency, tampering."""

from __future__ import annotations

import sqlite3
import threading
from uuid import UUID

import pytest

from domain import commands as c
from domain.application import SiteLedger
from domain.chain import ChainedEvent
from domain.works_item import WorksItem
from tests.support import World, inspection, ledger

pytestmark = pytest.mark.integration


def test_state_survives_a_restart_and_a_retry_after_restart_appends_nothing(store_env: dict[str, str]) -> None:
    world = World(ledger(store_env))
    item_id = world.new_item()
    command = inspection(item_id, "survey_and_marking")
    first = world.run(world.supervisor, command, command_id="before-restart")
    world.app.close()

    world.app = ledger(store_env)  # a new process: empty caches
    again = world.run(world.supervisor, command, command_id="before-restart")
    assert again.replayed and again.events == first.events
    item = world.app.get_item(item_id)
    assert item.version == 2 and item.is_passed("survey_and_marking")
    assert world.app.verify(item_id).valid
    world.app.close()


def test_three_concurrent_identical_commands_record_one_event_set(store_env: dict[str, str]) -> None:
    world = World(ledger(store_env))
    item_id = world.new_item()
    command = inspection(item_id, "survey_and_marking", result="fail",
                         defects=[{"severity": "minor", "description": "并发"}])
    barrier = threading.Barrier(3, timeout=30)
    outcomes, errors = [], []
    apps = [ledger(store_env) for _ in range(3)]  # separate applications: no shared cache or lock

    def send(app: SiteLedger) -> None:
        try:
            barrier.wait()
            ctx_world = World.__new__(World)
            ctx_world.app = app
            outcomes.append(ctx_world.run(world.supervisor, command, command_id="same-key"))
        except Exception as error:  # pragma: no cover - reported below
            errors.append(error)
        finally:
            app.close()

    threads = [threading.Thread(target=send, args=(app,)) for app in apps]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    assert len({(o.version, str(o.events), str(o.result)) for o in outcomes}) == 1
    assert world.event_types(item_id) == ["Registered", "InspectionRecorded", "DefectRaised"]
    world.app.close()


def test_concurrent_different_commands_both_land(store_env: dict[str, str]) -> None:
    world = World(ledger(store_env))
    item_id = world.new_item()
    barrier = threading.Barrier(2, timeout=30)
    apps = [ledger(store_env) for _ in range(2)]

    def raise_one(n: int) -> None:
        app = apps[n]
        w = World.__new__(World)
        w.app = app
        barrier.wait()
        w.run(world.station, c.RaiseDefect(item_id=item_id, severity="minor", description=f"并发 {n}"))
        app.close()

    threads = [threading.Thread(target=raise_one, args=(n,)) for n in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(world.app.get_item(item_id).defects) == 2
    world.app.close()


def test_a_long_log_loads_through_snapshots_to_the_same_state(store_env: dict[str, str]) -> None:
    world = World(ledger(store_env))
    item_id = world.new_item()
    for _ in range(120):
        world.run(world.supervisor, inspection(item_id, "survey_and_marking"))
    world.app.close()
    fresh = ledger(store_env)
    assert fresh.snapshots is not None
    snapshots = list(fresh.snapshots.get(item_id))
    assert [s.originator_version for s in snapshots] == [100]
    loaded: WorksItem = fresh.repository.get(item_id)
    replayed = None
    for event in fresh.events.get(item_id):
        assert isinstance(event, ChainedEvent)
        replayed = event.mutate(replayed)
    assert isinstance(replayed, WorksItem)
    assert loaded.version == 121 and loaded.hold_points == replayed.hold_points
    assert loaded.chain_head == replayed.chain_head
    fresh.close()


def _tamper(store_env: dict[str, str], item_id: UUID, version: int) -> None:
    """Edit a stored event behind the application's back, as someone with database access could."""
    if store_env["PERSISTENCE_MODULE"].endswith("sqlite"):
        db = sqlite3.connect(store_env["SQLITE_DBNAME"])
        row = db.execute("SELECT state FROM stored_events WHERE originator_id=? AND originator_version=?",
                         (item_id.hex, version)).fetchone()
        if row is None:
            row = db.execute("SELECT state FROM stored_events WHERE originator_id=? AND originator_version=?",
                             (str(item_id), version)).fetchone()
            key = str(item_id)
        else:
            key = item_id.hex
        state = bytes(row[0]).replace(b"\\u81ea\\u6765\\u6c34", b"\\u7164\\u6c14").replace(
            "自来水".encode(), "煤气公".encode())
        assert state != bytes(row[0])
        db.execute("UPDATE stored_events SET state=? WHERE originator_id=? AND originator_version=?",
                   (state, key, version))
        db.commit()
        db.close()
    else:
        import psycopg

        with psycopg.connect(host=store_env["POSTGRES_HOST"], port=store_env["POSTGRES_PORT"],
                             user=store_env["POSTGRES_USER"], dbname=store_env["POSTGRES_DBNAME"],
                             autocommit=True) as conn:
            tables = conn.execute(
                "SELECT table_name FROM information_schema.tables WHERE table_name LIKE '%events' "
                "AND table_name NOT LIKE '%snapshot%' ORDER BY table_name").fetchone()
            assert tables is not None
            table = tables[0]
            row = conn.execute(f"SELECT state FROM {table} WHERE originator_id=%s AND originator_version=%s",
                               (item_id, version)).fetchone()
            assert row is not None
            state = bytes(row[0]).replace("自来水".encode(), "煤气公".encode()).replace(
                b"\\u81ea\\u6765\\u6c34", b"\\u7164\\u6c14\\u516c")
            assert state != bytes(row[0])
            conn.execute(f"UPDATE {table} SET state=%s WHERE originator_id=%s AND originator_version=%s",
                         (state, item_id, version))


def test_an_event_edited_in_the_store_is_detected(store_env: dict[str, str]) -> None:
    world = World(ledger(store_env))
    item_id = world.new_item()
    world.pass_through(item_id, until="pipe_laying")
    assert world.app.verify(item_id).valid
    _tamper(store_env, item_id, version=2)
    report = ledger(store_env).verify(item_id)
    assert not report.valid and report.broken_at_version == 2 and report.reason == "hash_mismatch"
    world.app.close()
