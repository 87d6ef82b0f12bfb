"""Dependencies every route shares: the container, the caller, and a command's context."""

from __future__ import annotations

import logging
import re
import time
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any, cast
from uuid import UUID

from fastapi import Depends, Header, Query, Request
from fastapi.responses import JSONResponse

from domain.actors import CommandContext, Role
from domain.application import Outcome
from domain.commands import Command, ItemCommand
from services.api.authentication import identify
from services.api.errors import ApiError
from services.bootstrap import Container
from services.observability import COMMAND_SECONDS, EVENTS_APPENDED, REQUEST_ID
from services.users import User

log = logging.getLogger("siteledger.commands")


def get_container(request: Request) -> Container:
    return request.app.state.container


ContainerDep = Annotated[Container, Depends(get_container)]


def current_user(request: Request, container: ContainerDep,
                 authorization: Annotated[str | None, Header()] = None) -> User:
    """A bearer token or a web session cookie (read from the request, so the contract keeps one scheme)."""
    return identify(request, container, authorization)


CurrentUser = Annotated[User, Depends(current_user)]


def require_role(user: User, *roles: Role) -> None:
    if user.role not in roles:
        raise ApiError(403, "role_not_permitted", "Your role may not do this",
                       f"“{user.role}”角色无权执行此操作")


KEY = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.:-]{7,127}$")
VERSION = re.compile(r"^[0-9]{1,18}$")  # ASCII digits only ('²'.isdigit() is true), and within a 64-bit integer
MAX_POSITION = 2**63 - 1  # versions, log positions and offsets are 64-bit integers in the stores


def _expected_version(if_match: str | None) -> int | None:
    if if_match is None:
        return None
    value = if_match.strip().removeprefix("W/").strip('"')
    if not VERSION.match(value):
        raise ApiError(400, "invalid_if_match", "If-Match must be a version number",
                       f"If-Match 应为版本号（整数），收到：{if_match[:40]}")
    return int(value)


class CommandHeaders:
    """`Idempotency-Key`, `X-Device-Id` and `If-Match`, read once per command request."""

    def __init__(
        self,
        idempotency_key: Annotated[str | None, Header(alias="Idempotency-Key")] = None,
        device_id: Annotated[str | None, Header(alias="X-Device-Id", max_length=128)] = None,
        if_match: Annotated[str | None, Header(alias="If-Match")] = None,
        request_id: Annotated[str | None, Header(alias="X-Request-Id", max_length=128)] = None,
    ) -> None:
        if idempotency_key is not None and not KEY.match(idempotency_key):
            raise ApiError(400, "invalid_idempotency_key", "Idempotency-Key must be a client-made UUID",
                           "Idempotency-Key 应为客户端生成的 UUID")
        self.idempotency_key = idempotency_key
        self.device_id = device_id
        self.expected_version = _expected_version(if_match)
        self.request_id = request_id


Headers = Annotated[CommandHeaders, Depends()]


def command_context(user: User, headers: CommandHeaders, recorded_at: datetime | None) -> CommandContext:
    from uuid import uuid4

    return CommandContext(
        actor=user.actor, command_id=headers.idempotency_key or f"server-{uuid4()}",
        device_id=headers.device_id, device_time=recorded_at,
        expected_version=headers.expected_version, request_id=REQUEST_ID.get() or headers.request_id,
    )


def check_device_time(container: Container, recorded_at: datetime | None) -> None:
    """A device clock may run ahead of the server only by the configured margin (the domain has no clock)."""
    if recorded_at is None:
        return
    margin = timedelta(hours=container.settings.device_time_max_ahead_hours)
    ahead = recorded_at - datetime.now(UTC)
    if ahead > margin:
        raise ApiError(422, "device_time_in_future", "The device time is too far ahead of the server",
                       f"recorded_at（设备时间）比服务器时间快 {ahead.total_seconds() / 3600:.1f} 小时，超过允许的 "
                       f"{margin.total_seconds() / 3600:g} 小时；请校准设备时钟后重试",
                       max_ahead_hours=container.settings.device_time_max_ahead_hours)


def check_photos(container: Container, user: User, command: Command) -> None:
    """A command may cite only photos stored for its project (the role is checked first: 403 before 422)."""
    cited = cited_photos(command)
    if cited:
        container.ledger.authorize(user.actor, command)
        project_id = getattr(command, "project_id", None)
        if project_id is None:  # then it is an item's command
            project_id = container.ledger.item_in_scope(user.actor, cast(ItemCommand, command).item_id)[1].id
        container.photos.require(user, project_id, cited)


def observe(outcome: Outcome, ctx: CommandContext, seconds: float) -> None:
    COMMAND_SECONDS.labels(outcome.command).observe(seconds)
    if not outcome.replayed:
        for event in outcome.events:
            EVENTS_APPENDED.labels(event["type"]).inc()
    log.info("command", extra={"command": outcome.command, "command_id": ctx.command_id,
                               "aggregate_id": outcome.aggregate_id, "version": outcome.version,
                               "replayed": outcome.replayed, "position": outcome.position})


def execute(container: Container, user: User, headers: CommandHeaders, command: Command,
            recorded_at: datetime | None = None, status: int = 201) -> JSONResponse:
    """Translate HTTP into a command and its outcome into a response; a replay answers identically."""
    check_device_time(container, recorded_at)
    ctx = command_context(user, headers, recorded_at)
    check_photos(container, user, command)
    started = time.perf_counter()
    outcome = container.ledger.execute(ctx, command)
    observe(outcome, ctx, time.perf_counter() - started)
    container.projections.nudge()
    return outcome_response(outcome, status)


def cited_photos(command: Command) -> list[str]:
    """Every photo id a command cites: its own `photos` and those of defects raised with it."""
    photos = list(getattr(command, "photos", []) or [])
    for draft in getattr(command, "defects", []) or []:
        photos.extend(draft.photos)
    return photos


def outcome_response(outcome: Outcome, status: int) -> JSONResponse:
    body: dict[str, Any] = {
        "id": outcome.aggregate_id, "version": outcome.version, "command": outcome.command,
        "events": outcome.events, **outcome.result,
    }
    headers = {"ETag": f'"{outcome.version}"'}
    if outcome.replayed:
        headers["Idempotent-Replayed"] = "true"
    if outcome.position is not None:
        headers["X-Log-Position"] = str(outcome.position)
    return JSONResponse(body, status_code=status, headers=headers)


def as_uuid(value: str, what: str) -> UUID:
    try:
        return UUID(value)
    except ValueError:
        raise ApiError(404, f"{what}_not_found", "Not found", f"编号格式无效：{value[:64]}") from None


def read_your_writes(container: Container, after: int | None, *read_models: str) -> None:
    """`?after=<position>`: wait (bounded) until the read models a route reads from (all when none is named)
    have reached the caller's own write; a failing timeline must not hold up the dashboards."""
    if after is None or after <= 0:
        return
    head = int(container.ledger.recorder.max_notification_id() or 0)
    if after > head:
        raise ApiError(422, "position_beyond_log", "The log has not reached that position",
                       f"after={after} 超出事件日志的最新位置 {head}；请使用命令响应中 X-Log-Position 给出的位置",
                       head=head)
    behind = container.projections.wait_for(after, container.settings.read_your_writes_timeout_s,
                                            list(read_models) or None)
    if behind > 0:
        raise ApiError(503, "projection_behind", "The read models have not reached that position yet",
                       f"统计视图尚未更新到您的最新操作（落后 {behind} 条），请稍后重试", behind=behind)


AfterQuery = Annotated[int | None, Query(ge=0, le=MAX_POSITION,
                                         description="wait until the read models reach this log position")]
