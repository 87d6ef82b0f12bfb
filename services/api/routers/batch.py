"""Many queued commands in one request (a tablet back in signal): each keeps its own idempotency key."""

from __future__ import annotations

import json
import re
from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from domain.commands import Command
from domain.errors import DomainError
from services.api.deps import CommandHeaders, ContainerDep, CurrentUser, as_uuid, outcome_response
from services.api.errors import ApiError, refusal_body, validation_errors
from services.api.models import BatchResponse
from services.api.responses import AUTH, BODY, DocumentedRoute, problems
from services.api.routers.works_items import resolve_item_command
from services.api.validation_zh import describe
from services.commands.bus import Envelope
from services.commands.unit_of_work import Outcome

router = APIRouter(route_class=DocumentedRoute, tags=["batch"])
MAX_COMMANDS = 500
ROUND_NO = re.compile(r"^[0-9]{1,9}$")  # ASCII digits: int('²') fails although '²'.isdigit()


class SubCommand(BaseModel):
    model_config = ConfigDict(extra="forbid")

    path: str = Field(max_length=300,
                      description="the command's own route, e.g. /api/v1/works-items/{id}/inspections")
    idempotency_key: str = Field(max_length=128)
    body: dict[str, Any] = Field(default_factory=dict)
    device_id: str | None = Field(default=None, max_length=128)
    if_match: str | None = Field(default=None, max_length=40)


class BatchRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    commands: list[SubCommand] = Field(min_length=1, max_length=MAX_COMMANDS)


def _entry(sub: SubCommand) -> tuple[Command, Envelope, int] | DomainError | ApiError:
    """The command an entry names, built by its route's own row of the command table, or why not."""
    resolved = resolve_item_command(sub.path)
    if resolved is None:
        return ApiError(404, "not_found", "No such command route", f"不支持批量提交的路径：{sub.path[:200]}")
    spec, raw = resolved
    try:
        params: dict[str, Any] = {**raw, "item_id": as_uuid(raw["item_id"], "works_item")}
        if "round_no" in raw:
            params["round_no"] = int(raw["round_no"]) if ROUND_NO.match(raw["round_no"]) else 0
        command, recorded_at = spec.build(spec.body_model.model_validate(sub.body), **params)
        headers = CommandHeaders(idempotency_key=sub.idempotency_key, device_id=sub.device_id,
                                 if_match=sub.if_match)
    except ValidationError as error:
        errors = validation_errors(list(error.errors()))
        return ApiError(422, "validation_error", "The request is not valid", describe(errors), errors=errors)
    except (DomainError, ApiError) as error:
        return error
    return command, headers.envelope(recorded_at), spec.status


def _result(outcome: Outcome | DomainError | ApiError, status: int) -> dict[str, Any]:
    if not isinstance(outcome, Outcome):
        body = refusal_body(outcome)
        return {"status": body["status"], "body": body}
    response = outcome_response(outcome, status)
    return {"status": response.status_code, "body": json.loads(bytes(response.body)),
            "headers": {k: v for k, v in response.headers.items()
                        if k.lower() in ("etag", "x-log-position", "idempotent-replayed")}}


@router.post("/batch", response_model=BatchResponse, responses=problems(AUTH, BODY))
def batch(request: BatchRequest, user: CurrentUser, container: ContainerDep) -> dict[str, Any]:
    """Runs the commands in order, each exactly as its own route would, saved together where they can be;
    one refusal does not stop the rest. The response is 200 with one result per command."""
    entries = [_entry(sub) for sub in request.commands]
    outcomes = container.commands.handle_many(
        user, [entry if isinstance(entry, DomainError | ApiError) else entry[:2] for entry in entries])
    statuses = [entry[2] if isinstance(entry, tuple) else 0 for entry in entries]
    return {"results": [_result(outcome, status) for outcome, status in zip(outcomes, statuses, strict=True)]}
