"""A project's completion acceptance (竣工验收) over HTTP: the station's notice, the residents' satisfaction survey,
completion acceptance, the district's joint acceptance and the filing (备案), each a command on the one command
path; GET shows where the project stands, to anyone who may see the project."""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING, Any, TypeAlias

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

import domain.rules as r
from domain import commands as c
from domain.completion import NOTICE_WORKING_DAYS
from domain.working_days import add_working_days
from services.api import schemas as s
from services.api.deps import ContainerDep, CurrentUser, Headers, as_uuid, command_response
from services.api.errors import STATUS
from services.api.models import CommandOutcome, Model
from services.api.responses import PROJECT_COMMAND, PROJECT_READ, DocumentedRoute, merge, problems

router = APIRouter(route_class=DocumentedRoute, prefix="/projects/{project_id}/completion", tags=["completion"])

COMPLETION_RULES = (r.ItemsNotAccepted, r.NoStationNotice, r.TooSoonAfterNotice, r.NoSatisfactionSurvey,
                    r.SatisfactionBelowThreshold, r.CompletionAcceptanceAlreadyHeld, r.CompletionAcceptanceNotHeld,
                    r.SurveyFiguresInvalid, r.InvalidSatisfactionThreshold, r.StopWorkInForce,
                    r.WorkingCalendarUnavailable, r.MemberNotFound, r.InvalidPhotoReference)
COMPLETION_COMMAND = merge(PROJECT_COMMAND, {403: ("photo_out_of_scope",), 422: ("photo_not_found",),
                                             404: ("works_item_not_found",)},
                           *({STATUS[e.kind]: (e.code,)} for e in COMPLETION_RULES))

if TYPE_CHECKING:
    NoticeCreate: TypeAlias = BaseModel
    SurveyCreate: TypeAlias = BaseModel
    AcceptanceCreate: TypeAlias = BaseModel
    JointAcceptanceCreate: TypeAlias = BaseModel
    FilingCreate: TypeAlias = BaseModel
    ThresholdUpdate: TypeAlias = BaseModel
    ItemsAttach: TypeAlias = BaseModel
else:
    NoticeCreate = s.body_of(c.NotifyStation, "StationNoticeCreate", "project_id")
    SurveyCreate = s.body_of(c.RecordSatisfactionSurvey, "SatisfactionSurveyCreate", "project_id")
    AcceptanceCreate = s.body_of(c.HoldCompletionAcceptance, "CompletionAcceptanceCreate", "project_id")
    JointAcceptanceCreate = s.body_of(c.HoldJointAcceptance, "JointAcceptanceCreate", "project_id")
    FilingCreate = s.body_of(c.FileRecord, "FilingCreate", "project_id")
    ThresholdUpdate = s.body_of(c.SetSatisfactionThreshold, "SatisfactionThresholdUpdate", "project_id")
    ItemsAttach = s.body_of(c.AttachWorksItems, "WorksItemsAttach", "project_id")


class ItemsAttached(CommandOutcome):
    attached: int = Field(description="items the project had not known of")


class Filing(CommandOutcome):
    late: bool = Field(description="filed more than 15 days after completion acceptance: recorded, and flagged")


class CompletionView(Model):
    project_id: str
    satisfaction_threshold: str = Field(description="exact fraction, e.g. \"4/5\"")
    works_items: dict[str, str] = Field(description="item id → state")
    notice: dict[str, Any] | None
    earliest_acceptance: str | None = Field(description="the 7th working day after the notice (调休 counted)")
    surveys: list[dict[str, Any]]
    acceptance: dict[str, Any] | None
    joint: dict[str, Any] | None
    filing: dict[str, Any] | None


def _run(container: Any, user: Any, headers: Any, command: type[c.Command], body: BaseModel,
         project_id: str, status: int = 201) -> JSONResponse:
    cmd, recorded_at = s.to_command(command, body, project_id=as_uuid(project_id, "project"))
    return command_response(container, user, headers, cmd, recorded_at, status=status)


@router.get("", response_model=CompletionView, responses=problems(PROJECT_READ))
def completion(project_id: str, user: CurrentUser, container: ContainerDep) -> dict[str, Any]:
    project = container.ledger.project_in_scope(user.actor, as_uuid(project_id, "project"))
    state = project.completion
    earliest = None
    if state["notice"] is not None:
        try:
            earliest = add_working_days(container.ledger.calendar, date.fromisoformat(state["notice"]["date"]),
                                        NOTICE_WORKING_DAYS).isoformat()
        except r.WorkingCalendarUnavailable:
            earliest = None
    items = {item_id: container.ledger.get_item(item_id).state for item_id in project.works_items}
    return {"project_id": str(project.id), "satisfaction_threshold": str(project.satisfaction_rule),
            "works_items": items, "notice": state["notice"], "earliest_acceptance": earliest,
            "surveys": state["surveys"], "acceptance": state["acceptance"], "joint": state["joint"],
            "filing": state["filing"]}


@router.post("/notice", status_code=201, response_model=CommandOutcome, responses=problems(COMPLETION_COMMAND))
def notify_station(project_id: str, body: NoticeCreate, user: CurrentUser, container: ContainerDep,
                   headers: Headers) -> JSONResponse:
    return _run(container, user, headers, c.NotifyStation, body, project_id)


@router.post("/surveys", status_code=201, response_model=CommandOutcome, responses=problems(COMPLETION_COMMAND))
def record_survey(project_id: str, body: SurveyCreate, user: CurrentUser, container: ContainerDep,
                  headers: Headers) -> JSONResponse:
    return _run(container, user, headers, c.RecordSatisfactionSurvey, body, project_id)


@router.post("/acceptance", status_code=201, response_model=CommandOutcome, responses=problems(COMPLETION_COMMAND))
def hold_acceptance(project_id: str, body: AcceptanceCreate, user: CurrentUser, container: ContainerDep,
                    headers: Headers) -> JSONResponse:
    return _run(container, user, headers, c.HoldCompletionAcceptance, body, project_id)


@router.post("/joint-acceptance", status_code=201, response_model=CommandOutcome,
             responses=problems(COMPLETION_COMMAND))
def hold_joint_acceptance(project_id: str, body: JointAcceptanceCreate, user: CurrentUser, container: ContainerDep,
                          headers: Headers) -> JSONResponse:
    return _run(container, user, headers, c.HoldJointAcceptance, body, project_id)


@router.post("/filing", status_code=201, response_model=Filing, responses=problems(COMPLETION_COMMAND))
def file_record(project_id: str, body: FilingCreate, user: CurrentUser, container: ContainerDep,
                headers: Headers) -> JSONResponse:
    return _run(container, user, headers, c.FileRecord, body, project_id)


@router.put("/satisfaction-threshold", response_model=CommandOutcome, responses=problems(COMPLETION_COMMAND))
def set_threshold(project_id: str, body: ThresholdUpdate, user: CurrentUser, container: ContainerDep,
                  headers: Headers) -> JSONResponse:
    return _run(container, user, headers, c.SetSatisfactionThreshold, body, project_id, status=200)


@router.post("/items", status_code=200, response_model=ItemsAttached, responses=problems(COMPLETION_COMMAND))
def attach_items(project_id: str, body: ItemsAttach, user: CurrentUser, container: ContainerDep,
                 headers: Headers) -> JSONResponse:
    """Items registered before projects learned their items: attach them once, so completion asks after them."""
    return _run(container, user, headers, c.AttachWorksItems, body, project_id, status=200)
