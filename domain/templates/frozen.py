"""An item's copy of its template: immutable, parsed once, never deep-copied with the item's state."""

from __future__ import annotations

import hashlib
import json
from functools import lru_cache
from typing import Any

from eventsourcing.persistence import Transcoding

from domain.templates.model import WorksKindTemplate


@lru_cache(maxsize=512)
def _parse(encoded: str) -> WorksKindTemplate:
    """Thousands of items share a handful of templates: validate each distinct one once."""
    return WorksKindTemplate.model_validate_json(encoded)


_SEEN: dict[tuple[Any, Any], list[FrozenTemplate]] = {}  # by (code, version): the few templates every item shares
_SEEN_MAX = 512
_RECENT: dict[tuple[Any, Any], tuple[dict[str, Any], FrozenTemplate]] = {}  # by (code, version): the dict last
# asked for and its frozen template


def _remember(key: tuple[Any, Any], data: dict[str, Any], frozen: FrozenTemplate) -> None:
    """The read models of one pass each ask for the same event's template, and a rebuild's decoder process hands
    over one dict for all the equal templates of a batch (projections/log_decoder.py): answer them by identity
    (the dict is held here, so its identity cannot pass to another dict while it is the one remembered)."""
    if key in _RECENT or len(_RECENT) < _SEEN_MAX:
        _RECENT[key] = (data, frozen)


class FrozenTemplate:
    """Shared safely between copies of an aggregate because nothing ever mutates it."""

    __slots__ = ("data", "digest", "parsed")

    @classmethod
    def of(cls, data: dict[str, Any]) -> FrozenTemplate:
        """The same template as one already frozen, found by comparing the dicts (far cheaper than the canonical
        JSON and SHA-256 that `__init__` computes): every registration event carries its template in full, and
        loading or rebuilding 100,000 items would otherwise digest a handful of templates 100,000 times."""
        key = (data.get("code"), data.get("version"))
        recent = _RECENT.get(key)
        if recent is not None and recent[0] is data:  # the same dict, handed to another reader
            return recent[1]
        known = _SEEN.get(key, [])
        for frozen in known:
            if frozen.data == data:
                _remember(key, data, frozen)
                return frozen
        frozen = cls(data)
        _remember(key, data, frozen)
        if len(_SEEN) < _SEEN_MAX and len(known) < 8:
            _SEEN[key] = [*known, frozen]
        return frozen

    def __init__(self, data: dict[str, Any]) -> None:
        self.data = data
        encoded = json.dumps(data, sort_keys=True, separators=(",", ":"))
        self.digest = hashlib.sha256(encoded.encode()).hexdigest()
        self.parsed = _parse(encoded)

    def __deepcopy__(self, memo: dict[int, Any]) -> FrozenTemplate:
        return self

    def __eq__(self, other: object) -> bool:
        return isinstance(other, FrozenTemplate) and other.data == self.data

    def __hash__(self) -> int:
        return hash(self.parsed.code)


class FrozenTemplateAsDict(Transcoding):
    """Lets snapshots store the template as plain JSON."""

    type = FrozenTemplate
    name = "works_kind_template"

    def encode(self, obj: FrozenTemplate) -> dict[str, Any]:
        return obj.data

    def decode(self, data: dict[str, Any]) -> FrozenTemplate:
        return FrozenTemplate.of(data)
