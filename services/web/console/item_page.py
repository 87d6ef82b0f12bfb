"""The works item page: the whole record in order, hold points against the template's limits, defects with
their before and after photos, stop-work, acceptance rounds with signatures, and the station's actions.

The item is the one aggregate loaded (for its scope, state and frozen template); its history comes from the
timeline read model, so an item with hundreds of events costs one query, not a replay per row."""

from __future__ import annotations

from typing import Any
from uuid import uuid4

from fastapi import Request
from fastapi.responses import Response

from domain.errors import DomainError
from domain.project import Project
from domain.templates import reading
from domain.wording import DECISION_ZH, DEFECT_STATUS_ZH, ROUND_STATUS_ZH, SEVERITY_ZH
from domain.works_item import WorksItem
from services.api.deps import as_uuid
from services.api.errors import ApiError
from services.api.views import item_view
from services.bootstrap import Container
from services.web.console import queries
from services.web.console.access import Viewer, container_of, page, refused
from services.web.console.overview import clock, refresh
from services.web.console.words import (
    EVENTS_ZH,
    FLAG_NAMES_ZH,
    Names,
    entry_lines,
    hold_point_zh,
    kind_names,
    role_zh,
)

SHOWN_ENTRIES = 500  # a long record opens on its newest 500 entries (in order); one click shows every one
EVIDENCE_TYPES = ("DefectRaised", "RectificationReported", "ResidentSigned")  # photos and signatures, from all
FORMS = ("spot_check", "defect", "stop_work", "lift", "reopen", "review")
NOTICES = {"spot_check": "监督抽查已记录", "defect": "整改通知已开具", "stop_work": "停工令已下达",
           "lift": "停工令已解除", "reopen": "工程事项已重新开启", "close": "整改已复查合格并关闭",
           "reject": "整改已驳回", "review": "整改复查意见已记录"}


def load(request: Request, who: Viewer, item_id: str) -> tuple[WorksItem, Project] | Response:
    """The item if this person may see it; else the refusal page (not found and out of scope alike name nothing)."""
    container = container_of(request)
    try:
        return container.ledger.item_in_scope(who.user.actor, as_uuid(item_id, "works_item"))
    except (DomainError, ApiError) as refusal:
        return refused(request, refusal.detail_zh, 404 if "not_found" in refusal.code else 403)


def wait_for_own_write(container: Container, after: str | None) -> None:
    """After a form's redirect (`?after=<position>`) the page shows the action it just recorded."""
    if after and after.isdigit():
        head = int(container.ledger.recorder.max_notification_id() or 0)
        container.projections.wait_for(min(int(after), head), container.settings.read_your_writes_timeout_s)


def render(request: Request, who: Viewer, item: WorksItem, project: Project, status: int = 200,
           errors: dict[str, str] | None = None, values: dict[str, str] | None = None,
           spot: str | None = None, notice: str | None = None, only_flagged: bool = False,
           show_all: bool = False) -> Response:
    container = container_of(request)
    refresh(container)
    template, names, time = item.parsed_template, Names(container.users), clock(container)
    item_id = str(item.id)
    total, flagged_count = queries.item_entries(container.db, item_id)
    shown = None if show_all or only_flagged or total <= SHOWN_ENTRIES else SHOWN_ENTRIES
    db, log = container.db, container.ledger
    entries = queries.item_timeline(db, log, item_id, newest=shown)
    evidence = entries if shown is None else queries.item_timeline(db, log, item_id, EVIDENCE_TYPES)
    members = {mid: names(m["user_id"]) for mid, m in project.members.items()}
    timeline = [{**e, "title": _title(e), "lines": entry_lines(template, e, names), "actor": names(e["actor_id"]),
                 "role": role_zh(e["actor_role"]), "device_time": time.show(e["device_time"]),
                 "server_time": time.show(e["server_time"]), "hold_point_zh": hold_point_zh(template, e["hold_point"]),
                 "flags": [FLAG_NAMES_ZH.get(f, f) for f in e["flags"]]} for e in entries]
    if only_flagged:
        timeline = [e for e in timeline if e["flags"]]
    spot_spec = template.hold_point(spot) if spot else None
    return page(request, "item.html", status, viewer=who, item=item, view=item_view(item, with_template=False),
                project=project, kind_zh=kind_names(container.ledger.catalog).get(item.kind, item.kind),
                timeline=timeline, flagged_count=flagged_count, only_flagged=only_flagged,
                defects=_defects(container, item_id, template, evidence, time), total_entries=total,
                rounds=_rounds(item_view(item, with_template=False)["acceptance_rounds"], evidence, members),
                stop_work=_stop_work(item, names, time), hold_points=template.hold_points,
                limits={hp.code: reading.limits(hp) for hp in template.hold_points}, spot=spot_spec,
                keys={form: uuid4().hex for form in FORMS}, errors=errors or {}, values=values or {},
                notice=notice, severity_zh=SEVERITY_ZH, clock=time, today=time.today().isoformat())


def _title(entry: dict[str, Any]) -> str:
    if entry["type"] == "InspectionRecorded" and entry["data"].get("spot_check"):
        return "监督抽查"
    return EVENTS_ZH.get(entry["type"], entry["type"])


def _stop_work(item: WorksItem, names: Names, time: Any) -> dict[str, Any] | None:
    if item.stop_work is None:
        return None
    return {"reason": item.stop_work["reason"], "since": time.show(item.stop_work["at"]),
            "by": names(item.stop_work["ordered_by"])}


def _defects(container: Container, item_id: str, template: Any, entries: list[dict[str, Any]],
             time: Any) -> list[dict[str, Any]]:
    """Each defect with its photos before (raised) and after (rectifications reported)."""
    before: dict[str, list[str]] = {}
    after: dict[str, list[str]] = {}
    for e in entries:
        defect_id = e["data"].get("defect_id")
        if e["type"] == "DefectRaised":
            before.setdefault(defect_id, []).extend(e["photos"])
        elif e["type"] == "RectificationReported":
            after.setdefault(defect_id, []).extend(e["photos"])
    today = time.today().isoformat()
    return [{**d, "severity_zh": SEVERITY_ZH.get(d["severity"], d["severity"]),
             "status_zh": DEFECT_STATUS_ZH.get(d["status"], d["status"]),
             "hold_point_zh": hold_point_zh(template, d["hold_point"]), "raised": time.show(d["raised_at"]),
             "closed": time.show(d["closed_at"]) if d["closed_at"] else None,
             "overdue": d["status"] != "closed" and bool(d["due_date"]) and d["due_date"] < today,
             "before": before.get(d["defect_id"], []), "after": after.get(d["defect_id"], [])}
            for d in queries.item_defects(container.db, item_id)]


def _rounds(views: list[dict[str, Any]], entries: list[dict[str, Any]], members: dict[str, str]
            ) -> list[dict[str, Any]]:
    signatures: dict[int, list[dict[str, Any]]] = {}
    for e in entries:
        if e["type"] == "ResidentSigned":
            data = e["data"]
            signatures.setdefault(data["round_no"], []).append({
                "name": members.get(data["member_id"], "已移出小组的成员"),
                "decision_zh": DECISION_ZH.get(data["decision"], data["decision"]), "reason": data.get("reason"),
                "comment": data.get("comment"), "photos": e["photos"], "at": e["server_time"]})
    return [{**r, "status_zh": ROUND_STATUS_ZH.get(r["status"], r["status"]),
             "signatures": signatures.get(r["round_no"], [])} for r in reversed(views)]


def item_route(request: Request, who: Viewer, item_id: str, spot: str | None, after: str | None,
               done: str | None, only_flagged: bool = False, show_all: bool = False) -> Response:
    loaded = load(request, who, item_id)
    if isinstance(loaded, Response):
        return loaded
    container = container_of(request)
    wait_for_own_write(container, after)
    return render(request, who, *loaded, spot=spot, notice=NOTICES.get(done or ""), only_flagged=only_flagged,
                  show_all=show_all)
