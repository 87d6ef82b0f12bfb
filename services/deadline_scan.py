"""Deadlines at a given day, read from the deadlines read model (projections/deadlines.py) in one SQL query:
for GET /api/v1/deadlines, the attention list, the console and the reminders.

The rows hold each clock's due date and the day it was met; the state at `today` is judged in SQL by `STATE`,
which says what `domain.deadlines._state` says (and, for the notice, what `project_deadlines` says: "met" once the
earliest day for acceptance has come). tests/integration/projections/test_deadlines_read_model.py holds the two
to each other day by day, so the rule stays one.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, date, datetime, timedelta
from typing import Any

from domain.deadlines import Deadline

# its `?`: today, the last day counted as approaching (today + approaching_days), today, that day again
STATE = (
    "CASE WHEN kind = 'acceptance_notice' THEN CASE "
    "WHEN met_on IS NOT NULL THEN CASE WHEN met_on >= due THEN 'met' ELSE 'breached' END "
    "WHEN ? >= due THEN 'met' WHEN due <= ? THEN 'approaching' ELSE 'upcoming' END "
    "WHEN met_on IS NOT NULL THEN CASE WHEN met_on <= due THEN 'met' ELSE 'breached' END "
    "WHEN due < ? THEN 'breached' WHEN due <= ? THEN 'approaching' ELSE 'upcoming' END"
)
COLUMNS = "kind, project_id, item_id, subject, due, met_on, district"


def site_today(settings: Any) -> date:
    """Today at the site (UTC+8 unless configured): a deadline falls due by the site's calendar, not the server's."""
    return (datetime.now(UTC) + timedelta(hours=settings.site_utc_offset_hours)).date()


def state_params(today: date, approaching_days: int) -> tuple[str, ...]:
    horizon = (today + timedelta(days=approaching_days)).isoformat()
    return today.isoformat(), horizon, today.isoformat(), horizon


def scan(container: Any, today: date, approaching_days: int = 3, district: str | None = None,
         project: str | None = None, states: Sequence[str] = (), visible: Callable[[str], bool] | None = None,
         item_ids: Sequence[str] = ()) -> list[Deadline]:
    """Deadlines of a district, a project, some items, or all, in the given states (all when none named), soonest
    first; `visible(project_id)` narrows them to what a reader may see (asked once per project)."""
    container.projections.refresh("deadlines")
    sql, params = f"SELECT {COLUMNS}, {STATE} AS state FROM dl_deadlines WHERE due IS NOT NULL", list[Any]()
    params += state_params(today, approaching_days)
    if district is not None:
        sql, params = sql + " AND district = ?", [*params, district]
    if project is not None:
        sql, params = sql + " AND project_id = ?", [*params, project]
    if item_ids:
        sql, params = sql + f" AND item_id IN ({', '.join('?' * len(item_ids))})", [*params, *item_ids]
    if states:
        sql = f"SELECT * FROM ({sql}) AS judged WHERE state IN ({', '.join('?' * len(states))})"
        params += states
    rows = container.db.query(sql + " ORDER BY due, kind, project_id, item_id, subject", params)
    seen: dict[str, bool] = {}
    found = []
    for kind, project_id, item_id, subject, due, met_on, _, state in rows:
        if visible is not None:
            if project_id not in seen:
                seen[project_id] = visible(project_id)
            if not seen[project_id]:
                continue
        found.append(Deadline(kind, project_id, item_id or None, subject, date.fromisoformat(due), state,
                              date.fromisoformat(met_on) if met_on else None))
    return found
