"""The integration events: the public contract of what SiteLedger publishes, one versioned model per event type.

These models are written out by hand on purpose. A domain event may rename or add a field; the published
contract changes only when one of these models does (and then its golden file and JSON Schema change too,
which a reviewer sees). Building a contract from a domain event reads the contract's own field names from
the event, so a renamed domain field fails loudly (tests, relay) instead of silently changing the message.

Each model is also enough to rebuild the domain event it came from (`to_domain`), so a consumer of Kafka —
our own projection worker included — needs nothing but the message.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Annotated, Any, ClassVar
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field, PlainSerializer, WithJsonSchema, field_validator

from domain import completion as pc
from domain import project as p
from domain import works_item_events as w
from domain.chain import ChainedEvent
from domain.project import Project
from domain.works_item import WorksItem

DecimalString = Annotated[
    Decimal, PlainSerializer(str, return_type=str),
    WithJsonSchema({"type": "string", "pattern": r"^-?\d+(\.\d+)?([eE][-+]?\d+)?$"}),
]


class NumberMeasurement(BaseModel):
    """A numeric measurement, as the exact decimal string the inspector entered ("1.20" stays "1.20")."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    number: DecimalString


class TextMeasurement(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    text: str


Measurement = NumberMeasurement | TextMeasurement


class IntegrationEvent(BaseModel):
    """What every event says about itself: who, on which device, and its place in the item's hash chain."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    TYPE: ClassVar[str]
    DOMAIN: ClassVar[type[ChainedEvent]]
    AGGREGATE: ClassVar[str] = ""  # for the event that creates an aggregate: the aggregate's topic

    actor_id: UUID
    actor_role: str
    device_id: str | None
    device_time: datetime | None = Field(description="the device's clock; without a zone it is site local time")
    command_id: str
    prev_hash: str = Field(description="event_hash of the aggregate's previous event (64 zeros for the first)")
    event_hash: str = Field(description="SHA-256 over this event's fields, chained by prev_hash")

    @classmethod
    def from_domain(cls, event: ChainedEvent) -> IntegrationEvent:
        return cls.model_validate({name: getattr(event, name) for name in cls.model_fields})

    def domain_fields(self) -> dict[str, Any]:
        """The domain event's own field values (the contract's names are the domain's, version 1)."""
        return {name: getattr(self, name) for name in type(self).model_fields}

    def to_domain(self, aggregate_id: UUID, version: int, timestamp: datetime,
                  request_id: str | None) -> ChainedEvent:
        """The domain event this message was made from, field for field (its hash verifies)."""
        extra: dict[str, Any] = {"originator_topic": self.AGGREGATE} if self.AGGREGATE else {}
        domain_class: Any = self.DOMAIN  # its fields come from eventsourcing's dataclass magic, unseen by mypy
        return domain_class(originator_id=aggregate_id, originator_version=version, timestamp=timestamp,
                            request_id=request_id, **extra, **self.domain_fields())


# --- works items --------------------------------------------------------------------------------------------


class WorksItemRegisteredV1(IntegrationEvent):
    TYPE = "siteledger.works_item.registered.v1"
    DOMAIN = w.Registered
    AGGREGATE = WorksItem.TOPIC

    project_id: UUID
    kind: str
    template: dict[str, Any] = Field(description="the frozen hold-point template the item is inspected against")
    title: str
    location: str
    contractor_id: UUID | None
    planned_start: str | None
    planned_end: str | None
    links: dict[str, str]


class InspectionRecordedV1(IntegrationEvent):
    TYPE = "siteledger.works_item.inspection_recorded.v1"
    DOMAIN = w.InspectionRecorded

    inspection_id: str
    hold_point: str
    result: str
    checklist: dict[str, bool]
    measurements: dict[str, Measurement]
    notes: str
    photos: list[str]
    gps: dict[str, float] | None
    spot_check: bool

    @field_validator("measurements", mode="before")
    @classmethod
    def _tag_measurements(cls, value: Any) -> Any:
        """The domain keeps a number as Decimal and a text as str; the contract says which it is."""
        if not isinstance(value, dict):
            return value
        return {k: v if isinstance(v, (dict, BaseModel)) else
                {"number": v} if isinstance(v, (Decimal, int, float)) and not isinstance(v, bool) else {"text": v}
                for k, v in value.items()}

    def domain_fields(self) -> dict[str, Any]:
        fields = super().domain_fields()
        fields["measurements"] = {k: v.number if isinstance(v, NumberMeasurement) else v.text
                                  for k, v in self.measurements.items()}
        return fields


class DefectRaisedV1(IntegrationEvent):
    TYPE = "siteledger.works_item.defect_raised.v1"
    DOMAIN = w.DefectRaised

    defect_id: str
    severity: str
    description: str
    photos: list[str]
    due_date: str | None
    hold_point: str | None
    inspection_id: str | None
    source: str


class RectificationReportedV1(IntegrationEvent):
    TYPE = "siteledger.works_item.rectification_reported.v1"
    DOMAIN = w.RectificationReported

    defect_id: str
    description: str
    photos: list[str]


class DefectClosedV1(IntegrationEvent):
    TYPE = "siteledger.works_item.defect_closed.v1"
    DOMAIN = w.DefectClosed

    defect_id: str
    notes: str


class RectificationRejectedV1(IntegrationEvent):
    TYPE = "siteledger.works_item.rectification_rejected.v1"
    DOMAIN = w.RectificationRejected

    defect_id: str
    reason: str
    photos: list[str]


class StopWorkOrderedV1(IntegrationEvent):
    TYPE = "siteledger.works_item.stop_work_ordered.v1"
    DOMAIN = w.StopWorkOrdered

    order_id: str
    reason: str


class StopWorkLiftedV1(IntegrationEvent):
    TYPE = "siteledger.works_item.stop_work_lifted.v1"
    DOMAIN = w.StopWorkLifted

    order_id: str
    notes: str


class WorksCompletedV1(IntegrationEvent):
    TYPE = "siteledger.works_item.works_completed.v1"
    DOMAIN = w.WorksCompleted


class AcceptanceRequestedV1(IntegrationEvent):
    TYPE = "siteledger.works_item.acceptance_requested.v1"
    DOMAIN = w.AcceptanceRequested

    round_no: int
    electorate: list[str]
    rule: dict[str, str]
    subject_version: int
    subject_hash: str


class ResidentSignedV1(IntegrationEvent):
    TYPE = "siteledger.works_item.resident_signed.v1"
    DOMAIN = w.ResidentSigned

    round_no: int
    member_id: str
    decision: str
    reason: str
    comment: str
    photos: list[str]
    subject_hash: str
    signature_digest: str


class AcceptanceGrantedV1(IntegrationEvent):
    TYPE = "siteledger.works_item.acceptance_granted.v1"
    DOMAIN = w.AcceptanceGranted

    round_no: int
    tally: dict[str, int]
    basis: str


class AcceptanceRejectedV1(IntegrationEvent):
    TYPE = "siteledger.works_item.acceptance_rejected.v1"
    DOMAIN = w.AcceptanceRejected

    round_no: int
    tally: dict[str, int]
    basis: str


class AcceptanceRoundCancelledV1(IntegrationEvent):
    TYPE = "siteledger.works_item.acceptance_round_cancelled.v1"
    DOMAIN = w.AcceptanceRoundCancelled

    round_no: int
    reason: str


class ClosedOutV1(IntegrationEvent):
    TYPE = "siteledger.works_item.closed_out.v1"
    DOMAIN = w.ClosedOut

    notes: str


class ReopenedV1(IntegrationEvent):
    TYPE = "siteledger.works_item.reopened.v1"
    DOMAIN = w.Reopened

    reason: str


# --- projects -----------------------------------------------------------------------------------------------


class ProjectRegisteredV1(IntegrationEvent):
    TYPE = "siteledger.project.registered.v1"
    DOMAIN = p.ProjectRegistered
    AGGREGATE = Project.TOPIC

    name: str
    district: str
    street_office: str
    address: str
    year_built: int | None
    buildings: int
    households: int
    categories: list[str]


class UserAssignedV1(IntegrationEvent):
    TYPE = "siteledger.project.user_assigned.v1"
    DOMAIN = p.UserAssigned

    user_id: UUID
    role: str


class UserUnassignedV1(IntegrationEvent):
    TYPE = "siteledger.project.user_unassigned.v1"
    DOMAIN = p.UserUnassigned

    user_id: UUID


class MemberAddedV1(IntegrationEvent):
    TYPE = "siteledger.project.member_added.v1"
    DOMAIN = p.MemberAdded

    member_id: str
    user_id: UUID
    building: str
    unit: str


class MemberRemovedV1(IntegrationEvent):
    TYPE = "siteledger.project.member_removed.v1"
    DOMAIN = p.MemberRemoved

    member_id: str
    reason: str


class AcceptanceRuleSetV1(IntegrationEvent):
    TYPE = "siteledger.project.acceptance_rule_set.v1"
    DOMAIN = p.AcceptanceRuleSet

    min_signed: str
    min_accept: str


class FundingSetV1(IntegrationEvent):
    TYPE = "siteledger.project.funding_set.v1"
    DOMAIN = p.FundingSet

    item_id: UUID | None = Field(description="the works item it is about; null: the project itself")
    category: str | None = Field(description="basic, improvement or upgrade (基础类、完善类、提升类)")
    funding_sources: list[str] = Field(description="codes such as central_budget, local_special_bonds")


class WorksItemAddedV1(IntegrationEvent):
    TYPE = "siteledger.project.works_item_added.v1"
    DOMAIN = pc.WorksItemAdded

    item_id: UUID
    kind: str


class SatisfactionThresholdSetV1(IntegrationEvent):
    TYPE = "siteledger.project.satisfaction_threshold_set.v1"
    DOMAIN = pc.SatisfactionThresholdSet

    threshold: str = Field(description="exact fraction of residents surveyed who must be satisfied, e.g. \"4/5\"")


class StationNotifiedV1(IntegrationEvent):
    TYPE = "siteledger.project.station_notified.v1"
    DOMAIN = pc.StationNotified

    notice_date: str
    photos: list[str]


class SatisfactionSurveyRecordedV1(IntegrationEvent):
    TYPE = "siteledger.project.satisfaction_survey_recorded.v1"
    DOMAIN = pc.SatisfactionSurveyRecorded

    surveyed_on: str
    sample: int
    satisfied: int
    share: str = Field(description="exact fraction of the sample satisfied, e.g. \"9/10\"")
    photos: list[str]


class CompletionAcceptanceHeldV1(IntegrationEvent):
    TYPE = "siteledger.project.completion_acceptance_held.v1"
    DOMAIN = pc.CompletionAcceptanceHeld

    held_on: str
    parties: list[str]
    resident_representatives: list[str]
    photos: list[str]
    checked_against: dict[str, Any] = Field(description="the notice, survey and item states the rules were checked "
                                                        "against")


class JointAcceptanceHeldV1(IntegrationEvent):
    TYPE = "siteledger.project.joint_acceptance_held.v1"
    DOMAIN = pc.JointAcceptanceHeld

    held_on: str
    district: str
    photos: list[str]


class FiledV1(IntegrationEvent):
    TYPE = "siteledger.project.filed.v1"
    DOMAIN = pc.Filed

    filing_no: str
    filed_on: str
    photos: list[str]
    late: bool = Field(description="filed more than 15 days after completion acceptance")
    days_after_acceptance: int


CONTRACTS: tuple[type[IntegrationEvent], ...] = (
    WorksItemRegisteredV1, InspectionRecordedV1, DefectRaisedV1, RectificationReportedV1, DefectClosedV1,
    RectificationRejectedV1, StopWorkOrderedV1, StopWorkLiftedV1, WorksCompletedV1, AcceptanceRequestedV1,
    ResidentSignedV1, AcceptanceGrantedV1, AcceptanceRejectedV1, AcceptanceRoundCancelledV1, ClosedOutV1,
    ReopenedV1, ProjectRegisteredV1, UserAssignedV1, UserUnassignedV1, MemberAddedV1, MemberRemovedV1,
    AcceptanceRuleSetV1, WorksItemAddedV1, SatisfactionThresholdSetV1, StationNotifiedV1,
    SatisfactionSurveyRecordedV1, CompletionAcceptanceHeldV1, JointAcceptanceHeldV1, FiledV1, FundingSetV1,
)
BY_DOMAIN: dict[type[ChainedEvent], type[IntegrationEvent]] = {c.DOMAIN: c for c in CONTRACTS}
BY_TYPE: dict[str, type[IntegrationEvent]] = {c.TYPE: c for c in CONTRACTS}
