"""The read side: dashboards, timelines, the residents' acceptance board, and the projections' status."""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal
from typing import Any

from fastapi import APIRouter, Query

from domain.actors import Role
from projections.acceptance_board import board_for
from projections.dashboard_queries import dashboard
from projections.kafka_driver import worker_status
from projections.timeline import FLAGS_ZH, payloads
from services.api import models as m
from services.api.deps import (
    MAX_POSITION,
    AfterQuery,
    ContainerDep,
    CurrentUser,
    as_uuid,
    read_your_writes,
    require_role,
)
from services.api.errors import ApiError
from services.api.responses import AFTER, ITEM_READ, PROJECT_READ, SCOPED, DocumentedRoute, problems
from services.api.views import number

router = APIRouter(route_class=DocumentedRoute, tags=["read models"])


@router.get("/dashboards/projects/{project_id}", response_model=m.ProjectDashboard,
            responses=problems(PROJECT_READ, AFTER))
def project_dashboard(project_id: str, user: CurrentUser, container: ContainerDep,
                      after: AfterQuery = None) -> dict[str, Any]:
    project = container.ledger.project_in_scope(user.actor, as_uuid(project_id, "project"))
    read_your_writes(container, after, "dashboard")
    return {**_dashboard(container, "project", str(project.id)), "name": project.name,
            "district": project.district}


@router.get("/dashboards/districts/{district}", response_model=m.Dashboard, responses=problems(SCOPED, AFTER))
def district_dashboard(district: str, user: CurrentUser, container: ContainerDep,
                       after: AfterQuery = None) -> dict[str, Any]:
    """A district's figures, from its running totals; open rounds: the newest 50, and how many there are."""
    require_role(user, Role.STATION, Role.ADMIN)
    if user.district is not None and user.district != district:
        raise ApiError(403, "out_of_scope", "This district is outside your scope", "该区不在您的管辖范围内")
    read_your_writes(container, after, "dashboard")
    return _dashboard(container, "district", district)


@router.get("/dashboards/city", response_model=m.Dashboard, responses=problems(SCOPED, AFTER))
def city_dashboard(user: CurrentUser, container: ContainerDep, after: AfterQuery = None) -> dict[str, Any]:
    """The city's figures, the sum of its districts' running totals; open rounds: the newest 50, and how many."""
    require_role(user, Role.ADMIN)
    if user.district is not None:
        raise ApiError(403, "out_of_scope", "Only a city-wide admin sees the city", "只有市级管理员可以查看全市统计")
    read_your_writes(container, after, "dashboard")
    return _dashboard(container, "city")


def _dashboard(container: ContainerDep, scope: str, value: str | None = None) -> dict[str, Any]:
    """The read model's figures, its quantities as numbers."""
    figures = dashboard(container.db, scope, value)
    return {**figures, "quantities": {k: number(Decimal(v)) for k, v in figures["quantities"].items()}}


def _hold_point_name(container: ContainerDep, item_id: str | None, code: str | None,
                     seen: dict[tuple[str, str], str | None]) -> str | None:
    """The hold point's Chinese name in the template the item was registered under."""
    if item_id is None or code is None:
        return None
    if (item_id, code) not in seen:
        spec = container.ledger.get_item(item_id).parsed_template.hold_point(code)
        seen[(item_id, code)] = spec.name_zh if spec else None
    return seen[(item_id, code)]


def _timeline(container: ContainerDep, column: str, value: str, kind: str | None, actor: str | None,
              since: date | None, until: date | None, flagged: bool, offset: int, limit: int) -> dict[str, Any]:
    where, params = [f"{column} = ?"], [value]
    for clause, param in (("kind = ?", kind), ("actor_id = ?", actor)):
        if param:
            where.append(clause)
            params.append(param)
    if since:
        where.append("server_time >= ?")
        params.append(since.isoformat())
    if until:
        where.append("server_time < ?")
        params.append(date.fromordinal(min(until.toordinal() + 1, date.max.toordinal())).isoformat())
    if flagged:
        where.append("flagged = 1")
    sql = " AND ".join(where)
    total = container.db.query(f"SELECT COUNT(*) FROM timeline_events WHERE {sql}", params)[0][0]
    rows = container.db.query(
        "SELECT position, aggregate_id, item_id, kind, version, type, actor_id, actor_role, device_id, device_time, "
        f"server_time, hold_point, photos, flags FROM timeline_events WHERE {sql} ORDER BY position "
        "LIMIT ? OFFSET ?", [*params, limit, offset])
    shown = payloads(container.ledger, [(row[1], row[4]) for row in rows])
    names: dict[str, str | None] = {}
    hold_points: dict[tuple[str, str], str | None] = {}
    items = []
    for (position, aggregate_id, item_id, kind_, version, type_, actor_id, role, device, device_time, server_time,
         hold_point, photos, flags) in rows:
        if actor_id not in names:
            person = container.users.get(actor_id)
            names[actor_id] = str(person.public()["name"]) if person else None
        flag_codes = json.loads(flags)
        items.append({
            "position": position, "aggregate_id": aggregate_id, "item_id": item_id, "kind": kind_,
            "version": version, "type": type_, "actor_id": actor_id, "actor_name": names[actor_id],
            "actor_role": role, "device_id": device, "device_time": device_time, "server_time": server_time,
            "hold_point": hold_point, "hold_point_zh": _hold_point_name(container, item_id, hold_point, hold_points),
            "data": shown[(aggregate_id, version)],
            "photos": [{"id": p, "thumbnail": f"/api/v1/photos/{p}?size=thumb"} for p in json.loads(photos)],
            "flags": [{"code": f, "label_zh": FLAGS_ZH[f]} for f in flag_codes],
        })
    return {"items": items, "total": total, "offset": offset, "limit": limit}


@router.get("/works-items/{item_id}/timeline", response_model=m.Page[m.TimelineEntry],
            responses=problems(ITEM_READ, AFTER))
def item_timeline(item_id: str, user: CurrentUser, container: ContainerDep, after: AfterQuery = None,
                  actor: str | None = None, since: date | None = None, until: date | None = None,
                  flagged: bool = False, offset: int = Query(0, ge=0, le=MAX_POSITION),
                  limit: int = Query(100, ge=1, le=1000)) -> dict[str, Any]:
    item, _ = container.ledger.item_in_scope(user.actor, as_uuid(item_id, "works_item"))
    read_your_writes(container, after, "timeline")
    return _timeline(container, "item_id", str(item.id), None, actor, since, until, flagged, offset, limit)


@router.get("/projects/{project_id}/timeline", response_model=m.Page[m.TimelineEntry],
            responses=problems(PROJECT_READ, AFTER))
def project_timeline(project_id: str, user: CurrentUser, container: ContainerDep, after: AfterQuery = None,
                     kind: str | None = None, actor: str | None = None, since: date | None = None,
                     until: date | None = None, flagged: bool = False, offset: int = Query(0, ge=0, le=MAX_POSITION),
                     limit: int = Query(100, ge=1, le=1000)) -> dict[str, Any]:
    project = container.ledger.project_in_scope(user.actor, as_uuid(project_id, "project"))
    read_your_writes(container, after, "timeline")
    return _timeline(container, "project_id", str(project.id), kind, actor, since, until, flagged, offset, limit)


@router.get("/me/acceptance-board", response_model=m.AcceptanceBoard, responses=problems(SCOPED, AFTER))
def acceptance_board(user: CurrentUser, container: ContainerDep, after: AfterQuery = None) -> dict[str, Any]:
    require_role(user, Role.RESIDENT)
    read_your_writes(container, after, "acceptance_board")
    return board_for(container.db, str(user.user_id))


@router.get("/projections/status", response_model=m.ProjectionsStatus, responses=problems(SCOPED))
def projections_status(user: CurrentUser, container: ContainerDep) -> dict[str, Any]:
    """Each read model's position and lag, and the Kafka relay's state when one runs against this store."""
    require_role(user, Role.ADMIN, Role.STATION)
    return {"projections": container.projections.status(), "relay": relay_status(container),
            "kafka_workers": worker_status(container.db)}


def relay_status(container: ContainerDep) -> dict[str, Any]:
    try:
        rows = container.db.query("SELECT state, detail, updated_at FROM relay_status WHERE name = 'relay'")
        position = container.db.query("SELECT position FROM projection_tracking WHERE name = 'relay'")
    except Exception:
        rows, position = [], []
    if not rows:
        return {"state": "not_running"}
    head = int(container.ledger.recorder.max_notification_id() or 0)
    state, detail, updated = rows[0]
    return {"state": state, "detail": detail, "position": int(position[0][0]), "head": head,
            "lag": max(head - int(position[0][0]), 0), "updated_at": updated}
