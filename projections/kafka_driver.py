"""Feeds the same read models from Kafka: a consumer group, offsets committed after the read model commits.

Delivery is at least once, so an event already applied (by aggregate id and version, per read model)
is skipped. The envelope says which event it is; the event itself is read from the store, so the
projectors see exactly the domain events the store driver gives them.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from typing import Any
from uuid import UUID

from eventsourcing.application import Application

from projections.driver import Batch, ReadModel
from projections.sql import Database

log = logging.getLogger("siteledger.projections.kafka")

DDL = ("CREATE TABLE IF NOT EXISTS projection_versions (name TEXT NOT NULL, aggregate_id TEXT NOT NULL, "
       "version INTEGER NOT NULL, PRIMARY KEY (name, aggregate_id))",)


class KafkaDriver:
    def __init__(self, models: list[ReadModel], app: Application, db: Database,
                 consumer_factory: Callable[[], Any]) -> None:
        self.models, self.app, self.db = models, app, db
        self.consumer = consumer_factory()
        with db.transaction() as tx:
            for statement in DDL:
                tx.execute(statement)
            for model in models:
                for statement in model.ddl:
                    tx.execute(statement)

    def _event(self, aggregate_id: str, version: int) -> Any:
        events = list(self.app.events.get(UUID(aggregate_id), gt=version - 1, lte=version))
        return events[0] if events else None

    def _apply(self, model: ReadModel, messages: list[dict[str, Any]]) -> None:
        with self.db.transaction() as tx:
            batch = Batch(tx, self.app)
            applied: dict[str, int] = {}
            for message in messages:
                aggregate_id, version = message["subject"], int(message["aggregateversion"])
                if aggregate_id not in applied:
                    row = tx.execute("SELECT version FROM projection_versions WHERE name = ? AND aggregate_id = ?",
                                     (model.name, aggregate_id)).fetchone()
                    applied[aggregate_id] = int(row[0]) if row else 0
                if version <= applied[aggregate_id]:
                    continue  # a duplicate from an at-least-once relay
                event = self._event(aggregate_id, version)
                if event is None:
                    continue
                if not model.topics or type(event).TOPIC in model.topics:
                    model.apply(event, int(message["position"]), batch)
                applied[aggregate_id] = version
            model.flush(batch)
            for aggregate_id, version in applied.items():
                tx.execute("DELETE FROM projection_versions WHERE name = ? AND aggregate_id = ?",
                           (model.name, aggregate_id))
                tx.execute("INSERT INTO projection_versions VALUES (?, ?, ?)", (model.name, aggregate_id, version))

    def poll_once(self, timeout_ms: int = 500) -> int:
        records = self.consumer.poll(timeout_ms=timeout_ms, max_records=1000)
        messages = [json.loads(r.value) for batch in records.values() for r in batch]
        if not messages:
            return 0
        for model in self.models:
            self._apply(model, messages)
        self.consumer.commit()  # only after every read model committed
        return len(messages)

    def run_forever(self, stop: Callable[[], bool] = lambda: False) -> None:
        while not stop():
            try:
                self.poll_once()
            except Exception:
                log.exception("applying from Kafka failed; the offsets were not committed, retrying")

    def close(self) -> None:
        self.consumer.close()
