"""A progress bar on stderr: a sync over a weak link can take minutes and the user should see it move."""

from __future__ import annotations

import sys
import time
from typing import TextIO


class ProgressBar:
    """Redrawn in place on a terminal; on a pipe (logs, tests) a line every 10 % so the log stays short."""

    def __init__(self, label: str = "同步 sync", stream: TextIO | None = None, width: int = 30) -> None:
        self.label, self.stream, self.width = label, stream or sys.stderr, width
        self.started = time.monotonic()
        self._last_decile = -1
        self._tty = self.stream.isatty()

    def __call__(self, done: int, total: int, what: str) -> None:
        total = max(total, 1)
        done = min(done, total)
        filled = round(self.width * done / total)
        bar = "█" * filled + "·" * (self.width - filled)
        line = f"{self.label} [{bar}] {done}/{total} {100 * done // total:3d}% {time.monotonic() - self.started:5.1f}s"
        if self._tty:
            self.stream.write("\r" + line + ("\n" if done == total and what == "done" else ""))
        elif (decile := 10 * done // total) != self._last_decile or what == "done":
            self._last_decile = decile
            self.stream.write(line + "\n")
        self.stream.flush()
