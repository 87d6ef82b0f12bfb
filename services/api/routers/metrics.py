"""Prometheus metrics: the gauges are read at scrape time, so they are never stale."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from services.api.deps import ContainerDep
from services.api.responses import DocumentedRoute
from services.api.routers.dashboards import relay_status
from services.observability import PROJECTION_LAG, RELAY_LAG

router = APIRouter(route_class=DocumentedRoute, tags=["operations"])


@router.get("/metrics", include_in_schema=False)
def metrics(container: ContainerDep) -> Response:
    for status in container.projections.status():
        PROJECTION_LAG.labels(status["name"]).set(status["lag"])
    relay = relay_status(container)
    if "lag" in relay:
        RELAY_LAG.set(relay["lag"])
    return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)
