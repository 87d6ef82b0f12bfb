"""Feeds the same read models from Kafka: a consumer group, offsets committed after the read models commit.

The message alone is enough: `decode` turns an integration event back into the domain event the projectors
take, so a Kafka-fed worker never reads the event store.

- At least once: an event already applied (aggregate id and version, per read model) is skipped.
- Never past a failure: kafka-python's `poll()` has already moved the fetch position, so a partition whose
  records could not be applied is sought back to its first uncommitted record and paused for a backoff;
  the other partitions go on. The worker says `failing` (position, event type, error, since) in
  `kafka_worker_status`, which `GET /api/v1/projections/status` shows.
- Never across a gap: an aggregate's versions are dense, so a version beyond the next one means messages
  were lost (a broker that lost data). That event is not applied; the gap is recorded and shown until a
  republish (`siteledger relay --from-position N`) brings the missing versions, which then apply in order.
"""

from __future__ import annotations

import json
import logging
import os
import random
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from eventsourcing.application import Application

from projections.driver import Batch, ReadModel
from projections.sql import Database

log = logging.getLogger("siteledger.projections.kafka")

HEARTBEAT_S = 10.0  # a running worker refreshes its status row this often, so a dead one shows as stale


class Message(Protocol):
    """A decoded integration event: the domain event, and where it stood in the log and in its aggregate."""

    @property
    def event(self) -> Any: ...
    @property
    def type(self) -> str: ...
    @property
    def position(self) -> int: ...
    @property
    def aggregate_id(self) -> str: ...
    @property
    def version(self) -> int: ...


class ApplyFailed(Exception):
    def __init__(self, position: int | None, event_type: str | None, error: BaseException) -> None:
        super().__init__(f"{type(error).__name__}: {error}")
        self.position, self.event_type, self.error = position, event_type, error


@dataclass
class Failure:
    position: int | None
    event_type: str | None
    error: str
    since: float
    attempts: int


class KafkaDriver:
    def __init__(self, models: list[ReadModel], app: Application, db: Database, consumer_factory: Callable[[], Any],
                 decode: Callable[[bytes], Message], group: str = "", backoff_s: float = 0.5,
                 max_backoff_s: float = 30.0) -> None:
        """`app` only lends its transcoder to the read models (item state rows); its store is never read."""
        self.models, self.app, self.db, self.decode = models, app, db, decode
        self.group = group
        self.worker = f"{group}@{socket.gethostname()}:{os.getpid()}:{id(self):x}"
        self.backoff_s, self.max_backoff_s = backoff_s, max_backoff_s
        self.failure: Failure | None = None
        self._paused: dict[Any, float] = {}  # partition → when to try it again
        self._state, self._written_at = "", 0.0
        with db.transaction() as tx:  # its bookkeeping tables: services/migrations; the read models' own here
            for model in models:
                for statement in model.ddl:
                    tx.execute(statement)
        self.consumer = consumer_factory()
        self._write_status("starting")

    # --- applying ----------------------------------------------------------------------------------------

    def _apply(self, model: ReadModel, messages: list[Message]) -> None:
        current: Message | None = None
        try:
            with self.db.transaction() as tx:
                batch = Batch(tx, self.app)
                gaps = {row[0]: row[1] for row in tx.execute(
                    "SELECT aggregate_id, expected FROM kafka_gaps WHERE name = ?", (model.name,)).fetchall()}
                applied: dict[str, int] = {}
                changed: set[str] = set()
                for message in messages:
                    current = message
                    aggregate_id, version = message.aggregate_id, message.version
                    if aggregate_id not in applied:
                        row = tx.execute("SELECT version FROM projection_versions WHERE name = ? AND "
                                         "aggregate_id = ?", (model.name, aggregate_id)).fetchone()
                        applied[aggregate_id] = int(row[0]) if row else 0
                    if version <= applied[aggregate_id]:
                        continue  # a duplicate from an at-least-once relay, or a republish
                    if version > applied[aggregate_id] + 1:
                        self._record_gap(tx, model.name, message, applied[aggregate_id] + 1, gaps)
                        continue
                    if not model.topics or type(message.event).TOPIC in model.topics:
                        model.apply(message.event, message.position, batch)
                    applied[aggregate_id] = version
                    changed.add(aggregate_id)
                current = None
                model.flush(batch)
                for aggregate_id in changed:
                    tx.execute("DELETE FROM projection_versions WHERE name = ? AND aggregate_id = ?",
                               (model.name, aggregate_id))
                    tx.execute("INSERT INTO projection_versions VALUES (?, ?, ?)",
                               (model.name, aggregate_id, applied[aggregate_id]))
                    if aggregate_id in gaps and applied[aggregate_id] >= gaps[aggregate_id]:
                        tx.execute("DELETE FROM kafka_gaps WHERE name = ? AND aggregate_id = ?",
                                   (model.name, aggregate_id))
        except Exception as error:
            raise ApplyFailed(current.position if current else None, current.type if current else None,
                              error) from error

    def _record_gap(self, tx: Any, name: str, message: Message, expected: int, gaps: dict[str, int]) -> None:
        if message.aggregate_id in gaps:
            return
        log.error("%s: aggregate %s jumps from version %d to %d at position %d: messages were lost; "
                  "republish with `siteledger relay --from-position N`", name, message.aggregate_id,
                  expected - 1, message.version, message.position)
        tx.execute("INSERT INTO kafka_gaps VALUES (?, ?, ?, ?, ?, ?)",
                   (name, message.aggregate_id, expected, message.version, message.position, time.time()))
        gaps[message.aggregate_id] = expected

    def _apply_records(self, records: list[Any]) -> None:
        messages = []
        for record in records:
            try:
                messages.append(self.decode(record.value))
            except Exception as error:  # not a contract we know: say where it stands if the envelope says
                raise ApplyFailed(*_where(record.value), error) from error
        for model in self.models:
            self._apply(model, messages)

    def poll_once(self, timeout_ms: int = 100) -> int:
        """One poll: apply, then commit; a partition that fails is sought back and paused, never skipped."""
        self._resume_due()
        records: dict[Any, list[Any]] = self.consumer.poll(timeout_ms=timeout_ms, max_records=1000)
        records = {tp: batch for tp, batch in records.items() if batch}
        if not records:
            return 0
        try:
            self._apply_records([r for batch in records.values() for r in batch])
            self.consumer.commit()  # only after every read model committed
            self._succeeded()
            return sum(len(batch) for batch in records.values())
        except ApplyFailed as failed:
            if len(records) == 1:
                self._fail(failed, records)
                return 0
        # One partition's records may be the cause: apply each partition alone, so the others go on.
        from kafka.structs import OffsetAndMetadata

        applied = 0
        for tp, batch in records.items():
            try:
                self._apply_records(batch)
                self.consumer.commit({tp: OffsetAndMetadata(batch[-1].offset + 1, "", -1)})
                applied += len(batch)
            except ApplyFailed as failed:
                self._fail(failed, {tp: batch})
        return applied

    def _fail(self, failed: ApplyFailed, records: dict[Any, list[Any]]) -> None:
        """Seek back to the first record not committed, and pause those partitions for a growing backoff."""
        attempts = self.failure.attempts + 1 if self.failure else 1
        delay = min(self.backoff_s * 2 ** (attempts - 1), self.max_backoff_s) * random.uniform(1.0, 1.25)
        for tp, batch in records.items():
            self.consumer.seek(tp, batch[0].offset)
            self.consumer.pause(tp)
            self._paused[tp] = time.monotonic() + delay
        since = self.failure.since if self.failure else time.time()
        self.failure = Failure(failed.position, failed.event_type, str(failed)[:1000], since, attempts)
        log.error("applying from Kafka failed at position %s (%s): %s; retrying in %.1f s",
                  failed.position, failed.event_type, failed, delay, exc_info=failed.error)
        self._write_status("failing", force=True)

    def _succeeded(self) -> None:
        if self.failure is not None and not self._paused:
            log.info("applying from Kafka works again after %d attempts", self.failure.attempts)
            self.failure = None
        if self.failure is None:
            self._write_status("running")

    def _resume_due(self) -> None:
        now = time.monotonic()
        due = [tp for tp, at in self._paused.items() if at <= now]
        for tp in due:
            del self._paused[tp]
        assigned = self.consumer.assignment()
        if due := [tp for tp in due if tp in assigned]:
            self.consumer.resume(*due)

    # --- status ------------------------------------------------------------------------------------------

    def _write_status(self, state: str, force: bool = False) -> None:
        now = time.time()
        if not force and state == self._state and now - self._written_at < HEARTBEAT_S:
            return
        failure = self.failure if state == "failing" else None
        with self.db.transaction() as tx:
            tx.execute("DELETE FROM kafka_worker_status WHERE worker = ?", (self.worker,))
            tx.execute("INSERT INTO kafka_worker_status VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", (
                self.worker, self.group, state, failure.position if failure else None,
                failure.event_type if failure else None, failure.error if failure else None,
                failure.since if failure else None, failure.attempts if failure else 0, now))
        self._state, self._written_at = state, now

    def run_forever(self, stop: Callable[[], bool] = lambda: False) -> None:
        while not stop():
            try:
                if not self.poll_once():
                    self._write_status("failing" if self.failure else "running")
            except Exception:  # the broker or the read-model database: offsets were not committed
                log.exception("consuming from Kafka failed; retrying")
                time.sleep(min(self.backoff_s * 4, self.max_backoff_s))

    def close(self) -> None:
        self.consumer.close()
        try:
            with self.db.transaction() as tx:
                tx.execute("DELETE FROM kafka_worker_status WHERE worker = ?", (self.worker,))
        except Exception:
            log.debug("could not remove this worker's status row", exc_info=True)


def _where(value: bytes) -> tuple[int | None, str | None]:
    """The position and type a message claims, for the status of one that could not be decoded."""
    try:
        message = json.loads(value)
        return int(message["position"]), str(message["type"])
    except Exception:
        return None, None


def worker_status(db: Database) -> list[dict[str, Any]]:
    """Every Kafka projection worker's state, and the gaps they are waiting on, for the status route."""
    try:
        rows = db.query("SELECT worker, consumer_group, state, position, event_type, error, since, attempts, "
                        "updated_at FROM kafka_worker_status ORDER BY worker")
        gaps = db.query("SELECT name, aggregate_id, expected, received, position, since FROM kafka_gaps "
                        "ORDER BY position LIMIT 20")
    except Exception:  # no worker ever ran against this database
        return []
    now, out = time.time(), []
    for worker, group, state, position, event_type, error, since, attempts, updated in rows:
        entry: dict[str, Any] = {"worker": worker, "group": group, "state": state, "updated_at": updated,
                                 "stale": now - updated > 3 * HEARTBEAT_S}
        if state == "failing":
            entry |= {"position": position, "event_type": event_type, "error": error, "since": since,
                      "attempts": attempts}
        if gaps:
            entry["gaps"] = [{"projection": g[0], "aggregate_id": g[1], "missing_version": g[2],
                              "received_version": g[3], "position": g[4], "since": g[5]} for g in gaps]
            if state == "running":
                entry["state"] = "gap"
        out.append(entry)
    return out
