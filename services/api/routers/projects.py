"""Projects: registration, assignments, the residents' supervision group, the acceptance rule."""

from __future__ import annotations

from datetime import date
from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse

from domain import commands as c
from domain.actors import Role
from services.api import schemas as s
from services.api.deps import ContainerDep, CurrentUser, Headers, as_uuid, command_response, require_role
from services.api.errors import ApiError
from services.api.models import CommandOutcome, MemberAdded, Page, ProjectListEntry, ProjectView
from services.api.responses import PROJECT_COMMAND, PROJECT_READ, DocumentedRoute, problems
from services.api.routers.lists import (
    LIST_PROBLEMS,
    Category,
    Cursor,
    FundingSource,
    Limit,
    Offset,
    Search,
    answer,
    between,
    scoped,
    searching,
)
from services.api.views import project_view

router = APIRouter(route_class=DocumentedRoute, prefix="/projects", tags=["projects"])


@router.post("", status_code=201, response_model=CommandOutcome, responses=problems(PROJECT_COMMAND))
def register_project(body: s.ProjectCreate, user: CurrentUser, container: ContainerDep,
                     headers: Headers) -> JSONResponse:
    command, recorded_at = s.to_command(c.RegisterProject, body)
    return command_response(container, user, headers, command, recorded_at)


@router.get("", response_model=Page[ProjectListEntry], responses=LIST_PROBLEMS)
def list_projects(request: Request, response: Response, user: CurrentUser, container: ContainerDep,
                  district: str | None = None, street_office: str | None = None,
                  category: Category | None = None, funding_source: FundingSource | None = None,
                  registered_from: date | None = None, registered_to: date | None = None,
                  q: str | None = Search, limit: int = Limit, offset: int = Offset,
                  cursor: str | None = Cursor) -> dict[str, Any]:
    """Projects the caller may see, oldest registration first; `q` searches names and addresses.

    Summaries from the listing read model (no project is loaded): GET a project for its people and rule."""
    columns = ("p.project_id, p.version, p.name, p.district, p.street_office, p.address, p.year_built, "
               "p.buildings, p.households, p.categories, p.registered_at, p.funding_category, p.funding_sources, "
               "p.registered_at, p.project_id"
               ).replace("p.", "lst_projects.")
    query = scoped(user, container, "projects", "lst_projects", columns, ("registered_at", "project_id"))
    query.equal("district", district).equal("street_office", street_office)
    if category:
        query.when("(lst_projects.categories LIKE ? OR lst_projects.funding_category = ?)", f"%,{category},%",
                   category)
    if funding_source:
        query.when("lst_projects.funding_sources LIKE ?", f"%,{funding_source},%")
    between(query, "registered_at", registered_from, registered_to)
    searching(query, container, q)
    return answer(query, container, request, response, limit, offset, cursor, _project_entry)


def _project_entry(row: Any) -> dict[str, Any]:
    keys = ("id", "version", "name", "district", "street_office", "address", "year_built", "buildings",
            "households", "categories", "registered_at", "funding_category", "funding_sources")
    entry = dict(zip(keys, row, strict=False))
    entry["categories"] = [c for c in entry["categories"].split(",") if c]
    entry["funding_sources"] = [f for f in entry["funding_sources"].split(",") if f]
    return entry


@router.get("/{project_id}", response_model=ProjectView, responses=problems(PROJECT_READ))
def get_project(project_id: str, user: CurrentUser, container: ContainerDep, response: Response) -> dict[str, Any]:
    project = container.ledger.project_in_scope(user.actor, as_uuid(project_id, "project"))
    response.headers["ETag"] = f'"{project.version}"'
    return project_view(project)


@router.post("/{project_id}/assignments", status_code=201, response_model=CommandOutcome,
             responses=problems(PROJECT_COMMAND, {422: ("assignee_not_supervisor_or_contractor",)}))
def assign(project_id: str, body: s.AssignmentCreate, user: CurrentUser,
           container: ContainerDep, headers: Headers) -> JSONResponse:
    require_role(user, Role.ADMIN)
    assignee = container.users.get(vars(body)["user_id"])  # the body's model is built at import: mypy cannot see it
    if assignee is None or assignee.role not in (Role.SUPERVISOR, Role.CONTRACTOR):
        raise ApiError(422, "assignee_not_supervisor_or_contractor",
                       "Only an existing supervisor or contractor can be assigned",
                       "只能分配已存在的现场监理或施工单位用户")
    command, recorded_at = s.to_command(c.AssignUser, body, project_id=as_uuid(project_id, "project"),
                                        role=assignee.role)
    return command_response(container, user, headers, command, recorded_at)


@router.delete("/{project_id}/assignments/{user_id}", response_model=CommandOutcome,
               responses=problems(PROJECT_COMMAND, {404: ("user_not_found",)}))
def unassign(project_id: str, user_id: str, user: CurrentUser, container: ContainerDep,
             headers: Headers) -> JSONResponse:
    command = c.UnassignUser(project_id=as_uuid(project_id, "project"), user_id=as_uuid(user_id, "user"))
    return command_response(container, user, headers, command, status=200)


@router.post("/{project_id}/residents-group/members", status_code=201, response_model=MemberAdded,
             responses=problems(PROJECT_COMMAND, {422: ("member_must_be_resident",)}))
def add_member(project_id: str, body: s.MemberCreate, user: CurrentUser,
               container: ContainerDep, headers: Headers) -> JSONResponse:
    require_role(user, Role.ADMIN)
    resident = container.users.get(vars(body)["user_id"])
    if resident is None or resident.role != Role.RESIDENT:
        raise ApiError(422, "member_must_be_resident", "A member is linked to an existing resident user",
                       "居民监督小组成员必须关联一个已存在的居民用户")
    command, recorded_at = s.to_command(c.AddGroupMember, body, project_id=as_uuid(project_id, "project"))
    return command_response(container, user, headers, command, recorded_at)


@router.delete("/{project_id}/residents-group/members/{member_id}", response_model=CommandOutcome,
               responses=problems(PROJECT_COMMAND))
def remove_member(project_id: str, member_id: str, user: CurrentUser, container: ContainerDep,
                  headers: Headers, reason: str = "") -> JSONResponse:
    command = c.RemoveGroupMember(project_id=as_uuid(project_id, "project"), member_id=member_id, reason=reason)
    return command_response(container, user, headers, command, status=200)


@router.put("/{project_id}/acceptance-rule", response_model=CommandOutcome, responses=problems(PROJECT_COMMAND))
def set_acceptance_rule(project_id: str, body: s.AcceptanceRuleUpdate, user: CurrentUser,
                        container: ContainerDep, headers: Headers) -> JSONResponse:
    command, recorded_at = s.to_command(c.SetAcceptanceRule, body, project_id=as_uuid(project_id, "project"))
    return command_response(container, user, headers, command, recorded_at, status=200)
