"""统计: a year's plan against what was done, for a district (the station's, a district admin's) or any district
or the whole city (a city-wide admin), with the figures' CSV and XLSX and a chart; an admin edits the plan.

The figures are `services.statistics.report`'s, the function GET /api/v1/statistics answers from (read here,
not over HTTP). The plan form is a `SetAnnualPlan` through the one command path, with the session's CSRF token
and an idempotency key made when the page was drawn (a form sent twice records once).
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any
from urllib.parse import urlencode
from uuid import uuid4

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from domain import commands as c
from domain.actors import Role
from domain.plan import plan_id
from services.api.authentication import CSRF_FIELD, check_csrf
from services.api.errors import ApiError
from services.bootstrap import Container
from services.deadline_scan import site_today
from services.statistics import districts_in_view, report
from services.web.console import charts
from services.web.console.access import OTHER_DISTRICT, Viewer, container_of, page, refused, viewer
from services.web.console.actions import FormFields, submit

router = APIRouter(include_in_schema=False)
READ_MODELS = ("statistics", "dashboard")
# The plan's targets as the form asks for them (the command's own fields and units).
PLAN_FIELDS = (("communities", "计划开工小区", "个"), ("households", "惠及居民户数", "户"),
               ("pipe_m", "改造管网长度", "米"), ("cable_buried_m", "架空线入地长度", "米"),
               ("cable_removed_m", "拆除架空线长度", "米"), ("lifts", "加装电梯", "部"))
LABELS = {name: label for name, label, _ in PLAN_FIELDS} | {"year": "年份", "district": "区",
                                                            "items_by_kind": "各类工程事项"}
ADMIN_ONLY = "只有业主单位管理员可以设定年度计划"
NO_DISTRICT = "监督站账号未指定所属区"


def _year(text: str | None, today: date) -> int | None:
    if not text:
        return today.year
    return int(text) if text.isdigit() and 2000 <= int(text) <= 2100 else None


def _scope(request: Request, who: Viewer, district: str | None) -> str | Response | None:
    """The district the figures are for (None: the city): a district's people their own only."""
    if who.user.district is None:
        if not who.city_wide:
            return refused(request, NO_DISTRICT, 403)
        return district or None
    if district and district != who.user.district:
        return refused(request, OTHER_DISTRICT, 403)
    return who.user.district


def _query(year: int, district: str | None) -> str:
    return urlencode({"year": year, **({"district": district} if district else {})})


def _charts(figures: dict[str, Any]) -> dict[str, Any]:
    return {"completion": charts.completion(figures["rows"]), "kinds": charts.kinds_planned(figures["items_by_kind"])}


def _plan_values(container: Container, year: int, district: str | None) -> dict[str, str]:
    """The district's plan as the form shows it (empty for the city, whose plan is its districts')."""
    plan = container.ledger.annual_plan(plan_id(year, district)) if district else None
    if plan is None:
        return {}
    values = {name: _plain(plan.targets.get(name, "0")) for name, _, _ in PLAN_FIELDS}
    values |= {f"kind_{kind}": str(n) for kind, n in plan.items_by_kind.items()}
    return values


def _plain(text: str) -> str:
    number = Decimal(text)
    return str(int(number)) if number == number.to_integral_value() else format(number.normalize(), "f")


def render(request: Request, who: Viewer, year: int, district: str | None, status: int = 200,
           error: str | None = None, values: dict[str, str] | None = None, notice: str | None = None) -> Response:
    container = container_of(request)
    for name in READ_MODELS:
        container.projections.refresh(name)
    figures = report(container.db, container.ledger, year, district, site_today(container.settings))
    return page(request, "statistics.html", status, viewer=who, year=year, district=district, figures=figures,
                charts=_charts(figures), query=_query(year, district), error=error, notice=notice,
                districts=districts_in_view(container.db, container.ledger) if who.city_wide else [],
                may_plan=who.user.role == Role.ADMIN and district is not None,
                plan_fields=PLAN_FIELDS, kinds=[(t.code, t.name_zh) for t in container.ledger.catalog],
                values=values if values is not None else _plan_values(container, year, district),
                key=uuid4().hex)


@router.get("/console/statistics")
def statistics(request: Request, year: str | None = None, district: str | None = None,
               saved: str | None = None) -> Response:
    who = viewer(request)
    if isinstance(who, Response):
        return who
    wanted = _year(year, site_today(container_of(request).settings))
    if wanted is None:
        return refused(request, "年份无效：请填写 2000 至 2100 之间的年份", 422)
    scope = _scope(request, who, district)
    if isinstance(scope, Response):
        return scope
    return render(request, who, wanted, scope, notice=f"{scope}{wanted}年度计划已保存" if saved and scope else None)


def _plan_command(form: dict[str, str], year: int, district: str, kinds: list[str]) -> c.SetAnnualPlan:
    targets = {name: form.get(name, "").strip() or "0" for name, _, _ in PLAN_FIELDS}
    by_kind = {kind: form.get(f"kind_{kind}", "").strip() for kind in kinds}
    return c.SetAnnualPlan.model_validate({"year": year, "district": district, **targets,
                                           "items_by_kind": {k: n for k, n in by_kind.items() if n not in ("", "0")}})


@router.post("/console/statistics/plan")
def set_plan(request: Request, form: FormFields) -> Response:
    who = viewer(request)
    if isinstance(who, Response):
        return who
    if who.user.role != Role.ADMIN:
        return refused(request, ADMIN_ONLY, 403)
    try:
        check_csrf(request, who.session, form.get(CSRF_FIELD))
    except ApiError as refusal:
        return refused(request, refusal.detail_zh, 403)
    container = container_of(request)
    year = _year(form.get("year", ""), site_today(container.settings))
    district = form.get("district", "").strip()
    if year is None or not district:
        return refused(request, "年份或区无效，请刷新页面后重试", 422)
    scope = _scope(request, who, district)
    if isinstance(scope, Response):
        return scope
    kinds = {t.code: t.name_zh for t in container.ledger.catalog}
    outcome, status, error = submit(container, who.user, form.get("idempotency_key", ""),
                                    lambda: _plan_command(form, year, district, list(kinds)), LABELS | kinds)
    if outcome is not None:
        return RedirectResponse(f"/console/statistics?{_query(year, district)}&saved=1", status_code=303)
    return render(request, who, year, district, status, error=error, values=form)
