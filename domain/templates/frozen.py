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


class FrozenTemplate:
    """Shared safely between copies of an aggregate because nothing ever mutates it."""

    __slots__ = ("data", "digest", "parsed")

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
        return FrozenTemplate(data)
