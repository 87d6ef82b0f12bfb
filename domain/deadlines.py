"""The regulatory clocks a project runs on, read from its aggregates at a given day (the caller's clock).

- a defect past its due date (整改期限);
- a lift put into use (trial run passed) must be registered (使用登记) within 30 days;
- completion acceptance no earlier than 7 working days after the station's written notice;
- the record filed (备案) within 15 days of completion acceptance;
- a works item past its planned end.

Each deadline is `upcoming`, `approaching` (due within `approaching_days`), `breached` (due passed, not met, or
met late) or `met`. No clock here: whoever asks says which day it is, so a test freezes time by passing a day.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from domain.completion import FILING_DAYS, NOTICE_WORKING_DAYS
from domain.item_state import ItemState
from domain.project import Project
from domain.project_state import ProjectState
from domain.rules import WorkingCalendarUnavailable
from domain.working_days import WorkingCalendar, add_working_days
from domain.works_item import WorksItem

LIFT_REGISTRATION_DAYS = 30
DONE_STATES = ("completed", "awaiting_acceptance", "accepted", "closed_out")
STATES = ("upcoming", "approaching", "breached", "met")
KINDS_ZH = {
    "defect_due": "整改期限", "lift_registration": "电梯投入使用后 30 日内办理使用登记",
    "acceptance_notice": "书面告知安质监站满 7 个工作日后方可竣工验收", "filing": "竣工验收后 15 日内备案",
    "planned_end": "计划完工日期",
}


@dataclass(frozen=True)
class Deadline:
    kind: str
    project_id: str
    item_id: str | None
    subject: str  # the defect id, the hold point, or the project step it is about
    due: date
    state: str
    met_on: date | None = None

    def as_dict(self, today: date) -> dict[str, Any]:
        return {"kind": self.kind, "kind_zh": KINDS_ZH[self.kind], "project_id": self.project_id,
                "item_id": self.item_id, "subject": self.subject, "due": self.due.isoformat(), "state": self.state,
                "days_overdue": max((today - self.due).days, 0) if self.state == "breached" and not self.met_on
                else 0, "met_on": self.met_on.isoformat() if self.met_on else None}


def _state(due: date, today: date, approaching_days: int, met_on: date | None) -> str:
    if met_on is not None:
        return "met" if met_on <= due else "breached"
    if today > due:
        return "breached"
    return "approaching" if (due - today).days <= approaching_days else "upcoming"


def _day(iso: str) -> date:
    return datetime.fromisoformat(iso).date() if "T" in iso else date.fromisoformat(iso)


def item_deadlines(item: WorksItem | ItemState, today: date, approaching_days: int = 3) -> list[Deadline]:
    project_id, item_id = str(item.project_id), str(item.id)
    found = []
    for defect_id, defect in item.defects.items():
        if defect.get("due_date") and defect["status"] != "closed":
            due = date.fromisoformat(defect["due_date"])
            found.append(Deadline("defect_due", project_id, item_id, defect_id, due,
                                  _state(due, today, approaching_days, None)))
    points = item.hold_points
    if "trial_run" in points and "usage_registration" in points and points["trial_run"].get("at") \
            and item.is_passed("trial_run"):
        due = _day(points["trial_run"]["at"]) + timedelta(days=LIFT_REGISTRATION_DAYS)
        registered = points["usage_registration"].get("at") if item.is_passed("usage_registration") else None
        met_on = _day(registered) if registered else None
        found.append(Deadline("lift_registration", project_id, item_id, "usage_registration", due,
                              _state(due, today, approaching_days, met_on), met_on))
    planned_end = getattr(item, "planned_end", None)  # an item registered before it was recorded has none
    if planned_end and item.state not in DONE_STATES:
        due = date.fromisoformat(planned_end)
        found.append(Deadline("planned_end", project_id, item_id, "works_completed", due,
                              _state(due, today, approaching_days, None)))
    return found


def project_deadlines(project: Project | ProjectState, calendar: WorkingCalendar, today: date,
                      approaching_days: int = 3) -> list[Deadline]:
    found = []
    state, project_id = project.completion, str(project.id)
    acceptance = state["acceptance"]
    if state["notice"] is not None:
        try:
            due = add_working_days(calendar, date.fromisoformat(state["notice"]["date"]), NOTICE_WORKING_DAYS)
        except WorkingCalendarUnavailable:
            due = None
        if due is not None:  # the earliest day acceptance may be held: "met" once that day has come
            held = date.fromisoformat(acceptance["date"]) if acceptance else None
            if held is not None:
                waited = "met" if held >= due else "breached"
            else:
                waited = "met" if today >= due else _state(due, today, approaching_days, None)
            found.append(Deadline("acceptance_notice", project_id, None, "completion_acceptance", due, waited,
                                  held))
    if acceptance is not None:
        due = date.fromisoformat(acceptance["date"]) + timedelta(days=FILING_DAYS)
        filing = state["filing"]
        met_on = date.fromisoformat(filing["date"]) if filing else None
        found.append(Deadline("filing", project_id, None, "filed", due, _state(due, today, approaching_days, met_on),
                              met_on))
    return found
