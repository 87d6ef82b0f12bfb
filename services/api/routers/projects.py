"""Projects: registration, assignments, the residents' supervision group, the acceptance rule."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Query, Response
from fastapi.responses import JSONResponse

from domain import commands as c
from domain.actors import Role
from domain.permissions import may_see
from services.api import schemas as s
from services.api.deps import ContainerDep, CurrentUser, Headers, as_uuid, command_response, require_role
from services.api.errors import ApiError
from services.api.models import CommandOutcome, MemberAdded, Page, ProjectView
from services.api.responses import AUTH, PROJECT_COMMAND, PROJECT_READ, problems
from services.api.views import project_view

router = APIRouter(prefix="/projects", tags=["projects"])


@router.post("", status_code=201, response_model=CommandOutcome, responses=problems(PROJECT_COMMAND))
def register_project(body: s.ProjectCreate, user: CurrentUser, container: ContainerDep,
                     headers: Headers) -> JSONResponse:
    command, recorded_at = s.to_command(c.RegisterProject, body)
    return command_response(container, user, headers, command, recorded_at)


@router.get("", response_model=Page[ProjectView], responses=problems(AUTH, {422: ("validation_error",)}))
def list_projects(user: CurrentUser, container: ContainerDep, district: str | None = None,
                  limit: int = Query(100, ge=1, le=1000), offset: int = Query(0, ge=0)) -> dict[str, Any]:
    container.projections.refresh("catalog")
    sql = "SELECT project_id FROM catalog_projects"
    params: list[Any] = []
    scope_district = district or (user.district if user.role in (Role.STATION, Role.ADMIN) else None)
    if scope_district:
        sql += " WHERE district = ?"
        params.append(scope_district)
    rows = container.db.query(sql + " ORDER BY registered_at, project_id", params)
    visible = []
    for (project_id,) in rows:
        project = container.ledger.get_project(project_id)
        if may_see(user.actor, project):
            visible.append(project_view(project))
    return {"items": visible[offset:offset + limit], "total": len(visible), "offset": offset, "limit": limit}


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
