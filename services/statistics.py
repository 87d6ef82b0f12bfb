"""A year's plan against what was done, for a district or the city: what the housing bureau reports upward.

Actual figures are sums over read-model rows (`stat_*` from projections/statistics.py, item states from the
dashboard's `dash_items`), never over loaded aggregates; the plan is the district's `AnnualPlan` aggregate,
one load per district (a decision, not a sum). Quantities are added as exact decimals, as recorded.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from domain.application import SiteLedger
from domain.plan import plan_id
from domain.wording import CATEGORY_ZH, FUNDING_SOURCE_ZH
from projections.sql import Database

PIPE, CABLE_BURIED, CABLE_REMOVED, LIFTS = "pipe_laid_m", "duct_built_m", "old_cable_removed_m", "elevators_registered"
DONE_STATES = ("completed", "awaiting_acceptance", "accepted", "closed_out")  # the works themselves are finished


@dataclass(frozen=True)
class Measure:
    code: str
    name_zh: str
    unit_zh: str
    plan_target: str | None  # the plan's target it is measured against (metres become km), or none
    per_km: bool = False


MEASURES = (
    Measure("communities_started", "新开工小区", "个", "communities"),
    Measure("communities_completed", "完工小区（已竣工验收）", "个", None),
    Measure("households", "惠及居民户数", "户", "households"),
    Measure("pipe_km", "改造管网长度", "公里", "pipe_m", per_km=True),
    Measure("cable_buried_km", "架空线入地长度", "公里", "cable_buried_m", per_km=True),
    Measure("cable_removed_km", "拆除架空线长度", "公里", "cable_removed_m", per_km=True),
    Measure("lifts_registered", "加装电梯（已使用登记）", "部", "lifts"),
    Measure("items_behind", "逾期未完工的工程事项", "项", None),
)


def _km(metres: Decimal) -> Decimal:
    """Exact: 42.5 m is 0.0425 km (rounding here would make the report disagree with the log)."""
    return metres.scaleb(-3)


def _plain(value: Decimal) -> str:
    """'12' rather than '12.000', '3.5' rather than '3.500'; never an exponent."""
    text = format(value, "f")
    return text.rstrip("0").rstrip(".") if "." in text else text


def _scope(district: str | None, alias: str = "p") -> tuple[str, tuple[Any, ...]]:
    return (f"{alias}.district = ?", (district,)) if district else ("1 = 1", ())


def actual(db: Database, year: int, district: str | None, today: date) -> dict[str, Any]:
    """The year's facts: started and completed communities, households, quantities, items behind schedule."""
    first, last = f"{year}-01-01", f"{year}-12-31"
    where, params = _scope(district)
    started = db.query(f"SELECT p.households, p.categories, f.category, f.funding_sources FROM stat_projects p "
                       f"LEFT JOIN stat_funding f ON f.subject_id = p.project_id "
                       f"WHERE {where} AND p.started_on BETWEEN ? AND ?", (*params, first, last))
    completed = db.query(f"SELECT COUNT(*) FROM stat_projects p WHERE {where} AND p.completed_on BETWEEN ? AND ?",
                         (*params, first, last))
    joined = "JOIN stat_projects p ON p.project_id = q.project_id" if district else ""
    summed = db.query(f"SELECT q.quantity, SUM(q.amount_milli) FROM stat_quantities q {joined} WHERE {where} "
                      f"AND q.recorded_on BETWEEN ? AND ? AND q.amount_milli IS NOT NULL GROUP BY q.quantity",
                      (*params, first, last))
    finer = db.query(f"SELECT q.quantity, q.amount FROM stat_quantities q {joined} WHERE {where} "
                     f"AND q.recorded_on BETWEEN ? AND ? AND q.amount_milli IS NULL", (*params, first, last))
    items_joined = "JOIN stat_projects p ON p.project_id = i.project_id" if district else ""
    by_kind = db.query(f"SELECT i.kind, COUNT(*) FROM stat_items i {items_joined} "
                       f"WHERE {where} AND i.first_inspected_on BETWEEN ? AND ? GROUP BY i.kind",
                       (*params, first, last))
    behind = db.query(
        f"SELECT COUNT(*) FROM stat_items i {items_joined} "
        f"LEFT JOIN dash_items d ON d.item_id = i.item_id WHERE {where} AND i.planned_end BETWEEN ? AND ? "
        f"AND i.planned_end < ? AND (d.state IS NULL OR d.state NOT IN ({', '.join('?' * len(DONE_STATES))}))",
        (*params, first, last, today.isoformat(), *DONE_STATES))
    totals: dict[str, Decimal] = {}
    for quantity, thousandths in summed:  # exact: whole numbers added in SQL
        totals[quantity] = totals.get(quantity, Decimal(0)) + Decimal(int(thousandths)).scaleb(-3)
    for quantity, amount in finer:  # the rare figure finer than a thousandth, added exactly here
        totals[quantity] = totals.get(quantity, Decimal(0)) + Decimal(amount)
    by_funding: dict[str, int] = {}
    by_category: dict[str, int] = {}
    for _, registered_categories, category, funding in started:
        for source in json.loads(funding or "[]"):
            by_funding[source] = by_funding.get(source, 0) + 1
        # the categories registered with the project, and the one its funding names (a project may be several)
        for code in dict.fromkeys([*json.loads(registered_categories), *([category] if category else [])]):
            by_category[code] = by_category.get(code, 0) + 1
    return {
        "communities_started": Decimal(len(started)), "communities_completed": Decimal(completed[0][0]),
        "households": Decimal(sum(int(row[0]) for row in started)),
        "pipe_km": _km(totals.get(PIPE, Decimal(0))), "cable_buried_km": _km(totals.get(CABLE_BURIED, Decimal(0))),
        "cable_removed_km": _km(totals.get(CABLE_REMOVED, Decimal(0))),
        "lifts_registered": totals.get(LIFTS, Decimal(0)), "items_behind": Decimal(behind[0][0]),
        "items_by_kind": {kind: int(n) for kind, n in by_kind},
        "by_funding_source": by_funding, "by_category": by_category,
    }


def districts_in_view(db: Database, ledger: SiteLedger) -> list[str]:
    """The city's districts: the registry's when loaded, and any a project names."""
    registry = ledger.division_registry()
    named = {row[0] for row in db.query("SELECT DISTINCT district FROM stat_projects")}
    return sorted(named | set(registry.districts if registry else ()))


def planned(ledger: SiteLedger, db: Database, year: int, district: str | None) -> dict[str, Any]:
    """The plans of the districts in scope, added up (a city's plan is its districts' plans)."""
    targets: dict[str, Decimal] = {}
    by_kind: dict[str, int] = {}
    found = 0
    for name in [district] if district else districts_in_view(db, ledger):
        plan = ledger.annual_plan(plan_id(year, name))
        if plan is None or not plan.targets:
            continue
        found += 1
        for target, value in plan.targets.items():
            targets[target] = targets.get(target, Decimal(0)) + Decimal(value)
        for kind, n in plan.items_by_kind.items():
            by_kind[kind] = by_kind.get(kind, 0) + n
    return {"districts_with_plan": found, "targets": targets, "items_by_kind": by_kind}


def _ratio(plan: Decimal | None, done: Decimal) -> str | None:
    if plan is None or plan == 0:
        return None
    return _plain((done / plan).quantize(Decimal("0.0001")))


def _kind_name(ledger: SiteLedger, kind: str) -> str:
    return ledger.catalog.get(kind).name_zh if kind in ledger.catalog else kind


def report(db: Database, ledger: SiteLedger, year: int, district: str | None, today: date) -> dict[str, Any]:
    done = actual(db, year, district, today)
    plan = planned(ledger, db, year, district)
    rows = []
    for m in MEASURES:
        target = None
        if m.plan_target is not None and plan["districts_with_plan"]:
            raw = plan["targets"].get(m.plan_target, Decimal(0))
            target = _km(raw) if m.per_km else raw
        rows.append({"measure": m.code, "name_zh": m.name_zh, "unit_zh": m.unit_zh,
                     "plan": _plain(target) if target is not None else None,
                     "actual": _plain(done[m.code]), "ratio": _ratio(target, done[m.code])})
    kinds = sorted(set(plan["items_by_kind"]) | set(done["items_by_kind"]))
    return {
        "year": year, "district": district, "districts_with_plan": plan["districts_with_plan"], "rows": rows,
        "items_by_kind": [{"kind": k, "name_zh": _kind_name(ledger, k),
                           "plan": plan["items_by_kind"].get(k) if plan["districts_with_plan"] else None,
                           "actual": done["items_by_kind"].get(k, 0)} for k in kinds],
        "by_funding_source": [{"code": code, "name_zh": name, "communities": done["by_funding_source"].get(code, 0)}
                              for code, name in FUNDING_SOURCE_ZH.items()],
        "by_category": [{"code": code, "name_zh": name, "communities": done["by_category"].get(code, 0)}
                        for code, name in CATEGORY_ZH.items()],
    }
