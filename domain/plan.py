"""A district's annual renovation plan (年度改造计划): the targets the statistics measure the year against.

A plan is a decision an admin takes (and corrects), so it is an event-sourced aggregate with its own log,
one per district and year (its id derived from both), like the division registry: the newest `PlanSet`
is the plan, the earlier ones stay as what was planned before.
"""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING, Any, ClassVar
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate
from eventsourcing.utils import register_topic

from domain.actors import CommandContext
from domain.chain import ChainedAggregate, ChainedEvent, command_metadata

TARGETS = ("communities", "households", "pipe_m", "cable_buried_m", "cable_removed_m", "lifts")


def plan_id(year: int, district: str) -> UUID:
    return uuid5(NAMESPACE_URL, f"urn:siteledger:annual-plan:{year}:{district}")


class PlanEvent(ChainedEvent):
    TOPIC_PREFIX: ClassVar[str] = "siteledger.plans"
    TOPIC = "siteledger.plans:Event"


register_topic(PlanEvent.TOPIC, PlanEvent)


class PlanOpened(PlanEvent, Aggregate.Created):
    year: int
    district: str

    def apply(self, plan: Any) -> None:
        plan.year, plan.district = self.year, self.district
        plan.targets = {}
        plan.items_by_kind = {}


class PlanSet(PlanEvent):
    """Targets as decimal strings (metres may have decimals); works items by kind as whole numbers."""

    targets: dict[str, str]
    items_by_kind: dict[str, int]

    def apply(self, plan: Any) -> None:
        plan.targets = dict(self.targets)
        plan.items_by_kind = dict(self.items_by_kind)


class AnnualPlan(ChainedAggregate):
    TOPIC = "siteledger:AnnualPlan"
    Event = PlanEvent
    Created = PlanOpened

    if TYPE_CHECKING:
        year: int
        district: str
        targets: dict[str, str]
        items_by_kind: dict[str, int]

    @classmethod
    def open(cls, ctx: CommandContext, year: int, district: str) -> AnnualPlan:
        return cls._create(PlanOpened, id=plan_id(year, district), **command_metadata(ctx),
                           year=year, district=district)

    def set(self, ctx: CommandContext, targets: dict[str, Decimal], items_by_kind: dict[str, int]) -> bool:
        """Recorded only when the plan changes, so setting the same plan again adds nothing."""
        as_text = {name: str(targets.get(name, Decimal(0))) for name in TARGETS}
        if as_text == self.targets and items_by_kind == self.items_by_kind:
            return False
        self.record(PlanSet, ctx, targets=as_text, items_by_kind=dict(items_by_kind))
        return True
