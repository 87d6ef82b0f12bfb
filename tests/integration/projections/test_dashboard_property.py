"""Property: after any valid sequence of commands, caught up in any batches, with a crash mid-way, the dashboard's
figures are those of the aggregates, and its running totals per district equal a GROUP BY over its per-item rows;
also when a project's event reaches the dashboard after its items' (Kafka), on SQLite and PostgreSQL."""

from __future__ import annotations

import contextlib
import tempfile
from collections import Counter
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from domain import commands as c
from domain.errors import DomainError
from domain.project import ProjectRegistered
from projections.dashboard_queries import NEWEST_ROUNDS, dashboard
from projections.dashboard_rollups import exact
from projections.driver import INTERNAL, Batch
from services.bootstrap import Container, build
from services.settings import Settings
from tests.integration.projections.test_rebuild_property import Clock, crash_once, dump
from tests.support import World, photo
from tests.unit.domain.test_hash_chain import apply_step, step

pytestmark = pytest.mark.integration

OTHER_DISTRICT = "黄浦区"
TODAY = date(2026, 6, 1)
dashboard_step = st.one_of(
    step,
    st.tuples(st.just("finish"), st.none()),
    st.tuples(st.just("round"), st.none()),
    st.tuples(st.just("sign"), st.tuples(st.integers(0, 4), st.sampled_from(["accept", "reject"]))),
    st.tuples(st.just("overdue_defect"), st.sampled_from(["2020-01-01", "2026-05-31", "2026-06-01", "2099-12-31"])),
)


class DashboardWorld(World):
    """Two projects in two districts; items in either."""

    def __init__(self, app: Any) -> None:
        super().__init__(app)
        self.projects = [self.project_id, self.project_in(OTHER_DISTRICT)]

    def project_in(self, district: str) -> UUID:
        out = self.run(self.admin, c.RegisterProject(
            name="天钥新村", district=district, street_office="天平街道", address="天钥桥路", year_built=1988,
            buildings=6, households=200, categories=["basic"]))
        pid = UUID(out.aggregate_id)
        for actor in (self.supervisor, self.contractor):
            self.run(self.admin, c.AssignUser(project_id=pid, user_id=actor.user_id, role=actor.role))
        for n, resident in enumerate(self.residents, start=1):
            self.run(self.admin, c.AddGroupMember(project_id=pid, user_id=resident.user_id, building=f"{n}号楼",
                                                  unit="1单元"))
        return pid

    def item_in(self, project: int, kind: str) -> UUID:
        self.project_id = self.projects[project]
        return self.new_item(kind)

    def act(self, item_id: UUID, action: str, arg: Any) -> None:
        """The hash-chain test's steps, and what brings an item to its residents' acceptance."""
        if action not in ("finish", "round", "sign", "overdue_defect", "stop", "lift"):
            apply_step(self, item_id, action, arg)
            return
        with contextlib.suppress(DomainError):  # a refused command records nothing
            item = self.app.get_item(item_id)
            station = self.station if item.project_id == self.projects[0] else self.other_station
            if action == "stop":
                self.run(station, c.OrderStopWork(item_id=item_id, reason="未设围挡"))
            elif action == "lift":
                self.run(station, c.LiftStopWork(item_id=item_id))
            elif action in ("finish", "round"):  # a round needs the works finished: a round finishes them first
                for defect_id in item.open_defects():
                    with contextlib.suppress(DomainError):
                        self.run(self.contractor, c.ReportRectification(item_id=item_id, defect_id=defect_id,
                                                                        description="已整改", photos=[photo("r")]))
                    closer = station if item.defects[defect_id]["raised_by_role"] == "station" else self.supervisor
                    self.run(closer, c.CloseDefect(item_id=item_id, defect_id=defect_id))
                if item.stop_work is not None:
                    self.run(station, c.LiftStopWork(item_id=item_id))
                if item.state not in ("completed", "awaiting_acceptance"):
                    self.pass_through(item_id)
                    self.run(self.supervisor, c.CompleteWorks(item_id=item_id))
                if action == "round":
                    self.run(self.supervisor, c.RequestAcceptance(item_id=item_id))
            elif action == "sign":
                open_round = item.open_round()
                if open_round is not None:
                    who, decision = arg
                    self.sign(self.residents[who], item_id, open_round["round_no"], open_round["subject_hash"],
                              decision, "漏水" if decision == "reject" else "")
            else:
                self.run(station, c.RaiseDefect(item_id=item_id, severity="critical", description="井盖缺失",
                                                due_date=arg))


def reference(db: Any, where: str, params: tuple[Any, ...]) -> dict[str, Any]:
    """The dashboard's figures by a straightforward GROUP BY over the per-item rows (what it did before totals)."""
    kinds: dict[str, dict[str, Any]] = {}
    for kind, state, n, passed, total in db.query(
            f"SELECT kind, state, COUNT(*), SUM(hold_points_passed), SUM(hold_points_total) FROM dash_items "
            f"WHERE {where} GROUP BY kind, state", params):
        k = kinds.setdefault(kind, {"items": 0, "hold_points_passed": 0, "hold_points_total": 0, "by_state": {}})
        k["items"] += n
        k["hold_points_passed"] += int(passed)
        k["hold_points_total"] += int(total)
        k["by_state"][state] = n
    severities = dict(db.query(f"SELECT severity, COUNT(*) FROM dash_defects WHERE {where} AND status <> 'closed' "
                               "GROUP BY severity", params))
    rounds = db.query(f"SELECT item_id, round_no, electorate, accepts, rejects, opened_at FROM dash_rounds "
                      f"WHERE {where} AND status = 'open'", params)
    quantities: dict[str, Decimal] = {}
    for quantity, amount in db.query(f"SELECT quantity, amount FROM dash_quantities WHERE {where}", params):
        quantities[quantity] = quantities.get(quantity, Decimal(0)) + Decimal(amount)
    (stopped, last), = db.query(f"SELECT SUM(stop_work), MAX(last_activity) FROM dash_items WHERE {where}", params)
    return {
        "works_items": sum(k["items"] for k in kinds.values()), "by_kind": kinds,
        "hold_points": {"passed": sum(k["hold_points_passed"] for k in kinds.values()),
                        "total": sum(k["hold_points_total"] for k in kinds.values())},
        "open_defects": {"total": sum(severities.values()), "by_severity": severities, "overdue": db.query(
            f"SELECT COUNT(*) FROM dash_defects WHERE {where} AND status <> 'closed' AND due_date < ?",
            (*params, TODAY.isoformat()))[0][0]},
        "stop_work_in_force": int(stopped or 0),
        "acceptance_rounds_open_total": len(rounds),
        "acceptance_rounds_open": sorted(rounds, key=lambda r: (r[5], r[0], r[1]), reverse=True)[:NEWEST_ROUNDS],
        "quantities": {k: exact(v) for k, v in sorted(quantities.items())},
        "last_activity": last,
    }


def assert_totals_equal_the_rows(container: Container) -> None:
    """The running totals, table by table, and every scope's figures, against the per-item rows."""
    db = container.db

    def rows(sql: str) -> list[tuple[str, ...]]:
        return sorted(tuple(str(v) for v in row) for row in db.query(sql))

    assert rows("SELECT * FROM dash_roll_items") == rows(
        "SELECT district, kind, state, COUNT(*), SUM(hold_points_passed), SUM(hold_points_total), SUM(stop_work) "
        "FROM dash_items GROUP BY district, kind, state")
    assert rows("SELECT * FROM dash_roll_defects") == rows(
        "SELECT district, severity, COUNT(*) FROM dash_defects WHERE status <> 'closed' GROUP BY district, severity")
    assert rows("SELECT * FROM dash_roll_due") == rows(
        "SELECT district, due_date, COUNT(*) FROM dash_defects WHERE status <> 'closed' AND due_date IS NOT NULL "
        "GROUP BY district, due_date")
    assert rows("SELECT * FROM dash_roll_rounds") == rows(
        "SELECT district, COUNT(*) FROM dash_rounds WHERE status = 'open' GROUP BY district")
    summed: dict[tuple[str, str], list[Any]] = {}
    for district, quantity, amount in db.query("SELECT district, quantity, amount FROM dash_quantities"):
        running = summed.setdefault((district, quantity), [0, Decimal(0)])
        running[0] += 1
        running[1] += Decimal(amount)
    assert rows("SELECT * FROM dash_roll_quantities") == sorted(
        (d, q, str(n), exact(a)) for (d, q), (n, a) in summed.items())

    scopes: list[tuple[str, str | None, str, tuple[Any, ...]]] = [("city", None, "1 = 1", ())]
    scopes += [("district", d, "district = ?", (d,)) for (d,) in db.query("SELECT DISTINCT district FROM dash_items")]
    scopes += [("project", p, "project_id = ?", (p,)) for (p,) in db.query("SELECT project_id FROM dash_projects")]
    for scope, value, where, params in scopes:
        figures = dashboard(db, scope, value, TODAY)
        expected = reference(db, where, params)
        got = {k: figures[k] for k in expected}
        got["acceptance_rounds_open"] = [tuple(r.values()) for r in figures["acceptance_rounds_open"]]
        expected["acceptance_rounds_open"] = [tuple(r) for r in expected["acceptance_rounds_open"]]
        assert got == expected, (scope, value)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(steps=st.lists(st.tuples(st.integers(0, 2), dashboard_step, st.booleans()), min_size=1, max_size=30),
       batch=st.integers(1, 40), crash_at=st.integers(1, 40))
def test_dashboard_totals_equal_the_aggregates_and_the_rows(
        steps: list[tuple[int, tuple[str, Any], bool]], batch: int, crash_at: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        container = build(Settings(data_dir=Path(tmp), s3_endpoint="127.0.0.1:9"))
        try:
            runner, clock = container.projections, Clock()
            runner.clock = clock  # back-off is waited out by moving this clock, never by sleeping
            runner.drivers["dashboard"].batch = batch
            crashes = crash_once(container, "dashboard", crash_at)  # beyond the events applied: no crash
            world = DashboardWorld(container.ledger)
            items = [world.item_in(0, "pipe_relocation"), world.item_in(0, "flying_wire_burial"),
                     world.item_in(1, "pipe_relocation")]
            for which, (action, arg), catch_up_now in steps:
                world.act(items[which], action, arg)
                if catch_up_now:
                    runner.run_once()
            for _ in range(3):  # a crashed read model retries after its back-off
                clock.now += 3600
                runner.run_once()
            assert runner.drivers["dashboard"].position() == runner.drivers["dashboard"].head()

            board = dashboard(container.db, "project", str(world.projects[0]))
            aggregates = [container.ledger.get_item(i) for i in items[:2]]
            assert board["works_items"] == 2
            assert board["hold_points"] == {
                "passed": sum(len(a.passed_hold_points()) for a in aggregates),
                "total": sum(len(a.hold_points) for a in aggregates)}
            severities = Counter(a.defects[d]["severity"] for a in aggregates for d in a.open_defects())
            assert board["open_defects"]["by_severity"] == dict(severities)
            assert board["stop_work_in_force"] == sum(a.stop_work is not None for a in aggregates)
            states = {a.kind: {a.state: 1} for a in aggregates}
            assert {k: v["by_state"] for k, v in board["by_kind"].items()} == states
            assert board["acceptance_rounds_open_total"] == sum(a.open_round() is not None for a in aggregates)
            quantities: dict[str, Decimal] = {}
            for a in aggregates:
                for q, amount in a.quantities.items():
                    quantities[q] = quantities.get(q, Decimal(0)) + amount
            assert {k: Decimal(v) for k, v in board["quantities"].items()} == quantities
            assert_totals_equal_the_rows(container)

            crashes["crashed"] = 1
            live = dump(container, "dashboard")
            replay(container, log(container))  # a relay's republish: every event again, in one batch
            assert dump(container, "dashboard") == live
        finally:
            container.close()


def test_a_project_after_its_items_moves_their_totals_to_its_district(container: Container) -> None:
    """From Kafka a project's event may come after its items': their rows count under no district until it
    does, then under its own; the totals follow, in any batches, and end as a replay in log order leaves them."""
    world = DashboardWorld(container.ledger)
    items = [world.item_in(0, "pipe_relocation"), world.item_in(1, "flying_wire_burial"),
             world.item_in(1, "pipe_relocation")]
    for n, item_id in enumerate(items):
        world.act(item_id, "pass", "survey_and_marking")
        world.act(item_id, "overdue_defect", ("2020-01-01", "2099-12-31")[n % 2])
        world.act(item_id, "stop", None)
    world.act(items[2], "finish", None)
    world.act(items[2], "round", None)
    world.act(items[2], "sign", (0, "accept"))
    driver = container.projections.drivers["dashboard"]
    driver.catch_up()
    in_log_order = dump(container, "dashboard")
    assert_totals_equal_the_rows(container)
    city = dashboard(container.db, "city", None, TODAY)
    assert city["works_items"] == 3 and city["stop_work_in_force"] == 2 and city["acceptance_rounds_open_total"] == 1
    assert dashboard(container.db, "district", OTHER_DISTRICT, TODAY)["works_items"] == 2

    events = log(container)
    late = [e for e in events if isinstance(e, ProjectRegistered)]
    reordered = [e for e in events if not isinstance(e, ProjectRegistered)] + late
    with container.db.transaction() as tx:
        for table in driver.model.tables:
            tx.execute(f"DELETE FROM {table}")
    split = len(reordered) - len(late) - 3  # the second batch: the last three item events, then the projects
    replay(container, reordered[:split])
    assert_totals_equal_the_rows(container)
    assert [d for (d,) in container.db.query("SELECT DISTINCT district FROM dash_items")] == [""]  # no project yet
    replay(container, reordered[split:])
    assert_totals_equal_the_rows(container)
    assert dump(container, "dashboard") == in_log_order


def log(container: Container) -> list[Any]:
    notes = container.ledger.recorder.select_notifications(0, 100_000)
    return [container.ledger.mapper.to_domain_event(n) for n in notes if not n.topic.startswith(INTERNAL)]


def replay(container: Container, events: list[Any]) -> None:
    """Events straight to the dashboard in one batch, as a driver applies them (from Kafka: in any order)."""
    model = container.projections.drivers["dashboard"].model
    with container.db.transaction() as tx:
        batch = Batch(tx, container.ledger)
        for event in events:
            model.apply(event, 0, batch)
        model.flush(batch)
