"""A rebuild's log, read and decoded in a child process one batch ahead (projections/read_ahead.py).

Reading and decoding the log was a third of a one-pass rebuild of every read model, done under the same GIL as the
read models' own work. The child reads each batch and decodes every event the read models are given (command
receipts left out, as the pass leaves them out), and the rebuild gets the events ready to apply: unpickling them
costs about a quarter of decoding them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from multiprocessing.reduction import ForkingPickler
from typing import Any
from uuid import UUID, SafeUUID

from eventsourcing.application import Application
from eventsourcing.persistence import Notification

from domain.works_item_events import Registered
from projections.driver import INTERNAL


@dataclass
class DecodedBatch:
    """The events of the notifications after `start` up to `end`, in log order, with their positions and topics."""

    start: int
    end: int
    entries: list[tuple[int, str, Any]] = field(default_factory=list)


def decode_batch(app: Application, start: int, notes: Sequence[Notification],
                 templates: dict[Any, dict[str, Any]]) -> DecodedBatch:
    batch = DecodedBatch(start, notes[-1].id)
    for note in notes:
        if note.topic.startswith(INTERNAL):
            continue
        event = app.mapper.to_domain_event(note)
        if isinstance(event, Registered):
            _share_template(event, templates)
        batch.entries.append((note.id, note.topic, event))
    return batch


def _share_template(event: Registered, templates: dict[Any, dict[str, Any]]) -> None:
    """Every registration carries its whole template (about 20 KB of JSON): equal ones become one object, which
    pickle then sends once per batch, and which the read models' `FrozenTemplate.of` knows by identity."""
    key = (event.template.get("code"), event.template.get("version"))
    known = templates.get(key)
    if known is None or known != event.template:  # compared once: 20 KB of nested dicts
        templates[key] = event.template
    elif known is not event.template:
        object.__setattr__(event, "template", known)  # the event is frozen; this is the same value


_UNKNOWN = SafeUUID.unknown


def uuid_of(value: int) -> UUID:
    """A UUID as the parent unpickles it: pickle's own way (`UUID.__setstate__`, which looks up an enum member for
    each) was a fifth of what the rebuild spent on taking the child's batches."""
    made = object.__new__(UUID)
    object.__setattr__(made, "int", value)
    object.__setattr__(made, "is_safe", _UNKNOWN)
    return made


def _reduce_uuid(value: UUID) -> tuple[Any, tuple[int]]:
    return uuid_of, (value.int,)


class Decoding:
    """The child's reader: `(event store env, batch size)` in, `DecodedBatch`es out."""

    def __init__(self, setup: tuple[dict[str, str], int]) -> None:
        env, self.size = setup
        from domain.application import SiteLedger

        ForkingPickler.register(UUID, _reduce_uuid)  # what `Connection.send` pickles with, in this child only

        self.app = SiteLedger(env=env)
        self.templates: dict[Any, dict[str, Any]] = {}

    def read(self, start: int) -> DecodedBatch | None:
        notes = self.app.recorder.select_notifications(start, self.size, inclusive_of_start=False)
        return decode_batch(self.app, start, notes, self.templates) if notes else None

    def close(self) -> None:
        self.app.close()
