"""The relay's child process reads and encodes exactly what the relay would in-process, and its failures surface."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from domain import commands as c
from domain.application import SiteLedger
from services.bus.encoder_process import Batch, EncoderProcess, read_batch
from services.bus.stored_messages import StoredMessages
from tests.support import World, inspection

TOPICS = {"works_item": "siteledger.works-items", "project": "siteledger.projects"}
SOURCE = "urn:siteledger"


def store_env(tmp_path: Path) -> dict[str, str]:
    return {"PERSISTENCE_MODULE": "eventsourcing.sqlite", "SQLITE_DBNAME": str(tmp_path / "events.db"),
            "SQLITE_LOCK_TIMEOUT": "30"}


def all_batches(read: Callable[[int], Batch | None]) -> list[Batch]:
    batches, start = [], 0
    while (batch := read(start)) is not None:
        batches.append(batch)
        start = batch.end
    return batches


def test_the_child_encodes_what_the_relay_would_and_follows_the_log(tmp_path: Path) -> None:
    env = store_env(tmp_path)
    app = SiteLedger(env=env)
    world = World(app)
    item = world.run(world.admin, c.RegisterWorksItem(project_id=world.project_id, kind="pipe_relocation",
                                                      location="3号楼北侧"))
    item_id = item.aggregate_id
    hold_point = app.get_item(item_id).parsed_template.hold_points[0].code
    world.run(world.supervisor, inspection(item_id, hold_point))
    stored = StoredMessages(app.mapper, TOPICS, SOURCE)
    expected = all_batches(lambda start: read_batch(app, stored, start, 5))
    assert sum(len(b.messages) for b in expected) == 12  # 10 project events (one: the item added), the item's 2

    encoder = EncoderProcess(env, TOPICS, SOURCE, 5)
    try:
        assert all_batches(encoder.batch) == expected
        assert encoder.batch(0) == expected[0]  # asked from elsewhere (a republish): the read-ahead is dropped
        world.run(world.station, c.OrderStopWork(item_id=item_id, reason="未设围挡"))
        after = encoder.batch(expected[-1].end)  # written after the child caught up: seen
        assert after is not None and after == read_batch(app, stored, expected[-1].end, 5)
        assert [topic for topic, _, _ in after.messages] == [TOPICS["works_item"]]
        # The batch after `after` was read ahead at once, before this event existed: it still comes now.
        world.run(world.station, c.LiftStopWork(item_id=item_id, notes="已设围挡"))
        latest = encoder.batch(after.end)
        assert latest is not None and len(latest.messages) == 1
    finally:
        encoder.close()
        app.close()
    assert encoder._process.poll() is not None  # closing the pipe ends the child


def test_a_dead_child_raises_instead_of_hanging(tmp_path: Path) -> None:
    app = SiteLedger(env=store_env(tmp_path))
    World(app)
    encoder = EncoderProcess(store_env(tmp_path), TOPICS, SOURCE, 5)
    try:
        encoder._process.kill()
        encoder._process.wait(timeout=10)
        with pytest.raises(RuntimeError, match="encoder process exited"):
            encoder.batch(0)
    finally:
        encoder.close()
        app.close()


def test_a_child_that_cannot_open_the_store_fails_at_start(tmp_path: Path) -> None:
    with pytest.raises(RuntimeError, match="encoder process"):
        EncoderProcess({"PERSISTENCE_MODULE": "no.such.module"}, TOPICS, SOURCE, 5)
