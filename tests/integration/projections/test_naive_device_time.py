"""A device time stored without a zone (the API once accepted them) is read as site local time, and
never stops a read model: the timeline used to fail on it for ever (naive minus aware)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from uuid import uuid4

import pytest

from domain.actors import CommandContext
from services.bootstrap import Container, build
from services.commands.unit_of_work import UnitOfWork
from services.settings import Settings
from tests.support import World, inspection

pytestmark = pytest.mark.integration

SITE = timedelta(hours=8)  # the default site_utc_offset_hours


@pytest.fixture
def container(tmp_path: Path) -> Iterator[Container]:
    built = build(Settings(data_dir=tmp_path / "data", s3_endpoint="127.0.0.1:9"))
    yield built
    built.close()


def site_local_naive(hours_ago: float) -> datetime:
    """What a tablet without a zone would have sent: the wall clock on site, `hours_ago` hours back."""
    return (datetime.now(UTC) + SITE - timedelta(hours=hours_ago)).replace(tzinfo=None)


def test_an_event_with_a_naive_device_time_reaches_every_read_model(container: Container) -> None:
    world = World(container.ledger)
    item_id = world.new_item()
    # the inspection was recorded on site 14 hours ago, by the site's wall clock: late (> 12 h) only if
    # the time is read as site local (as UTC it would be 6 hours ago)
    late = site_local_naive(14)
    ctx = CommandContext(actor=world.supervisor, command_id=uuid4().hex, device_id="tablet-07", device_time=late)
    outcome = UnitOfWork.for_app(container.ledger).execute(ctx, inspection(item_id, "survey_and_marking"))
    assert container.ledger.get_item(item_id).version == outcome.version  # stored as it came, bypassing the API

    container.projections.run_once()

    rows = container.db.query("SELECT device_time, flags FROM timeline_events WHERE position = ?",
                              (outcome.position,))
    assert rows, "the timeline never applied the event"
    device_time, flags = rows[0]
    assert datetime.fromisoformat(device_time) == late.replace(tzinfo=UTC) - SITE
    assert device_time.endswith("+08:00")
    assert json.loads(flags) == ["late_arrival"]
    status = {p["name"]: p for p in container.projections.status()}
    assert all(p["state"] == "caught_up" and p["lag"] == 0 for p in status.values()), status


def test_a_rebuild_meets_the_naive_event_again_and_passes_it(container: Container) -> None:
    world = World(container.ledger)
    item_id = world.new_item()
    ctx = CommandContext(actor=world.supervisor, command_id=uuid4().hex, device_time=site_local_naive(1))
    UnitOfWork.for_app(container.ledger).execute(ctx, inspection(item_id, "survey_and_marking"))
    world.run(world.supervisor, inspection(item_id, "excavation"))

    timeline = container.projections.drivers["timeline"]
    assert timeline.rebuild() == timeline.head()
    assert container.db.query("SELECT COUNT(*) FROM timeline_events WHERE item_id = ?", (str(item_id),))[0][0] == 3
