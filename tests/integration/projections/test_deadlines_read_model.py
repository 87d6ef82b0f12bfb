"""The deadlines read model says what the domain says, day by day, on either database; a rebuild gives the same
rows; a notice the working calendar cannot count yet is kept with its reason and counted by a rebuild."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

import pytest

from domain import commands as c
from domain.deadlines import Deadline, item_deadlines, project_deadlines
from domain.rules import WorkingCalendarUnavailable
from domain.working_days import ChineseCalendar
from services.bootstrap import Container
from services.deadline_scan import scan
from tests.support import World, inspection, photo
from tests.unit.domain.test_completion_acceptance import accepted, hold, notify, survey

pytestmark = pytest.mark.integration
TABLES = ("dl_deadlines", "dl_projects")


def key(d: Deadline) -> tuple[Any, ...]:
    return d.kind, d.project_id, d.item_id, d.subject, d.due, d.state, d.met_on


def from_aggregates(container: Container, today: date) -> set[tuple[Any, ...]]:
    """What the domain finds on every aggregate, read the old way: the rule the read model must agree with."""
    ledger, found = container.ledger, set()
    for (project_id,) in container.db.query("SELECT project_id FROM lst_projects"):
        found |= {key(d) for d in project_deadlines(ledger.get_project(project_id), ledger.calendar, today)}
    for (item_id,) in container.db.query("SELECT item_id FROM lst_items"):
        found |= {key(d) for d in item_deadlines(ledger.get_item(item_id), today)}
    return found


def dump(container: Container) -> dict[str, list[tuple[str, ...]]]:
    return {t: sorted(tuple(str(v) for v in row) for row in container.db.query(f"SELECT * FROM {t}"))
            for t in TABLES}


def seeded(container: Container) -> tuple[World, date]:
    """Every kind of clock: a project from notice to filing; in another, a lift in use, an item with a planned
    end and a defect due, and a defect closed (its clock gone)."""
    world = World(container.ledger)
    notify(world)
    accepted(world)
    survey(world)
    hold(world, "2025-10-13")
    world.run(world.admin, c.FileRecord(project_id=world.project_id, filing_no="BA-1", filed_on="2025-10-30"))
    world.project_id = world.new_project()
    pipe = world.new_item()
    world.pass_through(pipe)
    lift = world.new_item("elevator_installation", links={"pipe_relocation_cleared": pipe})
    world.pass_through(lift, until="usage_registration")
    day0 = datetime.fromisoformat(container.ledger.get_item(lift).hold_points["trial_run"]["at"]).date()
    planned = world.new_item(planned_end=(day0 + timedelta(days=10)).isoformat())
    for defect_id, due in (("d1", day0 + timedelta(days=4)), ("d2", day0 + timedelta(days=2))):
        world.run(world.station, c.RaiseDefect(item_id=planned, defect_id=defect_id, severity="major",
                                               description="围挡缺口", due_date=due.isoformat()))
    world.run(world.contractor, c.ReportRectification(item_id=planned, defect_id="d2", description="已补设",
                                                      photos=[photo("after")]))
    world.run(world.station, c.CloseDefect(item_id=planned, defect_id="d2"))
    world.run(world.supervisor, inspection(planned, "survey_and_marking"))
    return world, day0


def test_the_read_model_judges_every_day_as_the_domain_does_and_a_rebuild_equals_it(container: Container) -> None:
    world, day0 = seeded(container)
    container.projections.run_once()
    days = [date(2025, 9, 20) + timedelta(days=n) for n in range(50)] + \
        [day0 - timedelta(days=3) + timedelta(days=n) for n in range(40)]
    kinds = set()
    for today in days:
        listed = scan(container, today)
        kinds |= {d.kind for d in listed}
        assert {key(d) for d in listed} == from_aggregates(container, today), today
        assert [key(d) for d in scan(container, today, states=("breached",))] == \
            [key(d) for d in listed if d.state == "breached"]
    assert kinds == {"acceptance_notice", "filing", "lift_registration", "planned_end", "defect_due"}
    states_seen = {d.state for today in days for d in scan(container, today)}
    assert states_seen == {"upcoming", "approaching", "breached", "met"}
    filing = next(d for d in scan(container, date(2025, 11, 1)) if d.kind == "filing")
    assert (filing.due, filing.state, filing.met_on) == (date(2025, 10, 28), "breached", date(2025, 10, 30))
    assert scan(container, day0, district="黄浦区") == []
    only = scan(container, day0, project=str(world.project_id))
    assert {d.project_id for d in only} == {str(world.project_id)} and len(only) == 3  # lift, planned end, d1

    live = dump(container)
    container.projections.rebuild("deadlines")
    assert dump(container) == live
    world.run(world.supervisor, inspection(next(d.item_id for d in only if d.kind == "lift_registration"),
                                           "usage_registration"))
    container.projections.run_once()
    lift = next(d for d in scan(container, day0 + timedelta(days=31)) if d.kind == "lift_registration")
    assert (lift.state, lift.met_on) == ("met", day0)  # registered the day it passed its trial run


class NotYetPublished:
    """A calendar that knows no year from 2025 on: the State Council's notice not out yet."""

    def is_workday(self, day: date) -> bool:
        if day.year >= 2025:
            raise WorkingCalendarUnavailable(year=day.year)
        return day.weekday() < 5


def test_a_notice_the_calendar_cannot_count_yet_waits_with_its_reason_and_a_rebuild_counts_it(
        container: Container) -> None:
    model = container.projections.drivers["deadlines"].model
    model.calendar = NotYetPublished()  # type: ignore[attr-defined]
    world = World(container.ledger)
    notify(world)
    container.projections.run_once()
    assert container.db.query("SELECT kind, due, pending FROM dl_deadlines") == [
        ("acceptance_notice", None, "working_calendar_unavailable: notice 2025-09-26")]
    assert scan(container, date(2025, 10, 1)) == []  # not listed with a guessed date

    model.calendar = ChineseCalendar()  # type: ignore[attr-defined]  # the package upgraded
    container.projections.rebuild("deadlines")
    [notice] = scan(container, date(2025, 10, 10))
    assert (notice.kind, notice.due, notice.state) == ("acceptance_notice", date(2025, 10, 13), "approaching")
    assert container.db.query("SELECT pending FROM dl_deadlines") == [(None,)]
