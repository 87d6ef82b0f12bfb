"""Every deadline of the projects a reader may see, at a given day: for GET /api/v1/deadlines and the reminders.

Projects and items come from the catalog read model (an item registered before projects learned their items is
counted too); the clocks themselves are read from the aggregates (domain/deadlines.py)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from typing import Any

from domain.deadlines import Deadline, item_deadlines, project_deadlines
from domain.project import Project


def site_today(settings: Any) -> date:
    """Today at the site (UTC+8 unless configured): a deadline falls due by the site's calendar, not the server's."""
    return (datetime.now(UTC) + timedelta(hours=settings.site_utc_offset_hours)).date()


def scan(container: Any, today: date, approaching_days: int = 3, district: str | None = None,
         project: str | None = None, visible: Callable[[Project], bool] = lambda _: True) -> list[Deadline]:
    container.projections.refresh("catalog")
    sql, params = "SELECT project_id FROM catalog_projects WHERE 1 = 1", list[str]()
    if district:
        sql, params = sql + " AND district = ?", [*params, district]
    if project:
        sql, params = sql + " AND project_id = ?", [*params, project]
    found: list[Deadline] = []
    for (project_id,) in container.db.query(sql + " ORDER BY registered_at, project_id", params):
        aggregate = container.ledger.get_project(project_id)
        if not visible(aggregate):
            continue
        found += project_deadlines(aggregate, container.ledger.calendar, today, approaching_days)
        for (item_id,) in container.db.query("SELECT item_id FROM catalog_items WHERE project_id = ? "
                                             "ORDER BY registered_at, item_id", (project_id,)):
            found += item_deadlines(container.ledger.get_item(item_id), today, approaching_days)
    return sorted(found, key=lambda d: (d.due, d.kind))
