"""The base of every domain error: a stable code for machines, Chinese and English for people."""

from __future__ import annotations

from enum import StrEnum
from typing import Any, ClassVar


class ErrorKind(StrEnum):
    """What sort of refusal this is; the API maps it to an HTTP status."""

    INVALID = "invalid"  # the request cannot be valid (422)
    FORBIDDEN = "forbidden"  # this actor may not do this (403)
    NOT_FOUND = "not_found"  # no such thing (404)
    CONFLICT = "conflict"  # valid, but the current state refuses it (409)


class DomainError(Exception):
    """A refused command: nothing was recorded."""

    code: ClassVar[str] = "domain_error"
    kind: ClassVar[ErrorKind] = ErrorKind.CONFLICT
    title: ClassVar[str] = "The command was refused"
    message_zh: ClassVar[str] = "操作被拒绝"

    def __init__(self, detail_zh: str | None = None, **context: Any) -> None:
        self.context = context
        self.detail_zh = detail_zh or self.message_zh.format(**context)
        super().__init__(f"{self.code}: {self.detail_zh}")

