"""Dashboards at city scale: `dashboard(db, scope, value)` p50/p99 for the city, a district and a project, beside
a straightforward GROUP BY over the per-item rows (what the dashboard did before its running totals) in the same
run. Prints JSON.

The fill goes through the dashboard's own code, not through commands (about 50 items/s): real aggregates in memory
(`Project.register`, `WorksItem.register`, `record_inspection`, `raise_defect`, `order_stop_work`,
`request_acceptance`, `sign`, … with the domain's rules and hash chain) make each item's events, and those are
applied to the `Dashboard` read model through its `apply`/`flush` in batches, as a driver does. The chain's
SHA-256 of each event (over its canonical JSON: the whole template for a registration) is most of the cost of
making them, and the dashboard only stores the last one as the item's chain head, so unless `--real-hashes` a
random token stands in for it. `--projects`
projects over `--districts` districts, `--items` works items round-robin over them, each playing a random prefix
of a story (inspections, a failed one with a defect due in the past or the future, its rectification, a stop-work
order and its lifting, the rest of the inspections, completion, a residents' acceptance round and signatures); one
in 40 plays it all. Then the planner's statistics are gathered (as a rebuild does) and each query is timed.

    python -m benchmarks.dashboards [--items 100000] [--projects 2000] [--districts 16] [--samples 200]
                                    [--stores sqlite,postgres] [--real-hashes]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import time
from collections.abc import Callable, Iterator
from datetime import date
from typing import Any
from uuid import UUID, uuid4

from benchmarks.common import say, settings_for, timed
from domain import chain
from domain.acceptance import AcceptanceRule
from domain.actors import Actor, CommandContext, Role
from domain.chain import ChainedEvent
from domain.project import Project
from domain.templates.model import WorksKindTemplate
from domain.works_item import WorksItem
from projections.dashboard_queries import NEWEST_ROUNDS, dashboard
from projections.driver import Batch
from services.bootstrap import Container, build
from tests.integration.projections.test_dashboard_property import reference
from tests.support import VALID, photo

DISTRICT_NAMES = ("徐汇区", "黄浦区", "静安区", "长宁区", "普陀区", "虹口区", "杨浦区", "闵行区", "宝山区", "嘉定区",
                  "浦东新区", "金山区", "松江区", "青浦区", "奉贤区", "崇明区")
KINDS = ("pipe_relocation",) * 10 + ("flying_wire_burial",) * 7 + ("elevator_installation",) * 3
LINKED_FROM = "pipe_relocation_cleared"  # an elevator passes it only with a linked pipe relocation: stop before
FULL_STORY = 1 / 40  # the share of items that play their whole story, to their residents' acceptance
RESIDENTS = 5
TODAY = date(2026, 6, 1)  # the figures' "today" (reference.TODAY): defects due before it are overdue
BATCH_EVENTS = 5000


class Stories:
    """Each item's events, made by the aggregate itself in memory (its rules, its hash chain), none stored."""

    def __init__(self, container: Container, seed: int) -> None:
        self.rng = random.Random(seed)
        self.catalog = container.ledger.catalog
        self.supervisor, self.contractor = Actor(uuid4(), Role.SUPERVISOR), Actor(uuid4(), Role.CONTRACTOR)
        self.admin = Actor(uuid4(), Role.ADMIN)
        self.members = [f"m{n}" for n in range(RESIDENTS)]
        self.residents = [Actor(uuid4(), Role.RESIDENT) for _ in self.members]
        self.templates: dict[str, tuple[WorksKindTemplate, list[str], list[str]]] = {}
        for kind in set(KINDS):
            template = self.catalog.get(kind)
            codes = [hp.code for hp in template.hold_points]
            passable = codes[:codes.index(LINKED_FROM)] if LINKED_FROM in codes else codes
            self.templates[kind] = (template, codes, passable)

    @staticmethod
    def ctx(actor: Actor) -> CommandContext:
        return CommandContext(actor=actor, command_id=uuid4().hex, device_id="bench")

    def project(self, n: int, district: str) -> list[ChainedEvent]:
        project = Project.register(self.ctx(self.admin), uuid4(), name=f"小区{n:04d}", district=district,
                                   street_office="街道办", address=f"测试路{n}号", year_built=1990 + n % 10,
                                   buildings=8, households=300, categories=["basic"])
        return [e for e in project.collect_events() if isinstance(e, ChainedEvent)]

    def item(self, n: int, project_id: UUID, district: str) -> list[ChainedEvent]:
        kind = KINDS[n % len(KINDS)]
        template, codes, passable = self.templates[kind]
        station = Actor(self.supervisor.user_id, Role.STATION, district=district)
        item = WorksItem.register(self.ctx(self.admin), uuid4(), project_id, template, title=f"{kind}第{n}段",
                                  location=f"{n % 12 + 1}号楼北侧", contractor_id=None, planned_start=None,
                                  planned_end=None, links={})
        steps = self.steps(item, n, station, codes, passable)
        length = 10_000 if self.rng.random() < FULL_STORY else self.rng.randint(0, 10)
        for _, step in zip(range(length), steps, strict=False):
            step()
        return [e for e in item.collect_events() if isinstance(e, ChainedEvent)]

    def steps(self, item: WorksItem, n: int, station: Actor, codes: list[str],
              passable: list[str]) -> Iterator[Callable[[], Any]]:
        """The item's story in order, one callable per command: any prefix is a state an item can be in."""
        sup = self.ctx(self.supervisor)
        yield lambda: self.inspect(item, passable[0])
        if len(passable) > 1:
            defect_id = f"d{n}"
            defect = {"defect_id": defect_id, "severity": ("minor", "major", "critical")[n % 3],
                      "description": "回填不密实", "photos": [photo(f"defect-{n}")],
                      "due_date": self.rng.choice(("2025-01-01", "2099-12-31"))}
            yield lambda: self.inspect(item, passable[1], "fail", [defect])
            yield lambda: item.report_rectification(self.ctx(self.contractor), defect_id, "已整改",
                                                    [photo(f"fix-{n}")])
            yield lambda: item.close_defect(sup, defect_id, "复查合格")
            yield lambda: self.inspect(item, passable[1])
        yield lambda: item.order_stop_work(self.ctx(station), f"s{n}", "未设围挡")
        yield lambda: item.lift_stop_work(self.ctx(station), "已设围挡")
        for code in passable[2:]:
            yield lambda code=code: self.inspect(item, code)  # type: ignore[misc]
        if passable != codes:
            return
        yield lambda: item.complete(sup)
        yield lambda: item.request_acceptance(sup, self.members, AcceptanceRule())
        signing = self.rng.randint(0, len(self.members))  # fewer than enough: the round stays open
        for member, resident in zip(self.members[:signing], self.residents, strict=False):
            yield lambda m=member, r=resident: self.sign(item, m, r)  # type: ignore[misc]

    def inspect(self, item: WorksItem, code: str, result: str = "pass",
                defects: list[dict[str, Any]] | None = None) -> None:
        spec = item.spec(code)
        valid = VALID.get(code, {})
        item.record_inspection(self.ctx(self.supervisor), uuid4().hex, code, result,
                               dict(valid.get("measurements", {})), dict(valid.get("checklist", {})), "",
                               [photo(f"{code}-{k}") for k in range(spec.min_photos)], None, defects or [])

    def sign(self, item: WorksItem, member: str, resident: Actor) -> None:
        rnd = item.open_round()
        if rnd is not None:
            item.sign(self.ctx(resident), rnd["round_no"], member, "accept", "", "", [], rnd["subject_hash"],
                      set(self.members))


def fill(container: Container, items: int, projects: int, districts: int, seed: int) -> dict[str, Any]:
    """Apply every event to the dashboard read model in batches of about `BATCH_EVENTS`, one transaction each."""
    model = container.projections.drivers["dashboard"].model
    stories = Stories(container, seed)
    places = [(DISTRICT_NAMES[n % districts], n) for n in range(projects)]
    started, events, pending = time.perf_counter(), 0, []
    project_ids: list[tuple[UUID, str]] = []

    def apply(pending: list[ChainedEvent]) -> None:
        with container.db.transaction() as tx:
            batch = Batch(tx, container.ledger)
            for event in pending:
                model.apply(event, 0, batch)
            model.flush(batch)

    for district, n in places:
        pending += stories.project(n, district)
        project_ids.append((pending[-1].originator_id, district))
    for n in range(items):
        project_id, district = project_ids[n % projects]
        pending += stories.item(n, project_id, district)
        if len(pending) >= BATCH_EVENTS:
            apply(pending)
            events += len(pending)
            pending = []
        if n and n % 10_000 == 0:
            say(f"filling: {n}/{items} items, {events} events ({events / (time.perf_counter() - started):.0f}/s)")
    apply(pending)
    events += len(pending)
    seconds = time.perf_counter() - started
    container.db.optimize(model.tables)  # what a rebuild does when it ends
    return {"events": events, "seconds": round(seconds, 1), "events_per_s": round(events / seconds),
            "project_ids": project_ids}


def _call(function: Callable[..., Any], *args: Any) -> Callable[[], Any]:
    return lambda: function(*args)


def run(store: str, args: argparse.Namespace) -> dict[str, Any]:
    with settings_for(store, projection_interval_s=3600) as settings:
        container = build(settings)
        try:
            filled = fill(container, args.items, args.projects, args.districts, args.seed)
            say(f"{store}: filled {filled['events']} events in {filled['seconds']} s; measuring")
            db = container.db
            project_id, district = str(filled["project_ids"][1][0]), filled["project_ids"][1][1]
            cases: list[tuple[str, str, str | None, str, tuple[Any, ...]]] = [
                ("city", "city", None, "1 = 1", ()),
                ("district", "district", district, "district = ?", (district,)),
                ("project", "project", project_id, "project_id = ?", (project_id,)),
            ]
            results: dict[str, Any] = {}
            for label, scope, value, where, params in cases:
                figures = dashboard(db, scope, value, TODAY)
                expected = reference(db, where, params)
                assert {k: figures[k] for k in expected if k != "acceptance_rounds_open"} == {
                    k: v for k, v in expected.items() if k != "acceptance_rounds_open"}, label
                assert len(figures["acceptance_rounds_open"]) == min(NEWEST_ROUNDS, expected[
                    "acceptance_rounds_open_total"])
                totals = timed(_call(dashboard, db, scope, value, TODAY), args.samples)
                rows = timed(_call(reference, db, where, params), max(20, args.samples // 10))
                results[label] = {
                    "value": value, "works_items": figures["works_items"], "projects": figures["projects"],
                    "open_defects": figures["open_defects"]["total"], "overdue": figures["open_defects"]["overdue"],
                    "rounds_open": figures["acceptance_rounds_open_total"],
                    "dashboard": totals, "group_by_over_item_rows": rows,
                    "p99_ratio_to_group_by": round(totals["p99_ms"] / rows["p99_ms"], 4),
                }
                say(f"{store} {label}: {results[label]}")
            return {"store": store, "items": args.items, "projects": args.projects, "districts": args.districts,
                    "samples": args.samples,
                    "fill": {k: v for k, v in filled.items() if k != "project_ids"}, "queries": results}
        finally:
            container.close()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--items", type=int, default=100_000)
    parser.add_argument("--projects", type=int, default=2000)
    parser.add_argument("--districts", type=int, default=16, choices=range(1, len(DISTRICT_NAMES) + 1),
                        metavar="1-16")
    parser.add_argument("--samples", type=int, default=200)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--stores", default="sqlite", help="comma-separated: sqlite, postgres")
    parser.add_argument("--real-hashes", action="store_true", help="chain each event by its SHA-256 (slow fill)")
    args = parser.parse_args(argv)
    if not args.real_hashes:
        chain.event_digest = lambda event: uuid4().hex * 2  # a 64-digit stand-in
    load = os.getloadavg()
    runs = [run(store.strip(), args) for store in args.stores.split(",") if store.strip()]
    print(json.dumps({"benchmark": "dashboards", "load_before": [round(x, 2) for x in load],
                      "load_after": [round(x, 2) for x in os.getloadavg()], "stores": runs},
                     ensure_ascii=False, indent=1))


if __name__ == "__main__":
    main()
