"""Reading and encoding the relay's batches in a child process, one batch ahead of the producer.

kafka-python is pure Python: its sender thread (CRC-32C over every record batch, unless the `crc32c` package is
installed) and `producer.send` already fill one core's worth of GIL. Encoding in the same process took turns
with them, so the relay ran at about 0.75× a bare producer however well it pipelined. Here a child process (its
own interpreter, so its own GIL and, on a machine with a free core, its own core) reads the notification log
and encodes each batch exactly as the relay would in-process (`encode_batch`), while the relay hands the batch
before to the producer. The relay still owns positions and acknowledgements: the child only reads.

The child is a new interpreter (the relay has threads, so no fork; and unlike multiprocessing's spawn it does not
import the relay's `__main__` again) and reads the store through its own connection (SQLite in WAL mode and
PostgreSQL both allow that). A child that fails, dies or stalls raises in the relay, whose retry loop starts a
new one; when the relay process dies the child sees its stdin close and exits.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from typing import Any, cast

from eventsourcing.application import Application
from eventsourcing.persistence import Notification

from domain.chain import ChainedEvent
from domain.project import ProjectEvent
from domain.works_item_events import WorksItemEvent
from services.bus.envelope import encode_event
from services.bus.stored_messages import StoredMessages

INTERNAL = "siteledger.receipt:"  # command receipts are bookkeeping, never published
REPLY_TIMEOUT_S = 60.0


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


def serve() -> None:
    """The child's loop: its settings first, then a start position in, that batch (or None, or an error's text)
    out, until the relay closes the pipe. Messages are pickled and length-prefixed by `Connection` over the
    child's stdin and stdout (stdout itself then points at stderr, so nothing printed can corrupt them)."""
    inbox = Connection(0, writable=False)
    outbox = Connection(os.dup(1), readable=False)
    os.dup2(2, 1)
    env, topics, source, size = inbox.recv()
    from domain.application import SiteLedger

    app = SiteLedger(env=env)
    stored = StoredMessages(app.mapper, topics, source)
    outbox.send(None)  # ready
    try:
        while True:
            try:
                start = inbox.recv()
            except (EOFError, OSError):
                return  # the relay is gone
            try:
                outbox.send(read_batch(app, stored, start, size))
            except Exception as error:  # the relay raises it; its retry loop starts a new child
                outbox.send(f"{type(error).__name__}: {error}")
    finally:
        app.close()


class EncoderProcess:
    """The relay's side of the child: `batch(start)` answers the batch after `start`, and asks the child for the
    one after it at once, so that it is read and encoded while the producer sends this one.

    The child is a fresh interpreter (`python -c`, the relay's sys.path), not multiprocessing's spawn, which
    would run the relay's `__main__` again in it."""

    def __init__(self, env: dict[str, str], topics: dict[str, str], source: str, size: int) -> None:
        boot = f"import sys; sys.path[:0] = {json.dumps(sys.path)}; import {__name__} as m; m.serve()"
        self._process = subprocess.Popen([sys.executable, "-c", boot], stdin=subprocess.PIPE,
                                         stdout=subprocess.PIPE)
        assert self._process.stdin is not None and self._process.stdout is not None
        self._outbox = Connection(os.dup(self._process.stdin.fileno()), readable=False)
        self._inbox = Connection(os.dup(self._process.stdout.fileno()), writable=False)
        self._process.stdin.close()
        self._process.stdout.close()
        self._outbox.send((env, topics, source, size))
        self._asked: int | None = None  # the start of the batch the child is working on
        try:
            self._reply()  # ready: it imported everything and opened the store
        except Exception:
            self.close()
            raise

    def batch(self, start: int) -> Batch | None:
        if self._asked is not None and self._asked != start:
            self._reply()  # a batch read ahead for another position (the relay restarted from elsewhere)
            self._asked = None
        read_ahead = self._asked is not None
        if not read_ahead:
            self._ask(start)
        batch = self._reply()
        self._asked = None
        if batch is None and read_ahead:  # "nothing new" as of the read-ahead; a fresh look costs a round trip
            self._ask(start)
            batch = self._reply()
            self._asked = None
        if batch is not None:
            self._ask(batch.end)
        return batch

    def _ask(self, start: int) -> None:
        try:
            self._outbox.send(start)
        except OSError as gone:
            raise RuntimeError(f"the relay's encoder process exited (code {self._process.poll()})") from gone
        self._asked = start

    def _reply(self) -> Batch | None:
        if not self._inbox.poll(REPLY_TIMEOUT_S):
            raise TimeoutError(f"the relay's encoder process gave no batch within {REPLY_TIMEOUT_S:.0f} s")
        try:
            reply = self._inbox.recv()
        except EOFError as gone:
            raise RuntimeError(f"the relay's encoder process exited (code {self._process.poll()})") from gone
        if isinstance(reply, str):
            raise RuntimeError(f"the relay's encoder process failed: {reply}")
        return cast(Batch | None, reply)

    def close(self) -> None:
        self._outbox.close()  # the child sees its stdin close and exits
        self._inbox.close()
        try:
            self._process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait(timeout=5)


