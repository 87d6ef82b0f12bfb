"""What a tablet takes into the stairwell, in one request: the caller, their projects, every works item in them
with its state and stop-work order, and the frozen templates those items were registered under.

One request, not one per project and one per item: on a weak link every round trip costs seconds, and the
tablet must hold a consistent picture before it goes offline. Templates are sent once per digest (many items
share one), so the answer stays small. Scope is exactly that of the list routes: the projects the caller may
see and the items in them.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, Response
from pydantic import Field

from domain.actors import Role
from domain.permissions import may_see
from projections.listing_queries import scope
from services.api import models as m
from services.api.deps import ContainerDep, CurrentUser, require_role
from services.api.responses import SCOPED, DocumentedRoute, problems
from services.api.views import item_view, project_view, template_view

router = APIRouter(route_class=DocumentedRoute, prefix="/field", tags=["field"])
# Who records on site (the tablet app is theirs); a resident reads and signs on their own pages instead.
FIELD_ROLES = (Role.SUPERVISOR, Role.STATION, Role.ADMIN, Role.CONTRACTOR)


class FieldSnapshot(m.Model):
    user: m.UserPublic
    projects: list[m.ProjectView]
    items: list[m.WorksItemSummary]
    templates: dict[str, m.TemplateView] = Field(description="frozen templates by their digest "
                                                             "(an item's `template_digest`)")
    taken_at: str = Field(description="server time of this picture (ISO 8601)")


@router.get("/snapshot", response_model=FieldSnapshot, responses=problems(SCOPED))
def snapshot(user: CurrentUser, container: ContainerDep, response: Response) -> dict[str, Any]:
    """Everything the tablet needs to work offline; `Cache-Control: no-store` (the app keeps its own copy)."""
    require_role(user, *FIELD_ROLES)
    container.projections.refresh("listing")  # projects and items below come from its rows, scoped in SQL
    projects, items, templates = [], [], {}
    where, params = scope(user.actor, "lst_projects")  # the caller's projects, not every project loaded to ask
    for (project_id,) in container.db.query(f"SELECT project_id FROM lst_projects WHERE {where} "
                                            "ORDER BY registered_at, project_id", params):
        project = container.ledger.get_project(project_id)
        if not may_see(user.actor, project):  # the aggregate has the last word (the read model may lag it)
            continue
        projects.append(project_view(project))
        rows = container.db.query("SELECT item_id FROM lst_items WHERE project_id = ? "
                                  "ORDER BY registered_at, item_id", [str(project.id)])
        for (item_id,) in rows:
            item = container.ledger.get_item(item_id)
            items.append(item_view(item, with_template=False))
            if item.template.digest not in templates:
                templates[item.template.digest] = template_view(item.parsed_template)
    response.headers["Cache-Control"] = "no-store"
    return {"user": user.public(), "projects": projects, "items": items, "templates": templates,
            "taken_at": datetime.now(UTC).isoformat()}
