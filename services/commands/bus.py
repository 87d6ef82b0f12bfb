"""The one path every front door takes to act: the JSON API, /batch, and the pages' forms to come.

A front door turns its request into a `Command` and an `Envelope` (who is asking is its own business:
a token, a session) and calls `CommandBus.handle` (or `handle_many`). It gets an `Outcome` back, or a
named error: a `DomainError` (a rule) or an `ApiError` (a device clock too far ahead, a photo out of
scope). The checks run here once, in one order: the device clock, the role (403 before any photo is
looked at), the photos the command cites, then the unit of work (idempotency, retries, the save).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import cast
from uuid import uuid4

from domain.actors import CommandContext
from domain.application import SiteLedger
from domain.commands import Command, ItemCommand
from domain.errors import DomainError
from domain.handlers import authorize
from services.api.errors import ApiError
from services.commands.unit_of_work import Outcome, UnitOfWork
from services.observability import COMMAND_SECONDS, EVENTS_APPENDED, REQUEST_ID
from services.photos.service import PhotoService
from services.users import User

log = logging.getLogger("siteledger.commands")


@dataclass(frozen=True)
class Envelope:
    """What a front door knows about a command besides the command: its id, device, clock and version."""

    idempotency_key: str | None = None  # the client's command id; None: the server makes one (no replay)
    device_id: str | None = None
    recorded_at: datetime | None = None  # the device's clock when the fact was recorded
    expected_version: int | None = None  # If-Match
    request_id: str | None = None


def command_context(user: User, envelope: Envelope) -> CommandContext:
    return CommandContext(
        actor=user.actor, command_id=envelope.idempotency_key or f"server-{uuid4()}",
        device_id=envelope.device_id, device_time=envelope.recorded_at,
        expected_version=envelope.expected_version, request_id=REQUEST_ID.get() or envelope.request_id,
    )


def cited_photos(command: Command) -> list[str]:
    """Every photo id a command cites: its own `photos` and those of defects raised with it."""
    photos = list(getattr(command, "photos", []) or [])
    for draft in getattr(command, "defects", []) or []:
        photos.extend(draft.photos)
    return photos


def observe(outcome: Outcome, ctx: CommandContext, seconds: float) -> None:
    COMMAND_SECONDS.labels(outcome.command).observe(seconds)
    if not outcome.replayed:
        for event in outcome.events:
            EVENTS_APPENDED.labels(event["type"]).inc()
    log.info("command", extra={"command": outcome.command, "command_id": ctx.command_id,
                               "aggregate_id": outcome.aggregate_id, "version": outcome.version,
                               "replayed": outcome.replayed, "position": outcome.position})


Refusal = DomainError | ApiError


class CommandBus:
    """Built once per process by the composition root; front doors share it (and its unit of work)."""

    def __init__(self, ledger: SiteLedger, photos: PhotoService, device_time_max_ahead_hours: float,
                 after_commit: Callable[[], None] = lambda: None) -> None:
        self.ledger, self.photos = ledger, photos
        self.unit_of_work = UnitOfWork.for_app(ledger)
        self.max_ahead_hours = device_time_max_ahead_hours
        self.after_commit = after_commit  # wakes the read models

    def check_device_time(self, recorded_at: datetime | None) -> None:
        """A device clock may run ahead of the server only by the configured margin (the domain has no clock)."""
        if recorded_at is None:
            return
        ahead = recorded_at - datetime.now(UTC)
        if ahead > timedelta(hours=self.max_ahead_hours):
            raise ApiError(422, "device_time_in_future", "The device time is too far ahead of the server",
                           f"recorded_at（设备时间）比服务器时间快 {ahead.total_seconds() / 3600:.1f} 小时，超过允许的 "
                           f"{self.max_ahead_hours:g} 小时；请校准设备时钟后重试",
                           max_ahead_hours=self.max_ahead_hours)

    def check_photos(self, user: User, command: Command) -> None:
        """A command may cite only photos stored for its project (the role is checked first: 403 before 422)."""
        cited = cited_photos(command)
        if cited:
            authorize(user.actor, command)
            project_id = getattr(command, "project_id", None)
            if project_id is None:  # then it is an item's command
                project_id = self.ledger.item_in_scope(user.actor, cast(ItemCommand, command).item_id)[1].id
            self.photos.require(user, project_id, cited)

    def admit(self, user: User, command: Command, envelope: Envelope) -> CommandContext:
        """Everything checked before the unit of work: the context the command will run in."""
        self.check_device_time(envelope.recorded_at)
        ctx = command_context(user, envelope)
        self.check_photos(user, command)
        return ctx

    def handle(self, user: User, command: Command, envelope: Envelope) -> Outcome:
        """Run one command; a replay (same idempotency key) gets the first outcome back."""
        ctx = self.admit(user, command, envelope)
        started = time.perf_counter()
        outcome = self.unit_of_work.execute(ctx, command)
        observe(outcome, ctx, time.perf_counter() - started)
        self.after_commit()
        return outcome

    def handle_many(self, user: User, entries: Sequence[tuple[Command, Envelope] | Refusal]
                    ) -> list[Outcome | Refusal]:
        """Run a queue in order, saved together where it can be; a refusal stops only its own command.
        An entry the front door could not even turn into a command comes as its refusal and stays one."""
        results: list[Outcome | Refusal | None] = [None] * len(entries)
        runnable: list[tuple[int, CommandContext, Command]] = []
        for index, entry in enumerate(entries):
            if isinstance(entry, DomainError | ApiError):
                results[index] = entry
                continue
            command, envelope = entry
            try:
                runnable.append((index, self.admit(user, command, envelope), command))
            except (DomainError, ApiError) as error:
                results[index] = error
        started = time.perf_counter()
        outcomes = self.unit_of_work.execute_many([(ctx, command) for _, ctx, command in runnable])
        seconds = (time.perf_counter() - started) / max(len(runnable), 1)
        for (index, ctx, _), outcome in zip(runnable, outcomes, strict=True):
            if isinstance(outcome, Outcome):
                observe(outcome, ctx, seconds)
            results[index] = outcome
        self.after_commit()
        return [r for r in results if r is not None]
