"""Commands: what users ask the system to do (orders, not facts). Validated shapes (domain/fields.py), no rules."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

from domain.actors import Role
from domain.fields import (
    Address,
    BuildingCount,
    CalendarDate,
    Checklist,
    Code,
    Count,
    GpsFix,
    Label,
    LongText,
    Measurements,
    Name,
    OptionalLabel,
    OptionalShortText,
    OptionalText,
    Photos,
    Ratio,
    RoundNo,
    ShortText,
    Text,
)


class Command(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class ProjectCommand(Command):
    project_id: UUID


class ItemCommand(Command):
    item_id: UUID


class RegisterProject(Command):
    project_id: UUID | None = None
    name: ShortText
    district: Name
    street_office: OptionalShortText = ""
    address: Address = ""
    year_built: int | None = Field(default=None, ge=1800, le=2100)
    buildings: BuildingCount = 0
    households: Count = 0
    categories: list[Literal["basic", "improvement", "upgrade"]] = Field(default_factory=list, max_length=3)


Category = Literal["basic", "improvement", "upgrade"]  # 基础类、完善类、提升类
FundingSource = Literal["central_budget", "ultra_long_special_bonds", "local_special_bonds", "policy_bank_loans",
                        "resident_contributions", "social_capital", "other"]  # names in domain/wording.py
Target = Annotated[Decimal, Field(ge=0, le=10_000_000, max_digits=12, decimal_places=2)]


class SetFunding(ProjectCommand):
    """The renovation category and funding sources of a project, or of one of its works items (item_id)."""

    item_id: UUID | None = None
    category: Category | None = None
    funding_sources: list[FundingSource] = Field(default_factory=list, max_length=7)


class SetAnnualPlan(Command):
    """A district's plan for a year: communities, households, items by kind, metres of pipe and cable, lifts."""

    year: int = Field(ge=2000, le=2100)
    district: Name
    communities: Count = 0
    households: Count = 0
    items_by_kind: dict[Code, Count] = Field(default_factory=dict, max_length=50)
    pipe_m: Target = Decimal(0)
    cable_buried_m: Target = Decimal(0)
    cable_removed_m: Target = Decimal(0)
    lifts: Count = 0


class StreetDraft(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    name_zh: Name
    code: str | None = Field(default=None, pattern=r"^\d{9}(\d{3})?$")  # GB/T 2260 township code, when known


class DistrictDraft(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    name_zh: Name
    code: str = Field(pattern=r"^\d{6}$")  # GB/T 2260 county-level code
    streets: list[StreetDraft] = Field(default_factory=list, max_length=500)


class LoadDivisions(Command):
    """Add or correct districts and their streets (a city's list, or one more street)."""

    districts: list[DistrictDraft] = Field(min_length=1, max_length=500)


class DelistDivision(Command):
    district_zh: Name
    street_zh: Name | None = None
    reason: Text


class AssignUser(ProjectCommand):
    user_id: UUID
    role: Literal[Role.SUPERVISOR, Role.CONTRACTOR]


class UnassignUser(ProjectCommand):
    user_id: UUID


class AddGroupMember(ProjectCommand):
    member_id: Code | None = None
    user_id: UUID
    building: Label
    unit: OptionalLabel = ""


class RemoveGroupMember(ProjectCommand):
    member_id: Code
    reason: OptionalText = ""


class SetAcceptanceRule(ProjectCommand):
    min_signed: Ratio = "2/3"
    min_accept: Ratio = "4/5"


class AttachWorksItems(ProjectCommand):
    """Tell a project of items registered before projects learned their items (completion asks after each)."""

    item_ids: list[UUID] = Field(min_length=1, max_length=1000)


class SetSatisfactionThreshold(ProjectCommand):
    threshold: Ratio = "4/5"


class NotifyStation(ProjectCommand):
    notice_date: CalendarDate
    photos: Photos = Field(min_length=1)  # the written notice


class RecordSatisfactionSurvey(ProjectCommand):
    surveyed_on: CalendarDate
    sample: Count = Field(ge=1)
    satisfied: Count
    photos: Photos = Field(min_length=1)  # the questionnaires' summary


class HoldCompletionAcceptance(ProjectCommand):
    held_on: CalendarDate
    parties: list[ShortText] = Field(min_length=1, max_length=20)  # 建设、施工、监理、设计单位…
    resident_representatives: list[Code] = Field(min_length=1, max_length=50)  # residents' group member ids
    photos: Photos = Field(min_length=1)  # the minutes


class HoldJointAcceptance(ProjectCommand):
    held_on: CalendarDate
    photos: Photos = Field(min_length=1)


class FileRecord(ProjectCommand):
    filing_no: ShortText
    filed_on: CalendarDate
    photos: Photos = Field(default_factory=list)


class RegisterWorksItem(ProjectCommand):
    item_id: UUID | None = None
    kind: Code
    title: OptionalShortText = ""
    location: ShortText
    contractor_id: UUID | None = None
    planned_start: CalendarDate | None = None
    planned_end: CalendarDate | None = None
    links: dict[Code, UUID] = Field(default_factory=dict, max_length=20)


class DefectDraft(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    defect_id: Code | None = None
    severity: Literal["minor", "major", "critical"]
    description: Text
    photos: Photos = Field(default_factory=list)
    due_date: CalendarDate | None = None


class RecordInspection(ItemCommand):
    hold_point: Code
    result: Literal["pass", "fail", "conditional"]
    measurements: Measurements = Field(default_factory=dict)
    checklist: Checklist = Field(default_factory=dict)
    notes: LongText = ""
    photos: Photos = Field(default_factory=list)
    gps: GpsFix | None = None
    defects: list[DefectDraft] = Field(default_factory=list, max_length=50)


class RaiseDefect(ItemCommand, DefectDraft):
    hold_point: Code | None = None


class ReportRectification(ItemCommand):
    defect_id: Code
    description: Text
    photos: Photos = Field(default_factory=list)


class CloseDefect(ItemCommand):
    defect_id: Code
    notes: OptionalText = ""


class RejectRectification(ItemCommand):
    defect_id: Code
    reason: Text
    photos: Photos = Field(default_factory=list)


class OrderStopWork(ItemCommand):
    reason: Text


class LiftStopWork(ItemCommand):
    notes: OptionalText = ""


class CompleteWorks(ItemCommand):
    pass


class RequestAcceptance(ItemCommand):
    pass


class SignAcceptance(ItemCommand):
    round_no: RoundNo
    decision: Literal["accept", "reject"]
    reason: OptionalText = ""
    comment: OptionalText = ""
    photos: Photos = Field(default_factory=list)
    subject_hash: str = Field(pattern=r"^[0-9a-f]{64}$")


class CloseAcceptanceRound(ItemCommand):
    round_no: RoundNo


class CloseOut(ItemCommand):
    notes: OptionalText = ""


class Reopen(ItemCommand):
    reason: Text
