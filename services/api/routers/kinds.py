"""The works kinds' templates, so a tablet can build its inspection forms offline."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from services.api.deps import ContainerDep, CurrentUser

router = APIRouter(prefix="/works-kinds", tags=["works kinds"])


@router.get("")
def list_kinds(user: CurrentUser, container: ContainerDep) -> dict[str, Any]:
    return {"items": [t.model_dump(mode="json") for t in container.ledger.catalog]}


@router.get("/{code}")
def get_kind(code: str, user: CurrentUser, container: ContainerDep) -> dict[str, Any]:
    return container.ledger.catalog.get(code).model_dump(mode="json")
