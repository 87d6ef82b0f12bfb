"""Keeps read models caught up: in a thread of `serve`, or as its own process (`siteledger projections run`)."""

from __future__ import annotations

import logging
import threading
import time
from typing import Any

from projections.driver import EventStoreDriver

log = logging.getLogger("siteledger.projections")


class ProjectionRunner:
    def __init__(self, drivers: list[EventStoreDriver], interval_s: float = 0.5, min_gap_s: float = 0.05,
                 fed_by_kafka: bool = False) -> None:
        self.drivers = {d.name: d for d in drivers}
        self.fed_by_kafka = fed_by_kafka  # another process applies events from Kafka: only watch, never apply
        self.interval_s = interval_s
        self.min_gap_s = min_gap_s  # under load, let events gather: one transaction per batch, not per command
        self._wake = threading.Event()
        self._progress = threading.Condition()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def run_once(self) -> None:
        for driver in self.drivers.values():
            try:
                driver.catch_up()
            except Exception:  # a failing read model must not stop the others; it retries next round
                log.exception("projection %s failed; retrying", driver.name)
        with self._progress:
            self._progress.notify_all()

    def run_forever(self) -> None:
        while not self._stop.is_set():
            self.run_once()
            self._stop.wait(self.min_gap_s)
            self._wake.wait(self.interval_s)
            self._wake.clear()

    def start(self) -> ProjectionRunner:
        self._thread = threading.Thread(target=self.run_forever, name="projections", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
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
        self.nudge()
        while (lag := self.behind(position, names)) > 0:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return lag
            if self._thread is None and not self.fed_by_kafka:  # no background runner: do the work here
                self.run_once()
                continue
            with self._progress:
                self._progress.wait(min(remaining, 0.1))
        return 0

    def refresh(self, name: str) -> None:
        """Bring one read model up to date before a list is read from it (unless Kafka workers own it)."""
        if not self.fed_by_kafka:
            self.drivers[name].catch_up()

    def status(self) -> list[dict[str, Any]]:
        out = []
        for name, driver in self.drivers.items():
            position, head = driver.position(), driver.head()
            out.append({"name": name, "position": position, "head": head, "lag": max(head - position, 0)})
        return out
