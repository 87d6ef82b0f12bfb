"""The project aggregate: one community being renovated, who works on it, and its residents' group."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any
from uuid import UUID

from eventsourcing.domain import Aggregate

from domain.acceptance import AcceptanceRule
from domain.actors import CommandContext, Role
from domain.chain import ChainedAggregate, command_metadata
from domain.completion import ProjectCompletion
from domain.project_event import ProjectEvent
from domain.rules import DuplicateMember, InvalidItemState, MemberNotFound, WorksItemNotFound

CATEGORIES = ("basic", "improvement", "upgrade")
FUNDING_SOURCES = ("central_budget", "ultra_long_special_bonds", "local_special_bonds", "policy_bank_loans",
                   "resident_contributions", "social_capital", "other")  # Chinese names: domain/wording.py


class ProjectRegistered(ProjectEvent, Aggregate.Created):
    name: str
    district: str
    street_office: str
    address: str
    year_built: int | None
    buildings: int
    households: int
    categories: list[str]

    def apply(self, project: Any) -> None:
        project.name = self.name
        project.district = self.district
        project.details = {
            "street_office": self.street_office, "address": self.address, "year_built": self.year_built,
            "buildings": self.buildings, "households": self.households, "categories": list(self.categories),
        }
        project.assignments = {}
        project.members = {}
        project.acceptance_rule = AcceptanceRule().as_dict()


class UserAssigned(ProjectEvent):
    user_id: UUID
    role: str

    def apply(self, project: Any) -> None:
        project.assignments[str(self.user_id)] = self.role


class UserUnassigned(ProjectEvent):
    user_id: UUID

    def apply(self, project: Any) -> None:
        project.assignments.pop(str(self.user_id), None)


class MemberAdded(ProjectEvent):
    member_id: str
    user_id: UUID
    building: str
    unit: str

    def apply(self, project: Any) -> None:
        project.members[self.member_id] = {
            "user_id": str(self.user_id), "building": self.building, "unit": self.unit
        }


class MemberRemoved(ProjectEvent):
    member_id: str
    reason: str

    def apply(self, project: Any) -> None:
        project.members.pop(self.member_id, None)


class AcceptanceRuleSet(ProjectEvent):
    min_signed: str
    min_accept: str

    def apply(self, project: Any) -> None:
        project.acceptance_rule = {"min_signed": self.min_signed, "min_accept": self.min_accept}


class FundingSet(ProjectEvent):
    """The renovation category and funding sources of the project (item_id None) or of one of its items.

    Its own event rather than a field of ProjectRegistered, so projects registered before funding was
    recorded get theirs the same way as a correction later: the newest one counts."""

    item_id: UUID | None
    category: str | None
    funding_sources: list[str]

    def apply(self, project: Any) -> None:
        project.__dict__.setdefault("funding", {})[str(self.item_id or "")] = {"category": self.category,
                                               "funding_sources": list(self.funding_sources)}


class Project(ProjectCompletion, ChainedAggregate):
    """Names people by id only: names and phone numbers live in the erasable people store."""

    TOPIC = "siteledger:Project"
    Event = ProjectEvent
    Created = ProjectRegistered

    if TYPE_CHECKING:  # state set by the events' apply(); not dataclass fields
        name: str
        district: str
        details: dict[str, Any]
        assignments: dict[str, str]
        members: dict[str, dict[str, str]]
        acceptance_rule: dict[str, str]

    @classmethod
    def register(cls, ctx: CommandContext, project_id: UUID, **details: Any) -> Project:
        unknown = set(details["categories"]) - set(CATEGORIES)
        if unknown:
            raise InvalidItemState(detail_zh=f"改造类别无效：{'、'.join(sorted(unknown))}",
                                   state="", action="")
        return cls._create(ProjectRegistered, id=project_id, **command_metadata(ctx), **details)

    def assign(self, ctx: CommandContext, user_id: UUID, role: Role) -> None:
        if self.assignments.get(str(user_id)) != str(role):
            self.record(UserAssigned, ctx, user_id=user_id, role=str(role))

    def unassign(self, ctx: CommandContext, user_id: UUID) -> None:
        if str(user_id) in self.assignments:
            self.record(UserUnassigned, ctx, user_id=user_id)

    def is_assigned(self, user_id: UUID, role: Role) -> bool:
        return self.assignments.get(str(user_id)) == str(role)

    def add_member(
        self, ctx: CommandContext, member_id: str, user_id: UUID, building: str, unit: str
    ) -> None:
        if member_id in self.members or any(m["user_id"] == str(user_id) for m in self.members.values()):
            raise DuplicateMember()
        self.record(MemberAdded, ctx, member_id=member_id, user_id=user_id,
                    building=building, unit=unit)

    def remove_member(self, ctx: CommandContext, member_id: str, reason: str) -> None:
        if member_id not in self.members:
            raise MemberNotFound(member_id=member_id)
        self.record(MemberRemoved, ctx, member_id=member_id, reason=reason)

    def member_of(self, user_id: UUID) -> str | None:
        return next(
            (mid for mid, m in self.members.items() if m["user_id"] == str(user_id)), None
        )

    def set_acceptance_rule(self, ctx: CommandContext, rule: AcceptanceRule) -> None:
        self.record(AcceptanceRuleSet, ctx, **rule.as_dict())

    def set_funding(self, ctx: CommandContext, item_id: UUID | None, category: str | None,
                    funding_sources: list[str]) -> bool:
        """Recorded only when it changes what is known (an import applied twice adds nothing)."""
        if item_id is not None and str(item_id) not in self.works_items:
            raise WorksItemNotFound(detail_zh=f"工程事项 {item_id} 不属于该项目", item_id=item_id)
        wanted = {"category": category, "funding_sources": list(funding_sources)}
        if self.funding.get(str(item_id or "")) == wanted:
            return False
        self.record(FundingSet, ctx, item_id=item_id, category=category,
                    funding_sources=list(funding_sources))
        return True

    @property
    def funding(self) -> dict[str, dict[str, Any]]:
        """"" (the project) or an item id → its category and funding sources, as last recorded."""
        return dict(self.__dict__.get("funding", {}))

    @property
    def rule(self) -> AcceptanceRule:
        return AcceptanceRule.from_dict(self.acceptance_rule)
