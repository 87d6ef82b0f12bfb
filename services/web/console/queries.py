"""What the console reads: the listing joined with the dashboard and the timeline, one scope at a time.

A scope is a district or (None) the whole city. Every list is one query with its names already joined, so a
page costs a handful of queries whatever the number of items (no aggregate loaded per row).
"""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from eventsourcing.application import Application

from projections.sql import Database
from projections.timeline import payloads
from services.deadline_scan import STATE, state_params

FLAGGED_DAYS = 14  # the attention list shows timeline flags of the last two weeks
STALLED_DAYS = 14  # an acceptance round open this long without a decision is stalled
ROWS = 50  # each attention list shows its worst 50 and says how many more; beyond that a project page filters
APPROACHING_DAYS = 3  # a deadline due within three days is listed as approaching


def _scope(column: str, district: str | None) -> tuple[str, tuple[Any, ...]]:
    return (f"{column} = ?", (district,)) if district is not None else ("1 = 1", ())


@dataclass
class Attention:
    """Everything in a scope that needs the station now, each row naming its item."""

    overdue: list[dict[str, Any]] = field(default_factory=list)
    stopped: list[dict[str, Any]] = field(default_factory=list)
    flagged: list[dict[str, Any]] = field(default_factory=list)
    stalled: list[dict[str, Any]] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)  # each list's whole length (the rows stop at ROWS)
    breached: list[dict[str, Any]] = field(default_factory=list)  # regulatory clocks run out, not yet met
    approaching: list[dict[str, Any]] = field(default_factory=list)  # due within APPROACHING_DAYS
    deadline_counts: dict[str, int] = field(default_factory=dict)

    @property
    def total(self) -> int:
        return sum(self.counts.values()) + sum(self.deadline_counts.values())


ITEM_COLUMNS = "i.item_id, i.title, i.location, i.kind, p.name, i.district"


def _item(row: tuple[Any, ...]) -> dict[str, Any]:
    item_id, title, location, kind, project, district = row[:6]
    return {"item_id": item_id, "title": title, "location": location, "kind": kind, "project": project,
            "district": district}


def attention(db: Database, district: str | None, today: date, now: datetime) -> Attention:
    where, params = _scope("i.district", district)
    found = Attention()
    for row in db.query(
            f"SELECT {ITEM_COLUMNS}, d.defect_id, d.severity, d.description, d.due_date FROM lst_defects d "
            f"JOIN lst_items i ON i.item_id = d.item_id JOIN lst_projects p ON p.project_id = i.project_id "
            f"WHERE {where.replace('i.', 'd.')} AND d.status <> 'closed' AND d.due_date < ? "
            f"ORDER BY d.due_date, d.item_id LIMIT {ROWS}", (*params, today.isoformat())):
        due = date.fromisoformat(row[9])
        found.overdue.append({**_item(row), "defect_id": row[6], "severity": row[7], "description": row[8],
                              "due_date": row[9], "days": (today - due).days})
    for row in db.query(
            f"SELECT {ITEM_COLUMNS}, i.stop_since, i.stop_reason FROM lst_items i "
            f"JOIN lst_projects p ON p.project_id = i.project_id WHERE {where} AND i.stop_since IS NOT NULL "
            f"ORDER BY i.stop_since LIMIT {ROWS}", params):
        found.stopped.append({**_item(row), "since": row[6], "reason": row[7]})
    found.flagged, flagged_items = _flagged(db, where, params, now - timedelta(days=FLAGGED_DAYS))
    for row in db.query(
            f"SELECT {ITEM_COLUMNS}, r.round_no, r.opened_at, r.electorate, COALESCE(t.accepts, 0), "
            f"COALESCE(t.rejects, 0) FROM lst_rounds r JOIN lst_items i ON i.item_id = r.item_id "
            f"JOIN lst_projects p ON p.project_id = i.project_id LEFT JOIN dash_rounds t "
            f"ON t.item_id = r.item_id AND t.round_no = r.round_no "
            f"WHERE {where.replace('i.', 'r.')} AND r.status = 'open' AND r.opened_at < ? "
            f"ORDER BY r.opened_at LIMIT {ROWS}", (*params, (now - timedelta(days=STALLED_DAYS)).isoformat())):
        found.stalled.append({**_item(row), "round_no": row[6], "opened_at": row[7], "electorate": row[8],
                              "signed": row[9] + row[10], "accepts": row[9], "rejects": row[10]})
    found.counts = {
        "overdue": _count(db, f"SELECT COUNT(*) FROM lst_defects d WHERE {where.replace('i.', 'd.')} "
                              "AND d.status <> 'closed' AND d.due_date < ?", (*params, today.isoformat())),
        "stopped": _count(db, f"SELECT COUNT(*) FROM lst_items i WHERE {where} AND i.stop_since IS NOT NULL", params),
        "flagged": flagged_items,
        "stalled": _count(db, f"SELECT COUNT(*) FROM lst_rounds r WHERE {where.replace('i.', 'r.')} "
                              "AND r.status = 'open' AND r.opened_at < ?",
                          (*params, (now - timedelta(days=STALLED_DAYS)).isoformat())),
    }
    for state in ("breached", "approaching"):
        rows, count = deadlines(db, district, today, state)
        setattr(found, state, rows)
        found.deadline_counts[state] = count
    return found


# A defect past due is already "逾期未整改"; the notice's "approaching" is a wait, not a clock to beat; a clock met
# late (a filing after 15 days) is on the record but needs nobody now.
DEADLINES_SHOWN = {"breached": "d.kind <> 'defect_due' AND d.met_on IS NULL",
                   "approaching": "d.kind <> 'acceptance_notice'"}


def deadlines(db: Database, district: str | None, today: date, state: str) -> tuple[list[dict[str, Any]], int]:
    """The scope's deadlines in a state at `today` (the deadlines read model, judged in SQL), soonest due first,
    each with the item (or, for a project's own clocks, the project) it links to; and how many there are."""
    where, params = _scope("district", district)
    judged = (f"SELECT kind, project_id, item_id, subject, due, met_on, district, {STATE} AS state "
              f"FROM dl_deadlines WHERE due IS NOT NULL AND {where}")
    condition = f"d.state = ? AND {DEADLINES_SHOWN[state]}"
    values = (*state_params(today, APPROACHING_DAYS), *params, state)
    rows = db.query(
        "SELECT d.kind, d.project_id, d.item_id, d.subject, d.due, d.district, p.name, i.title, i.location, i.kind, "
        f"x.description FROM ({judged}) AS d JOIN lst_projects p ON p.project_id = d.project_id "
        "LEFT JOIN lst_items i ON i.item_id = d.item_id "
        "LEFT JOIN lst_defects x ON d.kind = 'defect_due' AND x.item_id = d.item_id AND x.defect_id = d.subject "
        f"WHERE {condition} ORDER BY d.due, d.kind, d.project_id, d.item_id LIMIT {ROWS}", values)
    listed = [{"kind": r[0], "project_id": r[1], "item_id": r[2] or None, "subject": r[3], "due": r[4],
               "district": r[5], "project": r[6], "title": r[7], "location": r[8], "item_kind": r[9],
               "description": r[10], "days": abs((today - date.fromisoformat(r[4])).days)} for r in rows]
    return listed, _count(db, f"SELECT COUNT(*) FROM ({judged}) AS d WHERE {condition}", values)


def _count(db: Database, sql: str, params: tuple[Any, ...]) -> int:
    return int(db.query(sql, params)[0][0])


def _flagged(db: Database, where: str, params: tuple[Any, ...], since: datetime
             ) -> tuple[list[dict[str, Any]], int]:
    """One row per item (the most recently flagged first): its flags of the period, how many entries, the latest;
    and how many items were flagged. The timeline is read from the period's first position on through its partial
    index of flagged entries (`timeline_flagged_only`), and joined to the listing only where flagged."""
    rows = db.query(
        f"SELECT {ITEM_COLUMNS}, t.flags, t.server_time FROM timeline_events t CROSS JOIN lst_items i "
        f"CROSS JOIN lst_projects p WHERE t.position >= ? AND t.flagged = 1 AND t.server_time >= ? "
        f"AND i.item_id = t.item_id AND p.project_id = i.project_id AND {where} ORDER BY t.position DESC",
        (first_position_since(db, since - CLOCK_SLACK), since.isoformat(), *params))
    by_item: dict[str, dict[str, Any]] = {}
    for row in rows:
        entry = by_item.setdefault(row[0], {**_item(row), "flags": [], "entries": 0, "latest": row[7]})
        entry["entries"] += 1
        for flag in json.loads(row[6]):
            if flag not in entry["flags"]:
                entry["flags"].append(flag)
    return list(by_item.values())[:ROWS], len(by_item)


CLOCK_SLACK = timedelta(hours=1)  # server times follow log order but for commits racing each other


def first_position_since(db: Database, since: datetime) -> int:
    """The first timeline position at or after `since`, by bisecting the log's positions (server times grow with
    them): a dozen primary-key look-ups instead of a scan of the whole timeline."""
    low, high = db.query("SELECT COALESCE(MIN(position), 0), COALESCE(MAX(position), 0) FROM timeline_events")[0]
    moment = since.isoformat()
    while low < high:
        middle = (low + high) // 2
        found = db.query("SELECT position, server_time FROM timeline_events WHERE position >= ? "
                         "ORDER BY position LIMIT 1", (middle,))
        position, server_time = found[0]
        if server_time < moment:
            low = position + 1
        else:
            high = middle if middle < position else position
    return int(low)


def projects(db: Database, district: str | None) -> list[dict[str, Any]]:
    """Every project of the scope with its progress (hold points passed of total) and items by state."""
    where, params = _scope("p.district", district)
    listed = {row[0]: {"project_id": row[0], "name": row[1], "district": row[2], "street_office": row[3],
                       "item_count": 0, "passed": 0, "total": 0, "by_state": {}, "stop_work": 0}
              for row in db.query(f"SELECT p.project_id, p.name, p.district, p.street_office FROM lst_projects p "
                                  f"WHERE {where} ORDER BY p.name, p.project_id", params)}
    for project_id, state, n, passed, total, stopped in db.query(
            f"SELECT d.project_id, d.state, COUNT(*), SUM(d.hold_points_passed), SUM(d.hold_points_total), "
            f"SUM(d.stop_work) FROM dash_items d WHERE {where.replace('p.', 'd.')} GROUP BY d.project_id, d.state",
            params):
        if project_id in listed:
            entry = listed[project_id]
            entry["item_count"] += n
            entry["passed"] += int(passed or 0)
            entry["total"] += int(total or 0)
            entry["stop_work"] += int(stopped or 0)
            entry["by_state"][state] = n
    return list(listed.values())


def defects_by_week(db: Database, district: str | None, today: date, weeks: int = 12) -> dict[str, list[Any]]:
    """Defects raised and closed in each of the last `weeks` weeks (Monday to Sunday, site time)."""
    where, params = _scope("district", district)
    first = today - timedelta(days=today.weekday() + 7 * (weeks - 1))
    starts = [first + timedelta(weeks=n) for n in range(weeks)]
    opened, closed = [0] * weeks, [0] * weeks
    rows = db.query(f"SELECT raised_at, closed_at FROM lst_defects WHERE {where} "
                    "AND (raised_at >= ? OR closed_at >= ?)", (*params, first.isoformat(), first.isoformat()))
    for raised_at, closed_at in rows:
        for moment, counts in ((raised_at, opened), (closed_at, closed)):
            if moment and moment[:10] >= first.isoformat():
                week = (date.fromisoformat(moment[:10]) - first).days // 7
                if 0 <= week < weeks:
                    counts[week] += 1
    return {"weeks": [s.strftime("%m-%d") for s in starts], "opened": opened, "closed": closed}


def project_items(db: Database, project_id: str, kind: str | None, state: str | None,
                  search: str | None) -> list[dict[str, Any]]:
    """The project's items as the table shows them, filtered in SQL (title or location contains the search)."""
    sql = ("SELECT i.item_id, i.title, i.location, i.kind, d.state, d.hold_points_passed, d.hold_points_total, "
           "i.stop_since, d.last_activity, i.open_defects FROM lst_items i "
           "LEFT JOIN dash_items d ON d.item_id = i.item_id WHERE i.project_id = ?")
    params: list[Any] = [project_id]
    if kind:
        sql += " AND i.kind = ?"
        params.append(kind)
    if state:
        sql += " AND d.state = ?"
        params.append(state)
    if search:
        sql += " AND (i.title LIKE ? OR i.location LIKE ?)"
        pattern = "%" + search.replace("\\", "").replace("%", "").replace("_", "") + "%"
        params += [pattern, pattern]
    rows = db.query(sql + " ORDER BY i.registered_at, i.item_id LIMIT 1000", params)
    return [{"item_id": r[0], "title": r[1], "location": r[2], "kind": r[3], "state": r[4] or "registered",
             "passed": r[5] or 0, "total": r[6] or 0, "stopped": r[7] is not None, "last_activity": r[8],
             "open_defects": r[9]} for r in rows]


def item_defects(db: Database, item_id: str) -> list[dict[str, Any]]:
    rows = db.query("SELECT defect_id, severity, status, description, hold_point, due_date, raised_at, closed_at "
                    "FROM lst_defects WHERE item_id = ? ORDER BY raised_at, defect_id", (item_id,))
    keys = ("defect_id", "severity", "status", "description", "hold_point", "due_date", "raised_at", "closed_at")
    return [dict(zip(keys, row, strict=True)) for row in rows]


def item_timeline(db: Database, ledger: Application, item_id: str, types: tuple[str, ...] = (),
                  newest: int | None = None) -> list[dict[str, Any]]:
    """The item's entries in log order: all, those of some types, or only the newest few (still in order); each
    event's own fields (`data`) read from the log."""
    sql = ("SELECT position, version, type, actor_id, actor_role, device_id, device_time, server_time, hold_point, "
           "photos, flags FROM timeline_events WHERE item_id = ?")
    params: list[Any] = [item_id]
    if types:
        sql += f" AND type IN ({','.join('?' * len(types))})"
        params += types
    sql += " ORDER BY position DESC" + (f" LIMIT {int(newest)}" if newest else "")
    keys = ("position", "version", "type", "actor_id", "actor_role", "device_id", "device_time", "server_time",
            "hold_point")
    rows = list(reversed(db.query(sql, params)))
    shown = payloads(ledger, [(item_id, row[1]) for row in rows])
    return [{**dict(zip(keys, row[:9], strict=True)), "photos": json.loads(row[9]), "data": shown[(item_id, row[1])],
             "flags": json.loads(row[10])} for row in rows]


def item_entries(db: Database, item_id: str) -> tuple[int, int]:
    """How many entries the item's record holds, and how many of them are flagged."""
    total, flagged = db.query("SELECT COUNT(*), COALESCE(SUM(flagged), 0) FROM timeline_events WHERE item_id = ?",
                              (item_id,))[0]
    return int(total), int(flagged)


def districts(db: Database, today: date) -> list[dict[str, Any]]:
    """The city page's comparison: per district, projects, households, items, progress, defects, stop-work."""
    compared: dict[str, dict[str, Any]] = defaultdict(lambda: {"projects": 0, "households": 0, "item_count": 0,
                                                               "passed": 0, "total": 0, "stop_work": 0,
                                                               "open_defects": 0, "overdue": 0})
    for district, n, households in db.query(
            "SELECT district, COUNT(*), SUM(households) FROM lst_projects GROUP BY district"):
        compared[district].update(projects=n, households=int(households or 0))
    # the dashboard's running totals per district (projections/dashboard_rollups.py), not a scan of every item
    for district, n, passed, total, stopped in db.query(
            "SELECT district, SUM(items), SUM(hold_points_passed), SUM(hold_points_total), SUM(stop_work) "
            "FROM dash_roll_items GROUP BY district"):
        compared[district].update(item_count=int(n or 0), passed=int(passed or 0), total=int(total or 0),
                                  stop_work=int(stopped or 0))
    for district, n in db.query("SELECT district, SUM(open) FROM dash_roll_defects GROUP BY district"):
        compared[district].update(open_defects=int(n or 0))
    for district, overdue in db.query("SELECT district, SUM(open) FROM dash_roll_due WHERE due_date < ? "
                                      "GROUP BY district", (today.isoformat(),)):
        compared[district].update(overdue=int(overdue or 0))
    return [{"district": d, **figures} for d, figures in sorted(compared.items())]


def households(db: Database, district: str | None) -> int:
    where, params = _scope("district", district)
    return int(db.query(f"SELECT COALESCE(SUM(households), 0) FROM lst_projects WHERE {where}", params)[0][0])
