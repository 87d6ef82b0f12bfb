"""Command receipts: saved atomically with the command's events, so a retried command appends nothing."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate
from eventsourcing.utils import get_topic

from domain.rules import IdempotencyKeyReused

RECEIPT_NAMESPACE = uuid5(NAMESPACE_URL, "https://siteledger.example/command-receipts")


class CommandReceipt(Aggregate):
    """One per (actor, command id): the store's unique (id, version) key makes a second one impossible."""

    TOPIC = "siteledger:CommandReceipt"

    class Event(Aggregate.Event):
        TOPIC = "siteledger.receipt:Event"

    class Issued(Event, Aggregate.Created):
        TOPIC = "siteledger.receipt:Issued"
        command: str
        fingerprint: str
        outcome: dict[str, Any]

        if TYPE_CHECKING:  # eventsourcing's metaclass makes every subclass a dataclass of its fields
            def __init__(self, *args: Any, **fields: Any) -> None: ...

        def apply(self, receipt: Any) -> None:
            receipt.command = self.command
            receipt.fingerprint = self.fingerprint
            receipt.outcome = self.outcome

    Created = Issued

    if TYPE_CHECKING:  # state set by the events' apply(); not dataclass fields
        command: str
        fingerprint: str
        outcome: dict[str, Any]

    @staticmethod
    def id_for(actor_id: UUID, command_id: str) -> UUID:
        return uuid5(RECEIPT_NAMESPACE, f"{actor_id}/{command_id}")

    @classmethod
    def issue(
        cls, actor_id: UUID, command_id: str, command: str, fingerprint: str,
        outcome: dict[str, Any],
    ) -> CommandReceipt.Issued:
        """The receipt's one event, as the library's `_create` makes it, saved beside the command's events.

        The aggregate itself is not built: nothing reads it in the command that issues it (a retry loads it from
        the store), and building it (the library's checks, the event applied) was half of issuing a receipt."""
        return cls.Issued(
            originator_id=cls.id_for(actor_id, command_id), originator_version=cls.INITIAL_VERSION,
            timestamp=cls.Issued.create_timestamp(), originator_topic=RECEIPT_TOPIC, command=command,
            fingerprint=fingerprint, outcome=outcome,
        )

    def replay(self, fingerprint: str) -> dict[str, Any]:
        if fingerprint != self.fingerprint:
            raise IdempotencyKeyReused()
        return self.outcome


RECEIPT_TOPIC = get_topic(CommandReceipt)
