"""What the benchmarks share: progress on stderr, percentiles, timing a call, and a throw-away store."""

from __future__ import annotations

import math
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from services.settings import Settings
from tests.pg import postgres_env


def say(message: str, end: str = "\n") -> None:
    print(message, end=end, file=sys.stderr, flush=True)


def percentiles(timings: list[float]) -> dict[str, float]:
    timings = sorted(timings)
    return {"p50_ms": round(statistics.median(timings), 3),
            "p99_ms": round(timings[max(0, math.ceil(len(timings) * 0.99) - 1)], 3),
            "max_ms": round(timings[-1], 3)}


def timed(call: Callable[[], Any], samples: int, warmup: int = 5) -> dict[str, float]:
    for _ in range(warmup):
        call()
    timings = []
    for _ in range(samples):
        started = time.perf_counter()
        call()
        timings.append((time.perf_counter() - started) * 1000)
    return percentiles(timings)


@contextmanager
def settings_for(store: str, **settings: Any) -> Iterator[Settings]:
    """A throw-away store: SQLite files in a temporary folder, or a fresh PostgreSQL database (dropped after)."""
    with tempfile.TemporaryDirectory() as tmp:
        common: dict[str, Any] = {"data_dir": Path(tmp) / "data", **settings}
        if store == "sqlite":
            yield Settings(event_store="sqlite", **common)
            return
        gen = postgres_env()
        env = next(gen)
        try:
            yield Settings(event_store="postgres", postgres_db=env["POSTGRES_DBNAME"],
                           postgres_user=env["POSTGRES_USER"], postgres_host=env["POSTGRES_HOST"],
                           postgres_port=int(env["POSTGRES_PORT"]), postgres_password=env["POSTGRES_PASSWORD"],
                           **common)
        finally:
            gen.close()
