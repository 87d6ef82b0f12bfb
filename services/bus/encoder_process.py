"""Reading and encoding the relay's batches in a child process, one batch ahead of the producer.

kafka-python is pure Python: its sender thread (CRC-32C over every record batch, unless the `crc32c` package is
installed) and `producer.send` already fill one core's worth of GIL. Encoding in the same process took turns
with them, so the relay ran at about 0.75× a bare producer however well it pipelined. Here a child process (its
own interpreter, so its own GIL and, on a machine with a free core, its own core) reads the notification log
and encodes each batch exactly as the relay would in-process (`encode_batch`), while the relay hands the batch
before to the producer. The relay still owns positions and acknowledgements: the child only reads.

The child's mechanics (a new interpreter, pickled batches over its stdin and stdout, failures raised in the
relay) are projections/read_ahead.py's; a failure raises in the relay, whose retry loop starts a new child.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, cast

from eventsourcing.application import Application
from eventsourcing.persistence import Notification

from domain.chain import ChainedEvent
from domain.project import ProjectEvent
from domain.works_item_events import WorksItemEvent
from projections.driver import INTERNAL  # command receipts: bookkeeping, never published
from projections.read_ahead import ReadAhead
from services.bus.envelope import encode_event
from services.bus.stored_messages import StoredMessages


@dataclass
class Batch:
    """The messages of the notifications after `start` up to `end` (receipts skipped), in log order."""

    start: int
    end: int
    messages: list[tuple[str, bytes, bytes]] = field(default_factory=list)  # topic, key, value
    request_ids: set[str] = field(default_factory=set)


def topic_for(event: Any, topics: dict[str, str]) -> str | None:
    if isinstance(event, WorksItemEvent):
        return topics["works_item"]
    if isinstance(event, ProjectEvent):
        return topics["project"]
    return None  # command receipts are internal


def encode_batch(app: Application, stored: StoredMessages, start: int, notes: Sequence[Notification]) -> Batch:
    """What the relay publishes for the notifications after `start`: from the stored state where it can, else
    through the domain event (the same bytes either way)."""
    batch = Batch(start, notes[-1].id)
    for note in notes:
        if note.topic.startswith(INTERNAL):
            continue  # never decode a receipt (half the log)
        message = stored.encode(note)
        if message is not None:
            batch.messages.append((message.topic, message.key, message.value))
            request_id = message.request_id
        else:
            event = cast(ChainedEvent, app.mapper.to_domain_event(note))  # every non-receipt is one
            topic = topic_for(event, stored.topics)
            if topic is None:
                continue
            batch.messages.append((topic, str(event.originator_id).encode(),
                                   encode_event(event, note.id, stored.source)))
            request_id = event.request_id
        if request_id:
            batch.request_ids.add(request_id)
    return batch


def read_batch(app: Application, stored: StoredMessages, start: int, size: int) -> Batch | None:
    notes = app.recorder.select_notifications(start, size, inclusive_of_start=False)
    if not notes:
        return None
    return encode_batch(app, stored, start, notes)


class _Encoding:
    """The child's reader (projections/read_ahead.py): the relay's batches, read and encoded as `read_batch`."""

    def __init__(self, setup: tuple[dict[str, str], dict[str, str], str, int]) -> None:
        env, topics, source, self.size = setup
        from domain.application import SiteLedger

        self.app = SiteLedger(env=env)
        self.stored = StoredMessages(self.app.mapper, topics, source)

    def read(self, start: int) -> Batch | None:
        return read_batch(self.app, self.stored, start, self.size)

    def close(self) -> None:
        self.app.close()


class EncoderProcess(ReadAhead):
    """The relay's side of the child: `batch(start)` answers the batch after `start`, and asks the child for the
    one after it at once, so that it is read and encoded while the producer sends this one."""

    def __init__(self, env: dict[str, str], topics: dict[str, str], source: str, size: int) -> None:
        super().__init__(f"{__name__}:_Encoding", (env, topics, source, size), "the relay's encoder process")

    def batch(self, start: int) -> Batch | None:
        return cast(Batch | None, super().batch(start))
