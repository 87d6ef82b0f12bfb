"""The project page: its works items as a table (filter by kind and state, search), its charts, its residents'
group and acceptance rounds with their tallies."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from domain.errors import DomainError
from domain.wording import ROUND_STATUS_ZH
from projections.dashboard_queries import dashboard
from services.api.deps import as_uuid
from services.api.errors import ApiError
from services.web.console import charts, queries
from services.web.console.access import container_of, page, refused, viewer
from services.web.console.overview import clock, refresh
from services.web.console.words import STATES_ZH, Names, kind_names

router = APIRouter(include_in_schema=False)
SEARCH_MAX = 64


@router.get("/console/projects/{project_id}")
def project_page(request: Request, project_id: str, kind: str = "", state: str = "", q: str = "") -> Response:
    who = viewer(request)
    if isinstance(who, Response):
        return who
    container = container_of(request)
    try:
        project = container.ledger.project_in_scope(who.user.actor, as_uuid(project_id, "project"))
    except (DomainError, ApiError) as refusal:
        return refused(request, refusal.detail_zh, 404 if "not_found" in refusal.code else 403)
    refresh(container)
    pid, catalog = str(project.id), container.ledger.catalog
    kinds_zh = kind_names(catalog)
    search = q.strip()[:SEARCH_MAX]
    figures = dashboard(container.db, "project", pid, clock(container).today())
    names = Names(container.users)
    members = [{"member_id": mid, "name": names(m["user_id"]), "building": m["building"], "unit": m["unit"]}
               for mid, m in sorted(project.members.items(), key=lambda kv: (kv[1]["building"], kv[1]["unit"]))]
    rounds = _rounds(container.db, pid)
    quantity_names = charts.quantity_names(catalog)
    return page(request, "project.html", viewer=who, project=project, kinds_zh=kinds_zh, states_zh=STATES_ZH,
                items=queries.project_items(container.db, pid, kind or None, state or None, search or None),
                filters={"kind": kind, "state": state, "q": search}, figures=figures, members=members,
                rounds=rounds, round_status_zh=ROUND_STATUS_ZH, clock=clock(container),
                charts={"kinds": charts.items_by_kind_and_state(figures["by_kind"], kinds_zh),
                        "quantities": charts.quantities(figures["quantities"], quantity_names)})


def _rounds(db: Any, project_id: str) -> list[dict[str, Any]]:
    rows = db.query("SELECT r.item_id, i.title, i.location, r.round_no, r.status, r.electorate, r.opened_at, "
                    "COALESCE(t.accepts, 0), COALESCE(t.rejects, 0) FROM lst_rounds r "
                    "JOIN lst_items i ON i.item_id = r.item_id LEFT JOIN dash_rounds t "
                    "ON t.item_id = r.item_id AND t.round_no = r.round_no WHERE r.project_id = ? "
                    "ORDER BY r.opened_at DESC LIMIT 100", (project_id,))
    keys = ("item_id", "title", "location", "round_no", "status", "electorate", "opened_at", "accepts", "rejects")
    return [dict(zip(keys, row, strict=True)) for row in rows]
