"""Reading the dashboard: one scope (a project, a district, the city) summed in SQL."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from projections.sql import Database


def _where(scope: str, value: str | None) -> tuple[str, tuple[Any, ...]]:
    if scope == "project":
        return "project_id = ?", (value,)
    if scope == "district":
        return "district = ?", (value,)
    return "1 = 1", ()


def dashboard(db: Database, scope: str, value: str | None = None, today: date | None = None) -> dict[str, Any]:
    where, params = _where(scope, value)
    today_iso = (today or date.today()).isoformat()
    by_kind_state = db.query(f"SELECT kind, state, COUNT(*) FROM dash_items WHERE {where} GROUP BY kind, state",
                             params)
    per_kind = db.query(f"SELECT kind, COUNT(*), SUM(hold_points_passed), SUM(hold_points_total), SUM(stop_work), "
                        f"MAX(last_activity) FROM dash_items WHERE {where} GROUP BY kind", params)
    defects = db.query(f"SELECT severity, COUNT(*), SUM(CASE WHEN due_date < ? THEN 1 ELSE 0 END) "
                       f"FROM dash_defects WHERE {where} AND status <> 'closed' GROUP BY severity",
                       (today_iso, *params))
    rounds = db.query(f"SELECT item_id, round_no, electorate, accepts, rejects FROM dash_rounds "
                      f"WHERE {where} AND status = 'open' ORDER BY item_id, round_no", params)
    quantities = db.query(f"SELECT quantity, amount FROM dash_quantities WHERE {where}", params)
    projects = db.query(f"SELECT COUNT(*) FROM dash_projects WHERE {where}", params) if scope != "project" else [(1,)]
    totals: dict[str, Decimal] = {}
    for quantity, amount in quantities:
        totals[quantity] = totals.get(quantity, Decimal(0)) + Decimal(amount)
    kinds = {kind: {"items": n, "hold_points_passed": int(p or 0), "hold_points_total": int(t or 0)}
             for kind, n, p, t, _, _ in per_kind}
    items_by_state: dict[str, dict[str, int]] = {}
    for kind, state, n in by_kind_state:
        items_by_state.setdefault(kind, {})[state] = n
    for kind in kinds:
        kinds[kind]["by_state"] = items_by_state.get(kind, {})
    open_by_severity = {severity: n for severity, n, _ in defects}
    return {
        "scope": scope, "value": value, "projects": int(projects[0][0]),
        "works_items": sum(k["items"] for k in kinds.values()),
        "by_kind": kinds,
        "hold_points": {"passed": sum(k["hold_points_passed"] for k in kinds.values()),
                        "total": sum(k["hold_points_total"] for k in kinds.values())},
        "open_defects": {"total": sum(open_by_severity.values()), "by_severity": open_by_severity,
                         "overdue": sum(int(o or 0) for _, _, o in defects)},
        "stop_work_in_force": sum(int(s or 0) for _, _, _, _, s, _ in per_kind),
        "acceptance_rounds_open": [{"item_id": i, "round_no": r, "electorate": e, "accepts": a, "rejects": j}
                                   for i, r, e, a, j in rounds],
        "quantities": {k: str(v) for k, v in sorted(totals.items())},
        "last_activity": max((la for *_, la in per_kind if la), default=None),
    }
