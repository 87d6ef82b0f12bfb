"""A progress line on stderr: over a weak link a sync takes minutes, and the user should see bytes move and
how long is left, not a count of files stuck at 0 while one photo crawls."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from typing import TextIO

from field_client.sync import SyncProgress


def human_bytes(n: float) -> str:
    for unit in ("B", "KB", "MB"):
        if n < 1024 or unit == "MB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n:.1f} MB"


def human_seconds(s: float) -> str:
    s = int(s + 0.5)
    return f"{s // 3600}h{s % 3600 // 60:02d}m" if s >= 3600 else f"{s // 60}m{s % 60:02d}s" if s >= 60 else f"{s}s"


class Rate:
    """Bytes per second, smoothed over the last few seconds: a link that stalls and resumes gives an ETA
    that follows it, instead of one averaged since the start."""

    def __init__(self, window_s: float = 5.0, clock: Callable[[], float] = time.monotonic) -> None:
        self.window_s, self.clock = window_s, clock
        self.samples: list[tuple[float, int]] = []

    def add(self, done: int) -> float | None:
        now = self.clock()
        self.samples.append((now, done))
        while len(self.samples) > 2 and now - self.samples[1][0] >= self.window_s:
            self.samples.pop(0)
        (t0, d0), (t1, d1) = self.samples[0], self.samples[-1]
        return (d1 - d0) / (t1 - t0) if t1 - t0 >= 0.5 and d1 > d0 else None


def describe(p: SyncProgress, rate: float | None) -> str:
    """照片 photos 1.2 MB/3.0 MB 18.5 KB/s 剩余 ETA 1m37s · 命令 commands 40/50"""
    parts = []
    if p.photo_bytes_total:
        left = max(p.photo_bytes_total - p.photo_bytes, 0)
        eta = human_seconds(left / rate) if rate and left else ("0s" if not left else "…")
        speed = f" {human_bytes(rate)}/s" if rate else ""
        parts.append(f"照片 photos {human_bytes(p.photo_bytes)}/{human_bytes(p.photo_bytes_total)}{speed}"
                     f" 剩余 ETA {eta}")
    parts.append(f"命令 commands {p.commands}/{p.commands_total}")
    return " · ".join(parts)


class ProgressBar:
    """Redrawn in place on a terminal (at most 5 times a second); on a pipe (logs, tests) a line every 10 %."""

    def __init__(self, label: str = "同步 sync", stream: TextIO | None = None, width: int = 24) -> None:
        self.label, self.stream, self.width = label, stream or sys.stderr, width
        self.started = time.monotonic()
        self.rate = Rate()
        self._last_decile = -1
        self._last_draw = 0.0
        self._tty = self.stream.isatty()

    def __call__(self, p: SyncProgress) -> None:
        rate = self.rate.add(p.photo_bytes)
        # the bar weighs photo bytes and commands alike: each half of the work when both are there
        parts = [(p.photo_bytes, p.photo_bytes_total), (p.commands, p.commands_total)]
        shares = [done / total for done, total in parts if total]
        fraction = min(sum(shares) / len(shares), 1.0) if shares else 1.0
        if p.what == "done":
            fraction = 1.0
        filled = round(self.width * fraction)
        bar = "█" * filled + "·" * (self.width - filled)
        line = (f"{self.label} [{bar}] {100 * fraction:3.0f}% {describe(p, rate)}"
                f" {time.monotonic() - self.started:5.1f}s")
        now = time.monotonic()
        if self._tty:
            if p.what == "done" or now - self._last_draw >= 0.2:
                self._last_draw = now
                self.stream.write("\r\033[K" + line + ("\n" if p.what == "done" else ""))
        elif (decile := int(10 * fraction)) != self._last_decile or p.what == "done":
            self._last_decile = decile
            self.stream.write(line + "\n")
        self.stream.flush()
