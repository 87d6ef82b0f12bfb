"""Who is acting: the role table of DOMAIN.md and the metadata every command carries."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from uuid import UUID


class Role(StrEnum):
    SUPERVISOR = "supervisor"
    CONTRACTOR = "contractor"
    STATION = "station"
    RESIDENT = "resident"
    ADMIN = "admin"


ROLE_NAMES_ZH: dict[Role, str] = {
    Role.SUPERVISOR: "现场监理",
    Role.CONTRACTOR: "施工单位",
    Role.STATION: "安全质量监督站",
    Role.RESIDENT: "居民监督小组成员",
    Role.ADMIN: "业主单位",
}


@dataclass(frozen=True)
class Actor:
    """A user as the domain sees them: an id (never a name), a role, and a district for the station."""

    user_id: UUID
    role: Role
    district: str | None = None


@dataclass(frozen=True)
class CommandContext:
    """What every event records about the command that caused it."""

    actor: Actor
    command_id: str
    device_id: str | None = None
    device_time: datetime | None = None
    expected_version: int | None = None
    request_id: str | None = field(default=None, compare=False)
