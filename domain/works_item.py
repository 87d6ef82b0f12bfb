"""The works item aggregate: one piece of work, its hold points, defects, stop-work and acceptance."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any
from uuid import UUID

from domain import works_item_events as ev
from domain.acceptance_rounds import AcceptanceRounds
from domain.actors import CommandContext, Role
from domain.chain import ChainedAggregate, command_metadata
from domain.inspection import PASSING, check_photo_ids, validate_inspection
from domain.item_state import ItemFacts
from domain.rules import (
    DefectClosedByStationOnly,
    DefectNotFound,
    DefectNotOpen,
    DuplicateDefectId,
    FailedInspectionNeedsDefect,
    HoldPointOutOfOrder,
    HoldPointsNotPassed,
    InvalidItemState,
    ItemClosedOut,
    LinkedWorkNotHandedOver,
    MissingLinkedItem,
    MissingRectificationPhotos,
    NoRectificationReported,
    OpenDefectsBlockCompletion,
    SeparationOfDuties,
    StopWorkAlreadyInForce,
    StopWorkInForce,
    StopWorkNotInForce,
    UnknownHoldPoint,
)
from domain.templates.frozen import FrozenTemplate
from domain.templates.model import WorksKindTemplate
from domain.works_item_events import STATE_NAMES_ZH

SEVERITIES = ("minor", "major", "critical")
class WorksItem(AcceptanceRounds, ItemFacts, ChainedAggregate):
    """Every change is an event on the item's log; every rule of DOMAIN.md is checked here."""

    TOPIC = "siteledger:WorksItem"
    Event = ev.WorksItemEvent
    Created = ev.Registered

    if TYPE_CHECKING:  # state set by the events' apply(); not dataclass fields
        project_id: UUID
        kind: str
        template: FrozenTemplate
        title: str
        location: str
        contractor_id: UUID | None
        links: dict[str, str]
        state: str
        hold_points: dict[str, dict[str, Any]]
        defects: dict[str, dict[str, Any]]
        stop_work: dict[str, Any] | None
        rounds: list[dict[str, Any]]
        quantities: dict[str, Any]

    @classmethod
    def register(
        cls, ctx: CommandContext, item_id: UUID, project_id: UUID, template: WorksKindTemplate,
        title: str, location: str, contractor_id: UUID | None, planned_start: str | None,
        planned_end: str | None, links: dict[str, str],
    ) -> WorksItem:
        for hold_point, _linked in links.items():
            spec = template.hold_point(hold_point)
            if spec is None or spec.linked is None:
                raise UnknownHoldPoint(hold_point=hold_point, kind=template.code)
        return cls._create(
            ev.Registered, id=item_id, **command_metadata(ctx), project_id=project_id,
            kind=template.code, template=template.model_dump(mode="json"), title=title,
            location=location, contractor_id=contractor_id, planned_start=planned_start,
            planned_end=planned_end, links=dict(links),
        )

    # reading the state: ItemFacts (domain/item_state.py), shared with the read models' item states

    # --- guards --------------------------------------------------------------------------

    def _refuse_if_closed_out(self) -> None:
        if self.state == "closed_out":
            raise ItemClosedOut()

    def _refuse_while_stopped(self, action_zh: str) -> None:
        """Completion, acceptance and close-out settle the item: an order still in force would outlive them."""
        if self.stop_work is not None:
            raise StopWorkInForce(detail_zh=f"停工令生效期间，不能{action_zh}；须先由安全质量监督站解除停工令",
                                  action=action_zh)

    def _refuse_in_states(self, action_zh: str, *states: str) -> None:
        self._refuse_if_closed_out()
        if self.state in states:
            raise InvalidItemState(state=STATE_NAMES_ZH[self.state], action=action_zh)

    # --- inspections and defects -----------------------------------------------------------

    def record_inspection(
        self, ctx: CommandContext, inspection_id: str, hold_point: str, result: str,
        measurements: dict[str, Any], checklist: dict[str, bool], notes: str,
        photos: list[str], gps: dict[str, float] | None, defects: list[dict[str, Any]],
        linked_passed: bool | None = None,
    ) -> None:
        self._refuse_if_closed_out()
        spec = self.spec(hold_point)
        photos = check_photo_ids(photos)
        values = validate_inspection(spec, result, measurements, checklist, photos)
        if result in PASSING:
            missing = [p for p in spec.after if not self.is_passed(p)]
            if missing:
                raise HoldPointOutOfOrder(hold_point=hold_point, missing="、".join(missing))
            if self.stop_work and spec.construction:
                raise StopWorkInForce()
            if spec.linked is not None:
                if hold_point not in self.links:
                    raise MissingLinkedItem(hold_point=hold_point, kind=spec.linked.kind)
                if not linked_passed:
                    raise LinkedWorkNotHandedOver(hold_point=hold_point,
                                                  required=spec.linked.hold_point)
        if result != "pass" and not defects:
            raise FailedInspectionNeedsDefect()
        ids = [draft["defect_id"] for draft in defects]
        for draft in defects:  # refuse before recording anything
            self._check_defect(hold_point, draft["severity"], draft["photos"], draft["defect_id"])
            if ids.count(draft["defect_id"]) > 1:
                raise DuplicateDefectId(defect_id=draft["defect_id"])
        self.record(
            ev.InspectionRecorded, ctx, inspection_id=inspection_id, hold_point=hold_point,
            result=result, checklist=dict(checklist), measurements=values, notes=notes,
            photos=photos, gps=gps, spot_check=ctx.actor.role == Role.STATION,
        )
        for draft in defects:
            self._raise_defect(ctx, inspection_id=inspection_id, source="inspection",
                               **{"hold_point": hold_point, **draft})

    def raise_defect(self, ctx: CommandContext, **draft: Any) -> None:
        self._refuse_if_closed_out()
        self._raise_defect(ctx, inspection_id=None, source="direct", **draft)

    def _raise_defect(
        self, ctx: CommandContext, defect_id: str, severity: str, description: str,
        photos: list[str], due_date: str | None, hold_point: str | None,
        inspection_id: str | None, source: str,
    ) -> None:
        photos = self._check_defect(hold_point, severity, photos, defect_id)
        open_round = self.open_round()
        if open_round is not None:
            self.record(ev.AcceptanceRoundCancelled, ctx, round_no=open_round["round_no"],
                        reason="defect_raised")
        self.record(
            ev.DefectRaised, ctx, defect_id=defect_id, severity=severity,
            description=description, photos=photos, due_date=due_date,
            hold_point=hold_point, inspection_id=inspection_id, source=source,
        )

    def _check_defect(self, hold_point: str | None, severity: str, photos: list[str], defect_id: str) -> list[str]:
        if defect_id in self.defects:
            raise DuplicateDefectId(defect_id=defect_id)
        if hold_point is not None:
            self.spec(hold_point)
        if severity not in SEVERITIES:
            raise InvalidItemState(detail_zh=f"整改严重程度无效：{severity}",
                                   state=self.state, action="开具整改")
        return check_photo_ids(photos)

    def _defect(self, defect_id: str) -> dict[str, Any]:
        self._refuse_if_closed_out()
        try:
            return self.defects[defect_id]
        except KeyError:
            raise DefectNotFound(defect_id=defect_id) from None

    def report_rectification(
        self, ctx: CommandContext, defect_id: str, description: str, photos: list[str]
    ) -> None:
        defect = self._defect(defect_id)
        if defect["status"] != "open":
            raise DefectNotOpen(status=defect["status"])
        photos = check_photo_ids(photos)
        required = self.parsed_template.rectification_min_photos
        if len(photos) < required:
            raise MissingRectificationPhotos(required=required, given=len(photos))
        self.record(ev.RectificationReported, ctx, defect_id=defect_id, description=description, photos=photos)

    def _reviewable(self, ctx: CommandContext, defect_id: str) -> None:
        defect = self._defect(defect_id)
        if defect["status"] == "closed":
            raise DefectNotOpen(status="closed")
        if defect["status"] != "rectification_reported":
            raise NoRectificationReported()
        if defect["reported_by"] == str(ctx.actor.user_id):
            raise SeparationOfDuties()

    def close_defect(self, ctx: CommandContext, defect_id: str, notes: str) -> None:
        """The raiser's authority decides who closes: what the station ordered, only the station signs off
        (a supervisor may still send a rectification back)."""
        self._reviewable(ctx, defect_id)
        if self.defects[defect_id].get("raised_by_role") == Role.STATION and ctx.actor.role != Role.STATION:
            raise DefectClosedByStationOnly()
        self.record(ev.DefectClosed, ctx, defect_id=defect_id, notes=notes)

    def reject_rectification(
        self, ctx: CommandContext, defect_id: str, reason: str, photos: list[str]
    ) -> None:
        self._reviewable(ctx, defect_id)
        self.record(ev.RectificationRejected, ctx, defect_id=defect_id, reason=reason,
                    photos=check_photo_ids(photos))

    # --- stop-work -------------------------------------------------------------------------

    def order_stop_work(self, ctx: CommandContext, order_id: str, reason: str) -> None:
        self._refuse_if_closed_out()
        if self.stop_work is not None:
            raise StopWorkAlreadyInForce()
        open_round = self.open_round()
        if open_round is not None:  # residents would be signing a state that no longer holds
            self.record(ev.AcceptanceRoundCancelled, ctx, round_no=open_round["round_no"], reason="stop_work_ordered")
        self.record(ev.StopWorkOrdered, ctx, order_id=order_id, reason=reason)

    def lift_stop_work(self, ctx: CommandContext, notes: str) -> None:
        """Allowed on a closed-out item too: logs from before close-out refused a stop-work order hold one
        that would otherwise stay in force for ever; lifting it changes nothing else."""
        if self.stop_work is None:
            raise StopWorkNotInForce()
        self.record(ev.StopWorkLifted, ctx, order_id=self.stop_work["order_id"], notes=notes)

    # --- completion and close-out (acceptance rounds: domain/acceptance_rounds.py) -------------

    def complete(self, ctx: CommandContext) -> None:
        self._refuse_in_states("竣工", "completed", "awaiting_acceptance", "accepted")
        self._refuse_while_stopped("竣工")
        open_defects = self.open_defects()
        if open_defects:
            raise OpenDefectsBlockCompletion(count=len(open_defects))
        missing = [code for code in self.hold_points if not self.is_passed(code)]
        if missing:
            raise HoldPointsNotPassed(missing="、".join(missing))
        self.record(ev.WorksCompleted, ctx)

    def close_out(self, ctx: CommandContext, notes: str) -> None:
        self._refuse_if_closed_out()
        if self.state != "accepted":
            raise InvalidItemState(state=STATE_NAMES_ZH[self.state], action="销号")
        self._refuse_while_stopped("销号")
        self.record(ev.ClosedOut, ctx, notes=notes)

    def reopen(self, ctx: CommandContext, reason: str) -> None:
        if self.state != "closed_out":
            raise InvalidItemState(state=STATE_NAMES_ZH[self.state], action="重新开启")
        self.record(ev.Reopened, ctx, reason=reason)
