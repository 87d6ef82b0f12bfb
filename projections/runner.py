"""Keeps read models caught up: in a thread of `serve`, or as its own process (`siteledger projections run`)."""

from __future__ import annotations

import logging
import threading
import time
from typing import Any

from projections.driver import EventStoreDriver

log = logging.getLogger("siteledger.projections")


class ProjectionRunner:
    def __init__(self, drivers: list[EventStoreDriver], interval_s: float = 0.5, min_gap_s: float = 0.05) -> None:
        self.drivers = {d.name: d for d in drivers}
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
        return max((position - d.position() for n, d in self.drivers.items() if not names or n in names),
                   default=0)

    def wait_for(self, position: int, timeout_s: float, names: list[str] | None = None) -> int:
        """Block until the read models reach `position` (read-your-writes); returns how far behind they still are."""
        deadline = time.monotonic() + timeout_s
        self.nudge()
        while (lag := self.behind(position, names)) > 0:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return lag
            if self._thread is None:  # no background runner: do the work here
                self.run_once()
                continue
            with self._progress:
                self._progress.wait(min(remaining, 0.1))
        return 0

    def status(self) -> list[dict[str, Any]]:
        out = []
        for name, driver in self.drivers.items():
            position, head = driver.position(), driver.head()
            out.append({"name": name, "position": position, "head": head, "lag": max(head - position, 0)})
        return out
