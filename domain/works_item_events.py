"""The events of a works item's log; each `apply` is the only place the item's state changes."""

from __future__ import annotations

from decimal import Decimal
from typing import Any, ClassVar
from uuid import UUID

from eventsourcing.domain import Aggregate
from eventsourcing.utils import register_topic

from domain.chain import ChainedEvent
from domain.templates.frozen import FrozenTemplate

STATE_NAMES_ZH = {  # the states the events below move an item through
    "registered": "已登记", "in_progress": "施工中", "completed": "已竣工",
    "awaiting_acceptance": "待居民验收", "accepted": "已验收", "closed_out": "已销号",
}


class WorksItemEvent(ChainedEvent):
    """`change` is what an event does to the item's fields, `next_state` where it moves the item's state: the
    aggregate, the read models' item states (domain/item_state.py) and the lists' state column all take both
    from here."""

    TOPIC_PREFIX: ClassVar[str] = "siteledger.works_item"
    TOPIC = "siteledger.works_item:Event"

    def apply(self, item: Any) -> None:
        self.change(item)
        item.state = self.next_state(item.state)

    def change(self, item: Any) -> None:
        """Nothing but the item's state, unless the event says more."""

    def next_state(self, state: str) -> str:
        return state


register_topic(WorksItemEvent.TOPIC, WorksItemEvent)


class Registered(WorksItemEvent, Aggregate.Created):
    project_id: UUID
    kind: str
    template: dict[str, Any]
    title: str
    location: str
    contractor_id: UUID | None
    planned_start: str | None
    planned_end: str | None
    links: dict[str, str]

    def change(self, item: Any) -> None:
        item.project_id = self.project_id
        item.kind = self.kind
        item.template = FrozenTemplate.of(self.template)
        item.title = self.title
        item.location = self.location
        item.contractor_id = self.contractor_id
        item.links = dict(self.links)
        item.planned_end = self.planned_end  # read by the deadlines (domain/deadlines.py)
        item.state = ""  # next_state: "registered"
        item.hold_points = {hp["code"]: {"result": None, "inspections": 0}
                            for hp in self.template["hold_points"]}
        item.defects = {}
        item.stop_work = None
        item.rounds = []
        item.quantities = {}

    def next_state(self, state: str) -> str:
        return "registered"


class InspectionRecorded(WorksItemEvent):
    inspection_id: str
    hold_point: str
    result: str
    checklist: dict[str, bool]
    measurements: dict[str, Any]
    notes: str
    photos: list[str]
    gps: dict[str, float] | None
    spot_check: bool

    def change(self, item: Any) -> None:
        point = item.hold_points[self.hold_point]
        point["result"] = self.result
        point["inspection_id"] = self.inspection_id
        point["inspections"] += 1
        point["at"] = self.timestamp.isoformat()
        if self.result == "pass" or self.result == "conditional":
            spec = item.template.parsed.hold_point(self.hold_point)
            for m in spec.measurements:
                if m.quantity and self.measurements.get(m.code) is not None:
                    value = self.measurements[m.code]
                    item.quantities[m.quantity] = value if isinstance(value, Decimal) else Decimal(1)

    def next_state(self, state: str) -> str:
        return "in_progress" if state == "registered" else state


class DefectRaised(WorksItemEvent):
    defect_id: str
    severity: str
    description: str
    photos: list[str]
    due_date: str | None
    hold_point: str | None
    inspection_id: str | None
    source: str

    def change(self, item: Any) -> None:
        item.defects[self.defect_id] = {
            "status": "open",
            "severity": self.severity,
            "description": self.description,  # what a reader of the item (a tablet offline) must see
            "hold_point": self.hold_point,
            "due_date": self.due_date,
            "raised_by": str(self.actor_id),
            "raised_by_role": self.actor_role,  # whose authority closes it (a station's order, the station)
            "reported_by": None,
        }

    def next_state(self, state: str) -> str:
        # an open defect undoes completion, and acceptance with it
        return "in_progress" if state in ("completed", "awaiting_acceptance", "accepted") else state


class RectificationReported(WorksItemEvent):
    defect_id: str
    description: str
    photos: list[str]

    def change(self, item: Any) -> None:
        defect = item.defects[self.defect_id]
        defect["status"] = "rectification_reported"
        defect["reported_by"] = str(self.actor_id)


class DefectClosed(WorksItemEvent):
    defect_id: str
    notes: str

    def change(self, item: Any) -> None:
        item.defects[self.defect_id]["status"] = "closed"


class RectificationRejected(WorksItemEvent):
    defect_id: str
    reason: str
    photos: list[str]

    def change(self, item: Any) -> None:
        item.defects[self.defect_id]["status"] = "open"


class StopWorkOrdered(WorksItemEvent):
    order_id: str
    reason: str

    def change(self, item: Any) -> None:
        item.stop_work = {"order_id": self.order_id, "reason": self.reason,
                          "ordered_by": str(self.actor_id), "at": self.timestamp.isoformat()}


class StopWorkLifted(WorksItemEvent):
    order_id: str
    notes: str

    def change(self, item: Any) -> None:
        item.stop_work = None


class WorksCompleted(WorksItemEvent):
    def next_state(self, state: str) -> str:
        return "completed"


class AcceptanceRequested(WorksItemEvent):
    round_no: int
    electorate: list[str]
    rule: dict[str, str]
    subject_version: int
    subject_hash: str

    def change(self, item: Any) -> None:
        item.rounds.append({
            "round_no": self.round_no,
            "status": "open",
            "electorate": list(self.electorate),
            "rule": dict(self.rule),
            "subject_version": self.subject_version,
            "subject_hash": self.subject_hash,
            "signatures": {},
            "reasons": {},
        })

    def next_state(self, state: str) -> str:
        return "awaiting_acceptance"


class ResidentSigned(WorksItemEvent):
    round_no: int
    member_id: str
    decision: str
    reason: str
    comment: str
    photos: list[str]
    subject_hash: str
    signature_digest: str

    def change(self, item: Any) -> None:
        rnd = item.rounds[self.round_no - 1]
        rnd["signatures"][self.member_id] = self.decision
        if self.decision == "reject":
            rnd["reasons"][self.member_id] = self.reason


class AcceptanceGranted(WorksItemEvent):
    round_no: int
    tally: dict[str, int]
    basis: str

    def change(self, item: Any) -> None:
        item.rounds[self.round_no - 1]["status"] = "granted"

    def next_state(self, state: str) -> str:
        return "accepted"


class AcceptanceRejected(WorksItemEvent):
    round_no: int
    tally: dict[str, int]
    basis: str

    def change(self, item: Any) -> None:
        item.rounds[self.round_no - 1]["status"] = "rejected"

    def next_state(self, state: str) -> str:
        return "in_progress"


class AcceptanceRoundCancelled(WorksItemEvent):
    round_no: int
    reason: str

    def change(self, item: Any) -> None:
        item.rounds[self.round_no - 1]["status"] = "cancelled"


class ClosedOut(WorksItemEvent):
    notes: str

    def next_state(self, state: str) -> str:
        return "closed_out"


class Reopened(WorksItemEvent):
    reason: str

    def next_state(self, state: str) -> str:
        return "in_progress"
