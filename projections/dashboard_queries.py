"""Reading the dashboard: a district or the city from the running totals per district, a project from its items'
rows; either way a few index reads, however many items the city has, sent as one statement (one round trip)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from projections.dashboard_rollups import exact
from projections.sql import Database

NEWEST_ROUNDS = 50  # open acceptance rounds listed (newest first); `acceptance_rounds_open_total` counts them all

# Each part of the answer is a tagged row of seven columns: 'k' kind, state, items, hold points passed and total,
# stop-work in force; 's' severity, -, open defects; 'q' quantity, amount; 'r' item, opened at, round number,
# electorate, accepts, rejects; 'n' (one row) -, last activity, projects, overdue defects, open rounds.
NEWEST = ("SELECT * FROM (SELECT 'r' AS tag, item_id, opened_at, round_no, electorate, accepts, rejects "
          "FROM dash_rounds WHERE {where} AND status = 'open' "
          f"ORDER BY opened_at DESC, item_id DESC, round_no DESC LIMIT {NEWEST_ROUNDS}) AS newest")


def dashboard(db: Database, scope: str, value: str | None = None, today: date | None = None) -> dict[str, Any]:
    today_iso = (today or date.today()).isoformat()
    if scope == "project":
        statement, params = _project(str(value), today_iso)
    else:
        statement, params = _totals(value if scope == "district" else None, today_iso)
    return _assemble(scope, value, db.query(statement, params))


def _project(project_id: str, today_iso: str) -> tuple[str, list[Any]]:
    """A project's items are few (tens, a few hundred): added up from their rows."""
    where = "project_id = ?"
    parts = [
        f"SELECT 'k', kind, state, COUNT(*), SUM(hold_points_passed), SUM(hold_points_total), SUM(stop_work) "
        f"FROM dash_items WHERE {where} GROUP BY kind, state",
        f"SELECT 's', severity, NULL, COUNT(*), NULL, NULL, NULL FROM dash_defects WHERE {where} "
        "AND status <> 'closed' GROUP BY severity",
        f"SELECT 'q', quantity, amount, NULL, NULL, NULL, NULL FROM dash_quantities WHERE {where}",
        NEWEST.format(where=where),
        f"SELECT 'n', NULL, (SELECT MAX(last_activity) FROM dash_items WHERE {where}), 1, "
        f"(SELECT COUNT(*) FROM dash_defects WHERE {where} AND status <> 'closed' AND due_date < ?), "
        f"(SELECT COUNT(*) FROM dash_rounds WHERE {where} AND status = 'open'), NULL",
    ]
    p = project_id
    return " UNION ALL ".join(parts), [p, p, p, p, p, p, today_iso, p]


def _totals(district: str | None, today_iso: str) -> tuple[str, list[Any]]:
    """A district's totals are its rows of the running totals; the city's, every district's (a few hundred rows;
    overdue defects, a row per district and day they are due). The latest activity is an index read, district by
    district for the city (one more index over the whole city would cost every write)."""
    where, p = ("district = ?", [district]) if district is not None else ("1 = 1", [])
    if district is not None:
        last = "SELECT MAX(last_activity) FROM dash_items WHERE district = ?"
    else:
        last = ("SELECT MAX((SELECT MAX(i.last_activity) FROM dash_items i WHERE i.district = r.district)) "
                "FROM (SELECT DISTINCT district FROM dash_roll_items) r")
    overdue = f"SELECT SUM(open) FROM dash_roll_due WHERE {where} AND due_date < ?"
    parts = [
        "SELECT 'k', kind, state, SUM(items), SUM(hold_points_passed), SUM(hold_points_total), SUM(stop_work) "
        f"FROM dash_roll_items WHERE {where} GROUP BY kind, state",
        f"SELECT 's', severity, NULL, SUM(open), NULL, NULL, NULL FROM dash_roll_defects WHERE {where} "
        "GROUP BY severity",
        f"SELECT 'q', quantity, amount, NULL, NULL, NULL, NULL FROM dash_roll_quantities WHERE {where}",
        NEWEST.format(where=where),
        f"SELECT 'n', NULL, ({last}), (SELECT COUNT(*) FROM dash_projects WHERE {where}), ({overdue}), "
        f"(SELECT SUM(open) FROM dash_roll_rounds WHERE {where}), NULL",
    ]
    return " UNION ALL ".join(parts), [*p * 4, *p, *p, *p, today_iso, *p]  # `last` for the city takes none


def _assemble(scope: str, value: str | None, rows: list[Any]) -> dict[str, Any]:
    kinds: dict[str, dict[str, Any]] = {}
    open_by_severity: dict[str, int] = {}
    totals: dict[str, Decimal] = {}
    rounds: list[dict[str, Any]] = []
    stop_work = 0
    last_activity, projects, overdue, rounds_open = None, 0, 0, 0
    for tag, a, b, n, x, y, z in sorted(rows, key=lambda row: tuple("" if v is None else str(v) for v in row)):
        if tag == "k":
            summary = kinds.setdefault(a, {"items": 0, "hold_points_passed": 0, "hold_points_total": 0,
                                           "by_state": {}})
            summary["items"] += int(n)
            summary["hold_points_passed"] += int(x or 0)
            summary["hold_points_total"] += int(y or 0)
            summary["by_state"][b] = int(n)
            stop_work += int(z or 0)
        elif tag == "s":
            open_by_severity[a] = int(n)
        elif tag == "q":
            totals[a] = totals.get(a, Decimal(0)) + Decimal(b)
        elif tag == "r":
            rounds.append({"item_id": a, "round_no": int(n), "electorate": int(x), "accepts": int(y),
                           "rejects": int(z), "opened_at": b})
        else:
            last_activity, projects, overdue, rounds_open = b, int(n), int(x or 0), int(y or 0)
    rounds.sort(key=lambda r: (r["opened_at"], r["item_id"], r["round_no"]), reverse=True)
    return {
        "scope": scope, "value": value, "projects": projects,
        "works_items": sum(k["items"] for k in kinds.values()),
        "by_kind": kinds,
        "hold_points": {"passed": sum(k["hold_points_passed"] for k in kinds.values()),
                        "total": sum(k["hold_points_total"] for k in kinds.values())},
        "open_defects": {"total": sum(open_by_severity.values()), "by_severity": open_by_severity,
                         "overdue": overdue},
        "stop_work_in_force": stop_work,
        "acceptance_rounds_open": rounds,
        "acceptance_rounds_open_total": rounds_open,
        "quantities": {k: exact(v) for k, v in sorted(totals.items())},
        "last_activity": last_activity,
    }
