"""Dependencies every route shares: the container, the caller, a command's headers and its HTTP answer.

Commands themselves run through the bus (`services/commands/bus.py`); this module only translates
HTTP to what the bus takes (an `Envelope`) and its `Outcome` back to a response."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Annotated, Any
from uuid import UUID

from fastapi import Depends, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse

from domain.actors import Role
from domain.commands import Command
from services.api.authentication import identify_async
from services.api.errors import ApiError
from services.bootstrap import Container
from services.commands.bus import Envelope
from services.commands.unit_of_work import Outcome
from services.users import User


async def get_container(request: Request) -> Container:
    """Async on purpose: FastAPI runs a sync dependency in the threadpool, a hop per request for a lookup."""
    return request.app.state.container


ContainerDep = Annotated[Container, Depends(get_container)]


async def current_user(request: Request) -> User:
    """A bearer token or a web session cookie (read from the request, so the contract keeps one scheme).
    Async: a token check on SQLite makes no thread hop (`identify_async` says when one is still made)."""
    return await identify_async(request, request.app.state.container, request.headers.get("authorization"))


CurrentUser = Annotated[User, Depends(current_user)]


def require_role(user: User, *roles: Role) -> None:
    if user.role not in roles:
        raise ApiError(403, "role_not_permitted", "Your role may not do this",
                       f"“{user.role}”角色无权执行此操作")


KEY = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.:-]{7,127}$")
HEADER_MAX = 128  # X-Device-Id, X-Request-Id (and the Idempotency-Key pattern's own bound): checked and documented
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


def _header(request: Request, name: str, max_length: int | None = None) -> str | None:
    """A header read from the request, refused past `max_length` as FastAPI refuses a declared one (422)."""
    value = request.headers.get(name)
    if value is not None and max_length is not None and len(value) > max_length:
        raise RequestValidationError([{
            "type": "string_too_long", "loc": ("header", name), "input": value, "ctx": {"max_length": max_length},
            "msg": f"String should have at most {max_length} characters"}])
    return value


class CommandHeaders:
    """`Idempotency-Key`, `X-Device-Id`, `If-Match` and `X-Request-Id`, read once per command request."""

    def __init__(self, idempotency_key: str | None = None, device_id: str | None = None,
                 if_match: str | None = None, request_id: str | None = None) -> None:
        if idempotency_key is not None and not KEY.match(idempotency_key):
            raise ApiError(400, "invalid_idempotency_key", "Idempotency-Key must be a client-made UUID",
                           "Idempotency-Key 应为客户端生成的 UUID")
        self.idempotency_key = idempotency_key
        self.device_id = device_id
        self.expected_version = _expected_version(if_match)
        self.request_id = request_id

    def envelope(self, recorded_at: datetime | None = None) -> Envelope:
        return Envelope(idempotency_key=self.idempotency_key, device_id=self.device_id, recorded_at=recorded_at,
                        expected_version=self.expected_version, request_id=self.request_id)


async def command_headers(request: Request) -> CommandHeaders:
    """The headers as a dependency. Async on purpose: it only checks strings, and FastAPI would run a sync one
    in the threadpool, a thread hop per command request."""
    return CommandHeaders(_header(request, "Idempotency-Key"), _header(request, "X-Device-Id", HEADER_MAX),
                          _header(request, "If-Match"), _header(request, "X-Request-Id", HEADER_MAX))


# Headers that these dependencies read from the request rather than declare as parameters: FastAPI validates
# every declared parameter on every request, one by one, and with a command's five that was about a tenth of
# its server time. `responses.DocumentedRoute` lists them on each route that uses the dependency.
READ_HEADERS: dict[Any, tuple[str, ...]] = {
    current_user: ("Authorization",),
    command_headers: ("Idempotency-Key", "X-Device-Id", "If-Match", "X-Request-Id"),
}


Headers = Annotated[CommandHeaders, Depends(command_headers)]


def command_response(container: Container, user: User, headers: CommandHeaders, command: Command,
                     recorded_at: datetime | None = None, status: int = 201) -> JSONResponse:
    """An API route's whole command path: the bus, then its outcome as HTTP (a replay answers identically)."""
    return outcome_response(container.commands.handle(user, command, headers.envelope(recorded_at)), status)


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
