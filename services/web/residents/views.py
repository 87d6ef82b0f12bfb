"""The pages a resident reads: 待我签字, an item as a resident understands it, a photo full screen, 我的签字, 结果."""

from __future__ import annotations

import re
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from domain.project import Project
from domain.works_item import WorksItem
from domain.works_item_events import STATE_NAMES_ZH, AcceptanceRoundCancelled
from services.web.residents import signatures
from services.web.residents.access import Resident, resident, to_sign_in
from services.web.residents.community import board, rule_zh
from services.web.residents.record import ItemRecord, fold, minute

router = APIRouter(include_in_schema=False)
PHOTO_ID = re.compile(r"^[0-9a-f]{64}$")
CANCELLED_ZH = {"stop_work_ordered": "监督站下了停工令", "defect_raised": "发现了需要整改的问题"}


def state_zh(item: WorksItem) -> str:
    """The item's state as a neighbour needs it: a cancelled round leaves the item 'awaiting acceptance' in the
    domain's words, which would tell a resident to sign what cannot be signed."""
    if item.stop_work is not None:
        return "停工中"
    if item.state == "awaiting_acceptance" and item.open_round() is None:
        return "已竣工，等待重新发起验收"
    return STATE_NAMES_ZH[item.state]


def cancelled_because(who: Resident, item: WorksItem, round_no: int) -> str | None:
    after = item.rounds[round_no - 1]["subject_version"]
    for event in who.ledger.item_events(item.id, after, item.version - after):
        if isinstance(event, AcceptanceRoundCancelled) and event.round_no == round_no:
            return CANCELLED_ZH.get(event.reason, "工程有了新情况")
    return None


@router.get("/residents", response_class=HTMLResponse)
def awaiting(request: Request) -> Response:
    who = resident(request)
    if isinstance(who, Response):
        return who
    rounds = board(who)
    return who.page("awaiting.html", tab="awaiting", awaiting=rounds["awaiting_my_signature"],
                    signed=rounds["signed_awaiting_decision"], name=who.user.name)


def item_record(who: Resident, item: WorksItem, upto: int) -> ItemRecord:
    return fold(item.parsed_template, who.ledger.item_events(item.id, 0, upto), who.zone)


def item_context(who: Resident, item: WorksItem, project: Project) -> dict[str, Any]:
    """The item as signed: with a round open, the record up to the version the round binds."""
    member_id = project.member_of(who.user.user_id)
    current = item.open_round() or (item.rounds[-1] if item.rounds else None)
    open_round = item.open_round()
    upto = open_round["subject_version"] if open_round else item.version
    opened_event = who.ledger.item_events(item.id, upto, 1) if open_round else []
    contractor = who.container.users.get(item.contractor_id) if item.contractor_id else None
    mine = signatures.mine(who.ledger, item, member_id, who.zone)
    eligible = bool(open_round and member_id in open_round["electorate"] and member_id in project.members)
    may_sign = eligible and bool(open_round and member_id not in open_round["signatures"])
    return {
        "item": item, "item_id": str(item.id), "title": item.title or item.parsed_template.name_zh,
        "kind_zh": item.parsed_template.name_zh, "location": item.location, "community": project.name,
        "contractor": contractor.name if contractor else None, "state_zh": state_zh(item),
        "record": item_record(who, item, upto), "round": signatures.tally(item, current["round_no"]) if current
        else None, "opened": minute(opened_event[0].timestamp, who.zone) if opened_event else None,
        "rule_zh": rule_zh(current["rule"]) if current else None, "may_sign": may_sign,
        "not_in_round": bool(open_round) and not eligible,
        "cancelled_because": cancelled_because(who, item, current["round_no"])
        if current and current["status"] == "cancelled" else None,
        "my_signature": mine.get(current["round_no"]) if current else None,
        "past_rounds": [signatures.tally(item, r["round_no"]) for r in item.rounds if r is not current][::-1],
    }


@router.get("/residents/items/{item_id}", response_class=HTMLResponse)
def item_page(request: Request, item_id: str) -> Response:
    who = resident(request)
    if isinstance(who, Response):
        return who
    found = who.item(item_id)
    if found is None:
        return to_sign_in()
    return who.page("item.html", tab="awaiting", **item_context(who, *found))


@router.get("/residents/items/{item_id}/photos/{photo_id}", response_class=HTMLResponse)
def photo_page(request: Request, item_id: str, photo_id: str) -> Response:
    """A photo full screen: only one the item's record shows (the photo route checks scope again)."""
    who = resident(request)
    if isinstance(who, Response):
        return who
    found = who.item(item_id)
    if found is None:
        return to_sign_in()
    item, _ = found
    caption = _photos_of(who, item).get(photo_id) if PHOTO_ID.match(photo_id) else None
    if caption is None:
        return who.page("problem.html", 404, title="没有这张照片", message="这项工程的记录里没有这张照片。",
                        back=f"/residents/items/{item_id}")
    return who.page("photo.html", item_id=item_id, photo_id=photo_id, caption=caption,
                    title=item.title or item.parsed_template.name_zh)


def _photos_of(who: Resident, item: WorksItem) -> dict[str, str]:
    shown = item_record(who, item, item.version).photos()
    for signature in signatures.mine(who.ledger, item, _member(who, item), who.zone).values():
        shown |= {p: f"您签字时附上的照片（{signature.at}）" for p in signature.photos}
    return shown


def _member(who: Resident, item: WorksItem) -> str | None:
    return who.ledger.get_project(item.project_id).member_of(who.user.user_id)


@router.get("/residents/mine", response_class=HTMLResponse)
def my_signatures(request: Request) -> Response:
    """Every signature I gave, newest first, with its code and whether it still matches the record."""
    who = resident(request)
    if isinstance(who, Response):
        return who
    rounds = board(who)
    lines = [line for key in ("signed_awaiting_decision", "decided") for line in rounds[key] if line.my_decision]
    entries: list[dict[str, Any]] = []
    items: dict[str, WorksItem] = {}
    for line in lines:
        if line.item_id not in items:
            items[line.item_id] = who.ledger.get_item(line.item_id)
        item = items[line.item_id]
        signature = signatures.mine(who.ledger, item, _member(who, item), who.zone).get(line.round_no)
        if signature is not None:
            entries.append({"line": line, "signature": signature,
                            "matches": signatures.still_matches(who.ledger, item, line.round_no)})
    entries.sort(key=lambda e: e["signature"].at, reverse=True)
    return who.page("mine.html", tab="mine", entries=entries)


@router.get("/residents/results", response_class=HTMLResponse)
def results(request: Request) -> Response:
    """Decided rounds; for a rejected one, the defects raised from the residents' reasons and what became of them."""
    who = resident(request)
    if isinstance(who, Response):
        return who
    entries = []
    for line in board(who)["decided"]:
        defects = []
        if line.status == "rejected":
            item = who.ledger.get_item(line.item_id)
            prefix = f"acceptance-{line.round_no}-"
            defects = [d for d in item_record(who, item, item.version).defects if d.defect_id.startswith(prefix)]
        entries.append({"line": line, "defects": defects})
    return who.page("results.html", tab="results", entries=entries)
