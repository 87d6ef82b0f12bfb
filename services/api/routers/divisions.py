"""The city's districts and streets: read by anyone signed in (forms offer them), kept by a city-level admin.

Loading and delisting are commands on the one command path, with the same idempotency and authorization as
every other; a project registered in a district the loaded registry does not know is refused
(`unknown_district`, with the near name suggested).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, TypeAlias

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from domain import commands as c
from services.api import schemas as s
from services.api.deps import ContainerDep, CurrentUser, Headers, command_response
from services.api.models import CommandOutcome, Model
from services.api.responses import AUTH, DIVISIONS_COMMAND, DocumentedRoute, problems

router = APIRouter(route_class=DocumentedRoute, prefix="/divisions", tags=["divisions"])

if TYPE_CHECKING:
    DivisionsLoad: TypeAlias = BaseModel
    DivisionDelist: TypeAlias = BaseModel
else:
    DivisionsLoad = s.body_of(c.LoadDivisions, "DivisionsLoad")
    DivisionDelist = s.body_of(c.DelistDivision, "DivisionDelist")


class StreetView(Model):
    name_zh: str
    code: str | None = Field(description="GB/T 2260 township code, when known")


class DistrictView(Model):
    name_zh: str
    code: str = Field(description="GB/T 2260 county-level code")
    streets: list[StreetView]


class DivisionsView(Model):
    loaded: bool = Field(description="false: no registry loaded yet, district names are free text")
    items: list[DistrictView]


class DivisionsLoaded(CommandOutcome):
    districts: int = Field(description="districts added or corrected")
    streets: int = Field(description="streets added or corrected")


@router.get("", response_model=DivisionsView, responses=problems(AUTH))
def list_divisions(user: CurrentUser, container: ContainerDep) -> dict[str, Any]:
    registry = container.ledger.division_registry()
    if registry is None:
        return {"loaded": False, "items": []}
    items = [{"name_zh": name, "code": d["code"],
              "streets": [{"name_zh": street, "code": code} for street, code in d["streets"].items()]}
             for name, d in sorted(registry.districts.items(), key=lambda kv: kv[1]["code"])]
    return {"loaded": True, "items": items}


@router.post("", status_code=200, response_model=DivisionsLoaded, responses=problems(DIVISIONS_COMMAND))
def load_divisions(body: DivisionsLoad, user: CurrentUser, container: ContainerDep, headers: Headers) -> JSONResponse:
    command, recorded_at = s.to_command(c.LoadDivisions, body)
    return command_response(container, user, headers, command, recorded_at, status=200)


@router.post("/delist", status_code=200, response_model=CommandOutcome, responses=problems(DIVISIONS_COMMAND))
def delist_division(body: DivisionDelist, user: CurrentUser, container: ContainerDep,
                    headers: Headers) -> JSONResponse:
    command, recorded_at = s.to_command(c.DelistDivision, body)
    return command_response(container, user, headers, command, recorded_at, status=200)
