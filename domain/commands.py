"""Commands: what users ask the system to do (orders, not facts). Validated shapes, no rules."""

from __future__ import annotations

from typing import Any, Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

from domain.actors import Role


class Command(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class ProjectCommand(Command):
    project_id: UUID


class ItemCommand(Command):
    item_id: UUID


class RegisterProject(Command):
    project_id: UUID | None = None
    name: str = Field(min_length=1, max_length=200)
    district: str = Field(min_length=1, max_length=100)
    street_office: str = ""
    address: str = ""
    year_built: int | None = Field(default=None, ge=1800, le=2100)
    buildings: int = Field(default=0, ge=0)
    households: int = Field(default=0, ge=0)
    categories: list[Literal["basic", "improvement", "upgrade"]] = Field(default_factory=list)


class AssignUser(ProjectCommand):
    user_id: UUID
    role: Literal[Role.SUPERVISOR, Role.CONTRACTOR]


class UnassignUser(ProjectCommand):
    user_id: UUID


class AddGroupMember(ProjectCommand):
    member_id: str | None = Field(default=None, max_length=64)
    user_id: UUID
    building: str = Field(min_length=1, max_length=50)
    unit: str = Field(default="", max_length=50)


class RemoveGroupMember(ProjectCommand):
    member_id: str
    reason: str = ""


class SetAcceptanceRule(ProjectCommand):
    min_signed: str = "2/3"
    min_accept: str = "4/5"


class RegisterWorksItem(ProjectCommand):
    item_id: UUID | None = None
    kind: str
    title: str = Field(default="", max_length=200)
    location: str = Field(min_length=1, max_length=200)
    contractor_id: UUID | None = None
    planned_start: str | None = Field(default=None, pattern=r"^\d{4}-\d{2}-\d{2}$")
    planned_end: str | None = Field(default=None, pattern=r"^\d{4}-\d{2}-\d{2}$")
    links: dict[str, UUID] = Field(default_factory=dict)


class DefectDraft(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    defect_id: str | None = Field(default=None, max_length=64)
    severity: Literal["minor", "major", "critical"]
    description: str = Field(min_length=1, max_length=2000)
    photos: list[str] = Field(default_factory=list)
    due_date: str | None = Field(default=None, pattern=r"^\d{4}-\d{2}-\d{2}$")


class RecordInspection(ItemCommand):
    hold_point: str
    result: Literal["pass", "fail", "conditional"]
    measurements: dict[str, Any] = Field(default_factory=dict)
    checklist: dict[str, bool] = Field(default_factory=dict)
    notes: str = Field(default="", max_length=4000)
    photos: list[str] = Field(default_factory=list)
    gps: dict[str, float] | None = None
    defects: list[DefectDraft] = Field(default_factory=list)


class RaiseDefect(ItemCommand, DefectDraft):
    hold_point: str | None = None


class ReportRectification(ItemCommand):
    defect_id: str
    description: str = Field(min_length=1, max_length=2000)
    photos: list[str] = Field(default_factory=list)


class CloseDefect(ItemCommand):
    defect_id: str
    notes: str = ""


class RejectRectification(ItemCommand):
    defect_id: str
    reason: str = Field(min_length=1, max_length=2000)
    photos: list[str] = Field(default_factory=list)


class OrderStopWork(ItemCommand):
    reason: str = Field(min_length=1, max_length=2000)


class LiftStopWork(ItemCommand):
    notes: str = ""


class CompleteWorks(ItemCommand):
    pass


class RequestAcceptance(ItemCommand):
    pass


class SignAcceptance(ItemCommand):
    round_no: int = Field(ge=1)
    decision: Literal["accept", "reject"]
    reason: str = Field(default="", max_length=2000)
    comment: str = Field(default="", max_length=2000)
    photos: list[str] = Field(default_factory=list)
    subject_hash: str = Field(pattern=r"^[0-9a-f]{64}$")


class CloseAcceptanceRound(ItemCommand):
    round_no: int = Field(ge=1)


class CloseOut(ItemCommand):
    notes: str = ""


class Reopen(ItemCommand):
    reason: str = Field(min_length=1, max_length=2000)
