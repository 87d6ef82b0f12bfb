"""Issue 18 §3: the regulatory clocks, read at a frozen day."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from uuid import UUID

from domain import commands as c
from domain.deadlines import Deadline, item_deadlines, project_deadlines
from domain.working_days import ChineseCalendar
from tests.support import World, inspection, photo
from tests.unit.domain.test_completion_acceptance import accepted, hold, survey


def lift_in_use(world: World) -> UUID:
    pipe = world.new_item("pipe_relocation")
    world.pass_through(pipe)
    lift = world.new_item("elevator_installation", links={"pipe_relocation_cleared": pipe})
    world.pass_through(lift, until="usage_registration")
    return lift


def states(deadlines: list[Deadline]) -> dict[str, str]:
    return {f"{d.kind}:{d.subject}": d.state for d in deadlines}


def test_a_lift_unregistered_31_days_after_its_trial_run_is_breached(world: World) -> None:
    lift = lift_in_use(world)
    item = world.app.get_item(lift)
    day0 = datetime.fromisoformat(item.hold_points["trial_run"]["at"]).date()
    assert states(item_deadlines(item, day0))["lift_registration:usage_registration"] == "upcoming"
    assert states(item_deadlines(item, day0 + timedelta(days=28)))["lift_registration:usage_registration"] \
        == "approaching"
    on_31 = next(d for d in item_deadlines(item, day0 + timedelta(days=31)) if d.kind == "lift_registration")
    assert on_31.state == "breached" and on_31.due == day0 + timedelta(days=30)
    assert on_31.as_dict(day0 + timedelta(days=31))["days_overdue"] == 1
    world.run(world.supervisor, inspection(lift, "usage_registration"))
    registered = world.app.get_item(lift)
    assert states(item_deadlines(registered, day0 + timedelta(days=31)))["lift_registration:usage_registration"] \
        == "met"


def test_defects_past_due_and_items_past_their_planned_end(world: World) -> None:
    item_id = world.new_item(planned_end="2026-06-30")
    world.run(world.supervisor, c.RaiseDefect(item_id=item_id, defect_id="d1", severity="major",
                                              description="围挡缺口", due_date="2026-06-10"))
    item = world.app.get_item(item_id)
    assert states(item_deadlines(item, date(2026, 6, 9))) == {"defect_due:d1": "approaching",
                                                              "planned_end:works_completed": "upcoming"}
    assert states(item_deadlines(item, date(2026, 7, 1))) == {"defect_due:d1": "breached",
                                                              "planned_end:works_completed": "breached"}
    world.run(world.contractor, c.ReportRectification(item_id=item_id, defect_id="d1", description="已补",
                                                      photos=[photo("fence")]))
    world.run(world.supervisor2, c.CloseDefect(item_id=item_id, defect_id="d1"))
    assert "defect_due:d1" not in states(item_deadlines(world.app.get_item(item_id), date(2026, 7, 1)))


def test_the_notice_and_the_filing_clocks(world: World) -> None:
    calendar = ChineseCalendar()
    world.run(world.admin, c.NotifyStation(project_id=world.project_id, notice_date="2025-09-26",
                                           photos=[photo("notice")]))
    project = world.app.get_project(world.project_id)
    waiting = project_deadlines(project, calendar, date(2025, 10, 9))
    assert [(d.kind, d.due, d.state) for d in waiting] == [("acceptance_notice", date(2025, 10, 13), "upcoming")]
    assert project_deadlines(project, calendar, date(2025, 10, 13))[0].state == "met"
    accepted(world)
    survey(world)
    hold(world, "2025-10-13")
    project = world.app.get_project(world.project_id)
    filing = next(d for d in project_deadlines(project, calendar, date(2025, 10, 29)) if d.kind == "filing")
    assert (filing.due, filing.state) == (date(2025, 10, 28), "breached")
    world.run(world.admin, c.FileRecord(project_id=world.project_id, filing_no="BA-1", filed_on="2025-10-27"))
    project = world.app.get_project(world.project_id)
    assert states(project_deadlines(project, calendar, date(2025, 11, 30)))["filing:filed"] == "met"
