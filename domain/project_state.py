"""A project's state as plain data, folded by the project events' own `apply`: what a read model keeps of a project.

The project-level counterpart of `domain.item_state`: the deadlines read model needs a project's completion path
(the station notice, acceptance, filing) and its district after each project event. It keeps a `ProjectState`
stored as named plain fields (`to_plain`), never the `Project` aggregate's encoded `__dict__` (which also holds the
library's private fields, and would make a renamed attribute break stored rows).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any
from uuid import UUID

from domain.canonical import to_plain as plain_value
from domain.versioned_fold import fold_in_order

if TYPE_CHECKING:
    from domain.project_event import ProjectEvent

PLAIN_FORM = 1  # bump when `to_plain`'s fields change: a read model rebuilds rather than misreads old rows


def empty_completion() -> dict[str, Any]:
    """What `domain.completion` starts a project's completion path with."""
    return {"notice": None, "surveys": [], "acceptance": None, "joint": None, "filing": None}


@dataclass
class ProjectState:
    """The fields the project events' `apply` set (domain/project.py, domain/completion.py), with their defaults
    for a project registered before a field existed, as the aggregate reads them."""

    id: UUID
    modified_on: datetime
    version: int = 0
    name: str = ""
    district: str = ""
    details: dict[str, Any] = field(default_factory=dict)
    assignments: dict[str, str] = field(default_factory=dict)
    members: dict[str, dict[str, str]] = field(default_factory=dict)
    acceptance_rule: dict[str, Any] = field(default_factory=dict)
    funding: dict[str, dict[str, Any]] = field(default_factory=dict)
    works_items: dict[str, str] = field(default_factory=dict)
    satisfaction_threshold: str | None = None  # None: the default rule (domain.completion.DEFAULT_SATISFACTION)
    completion: dict[str, Any] = field(default_factory=empty_completion)


def fold(state: ProjectState | None, event: ProjectEvent) -> ProjectState | None:
    """The state after `event`, changed in place, in version order (`fold_in_order`)."""
    from domain.project import ProjectRegistered  # the project module imports the events this one folds

    return fold_in_order(state, event, ProjectRegistered,
                         lambda first: ProjectState(id=first.originator_id, modified_on=first.timestamp))


def to_plain(state: ProjectState) -> dict[str, Any]:
    return {
        "form": PLAIN_FORM, "id": str(state.id), "version": state.version,
        "modified_on": state.modified_on.isoformat(), "name": state.name, "district": state.district,
        "details": plain_value(state.details), "assignments": state.assignments,
        "members": plain_value(state.members), "acceptance_rule": plain_value(state.acceptance_rule),
        "funding": plain_value(state.funding), "works_items": state.works_items,
        "satisfaction_threshold": state.satisfaction_threshold, "completion": plain_value(state.completion),
    }


def from_plain(plain: dict[str, Any]) -> ProjectState:
    if plain.get("form") != PLAIN_FORM:
        raise ValueError(f"project state stored in form {plain.get('form')!r}, this code reads form {PLAIN_FORM}")
    return ProjectState(
        id=UUID(plain["id"]), modified_on=datetime.fromisoformat(plain["modified_on"]), version=plain["version"],
        name=plain["name"], district=plain["district"], details=plain["details"], assignments=plain["assignments"],
        members=plain["members"], acceptance_rule=plain["acceptance_rule"], funding=plain["funding"],
        works_items=plain["works_items"], satisfaction_threshold=plain["satisfaction_threshold"],
        completion=plain["completion"],
    )
