"""Is the object store answering? Asked in the background, so `/readyz` answers at once even while it hangs."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime


@dataclass(frozen=True)
class StoreHealth:
    status: str  # "ok", "unavailable" or "unknown" (no probe has finished yet)
    checked_at: str | None
    error: str | None = None


class StoreProbe:
    """Calls `ping` every `interval_s` on a daemon thread and keeps the last answer.

    A ping still running after `slow_s` counts as unavailable at once: a store that hangs is never
    reported ready for a whole client timeout.
    """

    def __init__(self, ping: Callable[[], None], interval_s: float = 2.0, slow_s: float = 1.0,
                 warm_up: Callable[[], None] | None = None) -> None:
        self.ping, self.interval_s, self.slow_s, self.warm_up = ping, interval_s, slow_s, warm_up
        self._last = StoreHealth("unknown", None)
        self._started_ping: float | None = None
        self._first = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                if self.warm_up is not None:
                    self.warm_up()  # slow only once (a new bucket's first write), so never counted as a hang
                    self.warm_up = None
                self._started_ping = time.monotonic()
                self.ping()
                health = StoreHealth("ok", datetime.now(UTC).isoformat())
            except Exception as error:
                cause = error.__cause__ or error
                health = StoreHealth("unavailable", datetime.now(UTC).isoformat(), type(cause).__name__)
            self._started_ping = None
            self._last = health
            self._first.set()
            self._stop.wait(self.interval_s)

    def start(self) -> None:
        with self._lock:
            if self._thread is None or not self._thread.is_alive():
                self._stop.clear()
                self._thread = threading.Thread(target=self._loop, name="photo-store-probe", daemon=True)
                self._thread.start()

    def health(self, first_wait_s: float = 0.5) -> StoreHealth:
        """The last answer (starting the probe if needed, waiting briefly for its very first answer)."""
        self.start()
        self._first.wait(first_wait_s)
        started = self._started_ping
        waiting = time.monotonic() - started if started is not None else 0.0
        if waiting > self.slow_s:
            return StoreHealth("unavailable", self._last.checked_at, f"no answer for {waiting:.1f} s")
        return self._last

    def down(self) -> bool:
        """Known down right now (only once probing has started): photo calls answer 503 without trying."""
        if self._thread is None:
            return False
        started = self._started_ping
        return self._last.status == "unavailable" or (started is not None and time.monotonic() - started > self.slow_s)

    def stop(self) -> None:
        self._stop.set()
