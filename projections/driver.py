"""Feeds read models from the event store's notification log, in order, a batch per transaction.

The read model's rows and its tracking position commit together, and the position only moves by
compare-and-set, so a restart neither skips nor double-counts, and two runners never both apply a batch.
"""

from __future__ import annotations

import contextlib
import gc
import logging
import threading
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from eventsourcing.application import Application

from projections.read_ahead import ReadAhead
from projections.sql import Database

log = logging.getLogger("siteledger.projections")
INTERNAL = "siteledger.receipt:"  # command receipts are bookkeeping, not facts any read model shows


@dataclass
class Batch:
    """One transaction's worth of events: the read model may keep rows here and write them in `flush`."""

    tx: Any
    app: Application
    cache: dict[Any, Any] = field(default_factory=dict)
    # What the read models of one pass (`rebuild_together`) may share, being at the same position: None otherwise
    shared: dict[Any, Any] | None = None
    # A rebuild's batch: the model's tables were emptied when it began and nothing in it is applied twice, so an
    # aggregate's first event (version 1) finds no row of it and a model may skip looking. Live batches are
    # False: a model that promises to absorb a republished event (the dashboard) must look there.
    rebuilding: bool = False


class ReadModel(Protocol):
    """Its name, topics, DDL and tables are only read (properties), so a class constant of any tuple fits."""

    @property
    def name(self) -> str: ...

    @property
    def topics(self) -> tuple[str, ...]: ...  # empty: every event

    @property
    def ddl(self) -> tuple[str, ...]: ...

    @property
    def tables(self) -> tuple[str, ...]: ...

    def apply(self, event: Any, position: int, batch: Batch) -> None: ...

    def flush(self, batch: Batch) -> None: ...


class PositionMoved(Exception):
    """Another runner advanced this projection first; this batch is rolled back and skipped."""


@dataclass(frozen=True)
class Stuck:
    """Where a read model stopped: what an operator needs to find the event in the log and the bug."""

    position: int | None  # None: the batch failed as a whole (its flush, the database)
    event_type: str | None
    error: str

    @classmethod
    def at(cls, note: Any, event: Any, error: BaseException) -> Stuck:
        event_type = type(event).__name__ if event is not None else str(note.topic).rpartition(":")[2]
        return cls(int(note.id), event_type, describe(error))


def describe(error: BaseException) -> str:
    return f"{type(error).__name__}: {error}"[:500]


class EventStoreDriver:
    """Polls `select_notifications` from the tracked position (the SQLite recorder cannot subscribe).

    Every notification advances the position, even those the model ignores, so "has it reached
    position P" means the same thing for every read model."""

    def __init__(self, model: ReadModel, app: Application, db: Database, batch: int = 1000) -> None:
        self.model, self.app, self.db, self.batch = model, app, db, batch
        self.name = model.name
        self.stuck: Stuck | None = None  # set when the last batch failed, cleared by the next that commits
        self._rebuilding = False  # in `rebuild`: its batches are marked so (`Batch.rebuilding`)
        self._lock = threading.Lock()
        self.create()

    def create(self) -> None:
        with self.db.transaction() as tx:
            self._create_in(tx)

    def _create_in(self, tx: Any) -> None:
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
            try:
                self._commit(start, notes)
            except PositionMoved:
                return 0
            except _EventFailed as failed:
                self.stuck = failed.stuck
                before = [n for n in notes if n.id < failed.position]
                if before:  # keep what precedes the event that cannot be applied; the next try starts at it
                    with contextlib.suppress(Exception):  # if even that fails, the next try finds out why
                        self._commit(start, before)
                raise failed.cause from None
            except Exception as error:
                self.stuck = Stuck(None, None, describe(error))
                raise
            self.stuck = None
            return len(notes)

    def _commit(self, start: int, notes: Sequence[Any]) -> None:
        """Apply `notes` and move the position past them, in one transaction, or nothing at all."""
        wanted = set(self.model.topics)
        with self.db.transaction() as tx:
            # claim the position first: a second runner waits on this row lock, then finds it moved
            claimed = tx.execute("UPDATE projection_tracking SET position = ? WHERE name = ? AND position = ?",
                                 (start, self.name, start))
            if claimed.rowcount != 1:
                raise PositionMoved(self.name)
            batch = Batch(tx, self.app, rebuilding=self._rebuilding)
            for note in notes:
                if note.topic.startswith(INTERNAL) or (wanted and note.topic not in wanted):
                    continue  # never decode what the model ignores (command receipts: half the log)
                event = None
                try:
                    event = self.app.mapper.to_domain_event(note)
                    self.model.apply(event, note.id, batch)
                except Exception as error:
                    raise _EventFailed(Stuck.at(note, event, error), note.id, error) from error
            self.model.flush(batch)
            tx.execute("UPDATE projection_tracking SET position = ? WHERE name = ?", (notes[-1].id, self.name))

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
        with self._lock:
            self.reset()
        with self._rebuild_batches(), self.db.rebuilding(), fewer_collections():
            applied = self.catch_up(progress)
        self.db.optimize(self.model.tables)  # the planner's statistics for the tables just filled
        return applied

    @contextlib.contextmanager
    def _rebuild_batches(self) -> Iterator[None]:
        """Bigger batches (fewer state reloads), marked as a rebuild's (`Batch.rebuilding`), while it lasts."""
        usual, self.batch, self._rebuilding = self.batch, max(self.batch, REBUILD_BATCH), True
        try:
            yield
        finally:
            self.batch, self._rebuilding = usual, False

    def reset(self) -> None:
        """The read model empty, at position 0."""
        with self.db.transaction() as tx:
            self._reset_in(tx)

    def _reset_in(self, tx: Any) -> None:
        self.db.drop_tables(tx, self.model.tables)
        tx.execute("DELETE FROM projection_tracking WHERE name = ?", (self.name,))
        self._create_in(tx)


REBUILD_BATCH = 10_000
REBUILD_GC_THRESHOLD = (50_000, 50, 1000)


@contextlib.contextmanager
def fewer_collections() -> Iterator[None]:
    """While a rebuild lasts, Python's cyclic garbage collector leaves alone what was alive before it (`gc.freeze`)
    and runs every 50,000 net allocations instead of 700. A rebuild allocates millions of objects that no cycle
    holds (decoded events, rows, item states) while its batch keeps tens of thousands alive: the collections it
    set off took a fifth of a one-pass rebuild of 100,000 events (7.7 s, 5.7 s without them). Process-wide while
    it lasts (the rebuild command's process; a server's other threads collect less often meanwhile), as it was
    after."""
    threshold = gc.get_threshold()
    gc.freeze()
    gc.set_threshold(*REBUILD_GC_THRESHOLD)
    try:
        yield
    finally:
        gc.set_threshold(*threshold)
        gc.unfreeze()


READ_AHEAD_FROM = 2 * REBUILD_BATCH  # a decoder process takes about 0.3 s to start: not for a short log


def rebuild_together(drivers: Sequence[EventStoreDriver], progress: Callable[[int, int], None] | None = None,
                     decoder_env: dict[str, str] | None = None, read_ahead_from: int = READ_AHEAD_FROM
                     ) -> dict[str, Exception]:
    """Rebuild read models in one pass over the log: each notification read and decoded once, applied to every
    model that wants it, and every model's rows and position committed in one transaction per batch.

    With `decoder_env` (the event store's eventsourcing settings) and a log of at least `read_ahead_from`
    notifications, a child process reads and decodes each batch while the models apply the one before
    (projections/log_decoder.py); a child that cannot start or fails leaves the rest of the pass to this process.

    A read model that cannot apply an event fails the pass's batch; the pass then stops, and each model goes on
    from its own position on its own (`catch_up`), so the failure is reported for the one model that has it
    and the others still reach the head. The drivers must share one application and one database. Returns the
    read models that could not reach the head, with why."""
    if not drivers:
        return {}
    app, db = drivers[0].app, drivers[0].db
    decoder = None
    if decoder_env is not None and drivers[0].head() >= read_ahead_from:
        decoder = _decoder(decoder_env)
    try:
        with db.rebuilding(), fewer_collections():
            return _rebuild_together(drivers, app, db, progress, decoder)
    finally:
        if decoder is not None:
            decoder.close()  # closing twice (after a failure) does nothing more


def _decoder(env: dict[str, str]) -> ReadAhead | None:
    try:
        return ReadAhead("projections.log_decoder:Decoding", (env, REBUILD_BATCH), "the rebuild's decoder process",
                         wait=False)  # it starts while this process resets the tables and applies the first batch
    except Exception as error:  # the pass decodes in this process instead
        log.warning("rebuild: no decoder process (%s); decoding in this process", describe(error))
        return None


def _without(decoder: ReadAhead, error: Exception) -> None:
    """The decoder process failed: said, ended, and the rest of the pass is decoded in this process."""
    log.warning("rebuild: the decoder process failed (%s); decoding in this process", describe(error))
    decoder.close()


def _rebuild_together(drivers: Sequence[EventStoreDriver], app: Application, db: Database,
                      progress: Callable[[int, int], None] | None, decoder: ReadAhead | None) -> dict[str, Exception]:
    with _locked(drivers), db.transaction() as tx:  # one commit, not one per read model
        for driver in drivers:
            driver._reset_in(tx)
    start = 0
    while True:
        entries: Sequence[tuple[int, str, Any]] | None = None
        if decoder is not None and start > 0:  # the first batch is this process's while the child starts
            try:
                decoded = decoder.batch(start)
            except Exception as error:  # the child failed: this process reads and decodes the rest
                _without(decoder, error)
                decoder = None
            else:
                if decoded is None:
                    break
                entries, end, ready = decoded.entries, decoded.end, True
        if entries is None:
            notes = app.recorder.select_notifications(start, REBUILD_BATCH, inclusive_of_start=False)
            if not notes:
                break
            entries, end, ready = [(note.id, note.topic, note) for note in notes], notes[-1].id, False
            if decoder is not None and start == 0:
                try:
                    decoder.read_ahead(end)
                except Exception as error:
                    _without(decoder, error)
                    decoder = None
        try:
            _apply_together(drivers, app, db, start, end, entries, decoded=ready, rebuilding=True)
        except Exception:  # which model, and why: each model's own catch-up below finds it and says so
            break
        start = end
        if progress:
            progress(start, drivers[0].head())
    failed: dict[str, Exception] = {}
    for driver in drivers:
        try:
            with driver._rebuild_batches():
                driver.catch_up()
        except Exception as error:
            failed[driver.name] = error
    db.optimize([table for driver in drivers for table in driver.model.tables])
    return failed


def step_together(drivers: Sequence[EventStoreDriver]) -> int:
    """One batch for read models at the same position, in one pass (see `rebuild_together`): the live runner's
    way, so that a command's events are read and decoded once and all the read models commit once, not each on
    its own. Returns how many notifications it applied, 0 when caught up. Raises PositionMoved when the models no
    longer stand at one position (another runner, a reader's `refresh`, moved one on): each must go on alone. An
    error in any model rolls the whole batch back and is raised."""
    with _locked(drivers):
        app, db = drivers[0].app, drivers[0].db
        names = [d.name for d in drivers]
        rows = db.query(f"SELECT position FROM projection_tracking WHERE name IN ({', '.join('?' * len(names))})",
                        names)
        positions = {int(r[0]) for r in rows}
        if len(rows) != len(names) or len(positions) != 1:
            raise PositionMoved(", ".join(names))
        start = positions.pop()
        notes = app.recorder.select_notifications(start, min(d.batch for d in drivers), inclusive_of_start=False)
        if not notes:
            return 0
        _apply_together(drivers, app, db, start, notes[-1].id, [(note.id, note.topic, note) for note in notes])
        for driver in drivers:
            driver.stuck = None
        return len(notes)


@contextlib.contextmanager
def _locked(drivers: Sequence[EventStoreDriver]) -> Iterator[None]:
    """Every driver's lock, taken in one order (by name) by every caller, before any transaction is begun."""
    ordered = sorted(drivers, key=lambda d: d.name)
    for driver in ordered:
        driver._lock.acquire()
    try:
        yield
    finally:
        for driver in reversed(ordered):
            driver._lock.release()


def _apply_together(drivers: Sequence[EventStoreDriver], app: Application, db: Database, start: int, end: int,
                    entries: Sequence[tuple[int, str, Any]], decoded: bool = False, rebuilding: bool = False) -> None:
    """Apply the notifications after `start` up to `end`: `entries` are (position, topic, the stored notification,
    or the event itself when `decoded`); an undecoded one is decoded once, if any model wants it."""
    with db.transaction() as tx:
        shared: dict[Any, Any] = {}
        models = [(d.model, set(d.model.topics), Batch(tx, app, shared=shared, rebuilding=rebuilding))
                  for d in drivers]
        for driver in drivers:
            claimed = tx.execute("UPDATE projection_tracking SET position = ? WHERE name = ? AND position = ?",
                                 (start, driver.name, start))
            if claimed.rowcount != 1:
                raise PositionMoved(driver.name)
        for position, topic, stored in entries:
            if topic.startswith(INTERNAL):
                continue
            event = stored if decoded else None
            for model, wanted, batch in models:
                if wanted and topic not in wanted:
                    continue
                if event is None:
                    event = app.mapper.to_domain_event(stored)
                model.apply(event, position, batch)
        for model, _wanted, batch in models:
            model.flush(batch)
        for driver in drivers:
            tx.execute("UPDATE projection_tracking SET position = ? WHERE name = ?", (end, driver.name))


class _EventFailed(Exception):
    """Carries which event broke a batch out of its (rolled back) transaction."""

    def __init__(self, stuck: Stuck, position: int, cause: Exception) -> None:
        super().__init__(stuck.error)
        self.stuck, self.position, self.cause = stuck, position, cause
