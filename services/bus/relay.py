"""The relay: follows the notification log and publishes each event to Kafka, at least once, never with a gap.

Its position moves only after the broker acknowledged every message of a batch (acks=all, idempotent
producer). When the broker is down it retries with backoff and says so in `relay_status`. A broker that
comes back empty (its topics are gone although we had published) has lost data: the relay stops and
waits for the operator to choose where to republish from (`siteledger relay --from-position N`).
"""

from __future__ import annotations

import contextlib
import logging
import random
import time
from collections.abc import Callable
from typing import Any

from eventsourcing.application import Application

from domain.project import ProjectEvent
from domain.works_item_events import WorksItemEvent
from projections.sql import Database
from services.bus.envelope import encode, envelope

log = logging.getLogger("siteledger.relay")

DDL = (
    "CREATE TABLE IF NOT EXISTS projection_tracking (name TEXT PRIMARY KEY, position BIGINT NOT NULL)",
    "CREATE TABLE IF NOT EXISTS relay_status (name TEXT PRIMARY KEY, state TEXT NOT NULL, detail TEXT, "
    "published BIGINT NOT NULL, updated_at DOUBLE PRECISION NOT NULL)",
)
NAME = "relay"


class BrokerDataLost(Exception):
    """The broker no longer has topics we published to."""


class Relay:
    def __init__(self, app: Application, db: Database, producer_factory: Callable[[], Any],
                 admin_factory: Callable[[], Any], topics: dict[str, str], partitions: int = 6,
                 replication: int = 1, source: str = "urn:siteledger", batch: int = 1000) -> None:
        self.app, self.db = app, db
        self.producer_factory, self.admin_factory = producer_factory, admin_factory
        self.topics, self.partitions, self.replication = topics, partitions, replication
        self.source, self.batch = source, batch
        self.producer: Any = None
        self._ready = False
        self._last_state = ""
        with db.transaction() as tx:
            for statement in DDL:
                tx.execute(statement)
            if not tx.execute("SELECT 1 FROM projection_tracking WHERE name = ?", (NAME,)).fetchone():
                tx.execute("INSERT INTO projection_tracking VALUES (?, 0)", (NAME,))
                tx.execute("INSERT INTO relay_status VALUES (?, 'starting', NULL, 0, ?)", (NAME, time.time()))

    # --- position and status ---------------------------------------------------------------

    def position(self) -> int:
        return int(self.db.query("SELECT position FROM projection_tracking WHERE name = ?", (NAME,))[0][0])

    def status(self) -> dict[str, Any]:
        state, detail, published, updated = self.db.query(
            "SELECT state, detail, published, updated_at FROM relay_status WHERE name = ?", (NAME,))[0]
        head = int(self.app.recorder.max_notification_id() or 0)
        position = self.position()
        return {"state": state, "detail": detail, "position": position, "head": head,
                "lag": max(head - position, 0), "ever_published": bool(published), "updated_at": updated}

    def _set_state(self, state: str, detail: str | None = None, published: bool | None = None) -> None:
        self._last_state = state
        with self.db.transaction() as tx:
            if published is None:
                tx.execute("UPDATE relay_status SET state = ?, detail = ?, updated_at = ? WHERE name = ?",
                           (state, detail, time.time(), NAME))
            else:
                tx.execute("UPDATE relay_status SET state = ?, detail = ?, published = ?, updated_at = ? "
                           "WHERE name = ?", (state, detail, int(published), time.time(), NAME))

    def restart_from(self, position: int) -> None:
        """The operator's choice after a broker lost its data: republish everything after `position`."""
        with self.db.transaction() as tx:
            tx.execute("UPDATE projection_tracking SET position = ? WHERE name = ?", (position, NAME))
            tx.execute("UPDATE relay_status SET state = 'starting', detail = ?, published = 0, updated_at = ? "
                       "WHERE name = ?", (f"republishing after position {position}", time.time(), NAME))
        self._ready = False

    # --- publishing ------------------------------------------------------------------------

    def _prepare(self) -> None:
        """Connect, and make sure the topics exist — unless their absence means the broker lost our data."""
        from kafka.admin import NewTopic
        from kafka.errors import TopicAlreadyExistsError

        admin = self.admin_factory()
        try:
            existing = set(admin.list_topics())
            missing = [t for t in self.topics.values() if t not in existing]
            if missing and self.status()["ever_published"]:
                raise BrokerDataLost(", ".join(missing))
            if missing:
                with contextlib.suppress(TopicAlreadyExistsError):
                    admin.create_topics([NewTopic(t, num_partitions=self.partitions,
                                                  replication_factor=self.replication) for t in missing])
        finally:
            admin.close()
        if self.producer is None:
            self.producer = self.producer_factory()
        self._ready = True

    def _topic_for(self, event: Any) -> str | None:
        if isinstance(event, WorksItemEvent):
            return self.topics["works_item"]
        if isinstance(event, ProjectEvent):
            return self.topics["project"]
        return None  # command receipts are internal

    def step(self, after_send: Callable[[], None] | None = None) -> int:
        """Publish one batch and move the position once the broker acknowledged all of it."""
        if not self._ready:
            self._prepare()
        start = self.position()
        notes = self.app.recorder.select_notifications(start, self.batch, inclusive_of_start=False)
        if not notes:
            return 0
        futures, request_ids = [], []
        for note in notes:
            event = self.app.mapper.to_domain_event(note)
            topic = self._topic_for(event)
            if topic is not None:
                value = encode(envelope(event, note.id, self.source))
                request_ids.append(event.request_id)
                futures.append(self.producer.send(topic, key=str(event.originator_id).encode(), value=value))
        self.producer.flush(timeout=30)
        for future in futures:
            future.get(timeout=30)  # raises if any message was not acknowledged: the position stays
        if after_send:
            after_send()  # tests kill the relay here, between the broker's ack and the position commit
        with self.db.transaction() as tx:
            tx.execute("UPDATE projection_tracking SET position = ? WHERE name = ? AND position = ?",
                       (notes[-1].id, NAME, start))
        self._set_state("publishing", None, published=True)
        log.info("published", extra={"from_position": start + 1, "to_position": notes[-1].id,
                                     "messages": len(futures),
                                     "request_ids": sorted({f for f in request_ids if f})[:20]})
        return len(notes)

    def run_forever(self, stop: Callable[[], bool] = lambda: False, idle_s: float = 0.05) -> None:
        backoff = 0.5
        while not stop():
            try:
                published = self.step()
                backoff = 0.5
                if not published:
                    if self._last_state != "caught_up":  # idle polls every 50 ms write nothing
                        self._set_state("caught_up")
                    time.sleep(idle_s)
            except BrokerDataLost as lost:
                message = (f"the broker has lost topics {lost}; choose where to republish from: "
                           "siteledger relay --from-position N (0 republishes everything)")
                log.error(message)
                self._set_state("broker_data_lost", message)
                time.sleep(min(backoff, 5))
            except Exception as error:
                log.warning("broker unreachable (%s: %s); retrying in %.1f s", type(error).__name__, error, backoff)
                self._set_state("retrying", f"{type(error).__name__}: {error}"[:500])
                self._reset_producer()
                time.sleep(backoff + random.uniform(0, backoff / 2))
                backoff = min(backoff * 2, 30)

    def _reset_producer(self) -> None:
        if self.producer is not None:
            try:
                self.producer.close(timeout=1)
            except Exception:
                log.debug("closing the producer failed", exc_info=True)
        self.producer = None
        self._ready = False
