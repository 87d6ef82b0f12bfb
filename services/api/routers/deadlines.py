"""GET /api/v1/deadlines: the regulatory clocks of every project in the caller's scope, read at today's date.

Today is the site's date unless the app carries a clock (`app.state.clock`, a function returning a date):
tests freeze time through it. Deadlines are computed from the aggregates on each read (domain/deadlines.py);
the projects and items come from the catalog read model, so an item registered before projects learned
their items is counted too.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any, Literal

from fastapi import APIRouter, Query, Request
from pydantic import Field

from domain.actors import Role
from domain.deadlines import item_deadlines, project_deadlines
from domain.permissions import may_see
from domain.rules import OutOfScope
from services.api.deps import ContainerDep, CurrentUser
from services.api.models import Model
from services.api.responses import SCOPED, problems

router = APIRouter(tags=["deadlines"])
DeadlineState = Literal["upcoming", "approaching", "breached", "met"]


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
    offset = timedelta(hours=container.settings.site_utc_offset_hours)
    return (datetime.now(UTC) + offset).date()


@router.get("/deadlines", response_model=Deadlines, responses=problems(SCOPED))
def deadlines(request: Request, user: CurrentUser, container: ContainerDep, district: str | None = None,
              project: str | None = None, state: DeadlineState | None = None,
              approaching_days: int = Query(3, ge=0, le=90)) -> dict[str, Any]:
    if district and user.role in (Role.STATION, Role.ADMIN) and user.district not in (None, district):
        raise OutOfScope()
    today = today_for(request, container)
    container.projections.refresh("catalog")
    sql, params = "SELECT project_id FROM catalog_projects WHERE 1 = 1", list[str]()
    if district:
        sql, params = sql + " AND district = ?", [*params, district]
    if project:
        sql, params = sql + " AND project_id = ?", [*params, project]
    found = []
    for (project_id,) in container.db.query(sql + " ORDER BY registered_at, project_id", params):
        aggregate = container.ledger.get_project(project_id)
        if not may_see(user.actor, aggregate):
            continue
        found += project_deadlines(aggregate, container.ledger.calendar, today, approaching_days)
        for (item_id,) in container.db.query("SELECT item_id FROM catalog_items WHERE project_id = ? "
                                             "ORDER BY registered_at, item_id", (project_id,)):
            found += item_deadlines(container.ledger.get_item(item_id), today, approaching_days)
    items = [d.as_dict(today) for d in sorted(found, key=lambda d: (d.due, d.kind)) if state in (None, d.state)]
    return {"today": today.isoformat(), "items": items, "total": len(items)}
