"""Where the timeline finds a cited photo's time: its own table (filled from the log's `Photo.Stored`) first, the
photo service's `photo_facts` for a photo stored before photos were logged, and neither for one not uploaded yet;
on both stores, because one statement asks both tables."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from projections.driver import Batch
from projections.timeline import Timeline
from services.bootstrap import Container

pytestmark = pytest.mark.integration

SITE = timezone(timedelta(hours=8))


def test_its_own_table_first_then_the_photo_service_then_nothing(container: Container) -> None:
    timeline = container.projections.drivers["timeline"].model
    assert isinstance(timeline, Timeline)
    with container.db.transaction() as tx:
        tx.execute("INSERT INTO timeline_photos VALUES (?, ?)", ("a" * 64, "2026-05-01T09:00:00+08:00"))
        tx.execute("INSERT INTO photo_facts (photo_id, taken_at) VALUES (?, ?)", ("a" * 64, "2020-01-01T00:00:00"))
        tx.execute("INSERT INTO photo_facts (photo_id, taken_at) VALUES (?, ?)", ("b" * 64, "2026-05-02T10:30:00"))
        batch = Batch(tx, container.ledger)
        assert timeline._photo_time(batch, "a" * 64) == datetime(2026, 5, 1, 9, tzinfo=SITE)
        # a camera time without a zone is the site's local time
        assert timeline._photo_time(batch, "b" * 64) == datetime(2026, 5, 2, 10, 30, tzinfo=SITE)
        assert timeline._photo_time(batch, "c" * 64) is None
        tx.execute("INSERT INTO timeline_photos VALUES (?, ?)", ("c" * 64, "2026-05-03T08:00:00+08:00"))
        assert timeline._photo_time(batch, "c" * 64) is None  # kept for the batch: asked once, not per citation
        assert timeline._photo_time(Batch(tx, container.ledger), "c" * 64) == datetime(2026, 5, 3, 8, tzinfo=SITE)
