"""Works items: registration, every command on an item, its state, its raw log and its verification."""

import re
from collections.abc import Callable
from datetime import date, datetime
from typing import Any, NamedTuple

from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from starlette.routing import compile_path

from domain import commands as c
from domain.rules import OutOfScope, ProjectNotFound
from projections.listing_queries import scope as scope_of
from services.api import models as m
from services.api import schemas as s
from services.api.deps import (
    MAX_POSITION,
    CommandHeaders,
    ContainerDep,
    CurrentUser,
    Headers,
    as_uuid,
    command_response,
)
from services.api.responses import ITEM_COMMAND, ITEM_READ, PROJECT_COMMAND, PROJECT_READ, DocumentedRoute, problems
from services.api.routers import lists
from services.api.views import event_view, item_view
from services.bootstrap import Container
from services.users import User

router = APIRouter(route_class=DocumentedRoute, tags=["works items"])
ITEM = "/works-items/{item_id}"


@router.post("/projects/{project_id}/works-items", status_code=201, response_model=m.CommandOutcome,
             responses=problems(PROJECT_COMMAND, {404: ("works_item_not_found",), 422: (
                 "unknown_works_kind", "hold_point_not_in_template", "missing_linked_item")}))
def register_item(project_id: str, body: s.WorksItemCreate, user: CurrentUser,
                  container: ContainerDep, headers: Headers) -> JSONResponse:
    command, recorded_at = s.to_command(c.RegisterWorksItem, body, project_id=as_uuid(project_id, "project"))
    return command_response(container, user, headers, command, recorded_at)


@router.get("/projects/{project_id}/works-items", response_model=m.Page[m.WorksItemListEntry],
            responses=problems(PROJECT_READ, {422: ("validation_error", "invalid_cursor")}))
def list_items(project_id: str, request: Request, response: Response, user: CurrentUser, container: ContainerDep,
               kind: str | None = None, state: m.ItemState | None = None,
               registered_from: date | None = None, registered_to: date | None = None,
               q: str | None = lists.Search, limit: int = lists.Limit, offset: int = lists.Offset,
               cursor: str | None = lists.Cursor) -> dict[str, Any]:
    """The project's works items, oldest first: summaries from the listing read model (no aggregate loads).

    The project's existence and the caller's scope are asked of the same rows (404, then 403)."""
    project = str(as_uuid(project_id, "project"))
    query = lists.scoped(user, container, "project_works_items", "lst_items", lists.ITEM_COLUMNS,
                         ("registered_at", "item_id"))
    scope, params = scope_of(user.actor, "lst_projects")
    rows = container.db.query(f"SELECT {scope} FROM lst_projects WHERE project_id = ?", [*params, project])
    if not rows:
        raise ProjectNotFound(project_id=project)
    if not rows[0][0]:
        raise OutOfScope()
    query.equal("project_id", project).equal("kind", kind).equal("state", state)
    lists.between(query, "registered_at", registered_from, registered_to)
    lists.searching(query, container, q)
    return lists.answer(query, container, request, response, limit, offset, cursor, lists.item_entry)


@router.get(ITEM, response_model=m.WorksItemView, responses=problems(ITEM_READ))
def get_item(item_id: str, user: CurrentUser, container: ContainerDep, response: Response) -> dict[str, Any]:
    """The item's state and the frozen template it was registered under (hold points, measurements, limits)."""
    item, _ = container.ledger.item_in_scope(user.actor, as_uuid(item_id, "works_item"))
    response.headers["ETag"] = f'"{item.version}"'
    return item_view(item)


@router.get(ITEM + "/events", response_model=m.Page[m.EventView], responses=problems(ITEM_READ))
def item_events(item_id: str, user: CurrentUser, container: ContainerDep,
                after: int = Query(0, ge=0, le=MAX_POSITION, description="versions after this one"),
                limit: int = Query(100, ge=1, le=1000)) -> dict[str, Any]:
    item, _ = container.ledger.item_in_scope(user.actor, as_uuid(item_id, "works_item"))
    events = container.ledger.item_events(item.id, after, limit)
    views = [event_view(e, container.users) for e in events]
    return {"items": views, "total": item.version, "offset": after, "limit": limit}


@router.get(ITEM + "/verify", response_model=m.ChainReportView, response_model_exclude_unset=True,
            responses=problems(ITEM_READ))
def verify(item_id: str, user: CurrentUser, container: ContainerDep) -> dict[str, Any]:
    item, _ = container.ledger.item_in_scope(user.actor, as_uuid(item_id, "works_item"))
    return container.ledger.verify(item.id).as_dict()


class ItemCommandRoute(NamedTuple):
    """One row of the declared table of item commands: its route, command, body and success status.

    The POST route is registered from it and /batch resolves an entry's path through it, so a command
    reached either way is built by the same `build`."""

    path: str  # under /works-items/{item_id}
    command: type[c.Command]
    body_model: Any
    status: int

    def build(self, body: Any, **path: Any) -> tuple[c.Command, datetime | None]:
        """The command and the device time it was recorded at, from the body and the path parameters."""
        return s.to_command(self.command, body if body is not None else self.body_model(), **path)


ITEM_COMMANDS: list[ItemCommandRoute] = []  # also served inside POST /api/v1/batch
_MATCHERS: dict[type[c.Command], re.Pattern[str]] = {}  # Starlette's own compiled form of each row's route
OUTCOMES: dict[type[c.Command], type[BaseModel]] = {
    c.RecordInspection: m.InspectionRecorded, c.RaiseDefect: m.DefectRaised, c.OrderStopWork: m.StopWorkOrdered,
    c.RequestAcceptance: m.AcceptanceRequested, c.SignAcceptance: m.Signed, c.CloseAcceptanceRound: m.RoundClosed,
}


def resolve_item_command(full_path: str) -> tuple[ItemCommandRoute, dict[str, str]] | None:
    """The table's row for an /api/v1 path and its raw path parameters, matched as the router matches it."""
    for spec in ITEM_COMMANDS:
        match = _MATCHERS[spec.command].match(full_path)
        if match:
            return spec, match.groupdict()
    return None


def _item_command(path: str, command: type[c.Command], body_model: Any, status: int) -> None:
    """Register one POST route that turns its body and path parameters into `command`."""
    spec = ItemCommandRoute(path, command, body_model, status)
    ITEM_COMMANDS.append(spec)
    _MATCHERS[command] = compile_path("/api/v1" + ITEM + path)[0]

    def run(container: Container, user: User, headers: CommandHeaders, body: Any, **path: Any) -> JSONResponse:
        cmd, recorded_at = spec.build(body, **path)
        return command_response(container, user, headers, cmd, recorded_at, status=status)

    route: Callable[..., JSONResponse]  # one of three signatures: FastAPI reads the path parameters from it
    if "{defect_id}" in path:
        def route(item_id: str, defect_id: str, user: CurrentUser, container: ContainerDep,
                  headers: Headers, body: body_model | None = None) -> JSONResponse:
            return run(container, user, headers, body, item_id=as_uuid(item_id, "works_item"), defect_id=defect_id)
    elif "{round_no}" in path:
        def route(item_id: str, round_no: int, user: CurrentUser, container: ContainerDep,
                  headers: Headers, body: body_model | None = None) -> JSONResponse:
            return run(container, user, headers, body, item_id=as_uuid(item_id, "works_item"), round_no=round_no)
    else:
        def route(item_id: str, user: CurrentUser, container: ContainerDep,
                  headers: Headers, body: body_model | None = None) -> JSONResponse:
            return run(container, user, headers, body, item_id=as_uuid(item_id, "works_item"))

    codes = problems(ITEM_COMMAND, {404: ("defect_not_found",)} if "{defect_id}" in path else {})
    router.add_api_route(ITEM + path, route, methods=["POST"], status_code=status, name=command.__name__,
                         operation_id=command.__name__, summary=command.__name__,
                         response_model=OUTCOMES.get(command, m.CommandOutcome), responses=codes)


_item_command("/inspections", c.RecordInspection, s.InspectionCreate, 201)
_item_command("/defects", c.RaiseDefect, s.DefectCreate, 201)
_item_command("/defects/{defect_id}/rectifications", c.ReportRectification, s.RectificationCreate, 201)
_item_command("/defects/{defect_id}/close", c.CloseDefect, s.DefectClose, 200)
_item_command("/defects/{defect_id}/reject-rectification", c.RejectRectification, s.RectificationReject, 200)
_item_command("/stop-work", c.OrderStopWork, s.StopWorkCreate, 201)
_item_command("/stop-work/lift", c.LiftStopWork, s.StopWorkLift, 200)
_item_command("/completion", c.CompleteWorks, s.Completion, 200)
_item_command("/acceptance-rounds", c.RequestAcceptance, s.AcceptanceRoundCreate, 201)
_item_command("/acceptance-rounds/{round_no}/signatures", c.SignAcceptance, s.SignatureCreate, 201)
_item_command("/acceptance-rounds/{round_no}/close", c.CloseAcceptanceRound, s.RoundClose, 200)
_item_command("/close-out", c.CloseOut, s.CloseOutCreate, 200)
_item_command("/reopen", c.Reopen, s.ReopenCreate, 200)
