"""A read never sees an aggregate mid-update: 1 writer and 3 readers on one works item, on SQLite.

The read routes load an item and then serialise it; meanwhile another thread's load fast-forwards the
cached aggregate in place. A torn read is one whose item changed version while it was being read."""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest

from domain import commands as c
from domain.application import SiteLedger
from services.api.views import item_view
from tests.conftest import sqlite_env
from tests.support import World

pytestmark = pytest.mark.integration

RUN_S = 3.0  # bounds the test; nothing below asserts a duration


def write(world: World, item_id: UUID, stop: threading.Event, written: list[int]) -> None:
    """Defects grow the item's dicts, stop-work orders flip its state: both change what a reader walks."""
    while not stop.is_set():
        world.run(world.station, c.RaiseDefect(item_id=item_id, severity="minor", description="井盖松动"))
        world.run(world.station, c.OrderStopWork(item_id=item_id, reason="整改"))
        world.run(world.station, c.LiftStopWork(item_id=item_id))
        written[0] += 3


def read(app: SiteLedger, item_id: UUID, stop: threading.Event, tally: dict[str, Any]) -> None:
    while not stop.is_set():
        try:
            item = app.get_item(item_id)
            version, defects = item.version, len(item.defects)
            view = item_view(item)
            time.sleep(0.0005)  # a reader that takes its time (a big item, a slow client): others load meanwhile
            view_again = item_view(item)
            if item.version != version or len(item.defects) != defects or view_again != view:
                tally["torn"] += 1
            tally["reads"] += 1
        except Exception as error:  # e.g. RuntimeError: dictionary changed size during iteration
            tally["errors"].append(repr(error))


def test_readers_never_see_an_item_mid_update(tmp_path: Path) -> None:
    app = SiteLedger(env=sqlite_env(tmp_path / "events.db"))
    world = World(app)
    item_id = world.new_item()
    stop, written = threading.Event(), [0]
    tallies: list[dict[str, Any]] = [{"reads": 0, "torn": 0, "errors": []} for _ in range(3)]
    threads = [threading.Thread(target=write, args=(world, item_id, stop, written), daemon=True)]
    threads += [threading.Thread(target=read, args=(app, item_id, stop, t), daemon=True) for t in tallies]
    for thread in threads:
        thread.start()
    stop.wait(RUN_S)
    stop.set()
    for thread in threads:
        thread.join(timeout=30)
    assert not any(thread.is_alive() for thread in threads)
    app.close()

    reads = sum(t["reads"] for t in tallies)
    assert written[0] > 0 and reads > 0
    assert [t["torn"] for t in tallies] == [0, 0, 0], (reads, written[0])
    assert [e for t in tallies for e in t["errors"]] == []
