"""Reminders leave the system as CloudEvents on Kafka (`siteledger.reminders`), keyed by item (or project), once
per change of a deadline's state: approaching, breached, met. SMS or WeChat senders are consumers outside.

The deadlines are read from their read model (projections/deadlines.py), their states judged in SQL at the
publisher's today (services/deadline_scan.py). The last state sent for each deadline is kept in the read-model
database (`reminder_states`, an Alembic migration: it cannot be rebuilt from the log), written after the broker
acknowledged the message: a restart finds it and sends nothing again. A crash between the acknowledgement and that write
would send the change once more, with the same CloudEvent `id` (deadline and state), so a consumer dedupes it.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Callable
from datetime import UTC, date, datetime
from typing import Any

from domain.deadlines import Deadline
from services.deadline_scan import scan

TOPIC = "siteledger.reminders"
SOURCE = "urn:siteledger/reminders"
SENT_STATES = ("approaching", "breached", "met")


def deadline_key(deadline: Deadline) -> str:
    return f"{deadline.kind}:{deadline.project_id}:{deadline.item_id or '-'}:{deadline.subject}"


def cloud_event(deadline: Deadline, today: date) -> dict[str, Any]:
    key = deadline_key(deadline)
    return {"specversion": "1.0", "id": f"{key}:{deadline.state}", "source": SOURCE,
            "type": f"siteledger.reminder.{deadline.state}.v1", "subject": deadline.item_id or deadline.project_id,
            "time": datetime.now(UTC).isoformat(), "datacontenttype": "application/json",
            "data": {"deadline": key, **deadline.as_dict(today)}}


class Reminders:
    """`run_once` sends what changed since the last run; call it on a timer (a day's granularity is enough)."""

    def __init__(self, container: Any, producer: Any, clock: Callable[[], date], topic: str = TOPIC,
                 approaching_days: int = 3) -> None:
        self.container, self.producer, self.clock = container, producer, clock
        self.topic, self.approaching_days = topic, approaching_days  # reminder_states: migration 0006

    def _sent(self) -> dict[str, str]:
        return dict(self.container.db.query("SELECT deadline, state FROM reminder_states"))

    def run_once(self) -> int:
        today = self.clock()
        sent, count = self._sent(), 0
        for deadline in scan(self.container, today, self.approaching_days, states=SENT_STATES):
            key = deadline_key(deadline)
            if sent.get(key) == deadline.state:
                continue
            event = cloud_event(deadline, today)
            self.producer.send(self.topic, key=event["subject"].encode(),
                               value=json.dumps(event, ensure_ascii=False).encode()).get(timeout=15)
            with self.container.db.transaction() as tx:  # only once the broker has it
                tx.execute("INSERT INTO reminder_states VALUES (?, ?, ?) ON CONFLICT (deadline) DO UPDATE "
                           "SET state = excluded.state, sent_at = excluded.sent_at",
                           (key, deadline.state, datetime.now(UTC).isoformat()))
            count += 1
        return count


def ensure_topic(admin: Any, topic: str = TOPIC, partitions: int = 3, replication: int = 1) -> None:
    """The reminders' own topic (the relay creates only the event topics)."""
    from kafka.admin import NewTopic
    from kafka.errors import TopicAlreadyExistsError

    if topic in set(admin.list_topics()):
        return
    with contextlib.suppress(TopicAlreadyExistsError):  # another publisher made it meanwhile
        admin.create_topics([NewTopic(topic, num_partitions=partitions, replication_factor=replication)])


def serve(container: Any, producer: Any, stop: Any, interval_s: float = 3600.0,
          clock: Callable[[], date] | None = None) -> None:
    """Run the reminders until `stop` (a threading.Event) is set; a failed run is retried at the next tick."""
    import logging

    from services.deadline_scan import site_today

    reminders = Reminders(container, producer, clock or (lambda: site_today(container.settings)))
    while not stop.is_set():
        try:
            reminders.run_once()
        except Exception:  # the broker away, a read model behind: the next tick tries again, nothing was recorded
            logging.getLogger(__name__).exception("reminders run failed; retrying at the next tick")
        stop.wait(interval_s)
