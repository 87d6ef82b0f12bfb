"""Folding a read model's plain state by the events' own `apply`, in version order: the one rule the item and
project states (domain/item_state.py, domain/project_state.py) share."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any, Protocol, TypeVar


class Versioned(Protocol):
    version: int
    modified_on: datetime


S = TypeVar("S", bound=Versioned)


def fold_in_order(state: S | None, event: Any, created: type[Any], new: Callable[[Any], S]) -> S | None:
    """The state after `event`, changed in place; `new` makes it from its `created` event. An event that does not
    follow the state's version (a replayed batch, or an aggregate created before a read model began tracking)
    leaves the state as it was: the caller sees the same object back and writes nothing new."""
    if isinstance(event, created):
        if state is not None and state.version >= event.originator_version:
            return state
        state = new(event)
    elif state is None or event.originator_version != state.version + 1:
        return state
    event.apply(state)
    state.version = event.originator_version
    state.modified_on = event.timestamp
    return state
