"""Request bodies derived from the domain's commands, so a field is declared once."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any, TypeAlias

from pydantic import BaseModel, ConfigDict, Field, create_model

from domain import commands as c
from domain.actors import Role
from domain.fields import DeviceTime, Name


def body_of(command: type[c.Command], name: str, *exclude: str) -> type[BaseModel]:
    """The command's fields minus those the path supplies, plus the device's `recorded_at`."""
    fields: dict[str, Any] = {
        field_name: (info.annotation, info)
        for field_name, info in command.model_fields.items()
        if field_name not in exclude
    }
    fields["recorded_at"] = (DeviceTime | None, Field(
        default=None, description="Time on the device (设备时间): with its zone, not before 2000, "
                                  "and not more than the server's margin (24 h by default) ahead of it"))
    return create_model(name, __config__=ConfigDict(extra="forbid"), **fields)


def to_command(command: type[c.Command], body: BaseModel, **path: Any) -> tuple[c.Command, DeviceTime | None]:
    data = body.model_dump(exclude={"recorded_at"})
    return command.model_validate({**data, **path}), getattr(body, "recorded_at", None)


if TYPE_CHECKING:  # the bodies routes name in annotations; built at import, so to mypy models of unseen fields
    ProjectCreate: TypeAlias = BaseModel
    AssignmentCreate: TypeAlias = BaseModel
    MemberCreate: TypeAlias = BaseModel
    AcceptanceRuleUpdate: TypeAlias = BaseModel
    WorksItemCreate: TypeAlias = BaseModel
else:
    ProjectCreate = body_of(c.RegisterProject, "ProjectCreate")
    AssignmentCreate = body_of(c.AssignUser, "AssignmentCreate", "project_id", "role")
    MemberCreate = body_of(c.AddGroupMember, "MemberCreate", "project_id")
    AcceptanceRuleUpdate = body_of(c.SetAcceptanceRule, "AcceptanceRuleUpdate", "project_id")
    WorksItemCreate = body_of(c.RegisterWorksItem, "WorksItemCreate", "project_id")
InspectionCreate = body_of(c.RecordInspection, "InspectionCreate", "item_id")
DefectCreate = body_of(c.RaiseDefect, "DefectCreate", "item_id")
RectificationCreate = body_of(c.ReportRectification, "RectificationCreate", "item_id", "defect_id")
DefectClose = body_of(c.CloseDefect, "DefectClose", "item_id", "defect_id")
RectificationReject = body_of(c.RejectRectification, "RectificationReject", "item_id", "defect_id")
StopWorkCreate = body_of(c.OrderStopWork, "StopWorkCreate", "item_id")
StopWorkLift = body_of(c.LiftStopWork, "StopWorkLift", "item_id")
Completion = body_of(c.CompleteWorks, "Completion", "item_id")
AcceptanceRoundCreate = body_of(c.RequestAcceptance, "AcceptanceRoundCreate", "item_id")
SignatureCreate = body_of(c.SignAcceptance, "SignatureCreate", "item_id", "round_no")
RoundClose = body_of(c.CloseAcceptanceRound, "RoundClose", "item_id", "round_no")
CloseOutCreate = body_of(c.CloseOut, "CloseOutCreate", "item_id")
ReopenCreate = body_of(c.Reopen, "ReopenCreate", "item_id")


class UserCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: Name
    role: Role
    phone: str | None = Field(default=None, max_length=30, pattern=r"^\+?[0-9][0-9 -]{2,28}$")
    district: Name | None = None
    project_ids: list[Annotated[str, Field(max_length=64)]] = Field(default_factory=list, max_length=100,
                                   description="supervisor/contractor: assigned projects")
