"""Project completion acceptance (竣工验收), a part of the Project aggregate: the path from the last works item
accepted to the record filed (备案).

The owner (建设单位) tells the station in writing 7 working days before completion acceptance; residents'
satisfaction is surveyed (seed 004: in Hebei 80 % or more of residents satisfied before completion
acceptance may be organised; "以上" includes the number itself, Civil Code art. 1259); completion
acceptance is held with resident representatives; the district holds a joint acceptance; the record is
filed within 15 days of acceptance (房屋建筑和市政基础设施工程竣工验收备案管理办法 art. 4: calendar days).
A late filing is recorded, and flagged: refusing it would leave the record unfiled.
"""

from __future__ import annotations

from datetime import date, timedelta
from fractions import Fraction
from typing import TYPE_CHECKING, Any
from uuid import UUID

from domain.actors import CommandContext
from domain.inspection import check_photo_ids
from domain.project_event import ProjectEvent
from domain.rules import (
    CompletionAcceptanceAlreadyHeld,
    CompletionAcceptanceNotHeld,
    InvalidSatisfactionThreshold,
    ItemsNotAccepted,
    MemberNotFound,
    NoSatisfactionSurvey,
    NoStationNotice,
    SatisfactionBelowThreshold,
    TooSoonAfterNotice,
)
from domain.working_days import WorkingCalendar, add_working_days

NOTICE_WORKING_DAYS = 7
FILING_DAYS = 15
DEFAULT_SATISFACTION = "4/5"
SETTLED_STATES = ("accepted", "closed_out")


def _completion(project: Any) -> dict[str, Any]:
    """Projects registered before completion acceptance existed (or restored from an older snapshot) start empty."""
    return project.__dict__.setdefault("completion", {"notice": None, "surveys": [], "acceptance": None,
                                                       "joint": None, "filing": None})


class WorksItemAdded(ProjectEvent):
    """The project learns its items as they are registered, so completion can ask after every one."""

    item_id: UUID
    kind: str

    def apply(self, project: Any) -> None:
        project.__dict__.setdefault("works_items", {})[str(self.item_id)] = self.kind


class SatisfactionThresholdSet(ProjectEvent):
    threshold: str

    def apply(self, project: Any) -> None:
        project.satisfaction_threshold = self.threshold


class StationNotified(ProjectEvent):
    notice_date: str
    photos: list[str]

    def apply(self, project: Any) -> None:
        _completion(project)["notice"] = {"date": self.notice_date, "photos": list(self.photos)}


class SatisfactionSurveyRecorded(ProjectEvent):
    surveyed_on: str
    sample: int
    satisfied: int
    share: str  # exact fraction of the sample satisfied, e.g. "9/10"
    photos: list[str]

    def apply(self, project: Any) -> None:
        _completion(project)["surveys"].append({"date": self.surveyed_on, "sample": self.sample,
                                                "satisfied": self.satisfied, "share": self.share})


class CompletionAcceptanceHeld(ProjectEvent):
    held_on: str
    parties: list[str]
    resident_representatives: list[str]
    photos: list[str]
    checked_against: dict[str, Any]  # what the rules were checked against: the notice, the survey, the items

    def apply(self, project: Any) -> None:
        _completion(project)["acceptance"] = {"date": self.held_on, "parties": list(self.parties),
                                              "resident_representatives": list(self.resident_representatives)}


class JointAcceptanceHeld(ProjectEvent):
    held_on: str
    district: str
    photos: list[str]

    def apply(self, project: Any) -> None:
        _completion(project)["joint"] = {"date": self.held_on, "district": self.district}


class Filed(ProjectEvent):
    filing_no: str
    filed_on: str
    photos: list[str]
    late: bool  # more than 15 days after completion acceptance: recorded, and shown as late
    days_after_acceptance: int

    def apply(self, project: Any) -> None:
        _completion(project)["filing"] = {"number": self.filing_no, "date": self.filed_on, "late": self.late,
                                          "days_after_acceptance": self.days_after_acceptance}


class ProjectCompletion:
    """Mixed into Project; uses its `record`, `members` and `district`."""

    if TYPE_CHECKING:
        district: str
        members: dict[str, dict[str, str]]

        def record(self, event_class: Any, ctx: CommandContext, **payload: Any) -> None: ...

    @property
    def completion(self) -> dict[str, Any]:
        return _completion(self)

    @property
    def works_items(self) -> dict[str, str]:
        return dict(self.__dict__.get("works_items", {}))

    @property
    def satisfaction_rule(self) -> Fraction:
        return Fraction(self.__dict__.get("satisfaction_threshold", DEFAULT_SATISFACTION))

    def add_works_item(self, ctx: CommandContext, item_id: UUID, kind: str) -> None:
        self.record(WorksItemAdded, ctx, item_id=item_id, kind=kind)

    def set_satisfaction_threshold(self, ctx: CommandContext, threshold: str) -> None:
        try:
            value = Fraction(threshold)
        except (ValueError, ZeroDivisionError):
            raise InvalidSatisfactionThreshold() from None
        if not 0 < value <= 1:
            raise InvalidSatisfactionThreshold()
        self.record(SatisfactionThresholdSet, ctx, threshold=str(value))

    def _refuse_after_acceptance(self) -> None:
        if self.completion["acceptance"] is not None:
            raise CompletionAcceptanceAlreadyHeld(date=self.completion["acceptance"]["date"])

    def notify_station(self, ctx: CommandContext, notice_date: str, photos: list[str]) -> None:
        self._refuse_after_acceptance()
        self.record(StationNotified, ctx, notice_date=notice_date, photos=check_photo_ids(photos))

    def record_survey(self, ctx: CommandContext, surveyed_on: str, sample: int, satisfied: int,
                      photos: list[str]) -> None:
        self._refuse_after_acceptance()
        share = Fraction(satisfied, sample)
        self.record(SatisfactionSurveyRecorded, ctx, surveyed_on=surveyed_on, sample=sample, satisfied=satisfied,
                    share=str(share), photos=check_photo_ids(photos))

    def hold_completion_acceptance(
        self, ctx: CommandContext, calendar: WorkingCalendar, held_on: str, parties: list[str],
        representatives: list[str], photos: list[str], item_states: dict[str, str],
    ) -> None:
        """Refused while any item is unsettled, before the 7th working day after the notice, or below the survey
        threshold; `item_states` are the project's items' states, as the handler loaded them."""
        self._refuse_after_acceptance()
        unsettled = sorted(i for i, state in item_states.items() if state not in SETTLED_STATES)
        if not item_states or unsettled:
            raise ItemsNotAccepted(count=len(unsettled), items=unsettled)
        notice = self.completion["notice"]
        if notice is None:
            raise NoStationNotice()
        earliest = add_working_days(calendar, date.fromisoformat(notice["date"]), NOTICE_WORKING_DAYS)
        if date.fromisoformat(held_on) < earliest:
            raise TooSoonAfterNotice(notice=notice["date"], earliest=earliest.isoformat())
        surveys = self.completion["surveys"]
        if not surveys:
            raise NoSatisfactionSurvey()
        latest = surveys[-1]
        if Fraction(latest["share"]) < self.satisfaction_rule:
            raise SatisfactionBelowThreshold(share=f"{float(Fraction(latest['share'])):.1%}",
                                             threshold=f"{float(self.satisfaction_rule):.0%}")
        unknown = [m for m in representatives if m not in self.members]
        if unknown:
            raise MemberNotFound(member_id="、".join(unknown))
        self.record(CompletionAcceptanceHeld, ctx, held_on=held_on, parties=parties,
                    resident_representatives=representatives, photos=check_photo_ids(photos),
                    checked_against={"notice_date": notice["date"], "earliest": earliest.isoformat(),
                           "survey_share": latest["share"], "threshold": str(self.satisfaction_rule),
                           "items": dict(sorted(item_states.items()))})

    def _accepted_on(self, action_zh: str) -> date:
        acceptance = self.completion["acceptance"]
        if acceptance is None:
            raise CompletionAcceptanceNotHeld(action=action_zh)
        return date.fromisoformat(acceptance["date"])

    def hold_joint_acceptance(self, ctx: CommandContext, held_on: str, photos: list[str]) -> None:
        accepted = self._accepted_on("组织联合验收")
        if date.fromisoformat(held_on) < accepted:
            raise CompletionAcceptanceNotHeld(detail_zh=f"联合验收日期不能早于竣工验收日期 {accepted.isoformat()}",
                                              action="组织联合验收")
        self.record(JointAcceptanceHeld, ctx, held_on=held_on, district=self.district, photos=check_photo_ids(photos))

    def file_record(self, ctx: CommandContext, filing_no: str, filed_on: str, photos: list[str]) -> bool:
        """Record the filing; True when it came more than 15 days after acceptance (flagged, not refused)."""
        accepted = self._accepted_on("备案")
        day = date.fromisoformat(filed_on)
        if day < accepted:
            raise CompletionAcceptanceNotHeld(detail_zh=f"备案日期不能早于竣工验收日期 {accepted.isoformat()}",
                                              action="备案")
        late = day > accepted + timedelta(days=FILING_DAYS)
        self.record(Filed, ctx, filing_no=filing_no, filed_on=filed_on, photos=check_photo_ids(photos), late=late,
                    days_after_acceptance=(day - accepted).days)
        return late
