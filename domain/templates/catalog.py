"""The works kinds a deployment knows: built-in ones plus any registered as data."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from domain.rules import UnknownWorksKind
from domain.templates.builtin import BUILTIN_KINDS
from domain.templates.model import WorksKindTemplate


class TemplateCatalog:
    """Templates by code; a works item copies its template when registered, so later edits never rewrite history."""

    def __init__(self, definitions: Iterable[dict[str, Any] | WorksKindTemplate] = ()) -> None:
        self._by_code: dict[str, WorksKindTemplate] = {}
        for definition in definitions:
            self.register(definition)

    def register(self, definition: dict[str, Any] | WorksKindTemplate) -> WorksKindTemplate:
        template = (
            definition
            if isinstance(definition, WorksKindTemplate)
            else WorksKindTemplate.model_validate(definition)
        )
        self._by_code[template.code] = template
        return template

    def get(self, code: str) -> WorksKindTemplate:
        try:
            return self._by_code[code]
        except KeyError:
            raise UnknownWorksKind(kind=code) from None

    def __iter__(self) -> Iterator[WorksKindTemplate]:
        return iter(self._by_code.values())

    def __contains__(self, code: object) -> bool:
        return code in self._by_code


def builtin_catalog() -> TemplateCatalog:
    return TemplateCatalog(BUILTIN_KINDS)
