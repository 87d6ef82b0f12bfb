"""The works kinds' templates, so a tablet can build its inspection forms offline."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from services.api.deps import ContainerDep, CurrentUser
from services.api.models import Page, TemplateView
from services.api.responses import AUTH, problems
from services.api.views import template_view

router = APIRouter(prefix="/works-kinds", tags=["works kinds"])


@router.get("", response_model=Page[TemplateView], responses=problems(AUTH))
def list_kinds(user: CurrentUser, container: ContainerDep) -> dict[str, Any]:
    """Every kind, on one page (there are a handful)."""
    kinds = [template_view(t) for t in container.ledger.catalog]
    return {"items": kinds, "total": len(kinds), "offset": 0, "limit": len(kinds)}


@router.get("/{code}", response_model=TemplateView,
            responses=problems(AUTH, {422: ("unknown_works_kind",)}))
def get_kind(code: str, user: CurrentUser, container: ContainerDep) -> dict[str, Any]:
    return template_view(container.ledger.catalog.get(code))
