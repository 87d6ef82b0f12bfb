"""Commands per second through the application vs the raw eventsourcing append of the same events,
and command latency on an item with a short vs a long log. Prints JSON.

    python -m benchmarks.domain_commands [--commands 2000] [--long-log 10000] [--stores sqlite,postgres]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from uuid import uuid4

from domain.application import SiteLedger
from tests.pg import postgres_env
from tests.support import World, inspection, ledger


@contextmanager
def store(kind: str) -> Iterator[dict[str, str]]:
    if kind == "sqlite":
        with tempfile.TemporaryDirectory() as tmp:
            yield {"PERSISTENCE_MODULE": "eventsourcing.sqlite", "SQLITE_DBNAME": str(Path(tmp) / "bench.db")}
    else:
        gen = postgres_env()
        env = next(gen)
        try:
            yield env
        finally:
            gen.close()


def progress(label: str, done: int, total: int) -> None:
    if done % max(1, total // 20) == 0 or done == total:
        print(f"\r{label}: {done}/{total} ({100 * done // total}%)", end="\n" if done == total else "",
              file=sys.stderr, flush=True)


def throughput(kind: str, commands: int) -> dict[str, Any]:
    """Run commands through the app, then append the very same stored events raw into a fresh store."""
    with store(kind) as env:
        world = World(ledger(env))
        item_id = world.new_item()
        start_position = world.app.recorder.max_notification_id() or 0
        groups: list[list[int]] = []
        # The commands are built before the clock starts, as the raw side's events are decoded before it: the
        # test helper that builds one (`inspection`) reads the template catalogue each time, which is no part of
        # running a command (the application keeps its catalogue).
        batch = [inspection(item_id, "survey_and_marking") for _ in range(commands)]
        started = time.perf_counter()
        for n, command in enumerate(batch):
            out = world.run(world.supervisor, command)
            groups.append([out.position or 0])
            progress(f"{kind} application", n + 1, commands)
        app_seconds = time.perf_counter() - started
        notifications = world.app.recorder.select_notifications(start_position + 1, commands * 4)
        world.app.close()
    by_command: list[list[Any]] = []
    for note in notifications:  # each command wrote its item event, then its receipt
        if by_command and len(by_command[-1]) < 2:
            by_command[-1].append(note)
        else:
            by_command.append([note])
    with store(kind) as env:
        raw = SiteLedger(env=env)
        decoded = [[raw.mapper.to_domain_event(note) for note in group] for group in by_command]
        started = time.perf_counter()
        for n, group in enumerate(decoded):
            raw.events.put(group)  # the library's own append: map, encode, insert, commit
            progress(f"{kind} raw append", n + 1, len(by_command))
        raw_seconds = time.perf_counter() - started
        raw.close()
    app_rate, raw_rate = commands / app_seconds, len(by_command) / raw_seconds
    return {"commands": commands, "app_commands_per_s": round(app_rate, 1),
            "raw_appends_per_s": round(raw_rate, 1), "ratio": round(app_rate / raw_rate, 3)}


def latency(kind: str, long_log: int, samples: int = 200) -> dict[str, Any]:
    with store(kind) as env:
        world = World(ledger(env))
        result: dict[str, Any] = {}
        for label, length in (("short", 10), ("long", long_log)):
            item_id = world.new_item()
            for n in range(length - 1):
                world.run(world.supervisor, inspection(item_id, "survey_and_marking"))
                if length > 100:
                    progress(f"{kind} building a {length}-event log", n + 2, length)
            world.app.close()
            world.app = ledger(env)  # measure from a cold process: snapshots, not a warm cache
            timings = []
            for command in [inspection(item_id, "survey_and_marking") for _ in range(samples)]:
                started = time.perf_counter()
                world.run(world.supervisor, command, command_id=uuid4().hex)
                timings.append((time.perf_counter() - started) * 1000)
            timings.sort()
            result[label] = {"events": length, "p50_ms": round(statistics.median(timings), 3),
                             "p99_ms": round(timings[int(len(timings) * 0.99) - 1], 3)}
        world.app.close()
    result["p50_ratio_long_to_short"] = round(result["long"]["p50_ms"] / result["short"]["p50_ms"], 3)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--commands", type=int, default=2000)
    parser.add_argument("--long-log", type=int, default=10_000)
    parser.add_argument("--stores", default="sqlite,postgres")
    args = parser.parse_args()
    report: dict[str, Any] = {"benchmark": "domain_commands"}
    for kind in args.stores.split(","):
        report[kind] = {"throughput": throughput(kind, args.commands),
                        "latency": latency(kind, args.long_log)}
    print(json.dumps(report, indent=2, ensure_ascii=False))


if __name__ == "__main__":
    main()
