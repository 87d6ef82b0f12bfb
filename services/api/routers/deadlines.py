"""GET /api/v1/deadlines: the regulatory clocks of every project in the caller's scope, read at today's date;
GET /api/v1/districts/{district}/attention: the station's attention list, by project and item.

Today is the site's date unless the app carries a clock (`app.state.clock`, a function returning a date):
tests freeze time through it. Deadlines are computed from the aggregates on each read (services/deadline_scan.py).
"""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta
from typing import Any, Literal

from fastapi import APIRouter, Query, Request
from pydantic import Field

from domain.actors import Role
from domain.deadlines import item_deadlines, project_deadlines
from domain.permissions import may_see
from domain.rules import OutOfScope, RoleNotPermitted
from services.api.deps import ContainerDep, CurrentUser
from services.api.models import Model
from services.api.responses import SCOPED, problems
from services.deadline_scan import scan, site_today

router = APIRouter(tags=["deadlines"])
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
    if district and user.role in (Role.STATION, Role.ADMIN) and user.district not in (None, district):
        raise OutOfScope()
    today = today_for(request, container)
    found = scan(container, today, approaching_days, district, project, lambda p: may_see(user.actor, p))
    items = [d.as_dict(today) for d in found if state in (None, d.state)]
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


def _flagged(container: Any, item_id: str, since: date) -> list[dict[str, Any]]:
    rows = container.db.query("SELECT position, type, flags, server_time FROM timeline_events WHERE item_id = ? "
                              "AND flagged = 1 AND server_time >= ? ORDER BY position", (item_id, since.isoformat()))
    return [{"position": position, "type": type_, "flags": json.loads(flags), "server_time": server_time}
            for position, type_, flags, server_time in rows]


def _stalled(container: Any, item: Any, today: date, stalled_days: int) -> dict[str, Any] | None:
    open_round = item.open_round()
    if open_round is None:
        return None
    rows = container.db.query("SELECT server_time FROM timeline_events WHERE item_id = ? AND type = "
                              "'AcceptanceRequested' ORDER BY position DESC LIMIT 1", (str(item.id),))
    if not rows:
        return None
    opened = datetime.fromisoformat(rows[0][0]).date()
    days = (today - opened).days
    return {"round_no": open_round["round_no"], "opened": opened.isoformat(), "days_open": days} \
        if days > stalled_days else None


@router.get("/districts/{district}/attention", response_model=Attention, responses=problems(SCOPED))
def attention(district: str, request: Request, user: CurrentUser, container: ContainerDep,
              flagged_days: int = Query(7, ge=1, le=365), stalled_days: int = Query(14, ge=1, le=365),
              approaching_days: int = Query(3, ge=0, le=90)) -> dict[str, Any]:
    """What needs the station's attention in a district, by project and item; a clean item is not listed."""
    if user.role not in (Role.STATION, Role.ADMIN):
        raise RoleNotPermitted(role=str(user.role), action="查看区关注清单")
    if user.district not in (None, district):
        raise OutOfScope()
    today = today_for(request, container)
    for name in ("catalog", "timeline"):
        container.projections.refresh(name)
    projects = []
    for project_id, name in container.db.query("SELECT project_id, name FROM catalog_projects WHERE district = ? "
                                               "ORDER BY registered_at, project_id", (district,)):
        project = container.ledger.get_project(project_id)
        listed = []
        for (item_id,) in container.db.query("SELECT item_id FROM catalog_items WHERE project_id = ? "
                                             "ORDER BY registered_at, item_id", (project_id,)):
            item = container.ledger.get_item(item_id)
            clocks = [d for d in item_deadlines(item, today, approaching_days) if d.state in PRESSING]
            entry = {
                "item_id": item_id, "kind": item.kind, "title": item.title, "location": item.location,
                "overdue_defects": [{"defect_id": d.subject, "severity": item.defects[d.subject]["severity"],
                                     "due": d.due.isoformat(), "days_overdue": (today - d.due).days}
                                    for d in clocks if d.kind == "defect_due" and d.state == "breached"],
                "stop_work": {"since": item.stop_work["at"], "reason": item.stop_work["reason"]}
                if item.stop_work else None,
                "flagged": _flagged(container, item_id, today - timedelta(days=flagged_days)),
                "stalled_round": _stalled(container, item, today, stalled_days),
                "deadlines": [d.as_dict(today) for d in clocks],
            }
            if any(entry[k] for k in ("overdue_defects", "stop_work", "flagged", "stalled_round", "deadlines")):
                listed.append(entry)
        own = [d.as_dict(today) for d in project_deadlines(project, container.ledger.calendar, today,
                                                           approaching_days) if d.state in PRESSING]
        if listed or own:
            projects.append({"project_id": project_id, "name": name, "deadlines": own, "items": listed})
    return {"district": district, "today": today.isoformat(), "projects": projects}
