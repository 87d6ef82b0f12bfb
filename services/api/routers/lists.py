"""City-wide lists (works items, defects, stop-work orders, acceptance rounds) read from the listing model.

Each answers from `lst_*` rows with the caller's scope, the filters and the page in SQL (projections/
listing_queries.py): no aggregate is loaded. The next page is named by a `Link: <…>; rel="next"` header
whose `cursor` is opaque; `offset` still works for clients that page by position. `total` counts at most
1,000 matching rows: past that `total_exact` is false and `total` says "at least" (m.Page), so a broad
search costs its page, not a count of every match. A search (`q`) walks its text index's matches on SQLite
(registration order); text shorter than a trigram is tested on the rows in scope.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta
from typing import Any, Literal

from fastapi import APIRouter, Query, Request, Response

from domain.wording import DEFECT_STATUS_ZH, ROUND_STATUS_ZH, word
from domain.works_item_events import STATE_NAMES_ZH
from projections.listing_queries import BadCursor, ListQuery, scope
from services.api import models as m
from services.api.deps import MAX_POSITION, ContainerDep, CurrentUser
from services.api.errors import ApiError
from services.api.responses import AUTH, DocumentedRoute, problems
from services.bootstrap import Container
from services.users import User

router = APIRouter(route_class=DocumentedRoute, tags=["lists"])
LIST_PROBLEMS = problems(AUTH, {422: ("validation_error", "invalid_cursor")})
Limit = Query(100, ge=1, le=1000)
Offset = Query(0, ge=0, le=MAX_POSITION, description="rows to skip; prefer `cursor`")
Cursor = Query(None, max_length=2000, description="from the previous page's `Link: rel=\"next\"` header")
DueBefore = Query(None, description="due on or before this day")
InForce = Query(None, description="true: not lifted; false: lifted")
Search = Query(None, min_length=1, max_length=100, description="text in names, addresses, titles, descriptions")

ITEM_COLUMNS = ("lst_items.item_id, lst_items.version, lst_items.project_id, lst_items.district, "
                "lst_items.street_office, lst_items.kind, lst_items.kind_zh, lst_items.title, lst_items.location, "
                "lst_items.state, lst_items.contractor_id, lst_items.planned_start, lst_items.planned_end, "
                "lst_items.open_defects, lst_items.stop_since, lst_items.template_digest, lst_items.registered_at, "
                "lst_items.category, COALESCE(lst_items.funding_sources, (SELECT p.funding_sources FROM lst_projects p "
                "WHERE p.project_id = lst_items.project_id))")  # the sort key follows (ListQuery.page)
# an item without funding of its own has its project's
ITEM_FUNDING = ("COALESCE(lst_items.funding_sources, (SELECT p.funding_sources FROM lst_projects p "
                "WHERE p.project_id = lst_items.project_id)) LIKE ?")
ITEM_CATEGORY = ("(lst_items.category = ? OR lst_items.category IS NULL AND lst_items.project_id IN "
                 "(SELECT p.project_id FROM lst_projects p WHERE p.categories LIKE ? OR p.funding_category = ?))")
Category = Literal["basic", "improvement", "upgrade"]
FundingSource = Literal["central_budget", "ultra_long_special_bonds", "local_special_bonds", "policy_bank_loans",
                        "resident_contributions", "social_capital", "other"]


def scoped(user: User, container: Container, name: str, table: str, columns: str,
           order: tuple[str, ...]) -> ListQuery:
    """A list's query with the caller's scope in it, the read model brought up to date first."""
    container.projections.refresh("listing")
    condition, params = scope(user.actor, table)
    return ListQuery(name, table, columns, order).when(condition, *params)


def between(query: ListQuery, column: str, start: date | None, end: date | None) -> ListQuery:
    """Rows whose ISO timestamp `column` falls on `start` … `end`, both days included."""
    if start:
        query.when(f"{query.table}.{column} >= ?", start.isoformat())
    if end:
        query.when(f"{query.table}.{column} < ?", (end + timedelta(days=1)).isoformat())
    return query


def funded(query: ListQuery, category: str | None, funding_source: str | None) -> ListQuery:
    """Items of a renovation category or funding source: their own, or else their project's."""
    if category:
        query.when(ITEM_CATEGORY, category, f"%,{category},%", category)
    if funding_source:
        query.when(ITEM_FUNDING, f"%,{funding_source},%")
    return query


def searching(query: ListQuery, container: Container, q: str | None) -> ListQuery:
    """Rows whose text holds `q` (on SQLite a page walks the text index's matches: see `ListQuery.matching`)."""
    return query.matching(container.db, q.strip()) if q and q.strip() else query


def answer(query: ListQuery, container: Container, request: Request, response: Response, limit: int,
           offset: int, cursor: str | None, view: Callable[[Any], dict[str, Any]]) -> dict[str, Any]:
    """One page in the shared envelope; the next page's address in the `Link` header."""
    try:
        found = query.page(container.db, limit, offset, cursor)
    except BadCursor:
        raise ApiError(422, "invalid_cursor", "This cursor was not issued for this list",
                       "分页游标无效：请使用上一页响应头 Link 中给出的地址") from None
    if found.next_cursor:
        url = request.url.remove_query_params(["offset"]).include_query_params(cursor=found.next_cursor)
        response.headers["Link"] = f'<{url.path}?{url.query}>; rel="next"'
    return {"items": [view(row) for row in found.rows], "total": found.total, "total_exact": found.exact,
            "offset": 0 if cursor else offset, "limit": limit}


def item_entry(row: Any) -> dict[str, Any]:
    keys = ("id", "version", "project_id", "district", "street_office", "kind", "kind_zh", "title", "location",
            "state", "contractor_id", "planned_start", "planned_end", "open_defects", "stop_since",
            "template_digest", "registered_at", "category", "funding_sources")
    entry = dict(zip(keys, row, strict=False))
    entry["state_zh"] = STATE_NAMES_ZH[entry["state"]]
    entry["funding_sources"] = [f for f in (entry["funding_sources"] or "").split(",") if f]
    return entry


@router.get("/works-items", response_model=m.Page[m.WorksItemListEntry], responses=LIST_PROBLEMS)
def list_works_items(request: Request, response: Response, user: CurrentUser, container: ContainerDep,
                     kind: str | None = None, state: m.ItemState | None = None, district: str | None = None,
                     street_office: str | None = None, project_id: str | None = None,
                     category: Category | None = None, funding_source: FundingSource | None = None,
                     registered_from: date | None = None, registered_to: date | None = None,
                     q: str | None = Search, limit: int = Limit, offset: int = Offset,
                     cursor: str | None = Cursor) -> dict[str, Any]:
    """Every works item the caller may see, oldest registration first."""
    query = scoped(user, container, "works_items", "lst_items", ITEM_COLUMNS, ("registered_at", "item_id"))
    for column, value in (("kind", kind), ("state", state), ("district", district),
                          ("street_office", street_office), ("project_id", project_id)):
        query.equal(column, value)
    funded(query, category, funding_source)
    between(query, "registered_at", registered_from, registered_to)
    searching(query, container, q)
    return answer(query, container, request, response, limit, offset, cursor, item_entry)


def defect_entry(row: Any) -> dict[str, Any]:
    keys = ("item_id", "defect_id", "project_id", "district", "street_office", "severity", "status",
            "description", "hold_point", "due_date", "raised_at", "closed_at")
    entry = dict(zip(keys, row, strict=False))
    entry["status_zh"] = word(DEFECT_STATUS_ZH, entry["status"])
    return entry


@router.get("/defects", response_model=m.Page[m.DefectListEntry], responses=LIST_PROBLEMS)
def list_defects(request: Request, response: Response, user: CurrentUser, container: ContainerDep,
                 status: m.DefectStatus | None = None, severity: m.Severity | None = None,
                 district: str | None = None, street_office: str | None = None, project_id: str | None = None,
                 raised_from: date | None = None, raised_to: date | None = None,
                 due_before: date | None = DueBefore,
                 q: str | None = Search, limit: int = Limit, offset: int = Offset,
                 cursor: str | None = Cursor) -> dict[str, Any]:
    """Defects (整改通知) the caller may see, oldest first; `q` searches their descriptions."""
    columns = ("d.item_id, d.defect_id, d.project_id, d.district, d.street_office, d.severity, d.status, "
               "d.description, d.hold_point, d.due_date, d.raised_at, d.closed_at").replace("d.", "lst_defects.")
    query = scoped(user, container, "defects", "lst_defects", columns, ("raised_at", "item_id", "defect_id"))
    for column, value in (("status", status), ("severity", severity), ("district", district),
                          ("street_office", street_office), ("project_id", project_id)):
        query.equal(column, value)
    between(query, "raised_at", raised_from, raised_to)
    if due_before:
        query.when("lst_defects.due_date <= ?", due_before.isoformat())
    searching(query, container, q)
    return answer(query, container, request, response, limit, offset, cursor, defect_entry)


@router.get("/stop-work-orders", response_model=m.Page[m.StopWorkListEntry], responses=LIST_PROBLEMS)
def list_stop_work_orders(request: Request, response: Response, user: CurrentUser, container: ContainerDep,
                          in_force: bool | None = InForce,
                          district: str | None = None, street_office: str | None = None,
                          project_id: str | None = None, ordered_from: date | None = None,
                          ordered_to: date | None = None, limit: int = Limit, offset: int = Offset,
                          cursor: str | None = Cursor) -> dict[str, Any]:
    """Stop-work orders (停工令) the caller may see, oldest first."""
    columns = ("s.item_id, s.order_id, s.project_id, s.district, s.street_office, s.reason, s.ordered_at, "
               "s.lifted_at").replace("s.", "lst_stops.")
    query = scoped(user, container, "stop_work_orders", "lst_stops", columns, ("ordered_at", "item_id", "order_id"))
    for column, value in (("district", district), ("street_office", street_office), ("project_id", project_id)):
        query.equal(column, value)
    if in_force is not None:
        query.when(f"lst_stops.lifted_at IS {'' if in_force else 'NOT '}NULL")
    between(query, "ordered_at", ordered_from, ordered_to)
    keys = ("item_id", "order_id", "project_id", "district", "street_office", "reason", "ordered_at", "lifted_at")
    return answer(query, container, request, response, limit, offset, cursor,
                  lambda row: dict(zip(keys, row, strict=False)))


def round_entry(row: Any) -> dict[str, Any]:
    keys = ("item_id", "round_no", "project_id", "district", "street_office", "status", "electorate", "signed",
            "opened_at", "ended_at")
    entry = dict(zip(keys, row, strict=False))
    entry["status_zh"] = word(ROUND_STATUS_ZH, entry["status"])
    return entry


@router.get("/acceptance-rounds", response_model=m.Page[m.RoundListEntry], responses=LIST_PROBLEMS)
def list_acceptance_rounds(request: Request, response: Response, user: CurrentUser, container: ContainerDep,
                           status: m.RoundStatus | None = None, district: str | None = None,
                           street_office: str | None = None, project_id: str | None = None,
                           opened_from: date | None = None, opened_to: date | None = None,
                           limit: int = Limit, offset: int = Offset, cursor: str | None = Cursor) -> dict[str, Any]:
    """Residents' acceptance rounds (居民验收) the caller may see, oldest first."""
    columns = ("r.item_id, r.round_no, r.project_id, r.district, r.street_office, r.status, r.electorate, "
               "r.signed, r.opened_at, r.ended_at").replace("r.", "lst_rounds.")
    query = scoped(user, container, "acceptance_rounds", "lst_rounds", columns, ("opened_at", "item_id", "round_no"))
    for column, value in (("status", status), ("district", district), ("street_office", street_office),
                          ("project_id", project_id)):
        query.equal(column, value)
    between(query, "opened_at", opened_from, opened_to)
    return answer(query, container, request, response, limit, offset, cursor, round_entry)
