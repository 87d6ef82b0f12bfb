"""The aggregate cache after a command, and snapshots taken from the saved aggregate, on SQLite and PostgreSQL.

A command's saved aggregates become this process's cached copies (`SiteLedger.remember`); the cache stays a hint,
so a write by another process (another application on the same store) is still seen by the next load here, and
a snapshot taken from the saved aggregate is the state the log replays to."""

from __future__ import annotations

import sqlite3
from typing import Any
from uuid import UUID

import pytest

from domain import commands as c
from domain.application import mutate_all
from domain.rules import OutOfScope
from domain.works_item import WorksItem
from services.store_versions import NewestVersions
from tests.support import World, inspection, ledger

pytestmark = pytest.mark.integration


def _state(aggregate: Any) -> dict[str, Any]:
    return {k: v for k, v in vars(aggregate).items() if k != "_pending_events"}


def _other(world: World, env: dict[str, str]) -> World:
    """The same people, through a second application on the same store: another process, as far as caches go."""
    other = World.__new__(World)
    other.__dict__.update(world.__dict__)
    other.app = ledger(env)
    return other


def test_a_command_sees_what_another_process_wrote_after_this_one_cached_the_item(store_env: dict[str, str]) -> None:
    here = World(ledger(store_env))
    item_id = here.new_item()
    there = _other(here, store_env)
    try:
        here.run(here.supervisor, inspection(item_id, "survey_and_marking"))  # cached here at version 2
        there.run(there.station, c.RaiseDefect(item_id=item_id, severity="minor", description="另一进程"))
        assert here.app.get_item(item_id).version == 3  # the cached copy was brought forward from the store
        out = here.run(here.supervisor, inspection(item_id, "survey_and_marking"))  # no conflict, no retry needed
        assert out.version == 4
        assert here.app.verify(item_id).valid
        again = there.run(there.supervisor, inspection(item_id, "survey_and_marking"))
        assert again.version == 5 and len(there.app.get_item(item_id).defects) == 1
    finally:
        there.app.close()
        here.app.close()


def test_a_project_change_in_another_process_reaches_the_scope_check_here(store_env: dict[str, str]) -> None:
    here = World(ledger(store_env))
    item_id = here.new_item()
    there = _other(here, store_env)
    try:
        here.run(here.supervisor2, inspection(item_id, "survey_and_marking"))  # project and item cached here
        there.run(there.admin, c.UnassignUser(project_id=here.project_id, user_id=here.supervisor2.user_id))
        with pytest.raises(OutOfScope):
            here.run(here.supervisor2, inspection(item_id, "survey_and_marking"))
    finally:
        there.app.close()
        here.app.close()


def test_an_older_copy_never_replaces_a_newer_one_in_the_cache(store_env: dict[str, str]) -> None:
    world = World(ledger(store_env))
    item_id = world.new_item()
    try:
        old = world.app.get_item(item_id)
        world.run(world.supervisor, inspection(item_id, "survey_and_marking"))
        world.app.remember(old)  # a late hand-over of a version-1 copy
        assert world.app.get_item(item_id).version == 2
    finally:
        world.app.close()


def test_a_snapshot_taken_from_the_saved_item_is_the_state_its_log_replays_to(store_env: dict[str, str]) -> None:
    world = World(ledger(store_env))
    item_id = world.new_item()
    for _ in range(104):
        world.run(world.supervisor, inspection(item_id, "survey_and_marking"))
    world.run(world.station, c.RaiseDefect(item_id=item_id, severity="major", description="快照之后"))
    world.app.close()
    fresh = ledger(store_env)
    try:
        assert fresh.snapshots is not None
        snapshots = list(fresh.snapshots.get(item_id))
        assert [s.originator_version for s in snapshots] == [100]
        at_snapshot = mutate_all(None, snapshots)
        replayed = mutate_all(None, fresh.events.get(item_id, lte=100))
        assert isinstance(at_snapshot, WorksItem) and isinstance(replayed, WorksItem)
        assert _state(at_snapshot) == _state(replayed)
        loaded = fresh.get_item(item_id)  # the snapshot and the events after it
        assert _state(loaded) == _state(mutate_all(None, fresh.events.get(item_id)))
        assert loaded.version == 106 and len(loaded.defects) == 1
        assert fresh.verify(UUID(str(item_id))).valid
    finally:
        fresh.close()


def test_a_load_on_sqlite_checks_the_newest_version_and_closes_its_connections(tmp_path: Any) -> None:
    env = {"PERSISTENCE_MODULE": "eventsourcing.sqlite", "SQLITE_DBNAME": str(tmp_path / "events.db")}
    world = World(ledger(env))
    item_id = world.new_item()
    newest = world.app._newest
    assert isinstance(newest, NewestVersions) and newest.newest(item_id) == [1]
    assert newest.newest(UUID(int=0)) == [None]  # nothing stored: the load goes to the library, which says so
    project_version = world.app.get_project(world.project_id).version
    assert newest.newest(UUID(int=0), item_id, world.project_id) == [None, 1, project_version]  # asked in order
    other = _other(world, env)
    other.run(other.supervisor, inspection(item_id, "survey_and_marking"))
    other.app.close()
    assert newest.newest(item_id) == [2] and world.app.get_item(item_id).version == 2
    connections = list(newest._all)
    assert connections
    world.app.close()
    for connection in connections:
        with pytest.raises(sqlite3.ProgrammingError, match="closed"):
            connection.execute("SELECT 1")


def test_an_item_and_its_project_checked_together_are_private_copies(tmp_path: Any) -> None:
    """The one-statement path (`SiteLedger._current_pair`) hands out copies, as every load does."""
    env = {"PERSISTENCE_MODULE": "eventsourcing.sqlite", "SQLITE_DBNAME": str(tmp_path / "events.db")}
    world = World(ledger(env))
    try:
        item_id = world.new_item()
        world.run(world.supervisor, inspection(item_id, "survey_and_marking"))  # both cached, both current
        pair = world.app._current_pair(item_id)
        assert pair is not None
        item, project = world.app.item_in_scope(world.supervisor, item_id)
        cache = world.app.repository.cache
        assert cache is not None
        assert item is not cache.get(item_id) and project is not cache.get(world.project_id)
        item.defects["scribbled"] = {}  # a caller's change to its copy stays with it
        project.members.clear()
        again, project_again = world.app.item_in_scope(world.supervisor, item_id)
        assert "scribbled" not in again.defects and project_again.members
        with pytest.raises(OutOfScope):
            world.app.item_in_scope(world.other_station, item_id)
    finally:
        world.app.close()
