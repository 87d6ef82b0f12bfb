"""Feeds read models from the event store's notification log, in order, a batch per transaction.

The read model's rows and its tracking position commit together, and the position only moves by
compare-and-set, so a restart neither skips nor double-counts, and two runners never both apply a batch.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from eventsourcing.application import Application

from projections.sql import Database

INTERNAL = "siteledger.receipt:"  # command receipts are bookkeeping, not facts any read model shows
TRACKING_DDL = "CREATE TABLE IF NOT EXISTS projection_tracking (name TEXT PRIMARY KEY, position BIGINT NOT NULL)"


@dataclass
class Batch:
    """One transaction's worth of events: the read model may keep rows here and write them in `flush`."""

    tx: Any
    app: Application
    cache: dict[Any, Any] = field(default_factory=dict)


class ReadModel(Protocol):
    name: str
    topics: tuple[str, ...]  # empty: every event
    ddl: tuple[str, ...]
    tables: tuple[str, ...]

    def apply(self, event: Any, position: int, batch: Batch) -> None: ...

    def flush(self, batch: Batch) -> None: ...


class PositionMoved(Exception):
    """Another runner advanced this projection first; this batch is rolled back and skipped."""


class EventStoreDriver:
    """Polls `select_notifications` from the tracked position (the SQLite recorder cannot subscribe).

    Every notification advances the position, even those the model ignores, so "has it reached
    position P" means the same thing for every read model."""

    def __init__(self, model: ReadModel, app: Application, db: Database, batch: int = 1000) -> None:
        self.model, self.app, self.db, self.batch = model, app, db, batch
        self.name = model.name
        self._lock = threading.Lock()
        self.create()

    def create(self) -> None:
        with self.db.transaction() as tx:
            tx.execute(TRACKING_DDL)
            for statement in self.model.ddl:
                tx.execute(statement)
            if not tx.execute("SELECT 1 FROM projection_tracking WHERE name = ?", (self.name,)).fetchone():
                tx.execute("INSERT INTO projection_tracking (name, position) VALUES (?, 0)", (self.name,))

    def position(self) -> int:
        rows = self.db.query("SELECT position FROM projection_tracking WHERE name = ?", (self.name,))
        return int(rows[0][0]) if rows else 0

    def head(self) -> int:
        return int(self.app.recorder.max_notification_id() or 0)

    def step(self) -> int:
        """Apply one batch; returns how many events it applied (0 when caught up)."""
        with self._lock:
            start = self.position()
            notes = self.app.recorder.select_notifications(start, self.batch, inclusive_of_start=False)
            if not notes:
                return 0
            wanted = set(self.model.topics)
            try:
                with self.db.transaction() as tx:
                    # claim the position first: a second runner waits on this row lock, then finds it moved
                    claimed = tx.execute("UPDATE projection_tracking SET position = ? WHERE name = ? AND position = ?",
                                         (start, self.name, start))
                    if claimed.rowcount != 1:
                        raise PositionMoved(self.name)
                    batch = Batch(tx, self.app)
                    for note in notes:
                        if note.topic.startswith(INTERNAL) or (wanted and note.topic not in wanted):
                            continue  # never decode what the model ignores (command receipts: half the log)
                        self.model.apply(self.app.mapper.to_domain_event(note), note.id, batch)
                    self.model.flush(batch)
                    tx.execute("UPDATE projection_tracking SET position = ? WHERE name = ?", (notes[-1].id, self.name))
            except PositionMoved:
                return 0
            return len(notes)

    def catch_up(self, progress: Callable[[int, int], None] | None = None) -> int:
        applied = 0
        while True:
            done = self.step()
            applied += done
            if progress:
                progress(self.position(), self.head())
            if done == 0:
                return self.position()

    def rebuild(self, progress: Callable[[int, int], None] | None = None) -> int:
        """Drop the read model's tables and apply the whole log again, in bigger batches (fewer state reloads)."""
        with self._lock, self.db.transaction() as tx:
            for table in self.model.tables:
                tx.execute(f"DROP TABLE IF EXISTS {table}")
            tx.execute("DELETE FROM projection_tracking WHERE name = ?", (self.name,))
        self.create()
        usual, self.batch = self.batch, max(self.batch, 10_000)
        try:
            return self.catch_up(progress)
        finally:
            self.batch = usual
