"""The SiteLedger application: executes commands idempotently and answers the domain's queries."""

from __future__ import annotations

import contextlib
import random
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, fields
from typing import Any, ClassVar
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError, Application
from eventsourcing.domain import Aggregate
from eventsourcing.persistence import IntegrityError, JSONTranscoder

from domain.actors import Actor, CommandContext
from domain.canonical import canonical_bytes, sha256_hex
from domain.chain import ChainReport, verify_chain
from domain.commands import Command
from domain.errors import DomainError
from domain.handlers import HANDLERS, Change
from domain.permissions import ACTION_NAMES_ZH, PERMITTED, may_see
from domain.project import Project
from domain.receipt import CommandReceipt
from domain.rules import (
    ConcurrencyConflict,
    OutOfScope,
    ProjectNotFound,
    RoleNotPermitted,
    WorksItemNotFound,
)
from domain.templates.catalog import TemplateCatalog, builtin_catalog
from domain.templates.frozen import FrozenTemplateAsDict
from domain.works_item import WorksItem

MAX_ATTEMPTS = 8
LOCK_STRIPES = 64


@dataclass(frozen=True)
class Outcome:
    """What a command did; a retried command gets the same outcome back with `replayed` set."""

    command: str
    aggregate_id: str
    version: int
    events: list[dict[str, Any]]
    result: dict[str, Any]
    replayed: bool = False
    position: int | None = None

    def as_dict(self) -> dict[str, Any]:
        return {f.name: getattr(self, f.name) for f in fields(self)}


def _with_position(outcome: Outcome, recordings: list[Any], aggregate_ids: set[Any]) -> Outcome:
    """The log position of this command's own events (for ?after= read-your-writes)."""
    positions = [r.notification.id for r in recordings
                 if r.notification.id and r.notification.originator_id in aggregate_ids]
    return Outcome(**{**outcome.as_dict(), "position": max(positions, default=None)})


def command_fingerprint(command: Command) -> str:
    return sha256_hex(canonical_bytes([type(command).__name__, command.model_dump(mode="json")]))


class SiteLedger(Application):
    """Snapshots every 100 events and a cache keep a command's cost flat however long the item's log."""

    name = "SiteLedger"
    env: ClassVar[dict[str, str]] = {"AGGREGATE_CACHE_MAXSIZE": "2000"}
    snapshotting_intervals: ClassVar[dict[type, int]] = {WorksItem: 100, Project: 100}

    def __init__(self, env: dict[str, str] | None = None,
                 catalog: TemplateCatalog | None = None) -> None:
        super().__init__(env)
        self.catalog = catalog or builtin_catalog()
        self._stripes = [threading.Lock() for _ in range(LOCK_STRIPES)]
        self._load_stripes = [threading.Lock() for _ in range(LOCK_STRIPES)]

    def _stripe(self, command: Command) -> threading.Lock | contextlib.nullcontext[None]:
        """Commands on one aggregate queue up inside a process instead of racing to a version conflict;
        across processes the store's unique key still decides, and the loser retries."""
        target = getattr(command, "item_id", None) or getattr(command, "project_id", None)
        if target is None:
            return contextlib.nullcontext()
        return self._stripes[hash(target) % LOCK_STRIPES]

    def register_transcodings(self, transcoder: JSONTranscoder) -> None:
        super().register_transcodings(transcoder)
        transcoder.register(FrozenTemplateAsDict())

    # --- commands ------------------------------------------------------------------------

    def execute(self, ctx: CommandContext, command: Command) -> Outcome:
        """Run a command once: a retry with the same command id returns the first outcome."""
        self.authorize(ctx.actor, command)
        fingerprint = command_fingerprint(command)
        with self._stripe(command):
            return self._execute(ctx, command, fingerprint)

    @staticmethod
    def authorize(actor: Actor, command: Command) -> None:
        """The role table, checked before anything is loaded (the API also asks before touching photos)."""
        kind = type(command)
        if actor.role not in PERMITTED[kind]:
            raise RoleNotPermitted(role=str(actor.role), action=ACTION_NAMES_ZH[kind])

    def _prepare(self, ctx: CommandContext, command: Command, fingerprint: str) -> tuple[Change, Outcome, Aggregate]:
        """Run the handler (nothing saved yet): the changed aggregates, the outcome, and the receipt."""
        kind = type(command)
        change = HANDLERS[kind](self, ctx, command)
        pending = [e for agg in [change.target, *change.also] for e in agg.pending_events]
        outcome = Outcome(
            command=kind.__name__,
            aggregate_id=str(change.target.id),
            version=change.target.version,
            events=[{"version": e.originator_version, "type": type(e).__name__,
                     "aggregate_id": str(e.originator_id)} for e in pending],
            result=change.result,
        )
        receipt = CommandReceipt.issue(
            ctx.actor.user_id, ctx.command_id, kind.__name__, fingerprint,
            {k: v for k, v in outcome.as_dict().items() if k not in ("replayed", "position")},
        )
        return change, outcome, receipt

    def _execute(self, ctx: CommandContext, command: Command, fingerprint: str) -> Outcome:
        for attempt in range(MAX_ATTEMPTS):
            try:
                change, outcome, receipt = self._prepare(ctx, command, fingerprint)
            except DomainError:
                replayed = self._replay(ctx, fingerprint)
                if replayed is not None:
                    return replayed
                raise
            try:
                recordings = self.save(change.target, *change.also, receipt)
            except IntegrityError:
                replayed = self._replay(ctx, fingerprint)
                if replayed is not None:
                    return replayed
                if ctx.expected_version is not None:
                    current = self._load(change.target.id).version
                    raise ConcurrencyConflict(current=current,
                                              expected=ctx.expected_version) from None
                time.sleep(random.uniform(0, 0.005 * 2**attempt))  # another process won: back off, retry
                continue
            return _with_position(outcome, recordings, {change.target.id, *(a.id for a in change.also)})
        raise ConcurrencyConflict(current="?", expected="?")

    def execute_many(self, commands: Sequence[tuple[CommandContext, Command]]) -> list[Outcome | DomainError]:
        """Many commands (a tablet's queue), saved together in as few transactions as possible.

        Each keeps its own receipt, so each stays idempotent. A command on an aggregate already changed
        in this batch first saves what came before it; if a combined save meets a conflict (another
        writer, a command id repeated in the batch), those commands run again one by one."""
        results: list[Outcome | DomainError | None] = [None] * len(commands)
        pending: list[tuple[int, Change, Outcome, Aggregate]] = []

        def flush() -> None:
            if not pending:
                return
            try:
                recordings = self.save(*[a for _, change, _, receipt in pending
                                         for a in (change.target, *change.also, receipt)])
                for index, change, outcome, _ in pending:
                    results[index] = _with_position(outcome, recordings,
                                                    {change.target.id, *(a.id for a in change.also)})
            except IntegrityError:
                for index, *_ in pending:
                    results[index] = self._one(*commands[index])
            pending.clear()

        for index, (ctx, command) in enumerate(commands):
            touched = {a.id for _, change, _, _ in pending for a in (change.target, *change.also)}
            target = getattr(command, "item_id", None) or getattr(command, "project_id", None)
            if target in touched:
                flush()
            try:
                self.authorize(ctx.actor, command)
                fingerprint = command_fingerprint(command)
                change, outcome, receipt = self._prepare(ctx, command, fingerprint)
            except DomainError as error:
                results[index] = self._replay(ctx, command_fingerprint(command)) or error
                continue
            if {change.target.id, *(a.id for a in change.also)} & touched:
                results[index] = self._one(ctx, command)  # touched something earlier in the batch indirectly
                continue
            pending.append((index, change, outcome, receipt))
        flush()
        return [r if r is not None else ConcurrencyConflict(current="?", expected="?") for r in results]

    def _one(self, ctx: CommandContext, command: Command) -> Outcome | DomainError:
        try:
            return self.execute(ctx, command)
        except DomainError as error:
            return error

    def _replay(self, ctx: CommandContext, fingerprint: str) -> Outcome | None:
        try:
            receipt: CommandReceipt = self.repository.get(
                CommandReceipt.id_for(ctx.actor.user_id, ctx.command_id)
            )
        except AggregateNotFoundError:
            return None
        return Outcome(**receipt.replay(fingerprint), replayed=True)

    # --- loading, with scope -----------------------------------------------------------------

    def _load(self, aggregate_id: UUID) -> Aggregate:
        """A private copy of the aggregate, never one caught mid-update.

        The library fast-forwards the one cached object in place, under its own lock, but copies it
        after letting go; and a shared (uncopied) object changes under a reader whenever another thread
        loads it. Every load in this process passes this stripe, so no fast-forward runs during a copy."""
        with self._load_stripes[hash(aggregate_id) % LOCK_STRIPES]:
            return self.repository.get(aggregate_id)  # copies (deepcopy_from_cache) inside the stripe

    def get_project(self, project_id: UUID | str, for_update: bool = False) -> Project:
        """Every load is a private copy (`for_update` is kept for callers; reads and commands load alike)."""
        project_id = UUID(str(project_id))
        try:
            project = self._load(project_id)
        except AggregateNotFoundError:
            raise ProjectNotFound(project_id=project_id) from None
        if not isinstance(project, Project):
            raise ProjectNotFound(project_id=project_id)
        return project

    def get_item(self, item_id: UUID | str, for_update: bool = False) -> WorksItem:
        item_id = UUID(str(item_id))
        try:
            item = self._load(item_id)
        except AggregateNotFoundError:
            raise WorksItemNotFound(item_id=item_id) from None
        if not isinstance(item, WorksItem):
            raise WorksItemNotFound(item_id=item_id)
        return item

    def project_in_scope(self, actor: Actor, project_id: UUID, for_update: bool = False) -> Project:
        project = self.get_project(project_id, for_update)
        if not may_see(actor, project):
            raise OutOfScope()
        return project

    def item_in_scope(self, actor: Actor, item_id: UUID, for_update: bool = False) -> tuple[WorksItem, Project]:
        item = self.get_item(item_id, for_update)
        return item, self.project_in_scope(actor, item.project_id)

    # --- the log -------------------------------------------------------------------------------

    def item_events(self, item_id: UUID | str, after_version: int = 0, limit: int = 100) -> list[Any]:
        return list(self.events.get(UUID(str(item_id)), gt=after_version or None, limit=limit))

    def verify(self, aggregate_id: UUID | str) -> ChainReport:
        """Check the stored log itself, decoding record by record: an unreadable record is a break."""
        events = []
        for record in self.recorder.select_events(UUID(str(aggregate_id))):
            try:
                events.append(self.mapper.to_domain_event(record))
            except Exception as error:  # a tampered record may not even decode
                so_far = verify_chain(events)
                reason = f"undecodable: {type(error).__name__}"
                return ChainReport(False, so_far.events, so_far.head,
                                   record.originator_version, reason)
        return verify_chain(events)
