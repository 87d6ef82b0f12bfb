"""The relay: follows the notification log and publishes each event to Kafka, at least once, never with a gap.

Its position moves only after the broker acknowledged every message of a batch (acks=all, idempotent
producer). When the broker is down it retries with backoff and says so in `relay_status`.

Only the relay creates topics, with the configured partitions; no client of ours lets the broker create one.
A broker that lost data is seen from what the relay knows it published: for each partition, the first offset
the broker acknowledged in the relay's latest batch there is kept beside the position, in the same
transaction. At start and every `check_interval_s` (publishing or idle) the broker's end offsets are compared
with it: a topic gone, a partition count changed, or an end offset not past that first offset means the
broker lost acknowledged messages. The relay then stops in `broker_data_lost` until the operator chooses
where to republish from (`siteledger relay --from-position N`). (Not the last acknowledged offset: Tansu
answers ListOffsets(latest) with the base offset of a partition's last record batch plus one.)

Batches are read and encoded in a child process while the producer sends the batch before (encoder_process.py),
straight from the stored state (stored_messages.py): the same bytes as the domain path, at a fraction of the cost.
"""

from __future__ import annotations

import contextlib
import logging
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from eventsourcing.application import Application

from projections.sql import Database
from services.bus.encoder_process import EncoderProcess, read_batch, topic_for
from services.bus.stored_messages import StoredMessages

log = logging.getLogger("siteledger.relay")

NAME = "relay"
TOPIC_CONFIG = {"retention.ms": "-1"}  # a new consumer builds its read models from the whole topic


class BrokerDataLost(Exception):
    """The broker no longer has messages it acknowledged to us."""


class TopicMismatch(Exception):
    """A topic we never published to exists with other partitions than configured: someone else made it."""


@dataclass
class Pending:
    """A batch handed to the producer, not yet acknowledged: its log range and the broker's futures."""

    start: int
    end: int
    futures: list[Any] = field(default_factory=list)
    request_ids: set[str] = field(default_factory=set)


class Relay:
    def __init__(self, app: Application, db: Database, producer_factory: Callable[[], Any],
                 admin_factory: Callable[[], Any], topics: dict[str, str], partitions: int = 6,
                 replication: int = 1, source: str = "urn:siteledger", batch: int = 1000,
                 check_interval_s: float = 5.0, reader_factory: Callable[[], Any] | None = None,
                 encoder_env: dict[str, str] | None = None) -> None:
        """`encoder_env`: the event store's eventsourcing environment, to read and encode in a child process
        (services/bus/encoder_process.py); None encodes in this process."""
        self.app, self.db = app, db
        self.producer_factory, self.admin_factory, self.reader_factory = producer_factory, admin_factory, reader_factory
        self.topics, self.partitions, self.replication = topics, partitions, replication
        self.source, self.batch, self.check_interval_s = source, batch, check_interval_s
        self.stored = StoredMessages(app.mapper, topics, source)
        self.encoder_env = encoder_env
        self.encoder: EncoderProcess | None = None
        self.producer: Any = None
        self.admin: Any = None
        self._ready = False
        self._last_state = ""
        self._checked_at = 0.0
        with db.transaction() as tx:  # tables: services/migrations
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
        """The operator's choice after a broker lost its data: republish everything after `position`.

        What the relay knew the broker held is forgotten with it: the topics are made again if missing."""
        with self.db.transaction() as tx:
            tx.execute("UPDATE projection_tracking SET position = ? WHERE name = ?", (position, NAME))
            tx.execute("DELETE FROM relay_offsets")
            tx.execute("DELETE FROM relay_republish WHERE name = ?", (NAME,))
            tx.execute("INSERT INTO relay_republish VALUES (?, ?)", (NAME, position))
            tx.execute("UPDATE relay_status SET state = 'starting', detail = ?, published = 0, updated_at = ? "
                       "WHERE name = ?", (f"republishing after position {position}", time.time(), NAME))
        self._last_state = "starting"
        self._ready = False

    # --- the broker's side -----------------------------------------------------------------

    def _known_offsets(self) -> dict[tuple[str, int], int]:
        rows = self.db.query("SELECT topic, partition_no, first_offset FROM relay_offsets")
        return {(str(t), int(p)): int(first) for t, p, first in rows}

    def verify_broker(self) -> None:
        """Raise BrokerDataLost if the broker lacks what it acknowledged; create our topics if never used."""
        from kafka import TopicPartition
        from kafka.admin import NewTopic, OffsetSpec
        from kafka.errors import TopicAlreadyExistsError

        if self.admin is None:
            self.admin = self.admin_factory()
        known = self._known_offsets()
        ever = bool(known) or self.status()["ever_published"]
        republishing = bool(self.db.query("SELECT 1 FROM relay_republish WHERE name = ?", (NAME,)))
        described = {t["name"]: t for t in self.admin.describe_topics(list(self.topics.values()))}
        missing, lost, remake = [], [], []
        for topic in self.topics.values():
            info = described.get(topic)
            if info is None or info["error_code"] != 0:
                missing.append(topic)
                continue
            count = len(info["partitions"])
            if count != self.partitions:
                if republishing or (not ever and self._is_empty(topic, count)):
                    remake.append(topic)  # nothing in it to lose: a broker's auto-created stand-in
                elif ever:
                    lost.append(f"{topic} has {count} partitions, we published to {self.partitions}")
                else:
                    raise TopicMismatch(f"topic {topic} exists with {count} partitions, SITELEDGER_KAFKA_PARTITIONS "
                                        f"is {self.partitions}: delete the topic or change the setting")
        if missing and ever:
            lost.append(f"topics {', '.join(missing)} are gone")
        if not lost and known:
            ends = self.admin.list_partition_offsets({TopicPartition(t, p): OffsetSpec.LATEST for t, p in known})
            suspects = {(t, p): first for (t, p), first in known.items() if ends[TopicPartition(t, p)].offset <= first}
            for (topic, partition), first in sorted(self._unreadable(suspects).items()):
                lost.append(f"{topic}[{partition}] no longer has offset {first}, which it had acknowledged")
        if lost:
            raise BrokerDataLost("; ".join(lost[:5]) + (f" (and {len(lost) - 5} more)" if len(lost) > 5 else ""))
        if remake:
            log.warning("topics %s have other partitions than %d and nothing of ours (a broker made them, or we "
                        "republish after a loss): deleting and creating them again", ", ".join(remake), self.partitions)
            self.admin.delete_topics(remake)
            missing += remake
        if missing:
            with contextlib.suppress(TopicAlreadyExistsError):
                self.admin.create_topics([NewTopic(t, num_partitions=self.partitions,
                                                   replication_factor=self.replication, topic_configs=TOPIC_CONFIG)
                                          for t in missing])
            counts = {t["name"]: len(t["partitions"]) for t in self.admin.describe_topics(missing)}
            if any(counts.get(t) != self.partitions for t in missing):  # the broker made one again meanwhile
                raise TopicMismatch(f"topics {counts} do not have {self.partitions} partitions; retrying")
        self._checked_at = time.monotonic()

    def _unreadable(self, suspects: dict[tuple[str, int], int], timeout_s: float = 5.0) -> dict[tuple[str, int], int]:
        """Of the partitions whose end offset looks short, those whose acknowledged record cannot be read.

        A broker's end offset may lag behind what it acknowledged (Tansu's does, after concurrent produce
        requests, until the next write), so a short end offset is confirmed by reading the record itself."""
        if not suspects or self.reader_factory is None:
            return suspects
        from kafka import TopicPartition

        reader = self.reader_factory()
        try:
            wanted = {TopicPartition(t, p): first for (t, p), first in suspects.items()}
            reader.assign(list(wanted))
            for tp, first in wanted.items():
                reader.seek(tp, first)
            found: set[Any] = set()
            deadline = time.monotonic() + timeout_s
            while len(found) < len(wanted) and time.monotonic() < deadline:
                try:
                    batches = reader.poll(timeout_ms=200)
                except Exception:  # out of range (auto_offset_reset="none"): not there
                    break
                found |= {tp for tp, records in batches.items() if any(r.offset >= wanted[tp] for r in records)}
            return {(tp.topic, tp.partition): first for tp, first in wanted.items() if tp not in found}
        finally:
            reader.close()

    def _is_empty(self, topic: str, partitions: int) -> bool:
        from kafka import TopicPartition
        from kafka.admin import OffsetSpec

        ends = self.admin.list_partition_offsets({TopicPartition(topic, p): OffsetSpec.LATEST
                                                  for p in range(partitions)})
        return all(end.offset == 0 for end in ends.values())

    def _prepare(self) -> None:
        self.verify_broker()
        if self.producer is None:
            self.producer = self.producer_factory()
        if self.encoder_env is not None and self.encoder is None:
            self.encoder = EncoderProcess(self.encoder_env, self.topics, self.source, self.batch)
        self._ready = True

    # --- publishing ------------------------------------------------------------------------

    def _topic_for(self, event: Any) -> str | None:
        return topic_for(event, self.topics)

    def _send(self, start: int) -> Pending | None:
        """Read a batch after `start` and hand it to the producer; None when the log has nothing new."""
        if self.encoder is not None:
            batch = self.encoder.batch(start)  # read and encoded in the child while the batch before was sent
        else:
            batch = read_batch(self.app, self.stored, start, self.batch)
        if batch is None:
            return None
        send = self.producer.send
        return Pending(start, batch.end, [send(topic, key=key, value=value) for topic, key, value in batch.messages],
                       batch.request_ids)

    def _confirm(self, pending: Pending, after_send: Callable[[], None] | None = None) -> None:
        """Wait for every acknowledgement of the batch, then move the position and the known offsets together."""
        first: dict[tuple[str, int], int] = {}
        last: dict[tuple[str, int], int] = {}
        for future in pending.futures:
            meta = future.get(timeout=30)  # raises if any message was not acknowledged: the position stays
            key = (meta.topic, meta.partition)
            first[key] = min(first.get(key, meta.offset), meta.offset)
            last[key] = max(last.get(key, meta.offset), meta.offset)
        if after_send:
            after_send()  # tests kill the relay here, between the broker's ack and the position commit
        with self.db.transaction() as tx:
            tx.execute("UPDATE projection_tracking SET position = ? WHERE name = ? AND position = ?",
                       (pending.end, NAME, pending.start))
            tx.execute("DELETE FROM relay_republish WHERE name = ?", (NAME,))
            for (topic, partition), offset in first.items():
                tx.execute("DELETE FROM relay_offsets WHERE topic = ? AND partition_no = ?", (topic, partition))
                tx.execute("INSERT INTO relay_offsets VALUES (?, ?, ?, ?)",
                           (topic, partition, offset, last[(topic, partition)] + 1))
        if self._last_state != "publishing":
            self._set_state("publishing", None, published=True)
        log.info("published", extra={"from_position": pending.start + 1, "to_position": pending.end,
                                     "messages": len(pending.futures),
                                     "request_ids": sorted(pending.request_ids)[:20]})

    def step(self, after_send: Callable[[], None] | None = None) -> int:
        """Publish one batch and move the position once the broker acknowledged all of it."""
        if not self._ready:
            self._prepare()
        pending = self._send(self.position())
        if pending is None:
            return 0
        self.producer.flush(timeout=30)
        self._confirm(pending, after_send)
        return pending.end - pending.start

    def publish_available(self) -> int:
        """Publish up to the log's head, reading and encoding the next batch while the broker acknowledges
        the one before; positions still move in order, each only after its batch was acknowledged."""
        if not self._ready:
            self._prepare()
        position, published, pending = self.position(), 0, None
        while True:
            upcoming = self._send(position)
            if pending is not None:
                self._confirm(pending)
                published += pending.end - pending.start
            if upcoming is None:
                return published
            position, pending = upcoming.end, upcoming
            if time.monotonic() - self._checked_at > self.check_interval_s:
                self._confirm(pending)
                published += pending.end - pending.start
                self.verify_broker()
                pending = None

    def run_forever(self, stop: Callable[[], bool] = lambda: False, idle_s: float = 0.05) -> None:
        backoff = 0.5
        while not stop():
            try:
                published = self.publish_available()
                backoff = 0.5
                if not published:
                    if time.monotonic() - self._checked_at > self.check_interval_s:
                        self.verify_broker()  # an idle relay still notices a broker that lost our data
                    if self._last_state != "caught_up":  # idle polls every 50 ms write nothing
                        self._set_state("caught_up")
                    time.sleep(idle_s)
            except BrokerDataLost as lost:
                message = (f"the broker lost messages it had acknowledged ({lost}); choose where to republish "
                           "from: siteledger relay --from-position N (0 republishes everything)")
                if self._last_state != "broker_data_lost":
                    log.error(message)
                    self._set_state("broker_data_lost", message)
                self._reset_producer()
                time.sleep(min(backoff, 5))
            except TopicMismatch as mismatch:
                if self._last_state != "misconfigured":
                    log.error("%s", mismatch)
                    self._set_state("misconfigured", str(mismatch))
                self._reset_producer()
                time.sleep(2)
            except Exception as error:
                log.warning("broker unreachable (%s: %s); retrying in %.1f s", type(error).__name__, error, backoff)
                self._set_state("retrying", f"{type(error).__name__}: {error}"[:500])
                self._reset_producer()
                time.sleep(backoff + random.uniform(0, backoff / 2))
                backoff = min(backoff * 2, 30)

    def _reset_producer(self) -> None:
        for client in (self.producer, self.admin):
            if client is not None:
                try:
                    client.close(timeout=1) if client is self.producer else client.close()
                except Exception:
                    log.debug("closing a Kafka client failed", exc_info=True)
        self.producer = self.admin = None
        if self.encoder is not None:
            self.encoder.close()  # it may be what failed; a new one starts with the next attempt
            self.encoder = None
        self._ready = False

    def close(self) -> None:
        self._reset_producer()
