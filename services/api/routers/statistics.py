"""Statistics for the street office and the housing bureau: a year's plan against what was done.

Read by an admin or a station: a district's admin or station for their district only, a city-wide admin for
any district or the whole city. The same figures as JSON, CSV and XLSX. A district's annual plan and a
project's (or item's) category and funding sources are commands on the one command path.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any, TypeAlias

from fastapi import APIRouter, Query
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, Field

from domain import commands as c
from domain.actors import Role
from services.api import schemas as s
from services.api.deps import (
    AfterQuery,
    ContainerDep,
    CurrentUser,
    Headers,
    as_uuid,
    command_response,
    read_your_writes,
    require_role,
)
from services.api.errors import ApiError
from services.api.models import CommandOutcome, Model
from services.api.responses import AFTER, PROJECT_COMMAND, SCOPED, DocumentedRoute, problems
from services.deadline_scan import site_today
from services.statistics import report
from services.statistics_export import as_csv, as_xlsx
from services.users import User

router = APIRouter(route_class=DocumentedRoute, tags=["statistics"])
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

if TYPE_CHECKING:
    AnnualPlanBody: TypeAlias = BaseModel
    FundingBody: TypeAlias = BaseModel
else:
    AnnualPlanBody = s.body_of(c.SetAnnualPlan, "AnnualPlanSet")
    FundingBody = s.body_of(c.SetFunding, "FundingSet", "project_id")


class StatisticsRow(Model):
    measure: str = Field(description="communities_started, communities_completed, households, pipe_km, "
                                     "cable_buried_km, cable_removed_km, lifts_registered, items_behind")
    name_zh: str
    unit_zh: str
    plan: str | None = Field(description="the year's target (decimal text); null: no plan set, or none for it")
    actual: str = Field(description="decimal text, summed over the read models")
    ratio: str | None = Field(description="actual ÷ plan, 4 decimals")


class KindRow(Model):
    kind: str
    name_zh: str
    plan: int | None
    actual: int = Field(description="items of the kind whose first inspection fell in the year")


class CountRow(Model):
    code: str
    name_zh: str
    communities: int = Field(description="communities started in the year that name it")


class StatisticsView(Model):
    year: int
    district: str | None = Field(description="null: the whole city")
    districts_with_plan: int
    rows: list[StatisticsRow]
    items_by_kind: list[KindRow]
    by_funding_source: list[CountRow]
    by_category: list[CountRow]


class PlanOutcome(CommandOutcome):
    changed: bool = Field(description="false: the plan was already this (nothing recorded)")


Year = Annotated[int, Query(ge=2000, le=2100, description="calendar year (site time)")]
District = Annotated[str | None, Query(max_length=100, description="a district; omitted: the caller's own, "
                                                                    "or the whole city for a city-wide admin")]


def _scope(user: User, district: str | None) -> str | None:
    """Who reads which figures: a district's people their district, a city-wide admin any or all."""
    require_role(user, Role.ADMIN, Role.STATION)
    if user.district is None:
        if user.role != Role.ADMIN:
            raise ApiError(403, "out_of_scope", "A station belongs to a district", "监督站账号未指定所属区")
        return district or None
    if district and district != user.district:
        raise ApiError(403, "out_of_scope", "This district is outside your scope", "该区不在您的管辖范围内")
    return user.district


def _report(user: User, container: ContainerDep, year: int, district: str | None, after: int | None) -> dict[str, Any]:
    scope = _scope(user, district)
    read_your_writes(container, after, "statistics", "dashboard")
    return report(container.db, container.ledger, year, scope, site_today(container.settings))


def _filename(figures: dict[str, Any], suffix: str) -> str:
    return f"statistics-{figures['year']}-{'district' if figures['district'] else 'city'}.{suffix}"


@router.get("/statistics", response_model=StatisticsView, responses=problems(SCOPED, AFTER))
def statistics(user: CurrentUser, container: ContainerDep, year: Year, district: District = None,
               after: AfterQuery = None) -> dict[str, Any]:
    """Plan against actual: communities started and completed, households, km of pipe and cable, lifts,
    items behind their planned end, works items by kind, communities by funding source and category."""
    return _report(user, container, year, district, after)


@router.get("/statistics.csv", response_class=Response, responses=problems(SCOPED, AFTER))
def statistics_csv(user: CurrentUser, container: ContainerDep, year: Year, district: District = None,
                   after: AfterQuery = None) -> Response:
    figures = _report(user, container, year, district, after)
    return Response(as_csv(figures), media_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="{_filename(figures, "csv")}"'})


@router.get("/statistics.xlsx", response_class=Response, responses=problems(SCOPED, AFTER))
def statistics_xlsx(user: CurrentUser, container: ContainerDep, year: Year, district: District = None,
                    after: AfterQuery = None) -> Response:
    figures = _report(user, container, year, district, after)
    return Response(as_xlsx(figures), media_type=XLSX,
                    headers={"Content-Disposition": f'attachment; filename="{_filename(figures, "xlsx")}"'})


@router.post("/statistics/plans", status_code=200, response_model=PlanOutcome, responses=problems(PROJECT_COMMAND))
def set_annual_plan(body: AnnualPlanBody, user: CurrentUser, container: ContainerDep,
                    headers: Headers) -> JSONResponse:
    """Set (or correct) a district's plan for a year; an admin of that district or a city-wide admin."""
    command, recorded_at = s.to_command(c.SetAnnualPlan, body)
    return command_response(container, user, headers, command, recorded_at, status=200)


@router.post("/projects/{project_id}/funding", status_code=200, response_model=PlanOutcome,
             responses=problems(PROJECT_COMMAND))
def set_funding(project_id: str, body: FundingBody, user: CurrentUser, container: ContainerDep,
                headers: Headers) -> JSONResponse:
    """The renovation category and funding sources of the project, or of one of its items (`item_id`)."""
    command, recorded_at = s.to_command(c.SetFunding, body, project_id=as_uuid(project_id, "project"))
    return command_response(container, user, headers, command, recorded_at, status=200)
