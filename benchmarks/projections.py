"""Read-model rebuild rate beside the raw rate of reading the same log, and dashboard/timeline query latency.
Prints JSON.

One SQLite store (event store and read models side by side, as `build(Settings(...))` makes them) is filled
through the application (`World.run`, so every command also stores its receipt) with `--items` works items in
`--projects` projects over three districts, and inspections, defects, stop-work orders and acceptance rounds on
a subset, until the notification log holds about `--events` notifications. `--in-flight` items play their
stories at once, in random turns, so the log interleaves items as concurrent sites do; with 1 each item's
events are consecutive, which flatters the read models that keep per-item state (fewer loads and saves per
batch). Then:

* raw: page through the whole log with `recorder.select_notifications(start, 1000, inclusive_of_start=False)`,
  without and with `mapper.to_domain_event` on every notification (best of `--raw-runs`);
* rebuild: `driver.rebuild()` of each read model on the populated store (drop, then apply the whole log),
  one at a time, then all of them in one pass over the log (`ProjectionRunner.rebuild_all`, what
  `siteledger projections rebuild` does), each after a decoded raw read of its own; events/s counts every
  notification in the log, the ratio to watch is rebuild events/s / raw decoded events/s;
* queries: `dashboard(db, scope, value)` for a project, a district and the city, and the timeline of one
  item and one project (a page of 100) by calling the API's own `_timeline(container, ...)` directly
  (no HTTP, no auth, no read-your-writes wait), p50/p99 over `--samples` calls.

    python -m benchmarks.projections [--events 100000] [--items 10000] [--projects 12] [--in-flight 100]
                                     [--samples 200] [--profile dashboard,timeline]
"""

from __future__ import annotations

import argparse
import contextlib
import cProfile
import io
import json
import pstats
import random
import tempfile
import time
from collections.abc import Callable, Generator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from uuid import UUID, uuid4

from benchmarks.common import say, timed
from domain import commands as c
from domain.actors import Actor, Role
from projections.dashboard_queries import dashboard
from services.api.routers.dashboards import _timeline
from services.bootstrap import Container, build
from services.commands.unit_of_work import Outcome
from services.settings import Settings
from tests.support import DISTRICT, World, inspection, photo

DISTRICTS = (DISTRICT, "黄浦区", "静安区")
KINDS = ("pipe_relocation",) * 10 + ("flying_wire_burial",) * 7 + ("elevator_installation",) * 3
LINKED_FROM = "pipe_relocation_cleared"  # an elevator passes it only with a linked pipe relocation: stop before
NOTES_PER_COMMAND = 2.1  # the events of the command, then its receipt
FULL_STORY_EVERY = 40  # one item in 40 goes all the way to a resident acceptance round
Story = Generator[tuple[Actor, c.Command], Outcome | None, None]


def progress(label: str) -> Callable[[int, int], None]:
    """A driver's `(position, head)` callback, printing about twenty times per run."""
    shown = [-1]

    def show(done: int, total: int) -> None:
        finished = done >= total
        bucket = -2 if finished else done // (total // 20 or 1)
        if bucket != shown[0]:  # the last step repeats the head: printed (with its newline) once
            shown[0] = bucket
            say(f"\r{label}: {done}/{total} ({100 * done // max(total, 1)}%)", end="\n" if finished else "")

    return show


# --- the data -----------------------------------------------------------------------------------------------


class Populator:
    """Projects over three districts, works items round-robin over them, and a story per item."""

    def __init__(self, container: Container, projects: int, seed: int) -> None:
        self.world = World(container.ledger)
        self.app = container.ledger
        self.rng = random.Random(seed)
        self.stations = {DISTRICTS[0]: self.world.station, DISTRICTS[1]: self.world.other_station,
                         DISTRICTS[2]: Actor(uuid4(), Role.STATION, district=DISTRICTS[2])}
        self.projects: list[tuple[UUID, str]] = [(self.world.project_id, DISTRICT)]
        for n in range(1, projects):
            self.projects.append((self.new_project(n, DISTRICTS[n % len(DISTRICTS)]), DISTRICTS[n % len(DISTRICTS)]))
        self.commands_per_item: dict[UUID, int] = {}

    def new_project(self, n: int, district: str) -> UUID:
        w = self.world
        out = w.run(w.admin, c.RegisterProject(
            name=f"小区{n:03d}", district=district, street_office="街道办", address=f"测试路{n}号",
            year_built=1990 + n % 10, buildings=8, households=300, categories=["basic", "improvement"]))
        pid = UUID(out.aggregate_id)
        for actor in (w.supervisor, w.contractor):
            w.run(w.admin, c.AssignUser(project_id=pid, user_id=actor.user_id, role=actor.role))
        for k, resident in enumerate(w.residents, start=1):
            w.run(w.admin, c.AddGroupMember(project_id=pid, user_id=resident.user_id, building=f"{k}号楼",
                                            unit="1单元"))
        return pid

    def story(self, item_id: UUID, kind: str, station: Actor, n: int) -> Story:
        """An item's life in order, so that any prefix of it is a valid state to stop in."""
        w = self.world
        codes, passable = self.passable(kind)
        yield w.supervisor, inspection(item_id, passable[0])
        if len(passable) > 1:
            defect = {"severity": ("minor", "major", "critical")[n % 3], "description": "回填不密实",
                      "photos": [photo(f"defect-{item_id}")], "due_date": ("2025-01-01", "2099-12-31")[n % 2]}
            out = yield w.supervisor, inspection(item_id, passable[1], result="fail", defects=[defect])
            defect_id = out.result["defect_ids"][0] if out else ""
            yield w.contractor, c.ReportRectification(item_id=item_id, defect_id=defect_id, description="已整改",
                                                      photos=[photo(f"fix-{item_id}")])
            yield w.supervisor, c.CloseDefect(item_id=item_id, defect_id=defect_id, notes="复查合格")
            yield w.supervisor, inspection(item_id, passable[1])
        yield station, c.OrderStopWork(item_id=item_id, reason="未设围挡")
        yield station, c.LiftStopWork(item_id=item_id, notes="已设围挡")
        for code in passable[2:]:
            yield w.supervisor, inspection(item_id, code)
        if passable != codes:
            return
        yield w.supervisor, c.CompleteWorks(item_id=item_id)
        out = yield w.supervisor, c.RequestAcceptance(item_id=item_id)
        round_no, subject = (out.result["round_no"], out.result["subject_hash"]) if out else (1, "0" * 64)
        for resident in w.residents:
            out = yield resident, c.SignAcceptance(item_id=item_id, round_no=round_no, decision="accept",
                                                   subject_hash=subject)
            if out is None or out.result["round_status"] != "open":
                return

    def passable(self, kind: str) -> tuple[list[str], list[str]]:
        codes = [hp.code for hp in self.app.catalog.get(kind).hold_points]
        return codes, codes[:codes.index(LINKED_FROM)] if LINKED_FROM in codes else codes

    def story_length(self, kind: str) -> int:
        """Commands in the whole story (at most: signing stops once the round is decided)."""
        codes, passable = self.passable(kind)
        length = 1 + (4 if len(passable) > 1 else 0) + 2 + max(0, len(passable) - 2)
        return length + (2 + len(self.world.residents) if passable == codes else 0)

    def fill(self, items: int, events: int, in_flight: int) -> None:
        """Register items and play their stories, `in_flight` items at a time in random turns, so that the
        log interleaves items the way concurrent sites do (1: each item's story straight after its registration).
        How far each story goes is drawn so that the log ends near `events` notifications."""
        w = self.world
        head = self.app.recorder.max_notification_id() or 0
        active: list[Playing] = []
        registered, shown = 0, -1
        while registered < items or active:
            while registered < items and len(active) < in_flight:
                n = registered
                pid, district = self.projects[n % len(self.projects)]
                kind = KINDS[n % len(KINDS)]
                out = w.run(w.admin, c.RegisterWorksItem(project_id=pid, kind=kind, location=f"{n % 12 + 1}号楼北侧"))
                head = out.position or head
                registered += 1
                item_id = UUID(out.aggregate_id)
                # Spread what is left of the budget over the items still to come: uniform in [0, 2 * mean].
                planned = sum(p.steps_left for p in active) * NOTES_PER_COMMAND
                mean = ((events - head - planned) / (items - n) - 2) / NOTES_PER_COMMAND
                full = n % FULL_STORY_EVERY == FULL_STORY_EVERY // 2
                steps = 10_000 if full else self.rng.randint(0, max(0, round(2 * mean)))
                active.append(Playing(item_id, self.story(item_id, kind, self.stations[district], n),
                                      min(steps, self.story_length(kind))))
            slot = self.rng.randrange(len(active))
            playing = active[slot]
            command = None
            if playing.steps_left > 0:
                with contextlib.suppress(StopIteration):
                    command = playing.story.send(playing.last)
            if command is None:
                self.commands_per_item[playing.item_id] = playing.done + 1
                active[slot] = active[-1]
                active.pop()
                continue
            playing.last = w.run(*command)
            head = playing.last.position or head
            playing.done += 1
            playing.steps_left -= 1
            if registered * 20 // items != shown:
                shown = registered * 20 // items
                say(f"\rfilling: {registered}/{items} items registered, {head}/{events} notifications", end="")
        say(f"\rfilling: {registered}/{items} items registered, {head}/{events} notifications")


@dataclass
class Playing:
    item_id: UUID
    story: Story
    steps_left: int
    last: Outcome | None = None
    done: int = 0


# --- the measurements ---------------------------------------------------------------------------------------


def read_raw(container: Container, decode: bool) -> tuple[int, float]:
    app = container.ledger
    start, count = 0, 0
    started = time.perf_counter()
    while True:
        notes = app.recorder.select_notifications(start, 1000, inclusive_of_start=False)
        if not notes:
            break
        if decode:
            for note in notes:
                app.mapper.to_domain_event(note)
        count += len(notes)
        start = notes[-1].id
    return count, time.perf_counter() - started


def raw_rates(container: Container, runs: int) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for label, decode in (("undecoded", False), ("decoded", True)):
        rates = []
        for _ in range(runs):
            count, seconds = read_raw(container, decode)
            rates.append(count / seconds)
            say(f"raw read ({label}): {count} notifications in {seconds:.2f} s")
        result[label] = {"notifications": count, "events_per_s": round(max(rates), 1),
                         "runs_events_per_s": [round(r, 1) for r in rates]}
    return result


def rebuild_rates(container: Container, raw_decoded: float, notifications: int) -> dict[str, Any]:
    """Each rebuild right after a decoded raw read of its own, so that a change of machine load between the
    phases shows up in neither ratio: `ratio_to_raw_decoded` divides by the best raw rate of the run (the
    stricter figure), `ratio_to_adjacent_raw_decoded` by the raw read just before this rebuild."""
    drivers = container.projections.drivers
    result: dict[str, Any] = {}

    def measure(label: str, rebuild: Callable[[], None]) -> dict[str, Any]:
        count, raw_seconds = read_raw(container, decode=True)
        adjacent = count / raw_seconds
        started = time.perf_counter()
        rebuild()
        seconds = time.perf_counter() - started
        rate = notifications / seconds
        return {"seconds": round(seconds, 3), "events_per_s": round(rate, 1),
                "ratio_to_raw_decoded": round(rate / raw_decoded, 3),
                "adjacent_raw_decoded_events_per_s": round(adjacent, 1),
                "ratio_to_adjacent_raw_decoded": round(rate / adjacent, 3)}

    def alone(name: str) -> Callable[[], None]:
        def rebuild() -> None:
            position = drivers[name].rebuild(progress(f"rebuild {name}"))
            assert position == drivers[name].head(), (name, position, drivers[name].head())
        return rebuild

    def together() -> None:
        statuses = container.projections.rebuild_all(progress("rebuild all in one pass"))
        assert all(s["state"] == "caught_up" for s in statuses), statuses

    for name in drivers:
        result[name] = measure(name, alone(name))
    singles = sum(v["seconds"] for v in result.values())
    result["all_in_one_pass"] = {**measure("all in one pass", together), "read_models": len(drivers),
                                 "sum_of_single_rebuilds_s": round(singles, 3)}
    return result


def query_latency(container: Container, pop: Populator, samples: int) -> dict[str, Any]:
    db = container.db
    project_id, district = str(pop.projects[0][0]), pop.projects[0][1]
    item_id = str(max(pop.commands_per_item, key=lambda i: pop.commands_per_item[i]))
    items_in_project = db.query("SELECT COUNT(*) FROM dash_items WHERE project_id = ?", (project_id,))[0][0]
    items_in_district = db.query("SELECT COUNT(*) FROM dash_items WHERE district = ?", (district,))[0][0]
    items_in_city = db.query("SELECT COUNT(*) FROM dash_items")[0][0]
    project_events = db.query("SELECT COUNT(*) FROM timeline_events WHERE project_id = ?", (project_id,))[0][0]
    item_events = db.query("SELECT COUNT(*) FROM timeline_events WHERE item_id = ?", (item_id,))[0][0]
    last_page = max(0, project_events - 100)

    def timeline(column: str, value: str, offset: int) -> dict[str, Any]:
        return _timeline(container, column, value, None, None, None, None, False, offset, 100)

    assert dashboard(db, "city")["works_items"] == items_in_city
    assert len(timeline("project_id", project_id, 0)["items"]) == min(100, project_events)
    cases: list[tuple[str, dict[str, Any], Callable[[], Any]]] = [
        ("dashboard_project", {"works_items": items_in_project}, lambda: dashboard(db, "project", project_id)),
        ("dashboard_district", {"district": district, "works_items": items_in_district},
         lambda: dashboard(db, "district", district)),
        ("dashboard_city", {"works_items": items_in_city}, lambda: dashboard(db, "city")),
        ("timeline_item", {"events": item_events, "limit": 100}, lambda: timeline("item_id", item_id, 0)),
        ("timeline_project_first_page", {"events": project_events, "offset": 0, "limit": 100},
         lambda: timeline("project_id", project_id, 0)),
        ("timeline_project_last_page", {"events": project_events, "offset": last_page, "limit": 100},
         lambda: timeline("project_id", project_id, last_page)),
    ]
    result: dict[str, Any] = {}
    for label, facts, call in cases:
        result[label] = {**facts, **timed(call, samples)}
        say(f"query {label}: {result[label]}")
    return result


def profile_rebuild(container: Container, names: str, top: int = 30) -> None:
    """cProfile of read models' rebuilds (`all`: the one pass), the top functions by cumulative and by own time,
    to stderr."""
    for name in names.split(","):
        profiler = cProfile.Profile()
        profiler.enable()
        if name == "all":
            container.projections.rebuild_all()
        else:
            container.projections.drivers[name].rebuild()
        profiler.disable()
        for order in ("cumulative", "tottime"):
            out = io.StringIO()
            pstats.Stats(profiler, stream=out).sort_stats(order).print_stats(top)
            say(f"--- profile of rebuild {name}, by {order} ---\n{out.getvalue()}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=int, default=100_000, help="notifications in the log (about)")
    parser.add_argument("--items", type=int, default=10_000, help="works items")
    parser.add_argument("--projects", type=int, default=12, help="projects, over three districts")
    parser.add_argument("--in-flight", type=int, default=100,
                        help="items whose stories interleave in the log (1: one item after another)")
    parser.add_argument("--samples", type=int, default=200, help="timed calls per query")
    parser.add_argument("--raw-runs", type=int, default=3, help="raw reads of the log, the best is reported")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--profile", metavar="MODELS",
                        help="also cProfile these read models' rebuilds, comma-separated, `all`: the one pass "
                             "(stderr, after the rest)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        container = build(Settings(data_dir=Path(tmp), event_store="sqlite", s3_endpoint="127.0.0.1:9"))
        try:
            started = time.perf_counter()
            pop = Populator(container, args.projects, args.seed)
            pop.fill(args.items, args.events, args.in_flight)
            fill_seconds = time.perf_counter() - started
            notifications = container.ledger.recorder.max_notification_id() or 0
            report: dict[str, Any] = {
                "benchmark": "projections", "store": "sqlite",
                "data": {"notifications": notifications, "works_items": args.items, "projects": len(pop.projects),
                         "districts": len(DISTRICTS), "items_in_flight": args.in_flight,
                         "fill_seconds": round(fill_seconds, 1),
                         "fill_notifications_per_s": round(notifications / fill_seconds, 1)},
            }
            raw = raw_rates(container, args.raw_runs)
            report["raw_read"] = raw
            report["rebuild"] = rebuild_rates(container, raw["decoded"]["events_per_s"], notifications)
            report["queries"] = {"via": "services.api.routers.dashboards._timeline and "
                                        "projections.dashboard_queries.dashboard, called directly",
                                 **query_latency(container, pop, args.samples)}
            if args.profile:
                profile_rebuild(container, args.profile)
        finally:
            container.close()
    print(json.dumps(report, indent=2, ensure_ascii=False))


if __name__ == "__main__":
    main()
