"""A works item's state as plain data, and the facts read from it: one fold and one set of rules for every reader.

The aggregate (`domain.works_item.WorksItem`) and the read models that keep per-item state (dashboard, timeline,
deadlines) are both folded by the events' own `apply` (domain/works_item_events.py) and both judge "passed",
"open defects" and "the open round" with `ItemFacts` below. A read model stores an `ItemState` as named plain
fields (`to_plain`), never an aggregate's `__dict__`: renaming an attribute of the aggregate cannot make stored
rows unreadable, and what a row holds is what this module says it holds.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any
from uuid import UUID

from domain.inspection import PASSING
from domain.rules import UnknownHoldPoint
from domain.templates.frozen import FrozenTemplate
from domain.templates.model import HoldPointSpec, WorksKindTemplate
from domain.versioned_fold import fold_in_order

if TYPE_CHECKING:
    from domain.works_item_events import WorksItemEvent

PLAIN_FORM = 1  # bump when `to_plain`'s fields change: a read model rebuilds rather than misreads old rows


class ItemFacts:
    """What a reader asks of an item; pure functions of the fields the events set, shared by aggregate and state."""

    if TYPE_CHECKING:
        kind: str
        template: FrozenTemplate
        hold_points: dict[str, dict[str, Any]]
        defects: dict[str, dict[str, Any]]
        rounds: list[dict[str, Any]]

    @property
    def parsed_template(self) -> WorksKindTemplate:
        return self.template.parsed

    def spec(self, hold_point: str) -> HoldPointSpec:
        spec = self.parsed_template.hold_point(hold_point)
        if spec is None:
            raise UnknownHoldPoint(hold_point=hold_point, kind=self.kind)
        return spec

    def open_defects(self, hold_point: str | None = None) -> list[str]:
        return [
            defect_id for defect_id, d in self.defects.items()
            if d["status"] != "closed" and (hold_point is None or d["hold_point"] == hold_point)
        ]

    def is_passed(self, hold_point: str) -> bool:
        """Passed: the latest inspection passed (or passed on conditions) and no open defect blocks it."""
        return self.hold_points[hold_point]["result"] in PASSING and not self.open_defects(hold_point)

    def passed_hold_points(self) -> list[str]:
        """`is_passed` of every point, with the open defects gathered once (a dashboard asks it of every item twice
        a batch)."""
        blocked = {d["hold_point"] for d in self.defects.values() if d["status"] != "closed"}
        return [code for code, point in self.hold_points.items() if point["result"] in PASSING and code not in blocked]

    def open_round(self) -> dict[str, Any] | None:
        return next((r for r in self.rounds if r["status"] == "open"), None)


@dataclass
class ItemState(ItemFacts):
    """The item as a read model keeps it. The fields after `modified_on` are the ones `Registered.apply` sets."""

    id: UUID
    modified_on: datetime
    version: int = 0
    chain_head: str = ""
    project_id: UUID | None = None
    kind: str = ""
    template: FrozenTemplate = field(default=None)  # type: ignore[assignment]  # set by Registered.apply
    title: str = ""
    location: str = ""
    contractor_id: UUID | None = None
    links: dict[str, str] = field(default_factory=dict)
    planned_end: str | None = None
    state: str = ""
    hold_points: dict[str, dict[str, Any]] = field(default_factory=dict)
    defects: dict[str, dict[str, Any]] = field(default_factory=dict)
    stop_work: dict[str, Any] | None = None
    rounds: list[dict[str, Any]] = field(default_factory=list)
    quantities: dict[str, Decimal] = field(default_factory=dict)


def fold(state: ItemState | None, event: WorksItemEvent) -> ItemState | None:
    """The state after `event`, changed in place (the aggregate's own `mutate`, without the aggregate), in version
    order (`fold_in_order`); the chain head is the hash of the last event applied."""
    from domain.works_item_events import Registered  # the events module imports this one for ItemFacts' users

    folded = fold_in_order(state, event, Registered,
                           lambda first: ItemState(id=first.originator_id, modified_on=first.timestamp))
    if folded is not None and folded.version == event.originator_version:
        folded.chain_head = event.event_hash
    return folded


def to_plain(state: ItemState) -> dict[str, Any]:
    """JSON-ready fields; the template is stored once per digest by whoever stores states, so only its digest here."""
    return {
        "form": PLAIN_FORM, "id": str(state.id), "version": state.version,
        "modified_on": state.modified_on.isoformat(),
        "chain_head": state.chain_head, "project_id": str(state.project_id), "kind": state.kind,
        "template": state.template.digest, "title": state.title, "location": state.location,
        "contractor_id": str(state.contractor_id) if state.contractor_id else None, "links": state.links,
        "planned_end": state.planned_end, "state": state.state, "hold_points": state.hold_points,
        "defects": state.defects, "stop_work": state.stop_work, "rounds": state.rounds,
        "quantities": {k: str(v) for k, v in state.quantities.items()},
    }


def from_plain(plain: dict[str, Any], template: FrozenTemplate) -> ItemState:
    if plain.get("form") != PLAIN_FORM:
        raise ValueError(f"item state stored in form {plain.get('form')!r}, this code reads form {PLAIN_FORM}")
    return ItemState(
        id=UUID(plain["id"]), version=plain["version"],
        modified_on=datetime.fromisoformat(plain["modified_on"]),
        chain_head=plain["chain_head"], project_id=UUID(plain["project_id"]), kind=plain["kind"],
        template=template, title=plain["title"], location=plain["location"],
        contractor_id=UUID(plain["contractor_id"]) if plain["contractor_id"] else None, links=plain["links"],
        planned_end=plain["planned_end"], state=plain["state"], hold_points=plain["hold_points"],
        defects=plain["defects"], stop_work=plain["stop_work"], rounds=plain["rounds"],
        quantities={k: Decimal(v) for k, v in plain["quantities"].items()},
    )
