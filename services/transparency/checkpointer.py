"""Signs a checkpoint every `checkpoint_interval_minutes` when the tree grew, in a thread of `serve`.

Asking for the checkpoint also signs one when the newest is older than the interval, so a log with no
`serve` thread (tests, a CLI) still never hands out a stale one; this thread keeps the stations' view fresh
when nobody asks."""

from __future__ import annotations

import logging
import threading
from typing import Any

from services.transparency.service import Inconsistent, service_for

log = logging.getLogger("siteledger.transparency")


class Checkpointer:
    def __init__(self, container: Any, interval_s: float | None = None) -> None:
        self.service = service_for(container)
        self.interval_s = interval_s or container.settings.checkpoint_interval_minutes * 60
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="checkpointer", daemon=True)

    def start(self) -> Checkpointer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=10)

    def _run(self) -> None:
        while not self._stop.wait(self.interval_s):
            try:
                self.service.checkpoint(fresh=True)  # signs only if the tree grew since the newest checkpoint
            except Inconsistent as error:
                log.error("no checkpoint signed: %s", error, extra={"alarm": "transparency_inconsistent"})
            except Exception:  # a database hiccup must not end the thread: the next tick tries again
                log.exception("checkpoint failed; trying again in %.0f s", self.interval_s)
