"""Upgrading to revision 0007: read models whose stored item states had the old (encoded aggregate) form are
dropped and rebuilt from the log, and end equal to what they were before, on each store."""

from __future__ import annotations

import json

import sqlalchemy as sa
from alembic import command

from domain import commands as c
from services import migrations
from services.bootstrap import Container, build
from tests.integration.projections.test_rebuild_property import dump
from tests.support import World

REBUILT = ("dashboard", "timeline", "deadlines", "listing")


def test_an_upgrade_rebuilds_the_read_models_with_per_item_state(container: Container) -> None:
    world = World(container.ledger)
    item_id = world.completed_item()
    world.new_item("flying_wire_burial", planned_end="2026-12-31")
    container.projections.run_once()
    before = {name: dump(container, name) for name in REBUILT}
    assert before["dashboard"]["dash_items"] and before["timeline"]["timeline_events"]

    url, settings = container.settings.database_url(), container.settings
    with container.db.transaction() as tx:  # the shape revision 0006's code wrote: unreadable by this code
        tx.execute("DROP TABLE dash_item_states")
        tx.execute("CREATE TABLE dash_item_states (item_id TEXT PRIMARY KEY, template TEXT NOT NULL, "
                   "state TEXT NOT NULL)")
        tx.execute("INSERT INTO dash_item_states VALUES (?, 'digest', '{\"_id\": \"encoded\"}')", (str(item_id),))
    container.close()
    command.stamp(migrations.config(url), "0006")

    migrations.upgrade(url)
    assert migrations.current(url) == migrations.head()
    with build(settings) as again:
        assert all(again.projections.drivers[name].position() == 0 for name in REBUILT)
        again.projections.run_once()
        assert {name: dump(again, name) for name in REBUILT} == before
        assert not again.projections.failing


def test_an_upgrade_rebuilds_the_deadlines_with_plain_project_states(container: Container) -> None:
    """Revision 0009: the deadlines' project rows held the `Project` aggregate's encoded `__dict__`."""
    world = World(container.ledger)
    world.completed_item()
    container.projections.run_once()
    before = dump(container, "deadlines")
    assert before["dl_projects"]

    url, settings = container.settings.database_url(), container.settings
    with container.db.transaction() as tx:  # what revision 0008's code wrote: unreadable by this code
        tx.execute("UPDATE dl_projects SET state = ?", ('{"_id": {"_type_": "uuid_hex", "_data_": "00"}}',))
    container.close()
    command.stamp(migrations.config(url), "0008")

    migrations.upgrade(url)
    with build(settings) as again:
        assert again.projections.drivers["deadlines"].position() == 0
        again.projections.run_once()
        assert dump(again, "deadlines") == before
        assert not again.projections.failing
        stored = json.loads(again.db.query("SELECT state FROM dl_projects")[0][0])
        assert stored["form"] == 1 and "completion" in stored and "_id" not in stored


def test_an_upgrade_drops_the_timelines_copy_of_each_event_and_keeps_its_rows(container: Container) -> None:
    """Revision 0010: the timeline's `data` column (a copy of each event's fields) is dropped in place; the rows and
    the position stay, and the timeline goes on applying new events."""
    world = World(container.ledger)
    item_id = world.completed_item()
    container.projections.run_once()
    before, position = dump(container, "timeline"), container.projections.drivers["timeline"].position()
    assert before["timeline_events"] and position > 0

    url, settings = container.settings.database_url(), container.settings
    with container.db.transaction() as tx:  # what revision 0009's code had: the copy beside the row
        tx.execute("ALTER TABLE timeline_events ADD COLUMN data TEXT NOT NULL DEFAULT '{}'")
        tx.execute("CREATE INDEX timeline_flagged ON timeline_events (flagged, position)")
    container.close()
    command.stamp(migrations.config(url), "0009")

    migrations.upgrade(url)
    with build(settings) as again:
        assert again.projections.drivers["timeline"].position() == position  # nothing to rebuild
        assert dump(again, "timeline") == before
        engine = sa.create_engine(url)
        try:
            indexes = {index["name"] for index in sa.inspect(engine).get_indexes("timeline_events")}
        finally:
            engine.dispose()
        assert "timeline_flagged" not in indexes and "timeline_flagged_only" in indexes
        World(again.ledger).new_item()
        again.projections.run_once()
        assert not again.projections.failing
        assert len(dump(again, "timeline")["timeline_events"]) > len(before["timeline_events"])
        assert again.db.query("SELECT COUNT(*) FROM timeline_events WHERE item_id = ?", (str(item_id),))[0][0]


def test_an_upgrade_drops_the_catalogue_and_the_register_and_rebuilds_the_listing(container: Container) -> None:
    """Revision 0011: the catalogue and the works register (subsets of the listing) are gone, their tables and
    positions dropped; the listing, which gained columns, is rebuilt from the log to what it was; the read models
    that stay keep their rows and positions."""
    world = World(container.ledger)
    stopped = world.completed_item()
    world.run(world.station, c.OrderStopWork(item_id=stopped, reason="未设围挡"))
    container.projections.run_once()
    listing = dump(container, "listing")
    kept = {name: (dump(container, name), driver.position())
            for name, driver in container.projections.drivers.items() if name != "listing"}

    url, settings = container.settings.database_url(), container.settings
    with container.db.transaction() as tx:  # what revision 0010's code had beside them
        tx.execute("CREATE TABLE catalog_items (item_id TEXT PRIMARY KEY, project_id TEXT NOT NULL)")
        tx.execute("CREATE TABLE reg_items (item_id TEXT PRIMARY KEY, stop_reason TEXT)")
        tx.execute("INSERT INTO projection_tracking (name, position) VALUES ('catalog', 7), ('works_register', 7)")
    container.close()
    command.stamp(migrations.config(url), "0010")

    migrations.upgrade(url)
    engine = sa.create_engine(url)
    try:
        tables = set(sa.inspect(engine).get_table_names())
    finally:
        engine.dispose()
    assert not {"catalog_items", "reg_items", "lst_items"} & tables
    with build(settings) as again:
        assert not again.db.query("SELECT 1 FROM projection_tracking WHERE name IN ('catalog', 'works_register')")
        assert again.projections.drivers["listing"].position() == 0
        again.projections.run_once()
        assert dump(again, "listing") == listing
        assert again.db.query("SELECT stop_reason FROM lst_items WHERE item_id = ?", (str(stopped),)) == \
            [("未设围挡",)]
        assert {name: (dump(again, name), driver.position())
                for name, driver in again.projections.drivers.items() if name != "listing"} == kept
