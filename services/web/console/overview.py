"""The district overview (the inspector's home) and the city page: attention first, then progress and charts."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from domain.deadlines import KINDS_ZH as DEADLINE_KINDS_ZH
from projections.dashboard_queries import dashboard
from services.bootstrap import Container
from services.web.console import cache, charts, queries
from services.web.console.access import OTHER_DISTRICT, Viewer, container_of, page, refused, viewer
from services.web.console.words import Clock, kind_names

router = APIRouter(include_in_schema=False)
READ_MODELS = ("listing", "dashboard", "timeline", "deadlines")


def clock(container: Container) -> Clock:
    return Clock(container.settings.site_utc_offset_hours)


def refresh(container: Container) -> None:
    """The pages read what the log says now: each read model brought up to date first (cheap when it is)."""
    for name in READ_MODELS:
        container.projections.refresh(name)


@router.get("/console")
def home(request: Request) -> Response:
    """Where the console opens: the city for a city-wide admin, else the person's district."""
    who = viewer(request)
    if isinstance(who, Response):
        return who
    if who.city_wide:
        return RedirectResponse("/console/city", status_code=303)
    return RedirectResponse(f"/console/districts/{who.user.district}", status_code=303)


def _scope(request: Request, district: str) -> Viewer | Response:
    who = viewer(request)
    if isinstance(who, Response):
        return who
    if not who.may_see_district(district):
        return refused(request, OTHER_DISTRICT, 403)
    return who


def attention_context(container: Container, district: str | None) -> dict[str, Any]:
    time = clock(container)
    attention = cache.kept(_key(container, "attention", district),
                           lambda: queries.attention(container.db, district, time.today(), time.now()))
    return {"attention": attention, "clock": time,
            "kinds_zh": kind_names(container.ledger.catalog), "flagged_days": queries.FLAGGED_DAYS,
            "stalled_days": queries.STALLED_DAYS, "show_district": district is None,
            "approaching_days": queries.APPROACHING_DAYS, "deadline_kinds_zh": DEADLINE_KINDS_ZH}


@router.get("/console/districts/{district}")
def district_overview(request: Request, district: str) -> Response:
    who = _scope(request, district)
    if isinstance(who, Response):
        return who
    container = container_of(request)
    refresh(container)
    return page(request, "overview.html", viewer=who, district=district,
                **attention_context(container, district), **_figures(container, district))


@router.get("/console/districts/{district}/attention")
def district_attention(request: Request, district: str) -> Response:
    """The attention list alone: what htmx swaps in when the overview refreshes itself."""
    who = _scope(request, district)
    if isinstance(who, Response):
        return who
    container = container_of(request)
    refresh(container)
    return page(request, "_attention.html", viewer=who, district=district, **attention_context(container, district))


def _figures(container: Container, district: str | None) -> dict[str, Any]:
    return dict(cache.kept(_key(container, "figures", district), lambda: _compute_figures(container, district)))


def _key(container: Container, what: str, district: str | None) -> tuple[object, ...]:
    return (what, district, container.settings.database_url(), *cache.state_of(container, READ_MODELS))


def _compute_figures(container: Container, district: str | None) -> dict[str, Any]:
    catalog = container.ledger.catalog
    kinds_zh = kind_names(catalog)
    figures = dashboard(container.db, "district" if district else "city", district, clock(container).today())
    weekly = queries.defects_by_week(container.db, district, clock(container).today())
    names = charts.quantity_names(catalog)
    return {"figures": figures, "projects": queries.projects(container.db, district), "quantity_names": names,
            "charts": {"kinds": charts.items_by_kind_and_state(figures["by_kind"], kinds_zh),
                       "defects": charts.defects_per_week(weekly),
                       "quantities": charts.quantities(figures["quantities"], names)}}


@router.get("/console/city")
def city(request: Request) -> Response:
    who = viewer(request)
    if isinstance(who, Response):
        return who
    if not who.city_wide:
        return refused(request, "只有市级业主单位可以查看全市情况", 403)
    container = container_of(request)
    refresh(container)
    figures = _figures(container, None)
    quantities = figures["figures"]["quantities"]
    national = {"communities": figures["figures"]["projects"],
                "households": queries.households(container.db, None),
                "pipe_km": float(quantities.get("pipe_laid_m", 0)) / 1000,
                "cable_km": float(quantities.get("duct_built_m", 0)) / 1000,
                "lifts": int(float(quantities.get("elevators_registered", 0)))}
    return page(request, "city.html", viewer=who, national=national,
                districts=queries.districts(container.db, clock(container).today()),
                **attention_context(container, None), **figures)
