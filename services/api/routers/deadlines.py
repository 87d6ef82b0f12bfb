"""GET /api/v1/deadlines: the regulatory clocks of every project in the caller's scope, read at today's date;
GET /api/v1/districts/{district}/attention: the station's attention list, by project and item.

Today is the site's date unless the app carries a clock (`app.state.clock`, a function returning a date):
tests freeze time through it. Deadlines are read from their read model (projections/deadlines.py) in one query
with today as a parameter (services/deadline_scan.py).
"""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta
from typing import Any, Literal

from fastapi import APIRouter, Query, Request
from pydantic import Field

from domain.actors import Role
from domain.deadlines import Deadline
from domain.permissions import may_see
from domain.rules import OutOfScope, RoleNotPermitted
from services.api.deps import ContainerDep, CurrentUser
from services.api.models import Model
from services.api.responses import SCOPED, DocumentedRoute, problems
from services.deadline_scan import scan, site_today

router = APIRouter(route_class=DocumentedRoute, tags=["deadlines"])
DeadlineState = Literal["upcoming", "approaching", "breached", "met"]
PRESSING = ("approaching", "breached")  # what the attention list shows


class DeadlineView(Model):
    kind: str
    kind_zh: str
    project_id: str
    item_id: str | None
    subject: str = Field(description="the defect id, hold point or project step the clock is about")
    due: str
    state: DeadlineState
    days_overdue: int
    met_on: str | None


class Deadlines(Model):
    today: str
    items: list[DeadlineView]
    total: int


def today_for(request: Request, container: Any) -> date:
    clock = getattr(request.app.state, "clock", None)
    if clock is not None:
        return date.fromisoformat(str(clock()))
    return site_today(container.settings)


@router.get("/deadlines", response_model=Deadlines, responses=problems(SCOPED))
def deadlines(request: Request, user: CurrentUser, container: ContainerDep, district: str | None = None,
              project: str | None = None, state: DeadlineState | None = None,
              approaching_days: int = Query(3, ge=0, le=90)) -> dict[str, Any]:
    """A station or a district's admin sees its district (narrowed in SQL); anyone else the projects they may see,
    each asked once (`may_see` on the project), never an item loaded."""
    if district and user.role in (Role.STATION, Role.ADMIN) and user.district not in (None, district):
        raise OutOfScope()
    today = today_for(request, container)
    by_district = user.role in (Role.STATION, Role.ADMIN) and user.district is not None
    visible = None if by_district or user.role == Role.ADMIN else \
        (lambda project_id: may_see(user.actor, container.ledger.get_project(project_id)))
    found = scan(container, today, approaching_days, user.district if by_district else district, project,
                 (state,) if state else (), visible)
    items = [d.as_dict(today) for d in found]
    return {"today": today.isoformat(), "items": items, "total": len(items)}


class AttentionItem(Model):
    item_id: str
    kind: str
    title: str
    location: str
    overdue_defects: list[dict[str, Any]] = Field(description="open defects past due: id, severity, due, days")
    stop_work: dict[str, Any] | None = Field(description="an order in force: since (server time), reason")
    flagged: list[dict[str, Any]] = Field(description="timeline entries flagged in the last `flagged_days` days")
    stalled_round: dict[str, Any] | None = Field(description="a residents' round open more than `stalled_days`")
    deadlines: list[DeadlineView] = Field(description="approaching and breached")


class AttentionProject(Model):
    project_id: str
    name: str
    deadlines: list[DeadlineView]
    items: list[AttentionItem]


class Attention(Model):
    district: str
    today: str
    projects: list[AttentionProject]


def _flagged(container: Any, district: str, since: date) -> dict[str, list[dict[str, Any]]]:
    """The district's timeline entries flagged since `since`, by item: one query through the flagged index."""
    rows = container.db.query(
        "SELECT t.item_id, t.position, t.type, t.flags, t.server_time FROM timeline_events t "
        "JOIN lst_items i ON i.item_id = t.item_id "
        "WHERE t.flagged = 1 AND t.server_time >= ? AND i.district = ? ORDER BY t.position",
        (since.isoformat(), district))
    by_item: dict[str, list[dict[str, Any]]] = {}
    for item_id, position, type_, flags, server_time in rows:
        by_item.setdefault(item_id, []).append(
            {"position": position, "type": type_, "flags": json.loads(flags), "server_time": server_time})
    return by_item


def _stalled(container: Any, district: str, today: date, stalled_days: int) -> dict[str, dict[str, Any]]:
    """Open residents' rounds of the district opened more than `stalled_days` days ago, by item."""
    stalled = {}
    for item_id, round_no, opened_at in container.db.query(
            "SELECT item_id, round_no, opened_at FROM lst_rounds WHERE district = ? AND status = 'open'", (district,)):
        opened = datetime.fromisoformat(opened_at).date()
        if (today - opened).days > stalled_days:
            stalled[item_id] = {"round_no": round_no, "opened": opened.isoformat(), "days_open": (today - opened).days}
    return stalled


@router.get("/districts/{district}/attention", response_model=Attention, responses=problems(SCOPED))
def attention(district: str, request: Request, user: CurrentUser, container: ContainerDep,
              flagged_days: int = Query(7, ge=1, le=365), stalled_days: int = Query(14, ge=1, le=365),
              approaching_days: int = Query(3, ge=0, le=90)) -> dict[str, Any]:
    """What needs the station's attention in a district, by project and item; a clean item is not listed.

    Read from the read models (listing, timeline, deadlines): a handful of queries whatever
    the number of items, no aggregate loaded."""
    if user.role not in (Role.STATION, Role.ADMIN):
        raise RoleNotPermitted(role=str(user.role), action="查看区关注清单")
    if user.district not in (None, district):
        raise OutOfScope()
    today = today_for(request, container)
    for name in ("listing", "timeline"):
        container.projections.refresh(name)
    clocks: dict[tuple[str, str | None], list[Deadline]] = {}
    for found in scan(container, today, approaching_days, district=district, states=PRESSING):
        clocks.setdefault((found.project_id, found.item_id), []).append(found)
    severity = dict(((item_id, defect_id), level) for item_id, defect_id, level in container.db.query(
        "SELECT item_id, defect_id, severity FROM lst_defects WHERE district = ? AND status <> 'closed'", (district,)))
    stopped = {item_id: {"since": since, "reason": reason} for item_id, since, reason in container.db.query(
        "SELECT item_id, stop_since, stop_reason FROM lst_items WHERE district = ? AND stop_since IS NOT NULL",
        (district,))}
    flagged = _flagged(container, district, today - timedelta(days=flagged_days))
    stalled = _stalled(container, district, today, stalled_days)
    listed: dict[str, list[dict[str, Any]]] = {}
    for item_id, project_id, kind, title, location in container.db.query(
            "SELECT item_id, project_id, kind, title, location FROM lst_items WHERE district = ? "
            "ORDER BY registered_at, item_id", (district,)):
        pressing = clocks.get((project_id, item_id), [])
        entry = {
            "item_id": item_id, "kind": kind, "title": title, "location": location,
            "overdue_defects": [{"defect_id": d.subject, "severity": severity.get((item_id, d.subject), ""),
                                 "due": d.due.isoformat(), "days_overdue": (today - d.due).days}
                                for d in pressing if d.kind == "defect_due" and d.state == "breached"],
            "stop_work": stopped.get(item_id), "flagged": flagged.get(item_id, []),
            "stalled_round": stalled.get(item_id), "deadlines": [d.as_dict(today) for d in pressing],
        }
        if any(entry[k] for k in ("overdue_defects", "stop_work", "flagged", "stalled_round", "deadlines")):
            listed.setdefault(project_id, []).append(entry)
    projects = []
    for project_id, name in container.db.query("SELECT project_id, name FROM lst_projects WHERE district = ? "
                                               "ORDER BY registered_at, project_id", (district,)):
        own = [d.as_dict(today) for d in clocks.get((project_id, None), [])]
        if listed.get(project_id) or own:
            projects.append({"project_id": project_id, "name": name, "deadlines": own,
                             "items": listed.get(project_id, [])})
    return {"district": district, "today": today.isoformat(), "projects": projects}
