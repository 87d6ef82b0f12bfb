"""The works kinds' templates, so a tablet can build its inspection forms offline."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from domain.rules import UnknownWorksKind
from services.api.deps import ContainerDep, CurrentUser
from services.api.errors import ApiError
from services.api.models import Page, TemplateView
from services.api.responses import AUTH, DocumentedRoute, problems
from services.api.views import template_view

router = APIRouter(route_class=DocumentedRoute, prefix="/works-kinds", tags=["works kinds"])


@router.get("", response_model=Page[TemplateView], responses=problems(AUTH))
def list_kinds(user: CurrentUser, container: ContainerDep) -> dict[str, Any]:
    """Every kind, on one page (there are a handful)."""
    kinds = [template_view(t) for t in container.ledger.catalog]
    return {"items": kinds, "total": len(kinds), "offset": 0, "limit": len(kinds)}


@router.get("/{code}", response_model=TemplateView, responses=problems(AUTH, {404: ("works_kind_not_found",)}))
def get_kind(code: str, user: CurrentUser, container: ContainerDep) -> dict[str, Any]:
    """A kind named in the path is a resource: an unknown one is absent (404), not an invalid command (422,
    what registering an item of an unknown kind answers)."""
    try:
        template = container.ledger.catalog.get(code)
    except UnknownWorksKind:
        raise ApiError(404, "works_kind_not_found", "No such works kind",
                       f"工程类型不存在：{code[:64]}；可用的类型见 GET /api/v1/works-kinds") from None
    return template_view(template)
