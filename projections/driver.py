"""Feeds a projector from the event store's notification log, tracking its position in the same transaction."""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from typing import Any

from eventsourcing.application import Application

from projections.sql import Database

Projector = Callable[[Any, Any], None]  # (domain event, transaction) -> None

TRACKING_DDL = "CREATE TABLE IF NOT EXISTS projection_tracking (name TEXT PRIMARY KEY, position BIGINT NOT NULL)"


class EventStoreDriver:
    """Polls `select_notifications` from the tracked position (the SQLite recorder cannot subscribe)."""

    def __init__(self, name: str, app: Application, db: Database, projector: Projector,
                 topics: Sequence[str] = (), batch: int = 500) -> None:
        self.name, self.app, self.db, self.projector = name, app, db, projector
        self.topics, self.batch = tuple(topics), batch
        self._lock = threading.Lock()
        with db.transaction() as tx:
            tx.execute(TRACKING_DDL)

    def position(self) -> int:
        rows = self.db.query("SELECT position FROM projection_tracking WHERE name = ?", (self.name,))
        return int(rows[0][0]) if rows else 0

    def catch_up(self) -> int:
        """Apply everything new; each batch and its position commit together. Returns the position."""
        with self._lock:
            while True:
                start = self.position()
                notes = self.app.recorder.select_notifications(
                    start, self.batch, topics=self.topics, inclusive_of_start=False)
                if not notes:
                    return start
                with self.db.transaction() as tx:
                    for note in notes:
                        self.projector(self.app.mapper.to_domain_event(note), tx)
                    tx.execute("DELETE FROM projection_tracking WHERE name = ?", (self.name,))
                    tx.execute("INSERT INTO projection_tracking (name, position) VALUES (?, ?)",
                               (self.name, notes[-1].id))
