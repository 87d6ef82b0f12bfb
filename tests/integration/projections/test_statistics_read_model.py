"""The statistics read model on SQLite and PostgreSQL: a year's figures equal sums over the stored events, per
district and for the city, a completion dated by its minutes counts in its own year, and a rebuild gives the
same rows."""

from __future__ import annotations

from datetime import UTC, timedelta
from decimal import Decimal
from typing import Any
from uuid import UUID

import pytest

from domain import commands as c
from domain.project import ProjectRegistered
from domain.templates.frozen import FrozenTemplate
from domain.works_item_events import InspectionRecorded, Registered
from services.bootstrap import Container
from services.deadline_scan import site_today
from services.statistics import report
from tests.support import World, inspection
from tests.unit.domain.test_completion_acceptance import accepted, hold, notify, survey

pytestmark = pytest.mark.integration
TABLES = ("stat_projects", "stat_items", "stat_quantities")
QUANTITY_OF_MEASURE = {"pipe_km": ("pipe_laid_m", 1000), "cable_buried_km": ("duct_built_m", 1000),
                       "cable_removed_km": ("old_cable_removed_m", 1000),
                       "lifts_registered": ("elevators_registered", 1)}


def from_the_events(container: Container, district: str | None, year: int) -> dict[str, Decimal]:
    """Each item's latest passed quantity, dated by its inspection (site time), for projects of the district."""
    ledger, offset = container.ledger, container.settings.site_utc_offset_hours
    districts: dict[str, str] = {}
    totals: dict[str, Decimal] = {}
    for notification in ledger.recorder.select_notifications(start=1, limit=100_000):
        event: Any = ledger.mapper.to_domain_event(notification)
        if isinstance(event, ProjectRegistered):
            districts[str(event.originator_id)] = event.district
    for (item_id,) in container.db.query("SELECT item_id FROM lst_items"):
        events = list(ledger.events.get(UUID(item_id)))
        registered = next(e for e in events if isinstance(e, Registered))
        if district and districts[str(registered.project_id)] != district:
            continue
        template = FrozenTemplate(registered.template).parsed
        latest: dict[str, tuple[Decimal, int]] = {}
        for event in events:
            if isinstance(event, InspectionRecorded) and event.result in ("pass", "conditional"):
                spec = template.hold_point(event.hold_point)
                assert spec is not None
                in_year = (event.timestamp.astimezone(UTC) + timedelta(hours=offset)).year  # the site's year
                for m in spec.measurements:
                    value = event.measurements.get(m.code)
                    if m.quantity and value is not None:
                        amount = value if isinstance(value, Decimal) else Decimal(1)
                        latest[m.quantity] = (amount, in_year)
        for quantity, (amount, recorded_in) in latest.items():
            if recorded_in == year:
                totals[quantity] = totals.get(quantity, Decimal(0)) + amount
    return totals


def dump(container: Container) -> dict[str, list[tuple[str, ...]]]:
    return {t: sorted(tuple(str(v) for v in row) for row in container.db.query(f"SELECT * FROM {t}"))
            for t in TABLES}


def test_a_years_figures_equal_the_sums_over_the_events_and_a_rebuild_equals_them(container: Container) -> None:
    world = World(container.ledger)
    notify(world)
    accepted(world)
    survey(world)
    hold(world, "2025-10-13")  # the minutes' date: completed in 2025, whenever it was recorded
    wires = world.new_item("flying_wire_burial")
    world.pass_through(wires)
    other = world.run(world.admin, c.RegisterProject(name="南京东路小区", district="黄浦区", households=200))
    world.project_id = UUID(other.aggregate_id)
    world.run(world.admin, c.AssignUser(project_id=world.project_id, user_id=world.supervisor.user_id,
                                        role=world.supervisor.role))
    pipe = world.new_item()
    world.pass_through(pipe)
    world.run(world.supervisor, inspection(pipe, "pipe_laying", measurements={  # finer than a thousandth
        "length_laid_m": "12.3456", "material_certificate": "MC-1"}))
    lift = world.new_item("elevator_installation", links={"pipe_relocation_cleared": pipe})
    world.pass_through(lift)
    world.run(world.admin, c.SetAnnualPlan(year=site_today(container.settings).year, district="黄浦区",
                                           communities=3, pipe_m=Decimal("200")))
    container.projections.run_once()
    year, today = site_today(container.settings).year, site_today(container.settings)

    for district in ("徐汇区", "黄浦区", None):
        figures = {r["measure"]: r for r in report(container.db, container.ledger, year, district, today)["rows"]}
        expected = from_the_events(container, district, year)
        for measure, (quantity, per) in QUANTITY_OF_MEASURE.items():
            assert Decimal(figures[measure]["actual"]) == expected.get(quantity, Decimal(0)) / per, (district, measure)
        assert figures["communities_started"]["actual"] == {"徐汇区": "1", "黄浦区": "1", None: "2"}[district]
    xuhui, huangpu = (({r["measure"]: r for r in report(container.db, container.ledger, y, d, today)["rows"]})
                      for y, d in ((2025, "徐汇区"), (year, "黄浦区")))
    assert xuhui["communities_completed"]["actual"] == "1" and xuhui["communities_started"]["actual"] == "0"
    assert huangpu["lifts_registered"]["actual"] == "1" and huangpu["households"]["actual"] == "200"
    assert huangpu["pipe_km"]["actual"] == "0.0123456"  # the later measurement replaced 42.5 m, exactly
    assert (huangpu["pipe_km"]["plan"], huangpu["communities_started"]["ratio"]) == ("0.2", "0.3333")

    live = dump(container)
    assert all(live[t] for t in TABLES)
    container.projections.rebuild("statistics")
    assert dump(container) == live
