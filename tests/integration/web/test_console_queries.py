"""The console's two shortcuts over the read models: bisecting the timeline for a period's first position, and
keeping an overview while nothing it reads from has moved."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from projections.timeline import Timeline
from services.db import Database
from services.web.console import cache
from services.web.console.queries import first_position_since

pytestmark = pytest.mark.integration
START = datetime(2026, 11, 1, tzinfo=UTC)


@pytest.fixture
def db(tmp_path: Path) -> Database:
    database = Database(f"sqlite:///{tmp_path / 'read.db'}")
    with database.transaction() as tx:
        for statement in Timeline().ddl:
            tx.execute(statement)
    return database


def timeline(db: Database, positions: list[int]) -> None:
    """One entry per position (with gaps, as the log has), an hour apart from START on."""
    with db.transaction() as tx:
        for n, position in enumerate(positions):
            tx.execute("INSERT INTO timeline_events (position, aggregate_id, project_id, version, type, actor_id, "
                       "actor_role, server_time, photos, flags, flagged) "
                       "VALUES (?, 'a', 'p', 1, 'X', 'u', 'station', ?, '[]', '[]', 0)",
                       (position, (START + timedelta(hours=n)).isoformat()))


@pytest.mark.parametrize("hours", [0, 1, 7, 12, 19, 20, 40])
def test_the_first_position_of_a_period_is_found_across_gaps(db: Database, hours: int) -> None:
    positions = [3, 4, 9, 10, 11, 30, 31, 32, 50, 51, 52, 53, 70, 71, 90, 91, 92, 93, 94, 120]
    timeline(db, positions)
    found = first_position_since(db, START + timedelta(hours=hours))
    expected = positions[hours] if hours < len(positions) else None
    if expected is None:
        assert found > positions[-1]
    else:  # no entry of the period is before it, and none before the period is at or after it
        assert positions[hours - 1] < found <= expected if hours else found <= expected


def test_an_empty_timeline_starts_at_zero(db: Database) -> None:
    assert first_position_since(db, START) == 0


def test_a_kept_overview_is_recomputed_when_its_key_moves_or_it_expires(monkeypatch: pytest.MonkeyPatch) -> None:
    cache.clear()
    computed: list[int] = []

    def compute() -> int:
        computed.append(1)
        return len(computed)

    assert cache.kept(("figures", "徐汇区", 10), compute) == 1
    assert cache.kept(("figures", "徐汇区", 10), compute) == 1  # nothing moved: kept
    assert cache.kept(("figures", "徐汇区", 11), compute) == 2  # a new event: computed again
    monkeypatch.setattr(cache, "TTL_S", 0.0)
    assert cache.kept(("figures", "徐汇区", 11), compute) == 3  # expired
    cache.clear()
