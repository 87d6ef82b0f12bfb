"""Many queued commands in one request (a tablet back in signal): each keeps its own idempotency key."""

from __future__ import annotations

import json
import re
import time
from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from domain.errors import DomainError
from services.api import schemas as s
from services.api.deps import (
    CommandHeaders,
    ContainerDep,
    CurrentUser,
    as_uuid,
    check_device_time,
    check_photos,
    command_context,
    observe,
    outcome_response,
)
from services.api.errors import ApiError, problem_body, refusal_body, validation_errors
from services.api.models import BatchResponse
from services.api.responses import AUTH, BODY, problems
from services.api.routers.works_items import ITEM_COMMANDS
from services.api.validation_zh import describe

router = APIRouter(tags=["batch"])
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


def _problem(status: int, code: str, title: str, detail: str, **extra: Any) -> dict[str, Any]:
    return {"status": status, "body": problem_body(status, code, title, detail, **extra)}


def _prepare(container: ContainerDep, user: CurrentUser, sub: SubCommand) -> tuple[Any, ...] | dict[str, Any]:
    """(context, command, status) ready to run, or the problem that stops this one command."""
    route = next(((r, m) for r in ITEM_COMMANDS if (m := r.pattern.match(sub.path))), None)
    if route is None:
        return _problem(404, "not_found", "No such command route", f"不支持批量提交的路径：{sub.path[:200]}")
    spec, match = route
    params: dict[str, Any] = dict(match.groupdict())
    params["item_id"] = as_uuid(params["item_id"], "works_item")
    if "round_no" in params:
        params["round_no"] = int(params["round_no"]) if ROUND_NO.match(params["round_no"]) else 0
    try:
        body = spec.body_model.model_validate(sub.body)
        command, recorded_at = s.to_command(spec.command, body, **params)
    except ValidationError as error:
        errors = validation_errors(list(error.errors()))
        return _problem(422, "validation_error", "The request is not valid", describe(errors), errors=errors)
    headers = CommandHeaders(idempotency_key=sub.idempotency_key, device_id=sub.device_id, if_match=sub.if_match)
    check_device_time(container, recorded_at)
    check_photos(container, user, command)
    return command_context(user, headers, recorded_at), command, spec.status


def _refusal(error: DomainError | ApiError) -> dict[str, Any]:
    body = refusal_body(error)
    return {"status": body["status"], "body": body}


@router.post("/batch", response_model=BatchResponse, responses=problems(AUTH, BODY))
def batch(request: BatchRequest, user: CurrentUser, container: ContainerDep) -> dict[str, Any]:
    """Runs the commands in order, each exactly as its own route would, saved together where they can be;
    one refusal does not stop the rest. The response is 200 with one result per command."""
    results: list[dict[str, Any] | None] = [None] * len(request.commands)
    runnable: list[tuple[int, Any, Any, int]] = []
    for index, sub in enumerate(request.commands):
        try:
            prepared = _prepare(container, user, sub)
        except (DomainError, ApiError) as error:
            prepared = _refusal(error)
        if isinstance(prepared, dict):
            results[index] = prepared
        else:
            runnable.append((index, *prepared))
    started = time.perf_counter()
    outcomes = container.ledger.execute_many([(ctx, command) for _, ctx, command, _ in runnable])
    seconds = (time.perf_counter() - started) / max(len(runnable), 1)
    for (index, ctx, _, status), outcome in zip(runnable, outcomes, strict=True):
        if isinstance(outcome, DomainError):
            results[index] = _refusal(outcome)
            continue
        observe(outcome, ctx, seconds)
        response = outcome_response(outcome, status)
        results[index] = {"status": response.status_code, "body": json.loads(bytes(response.body)),
                          "headers": {k: v for k, v in response.headers.items()
                                      if k.lower() in ("etag", "x-log-position", "idempotent-replayed")}}
    container.projections.nudge()
    return {"results": results}
