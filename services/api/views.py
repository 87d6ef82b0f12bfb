"""What a client sees of an aggregate: plain JSON, Chinese labels beside stable codes."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from domain.acceptance import AcceptanceRule, Tally, decide
from domain.canonical import to_plain
from domain.chain import EVENT_METADATA, ChainedEvent
from domain.inspection import PASSING
from domain.project import Project
from domain.templates.model import WorksKindTemplate
from domain.works_item import WorksItem
from domain.works_item_events import STATE_NAMES_ZH
from services.api.models import TemplateView
from services.users import UserDirectory

HOLD_POINT_STATUS_ZH = {"passed": "已通过", "failed": "不合格", "conditional": "有条件通过（待整改）",
                        "pending": "待检查", "blocked": "整改中"}


def number(value: Decimal | int | float) -> int | float:
    """A quantity or limit as a JSON number: whole values as integers, others as the nearest float."""
    decimal = Decimal(str(value))
    return int(decimal) if decimal == decimal.to_integral_value() else float(decimal)


def template_view(template: WorksKindTemplate) -> dict[str, Any]:
    """The template with its limits as numbers (the domain keeps them as exact decimals)."""
    return TemplateView.model_validate(template.model_dump()).model_dump()


def project_view(project: Project) -> dict[str, Any]:
    return {
        "id": str(project.id), "version": project.version, "name": project.name,
        "district": project.district, "assignments": dict(project.assignments),
        "residents_group": [{"member_id": k, **v} for k, v in sorted(project.members.items())],
        "acceptance_rule": dict(project.acceptance_rule),
        **project.details,
    }


def _hold_point_status(item: WorksItem, code: str) -> str:
    result = item.hold_points[code]["result"]
    if result is None:
        return "pending"
    if item.is_passed(code):
        return "passed"
    if result in PASSING:
        return "blocked" if result == "pass" else "conditional"
    return "failed"


def item_view(item: WorksItem, with_template: bool = True) -> dict[str, Any]:
    """Lists leave the template out (several kB an item); its digest says which one the item carries."""
    template = item.parsed_template
    hold_points = []
    for spec in template.hold_points:
        status = _hold_point_status(item, spec.code)
        hold_points.append({
            "code": spec.code, "name_zh": spec.name_zh, "name_en": spec.name_en,
            "status": status, "status_zh": HOLD_POINT_STATUS_ZH[status],
            "inspections": item.hold_points[spec.code]["inspections"],
            "last_inspected_at": item.hold_points[spec.code].get("at"),
            "ready": all(item.is_passed(p) for p in spec.after),
            "after": list(spec.after), "min_photos": spec.min_photos,
            "construction": spec.construction, "concealed": spec.concealed,
        })
    return {
        "id": str(item.id), "version": item.version, "project_id": str(item.project_id),
        "kind": item.kind, "kind_zh": template.name_zh, "title": item.title, "location": item.location,
        "state": item.state, "state_zh": STATE_NAMES_ZH[item.state],
        "contractor_id": str(item.contractor_id) if item.contractor_id else None,
        "links": dict(item.links),
        "hold_points": hold_points,
        "hold_points_passed": sum(1 for h in hold_points if h["status"] == "passed"),
        "defects": [{"defect_id": k, **v} for k, v in item.defects.items()],
        "open_defects": len(item.open_defects()),
        "stop_work": item.stop_work,
        "acceptance_rounds": [_round_view(r) for r in item.rounds],
        "quantities": {name: number(amount) for name, amount in item.quantities.items()},
        "chain_head": item.chain_head,
        "template_digest": item.template.digest,
        **({"template": template_view(template)} if with_template else {}),
    }


def _round_view(rnd: dict[str, Any]) -> dict[str, Any]:
    signatures = rnd["signatures"]
    accepts = sum(1 for d in signatures.values() if d == "accept")
    tally = Tally(len(rnd["electorate"]), accepts, len(signatures) - accepts)
    return {
        "round_no": rnd["round_no"], "status": rnd["status"], "electorate": list(rnd["electorate"]),
        "rule": dict(rnd["rule"]), "subject_version": rnd["subject_version"],
        "subject_hash": rnd["subject_hash"], "tally": tally.as_dict(),
        "signed_by": sorted(signatures),
        "decided_if_closed_now": decide(AcceptanceRule.from_dict(rnd["rule"]), tally, 0, closing=True)
        if rnd["status"] == "open" else None,
    }


def event_view(event: ChainedEvent, users: UserDirectory | None = None) -> dict[str, Any]:
    data = {k: v for k, v in vars(event).items() if k not in EVENT_METADATA}
    view = {
        "version": event.originator_version, "type": type(event).__name__,
        "topic": type(event).TOPIC,
        "server_time": event.timestamp.isoformat(),
        "device_time": event.device_time.isoformat() if event.device_time else None,
        "actor_id": str(event.actor_id), "actor_role": event.actor_role,
        "device_id": event.device_id, "command_id": event.command_id,
        "prev_hash": event.prev_hash, "event_hash": event.event_hash, "data": to_plain(data),
    }
    if users is not None:
        person = users.get(event.actor_id)
        view["actor_name"] = person.public()["name"] if person else None
    return view
