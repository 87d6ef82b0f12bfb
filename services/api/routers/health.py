"""Liveness and readiness, for load balancers and operators."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from services.api.deps import ContainerDep
from services.api.models import Health, NotReady, Readiness
from services.api.responses import DocumentedRoute

router = APIRouter(route_class=DocumentedRoute, tags=["health"])


@router.get("/healthz", response_model=Health)
def healthz() -> dict[str, str]:
    return {"status": "ok"}


@router.get("/readyz", response_model=Readiness,
            responses={503: {"model": NotReady, "description": "the event store or read models are unreachable"}})
def readyz(container: ContainerDep) -> dict[str, Any] | JSONResponse:
    try:
        position = container.ledger.recorder.max_notification_id() or 0
        container.db.query("SELECT 1")
    except Exception as error:
        return JSONResponse({"status": "unavailable", "code": "store_unreachable",
                             "detail": f"事件库或读模型库不可达：{type(error).__name__}"}, status_code=503)
    # the background probe's last answer, never a call to S3 here: a hung store cannot hold readiness checks
    photos = container.photos.store.probe.health()  # "unavailable": commands work, photo calls answer 503
    return {"status": "ready", "event_store": container.settings.event_store, "log_position": position,
            "photo_store": photos.status, "photo_store_checked_at": photos.checked_at}
