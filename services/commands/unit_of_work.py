"""Saving what a command decided: once per command id, retried when another writer won, batched.

The application (`domain/application.py`) only loads and saves; the handlers only decide. This is
where a command's events are saved with its receipt in one transaction (so a retried command appends
nothing and gets the first outcome back), where commands on one aggregate queue up in this process,
where a lost race is retried with backoff, and where a tablet's queue is saved in few transactions.
"""

from __future__ import annotations

import random
import threading
import time
import weakref
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from eventsourcing.application import AggregateNotFoundError
from eventsourcing.domain import Aggregate
from eventsourcing.persistence import IntegrityError

from domain.actors import CommandContext
from domain.application import SiteLedger
from domain.canonical import canonical_bytes, sha256_hex
from domain.commands import Command
from domain.errors import DomainError
from domain.handlers import Change, authorize, decide
from domain.receipt import CommandReceipt
from domain.rules import ConcurrencyConflict

MAX_ATTEMPTS = 8
LOCK_STRIPES = 64
MAX_GROUP = 32  # commands saved together at most, when they queue on one stripe


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
        return {**self.recorded(), "replayed": self.replayed, "position": self.position}

    def recorded(self) -> dict[str, Any]:
        """What the command's receipt keeps, and a retry gets back."""
        return {"command": self.command, "aggregate_id": self.aggregate_id, "version": self.version,
                "events": self.events, "result": self.result}

    def at(self, position: int | None) -> Outcome:
        return Outcome(self.command, self.aggregate_id, self.version, self.events, self.result, self.replayed,
                       position)


def _newest_positions(recordings: list[Any]) -> dict[Any, int]:
    """Each saved aggregate's newest log position among these recordings (one pass over a batch's save)."""
    newest: dict[Any, int] = {}
    for recording in recordings:
        note = recording.notification
        if note.id and note.id > newest.get(note.originator_id, 0):
            newest[note.originator_id] = note.id
    return newest


def _with_position(outcome: Outcome, newest: dict[Any, int], aggregate_ids: set[Any]) -> Outcome:
    """The log position of this command's own events (for ?after= read-your-writes)."""
    return outcome.at(max((newest[a] for a in aggregate_ids if a in newest), default=None))


def command_fingerprint(command: Command) -> str:
    return sha256_hex(canonical_bytes([type(command).__name__, command.model_dump(mode="json")]))


def _touched(change: Change) -> set[Any]:
    return {change.target.id, *(a.id for a in change.also)}


def _target(command: Command) -> Any:
    return getattr(command, "item_id", None) or getattr(command, "project_id", None)


class _Ticket:
    """A command waiting on its stripe; whichever thread holds the stripe next settles it (maybe in a group)."""

    __slots__ = ("command", "ctx", "done", "error", "fingerprint", "outcome")

    def __init__(self, ctx: CommandContext, command: Command, fingerprint: str) -> None:
        self.ctx, self.command, self.fingerprint = ctx, command, fingerprint
        self.outcome: Outcome | None = None
        self.error: Exception | None = None
        self.done = False

    def settle(self, result: Outcome | Exception) -> None:
        if isinstance(result, Exception):
            self.error = result
        else:
            self.outcome = result
        self.done = True

    def result(self) -> Outcome:
        if self.error is not None:
            raise self.error
        assert self.outcome is not None, "a ticket is settled before its thread reads it"
        return self.outcome


_UNITS: weakref.WeakKeyDictionary[SiteLedger, UnitOfWork] = weakref.WeakKeyDictionary()
_UNITS_LOCK = threading.Lock()


class UnitOfWork:
    """One per application in a process (`for_app`), so every front door queues on the same stripes."""

    def __init__(self, app: SiteLedger) -> None:
        self.app = app
        self._stripes = [threading.Lock() for _ in range(LOCK_STRIPES)]
        self._queued: list[list[_Ticket]] = [[] for _ in range(LOCK_STRIPES)]
        self._queued_lock = threading.Lock()

    @classmethod
    def for_app(cls, app: SiteLedger) -> UnitOfWork:
        with _UNITS_LOCK:
            unit = _UNITS.get(app)
            if unit is None:
                unit = _UNITS[app] = cls(app)
            return unit

    def execute(self, ctx: CommandContext, command: Command) -> Outcome:
        """Run a command once: a retry with the same command id returns the first outcome.

        Commands on one aggregate queue on its stripe inside a process instead of racing to a version conflict
        (across processes the store's unique key still decides, and the loser retries). The thread that gets
        the stripe takes every command queued there by then and settles them all, together when there are
        several (`_run_group`): one commit, so one disk flush, for the lot. A command's thread that finds its
        command settled returns its outcome (or raises its refusal)."""
        authorize(ctx.actor, command)
        fingerprint = command_fingerprint(command)
        target = _target(command)
        if target is None:
            return self._execute(ctx, command, fingerprint)
        index = hash(target) % LOCK_STRIPES
        ticket = _Ticket(ctx, command, fingerprint)
        with self._queued_lock:
            self._queued[index].append(ticket)
        with self._stripes[index]:
            while not ticket.done:
                with self._queued_lock:
                    queued = self._queued[index]
                    batch, self._queued[index] = queued[:MAX_GROUP], queued[MAX_GROUP:]
                try:
                    self._run(batch)
                except Exception as error:  # the group's save failed: nothing of it is stored, each says so
                    for queued_ticket in batch:
                        if not queued_ticket.done:
                            queued_ticket.settle(error)
                except BaseException:  # interrupted: the others go back to the front of the queue
                    others = [t for t in batch if not t.done and t is not ticket]
                    with self._queued_lock:
                        self._queued[index][:0] = others
                    raise
        return ticket.result()

    def _run(self, batch: list[_Ticket]) -> None:
        if len(batch) > 1:
            self._run_group(batch)
            return
        for ticket in batch:
            try:
                ticket.settle(self._execute(ticket.ctx, ticket.command, ticket.fingerprint))
            except Exception as error:  # the command's own thread raises it
                ticket.settle(error)

    def _run_group(self, batch: list[_Ticket]) -> None:
        """Decide the commands one after another, each on what the ones before it decided (not saved yet:
        `SiteLedger.overlaid`), then save every changed aggregate and every receipt in one transaction.

        A command refused is refused on the state the commands before it leave, exactly as if they had been
        saved first. If the save meets a conflict (another process wrote, a command id given twice, a retry of
        a saved command), nothing of it is stored, and each command runs again on its own."""
        latest: dict[Any, Aggregate] = {}
        decided: list[tuple[_Ticket, Outcome, list[Any]]] = []
        refused: list[tuple[_Ticket, DomainError]] = []
        receipts: list[CommandReceipt.Issued] = []
        with self.app.overlaid(latest):
            for ticket in batch:
                before = {aggregate_id: len(agg.pending_events) for aggregate_id, agg in latest.items()}
                try:
                    change, outcome, receipt = self._prepare(ticket.ctx, ticket.command, ticket.fingerprint, before)
                except DomainError as error:
                    refused.append((ticket, error))
                    continue
                except Exception as error:  # not a rule: a fault, the command's own thread raises it
                    ticket.settle(error)
                    continue
                changed = [change.target, *change.also]
                decided.append((ticket, outcome,
                                [e for agg in changed for e in agg.pending_events[before.get(agg.id, 0):]]))
                receipts.append(receipt)
                latest.update((agg.id, agg) for agg in changed)
        if decided:
            try:
                recordings = self.app.save(*latest.values(), *receipts)
            except IntegrityError:
                for ticket in batch:
                    if not ticket.done:
                        self._run([ticket])
                return
            positions = {id(r.domain_event): r.notification.id for r in recordings if r.notification.id}
            for ticket, outcome, events in decided:
                own = [positions[id(e)] for e in events if id(e) in positions]
                ticket.settle(outcome.at(max(own, default=None)))
            self.app.remember(*latest.values())
        for ticket, refusal in refused:
            ticket.settle(self._replay(ticket.ctx, ticket.fingerprint) or refusal)

    def _prepare(self, ctx: CommandContext, command: Command, fingerprint: str,
                 before: dict[Any, int] | None = None) -> tuple[Change, Outcome, CommandReceipt.Issued]:
        """Run the handler (nothing saved yet): the changed aggregates, the outcome, and the receipt.
        `before`: how many unsaved events an aggregate already had when loaded (in a group), not this command's."""
        name = type(command).__name__
        change = decide(self.app, ctx, command)
        before = before or {}
        pending = [e for agg in [change.target, *change.also] for e in agg.pending_events[before.get(agg.id, 0):]]
        outcome = Outcome(
            command=name,
            aggregate_id=str(change.target.id),
            version=change.target.version,
            events=[{"version": e.originator_version, "type": type(e).__name__,
                     "aggregate_id": str(e.originator_id)} for e in pending],
            result=change.result,
        )
        receipt = CommandReceipt.issue(ctx.actor.user_id, ctx.command_id, name, fingerprint, outcome.recorded())
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
                recordings = self.app.save(change.target, *change.also, receipt)
            except IntegrityError:
                replayed = self._replay(ctx, fingerprint)
                if replayed is not None:
                    return replayed
                if ctx.expected_version is not None:
                    current = self.app.current_version(change.target.id)
                    raise ConcurrencyConflict(current=current, expected=ctx.expected_version) from None
                time.sleep(random.uniform(0, 0.005 * 2**attempt))  # another process won: back off, retry
                continue
            self.app.remember(change.target, *change.also)  # ours now: nothing reads or changes them after
            return _with_position(outcome, _newest_positions(recordings), _touched(change))
        raise ConcurrencyConflict(current="?", expected="?")

    def execute_many(self, commands: Sequence[tuple[CommandContext, Command]]) -> list[Outcome | DomainError]:
        """Many commands (a tablet's queue), saved together in as few transactions as possible.

        Each keeps its own receipt, so each stays idempotent. A command on an aggregate already changed
        in this batch first saves what came before it; if a combined save meets a conflict (another
        writer, a command id repeated in the batch), those commands run again one by one."""
        results: list[Outcome | DomainError | None] = [None] * len(commands)
        pending: list[tuple[int, Change, Outcome, CommandReceipt.Issued]] = []
        touched: set[Any] = set()  # what the pending commands change, kept as they are added (not rescanned)

        def flush() -> None:
            if not pending:
                return
            try:
                recordings = self.app.save(*[a for _, change, _, receipt in pending
                                             for a in (change.target, *change.also, receipt)])
                newest = _newest_positions(recordings)
                for index, change, outcome, _ in pending:
                    self.app.remember(change.target, *change.also)
                    results[index] = _with_position(outcome, newest, _touched(change))
            except IntegrityError:
                for index, *_ in pending:
                    results[index] = self._one(*commands[index])
            pending.clear()
            touched.clear()

        for index, (ctx, command) in enumerate(commands):
            if _target(command) in touched:
                flush()
            fingerprint = command_fingerprint(command)
            try:
                authorize(ctx.actor, command)
                change, outcome, receipt = self._prepare(ctx, command, fingerprint)
            except DomainError as error:
                results[index] = self._replay(ctx, fingerprint) or error
                continue
            changed = _touched(change)
            if changed & touched:
                results[index] = self._one(ctx, command)  # touched something earlier in the batch indirectly
                continue
            pending.append((index, change, outcome, receipt))
            touched |= changed
        flush()
        return [r if r is not None else ConcurrencyConflict(current="?", expected="?") for r in results]

    def _one(self, ctx: CommandContext, command: Command) -> Outcome | DomainError:
        try:
            return self.execute(ctx, command)
        except DomainError as error:
            return error

    def _replay(self, ctx: CommandContext, fingerprint: str) -> Outcome | None:
        try:
            receipt: CommandReceipt = self.app.repository.get(CommandReceipt.id_for(ctx.actor.user_id, ctx.command_id))
        except AggregateNotFoundError:
            return None
        return Outcome(**receipt.replay(fingerprint), replayed=True)
