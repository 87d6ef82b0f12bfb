"""Keeps read models caught up: in a thread of `serve`, or as its own process (`siteledger projections run`)."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from projections.driver import (
    EventStoreDriver,
    PositionMoved,
    Stuck,
    describe,
    rebuild_together,
    step_together,
)

log = logging.getLogger("siteledger.projections")


@dataclass(frozen=True)
class Failing:
    """A read model that could not apply its next event: shown, counted, retried later and later."""

    stuck: Stuck
    since: datetime  # the first failure at this position (wall clock, for people)
    attempts: int
    retry_at: float  # monotonic

    def as_dict(self, now: float) -> dict[str, Any]:
        return {"position": self.stuck.position, "event_type": self.stuck.event_type, "error": self.stuck.error,
                "since": self.since.isoformat(), "attempts": self.attempts,
                "retry_in_s": round(max(self.retry_at - now, 0.0), 3)}


class ProjectionRunner:
    """One read model failing never stops the others: it backs off (exponentially, capped) and says why."""

    def __init__(self, drivers: list[EventStoreDriver], interval_s: float = 0.5, min_gap_s: float = 0.05,
                 max_gap_s: float = 0.2, busy_batch: int = 20, fed_by_kafka: bool = False,
                 backoff_s: tuple[float, float] = (0.5, 60.0),
                 on_failure: Callable[[str], None] | None = None,
                 clock: Callable[[], float] = time.monotonic, decoder_env: dict[str, str] | None = None) -> None:
        self.drivers = {d.name: d for d in drivers}
        self.decoder_env = decoder_env  # the event store's settings: `rebuild_all` decodes in a child process
        self.backoff_s = backoff_s  # first delay, longest delay
        self.on_failure = on_failure  # e.g. count it in a metric
        self.clock = clock
        self.failing: dict[str, Failing] = {}
        self._failing_lock = threading.Lock()
        self.fed_by_kafka = fed_by_kafka  # another process applies events from Kafka: only watch, never apply
        self.interval_s = interval_s
        # Under load, let events gather: one pass (~1.5 ms of fixed cost: queries, eight flushes, a commit) serves
        # many commands, not a few (`_next_gap`). A reader waiting for its own write (`wait_for`) cuts a gap short.
        self.min_gap_s, self.max_gap_s, self.busy_batch = min_gap_s, max_gap_s, busy_batch
        self._gap = min_gap_s
        self._wake = threading.Event()
        self._hurry = threading.Event()  # someone waits for a position: no gap
        self._progress = threading.Condition()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def run_once(self) -> int:
        """One round; returns how many events the read models applied together in it."""
        applied, caught_up = self._together()
        for driver in self.drivers.values():  # the rest, and each on its own if a pass together failed
            if driver.name in caught_up:
                self._recovered(driver)
            else:
                self._attempt(driver)
        with self._progress:
            self._progress.notify_all()
        return applied

    def _together(self) -> tuple[int, set[str]]:
        """The read models due to run that stand at one position go on in one pass over the log (each event read
        and decoded once, one commit for all); one that fails, or lags, is left to its own catch-up (`_attempt`).

        Returns how many events the pass applied and the names it brought to the log's end. Those are not caught
        up again on their own in this round: events that arrived during the pass wait for the next one (a command's
        save wakes it), instead of each read model reading, decoding and committing them alone, a write transaction
        and a disk flush each, competing with the commands for the database's write lock (profiled: two thirds of
        this thread's time)."""
        if self.fed_by_kafka:
            return 0, set()
        now = self.clock()
        due = [d for d in self.drivers.values()
               if (f := self.failing.get(d.name)) is None or now >= f.retry_at]
        if len(due) < 2:
            return 0, set()
        positions = {str(name): int(position) for name, position in
                     due[0].db.query("SELECT name, position FROM projection_tracking")}
        by_position: dict[int, list[EventStoreDriver]] = {}
        for driver in due:
            by_position.setdefault(positions.get(driver.name, -1), []).append(driver)
        group = max(by_position.values(), key=len)
        if len(group) < 2:
            return 0, set()
        applied = 0
        try:
            while done := step_together(group):
                applied += done
        except PositionMoved:  # a reader's `refresh` moved one on: they no longer stand together, each goes alone
            return applied, set()
        except Exception:  # which model failed, and why, is found and recorded by its own catch-up next
            log.debug("a pass together failed; the read models go on alone", exc_info=True)
            return applied, set()
        return applied, {d.name for d in group}

    def _attempt(self, driver: EventStoreDriver) -> None:
        """Catch one read model up, unless it is failing and its next retry is not due yet."""
        previous = self.failing.get(driver.name)
        if previous is not None and self.clock() < previous.retry_at:
            return
        try:
            driver.catch_up()
        except Exception as error:  # a failing read model must not stop the others
            self._failed(driver, previous, error)
        else:
            self._recovered(driver)

    def _recovered(self, driver: EventStoreDriver) -> None:
        """It applied what it had failed on: no longer failing (said once)."""
        if driver.name in self.failing:
            with self._failing_lock:
                self.failing.pop(driver.name, None)
            log.info("projection %s recovered", driver.name, extra={"projection": driver.name})

    def _failed(self, driver: EventStoreDriver, previous: Failing | None, error: Exception) -> None:
        stuck = driver.stuck or Stuck(None, None, describe(error))
        same = previous is not None and previous.stuck.position == stuck.position
        attempts = previous.attempts + 1 if previous is not None and same else 1
        first, longest = self.backoff_s
        delay = min(first * 2 ** (attempts - 1), longest)
        since = previous.since if previous is not None and same else datetime.now(UTC)
        with self._failing_lock:
            self.failing[driver.name] = Failing(stuck, since, attempts, self.clock() + delay)
        if self.on_failure is not None:
            self.on_failure(driver.name)
        log.error("projection %s cannot apply the event at position %s (%s): %s; retrying in %.1f s",
                  driver.name, stuck.position, stuck.event_type, stuck.error, delay, exc_info=error,
                  extra={"projection": driver.name, "position": stuck.position, "event_type": stuck.event_type,
                         "attempts": attempts})

    def run_forever(self) -> None:
        while not self._stop.is_set():
            self._hurry.wait(self._next_gap(self.run_once()))
            self._wake.wait(self.interval_s)
            self._hurry.clear()  # set again while this pass ran? the pass that follows covers that write too
            self._wake.clear()

    def _next_gap(self, applied: int) -> float:
        """The pause before the next round: while rounds keep finding a busy batch the pause doubles, up to
        `max_gap_s`, so one round serves more commands; a quiet round brings it back to `min_gap_s`, so a
        reader that does not ask for its own write sees read models as fresh as before when the load is light."""
        self._gap = min(self._gap * 2, self.max_gap_s) if applied >= self.busy_batch else self.min_gap_s
        return self._gap

    def start(self) -> ProjectionRunner:
        self._thread = threading.Thread(target=self.run_forever, name="projections", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._hurry.set()
        self._wake.set()
        if self._thread:
            self._thread.join(timeout=10)

    def nudge(self) -> None:
        """A command was just saved: look now rather than at the next interval."""
        self._wake.set()

    def behind(self, position: int, names: list[str] | None = None) -> int:
        if self.fed_by_kafka:
            return self._behind_kafka(position, names)
        return max((position - d.position() for n, d in self.drivers.items() if not names or n in names),
                   default=0)

    def _behind_kafka(self, position: int, names: list[str] | None) -> int:
        """Kafka has no global order: has every read model applied the event at that position (by its version)?"""
        driver = next(iter(self.drivers.values()))
        notes = driver.app.recorder.select_notifications(position, 1)
        if not notes or notes[0].id != position:
            return 0
        aggregate_id, version = str(notes[0].originator_id), notes[0].originator_version
        lagging = 0
        for name in self.drivers:
            if names and name not in names:
                continue
            try:
                rows = driver.db.query("SELECT version FROM projection_versions WHERE name = ? AND aggregate_id = ?",
                                       (name, aggregate_id))
            except Exception:  # the worker has not created its table yet: nothing applied
                rows = []
            lagging += int(not rows or int(rows[0][0]) < version)
        return lagging

    def wait_for(self, position: int, timeout_s: float, names: list[str] | None = None) -> int:
        """Block until the read models reach `position` (read-your-writes); returns how far behind they still are."""
        deadline = time.monotonic() + timeout_s
        while (lag := self.behind(position, names)) > 0:
            self._hurry.set()  # the next pass now, not after the gap that lets events gather
            self.nudge()
            remaining = deadline - time.monotonic()
            if remaining <= 0 or self._failing_past(position, names, remaining):
                return lag
            if self._thread is None and not self.fed_by_kafka:  # no background runner: do the work here
                self.run_once()
                if self.behind(position, names) == lag:  # no progress (a read model backing off): don't spin
                    self._stop.wait(min(remaining, 0.05))
                continue
            with self._progress:
                self._progress.wait(min(remaining, 0.1))
        return 0

    def _failing_past(self, position: int, names: list[str] | None, seconds: float) -> bool:
        """Every read model short of `position` is failing and will not retry within `seconds`: waiting is futile."""
        if self.fed_by_kafka:
            return False
        short = [n for n, d in self.drivers.items() if (not names or n in names) and d.position() < position]
        later = self.clock() + seconds
        return bool(short) and all((f := self.failing.get(n)) is not None and f.retry_at > later for n in short)

    def refresh(self, name: str) -> None:
        """Bring one read model up to date before a list is read from it (unless Kafka workers own it)."""
        if not self.fed_by_kafka:
            self._attempt(self.drivers[name])  # a failing read model answers what it has; status says why

    def rebuild(self, name: str, progress: Callable[[int, int], None] | None = None) -> dict[str, Any]:
        """Rebuild one read model from the log; its status after (a failure is recorded, as in `run_once`)."""
        driver = self.drivers[name]
        previous = self.failing.get(name)
        try:
            driver.rebuild(progress)
        except Exception as error:
            self._failed(driver, previous, error)
        else:
            with self._failing_lock:
                self.failing.pop(name, None)
        return self.status([name])[0]

    def rebuild_all(self, progress: Callable[[int, int], None] | None = None) -> list[dict[str, Any]]:
        """Rebuild every read model in one pass over the log; their statuses after (failures recorded)."""
        previous = dict(self.failing)
        failed = rebuild_together(list(self.drivers.values()), progress, self.decoder_env)
        for name, driver in self.drivers.items():
            if name in failed:
                self._failed(driver, previous.get(name), failed[name])
            else:
                with self._failing_lock:
                    self.failing.pop(name, None)
        return self.status()

    def status(self, names: list[str] | None = None) -> list[dict[str, Any]]:
        out = []
        now = self.clock()
        for name, driver in self.drivers.items():
            if names is not None and name not in names:
                continue
            position, head = driver.position(), driver.head()
            row: dict[str, Any] = {"name": name, "position": position, "head": head, "lag": max(head - position, 0)}
            failing = self.failing.get(name)
            if failing is not None:
                row |= {"state": "failing", "failure": failing.as_dict(now)}
            else:
                row["state"] = "caught_up" if position >= head else "catching_up"
            out.append(row)
        return out
