"""Tamper-evident aggregates: every event carries who/what/when and a SHA-256 chained to the event before."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, tzinfo
from decimal import Decimal
from typing import TYPE_CHECKING, Any, ClassVar, Self
from uuid import UUID

from eventsourcing.domain import Aggregate, CanInitAggregate
from eventsourcing.utils import get_topic, register_topic

from domain.actors import CommandContext
from domain.canonical import GENESIS_HASH, chain_hash


class ChainedEvent(Aggregate.Event):
    """Base of every stored domain event; subclasses get a stable explicit topic from their name.

    A subclass of `Aggregate.Event` (which adds nothing to `AggregateEvent`) so that an aggregate may
    name its own event classes as its `Event` and `Created`."""

    TOPIC_PREFIX: ClassVar[str] = "siteledger"
    TOPIC: ClassVar[str]  # set on every subclass, below

    actor_id: UUID
    actor_role: str
    device_id: str | None
    command_id: str
    device_time: datetime | None
    request_id: str | None
    prev_hash: str
    event_hash: str

    if TYPE_CHECKING:  # eventsourcing's metaclass makes every subclass a dataclass of its fields
        def __init__(self, *args: Any, **fields: Any) -> None: ...

    def __init_subclass__(cls) -> None:
        super().__init_subclass__()
        if "TOPIC" not in cls.__dict__:
            cls.TOPIC = f"{cls.TOPIC_PREFIX}:{cls.__name__}"
        register_topic(cls.TOPIC, cls)

    def mutate(self, aggregate: Any) -> Any:
        result = super().mutate(aggregate)
        if result is not None:  # None only for an event that discards its aggregate; ours never do
            result.chain_head = self.event_hash
        return result


# What every event carries about itself, as opposed to what it says happened.
EVENT_METADATA = frozenset({
    "originator_id", "originator_version", "originator_topic", "timestamp", "actor_id", "actor_role",
    "device_id", "command_id", "device_time", "request_id", "prev_hash", "event_hash",
})


def at_site(moment: datetime, site_tz: tzinfo) -> datetime:
    """A time without a zone (a camera's EXIF, a device time stored before the API refused them) is the
    site's local time; every reader that compares times goes through here, so none meets a naive one."""
    return moment if moment.utcoffset() is not None else moment.replace(tzinfo=site_tz)


def device_time_of(event: ChainedEvent, site_tz: tzinfo) -> datetime | None:
    """The device time as readers use it. The stored value stays as recorded: the hash covers it."""
    return at_site(event.device_time, site_tz) if event.device_time is not None else None


def event_digest(event: ChainedEvent) -> str:
    """The hash an event must carry: over every field but the hash itself, chained by `prev_hash`."""
    fields = {k: v for k, v in vars(event).items() if k != "event_hash"}
    return chain_hash(event.prev_hash, type(event).TOPIC, fields)


def command_metadata(ctx: CommandContext) -> dict[str, Any]:
    return {
        "actor_id": ctx.actor.user_id,
        "actor_role": str(ctx.actor.role),
        "device_id": ctx.device_id,
        "command_id": ctx.command_id,
        "device_time": ctx.device_time,
        "request_id": ctx.request_id,
    }


# Immutable leaves of aggregate state, told by exact type: copied by reference without a call per leaf (most of
# an aggregate's values), which was most of what copying a cached aggregate cost on every command
_LEAVES = frozenset({str, int, bool, float, type(None), UUID, Decimal, datetime, date})


def _copy_state(value: Any) -> Any:
    """Copy the containers of aggregate state; leaves (str, UUID, Decimal, datetime, frozen) are immutable."""
    if isinstance(value, dict):
        return {k: v if type(v) in _LEAVES else _copy_state(v) for k, v in value.items()}
    if isinstance(value, list):
        return [v if type(v) in _LEAVES else _copy_state(v) for v in value]
    return value


class ChainedAggregate(Aggregate):
    """An aggregate whose events form a hash chain; `chain_head` is the hash of the latest event."""

    def __deepcopy__(self, memo: dict[int, Any]) -> Self:
        """The repository copies a cached aggregate per command; state is plain data, so copy it fast."""
        copied = object.__new__(type(self))
        copied.__dict__.update({k: _copy_state(v) for k, v in self.__dict__.items()})
        return copied

    if TYPE_CHECKING:  # state set by the events' apply(); not dataclass fields
        chain_head: str

    @classmethod
    def _create(
        cls,
        event_class: type[CanInitAggregate[UUID]],
        *,
        id: UUID | None = None,
        **kwargs: Any,
    ) -> Self:
        if id is None or not issubclass(event_class, ChainedEvent):
            raise TypeError(f"{cls.__name__} is created by a ChainedEvent, with an id")
        kwargs.setdefault("timestamp", event_class.create_timestamp())
        draft = event_class(
            originator_id=id,
            originator_version=cls.INITIAL_VERSION,
            originator_topic=get_topic(cls),
            prev_hash=GENESIS_HASH,
            event_hash="",
            **kwargs,
        )
        digest = event_digest(draft)
        return super()._create(
            event_class, id=id, prev_hash=GENESIS_HASH, event_hash=digest, **kwargs
        )

    def trigger_event(self, event_class: type[Any], **kwargs: Any) -> None:
        kwargs.setdefault("timestamp", event_class.create_timestamp())
        draft = event_class(
            originator_id=self.id,
            originator_version=self.version + 1,
            prev_hash=self.chain_head,
            event_hash="",
            **kwargs,
        )
        digest = event_digest(draft)
        super().trigger_event(event_class, prev_hash=self.chain_head, event_hash=digest, **kwargs)

    def record(self, event_class: type[ChainedEvent], ctx: CommandContext, **payload: Any) -> None:
        """Trigger an event stamped with the command's metadata."""
        self.trigger_event(event_class, **command_metadata(ctx), **payload)


@dataclass(frozen=True)
class ChainReport:
    """The result of checking a log: where it breaks, if it does."""

    valid: bool
    events: int
    head: str
    broken_at_version: int | None = None
    reason: str | None = None

    def as_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {"valid": self.valid, "events": self.events, "head": self.head}
        if not self.valid:
            data |= {"broken_at_version": self.broken_at_version, "reason": self.reason}
        return data


def verify_chain(events: Iterable[Any]) -> ChainReport:
    """Recompute every hash: an edited, inserted or removed event (except the newest) breaks the chain."""
    head, count, expected_version = GENESIS_HASH, 0, 1
    for event in events:
        version = event.originator_version
        if version != expected_version:
            return ChainReport(False, count, head, expected_version, "version_gap")
        if not isinstance(event, ChainedEvent):
            return ChainReport(False, count, head, version, "not_a_chained_event")
        if event.prev_hash != head:
            return ChainReport(False, count, head, version, "prev_hash_mismatch")
        if event_digest(event) != event.event_hash:
            return ChainReport(False, count, head, version, "hash_mismatch")
        head, count, expected_version = event.event_hash, count + 1, version + 1
    return ChainReport(True, count, head)
