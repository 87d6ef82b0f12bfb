"""Signing on a phone, as plain HTML forms: 同意 or 不同意 (a reason, maybe photos), a confirmation screen showing
exactly what will be signed, then the receipt.

The confirmation form carries the round, the hash of the content it was rendered with (`subject_hash`) and an
idempotency key made when it was rendered: a double tap, a retry on a bad line or the back button records the
signature once (the bus replays the first outcome), and a page shown before the record changed — the round
cancelled by a defect or a stop-work order, a new round opened — meets the domain's 409 and becomes
"内容已更新，请刷新后再签". Signing goes through `container.commands.handle`, the API's own command path.
"""

from __future__ import annotations

import re
from typing import Any
from uuid import uuid4

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError
from starlette.datastructures import UploadFile

from domain import commands as c
from domain.errors import DomainError, ErrorKind
from domain.project import Project
from domain.works_item import WorksItem
from services.api.authentication import CSRF_FIELD
from services.api.errors import ApiError
from services.commands.bus import Envelope
from services.web.residents import signatures
from services.web.residents.access import Resident, resident, to_sign_in
from services.web.residents.evidence import log_entry

router = APIRouter(include_in_schema=False)
ROUND = "/residents/items/{item_id}/rounds/{round_no}"
UPLOAD = "/residents/upload/items/{item_id}/rounds/{round_no}/reject"  # a photo-sized body (see the report)
KEY = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.:-]{7,127}$")  # as the API's Idempotency-Key
STALE = {"acceptance_round_not_open", "signed_content_mismatch", "version_conflict", "item_closed_out"}
MAX_PHOTOS = 3
REASON_MAX = 2000
STATUS = {ErrorKind.INVALID: 422, ErrorKind.FORBIDDEN: 403, ErrorKind.NOT_FOUND: 404, ErrorKind.CONFLICT: 409}


def _round(who: Resident, item_id: str, round_no: int) -> tuple[WorksItem, Project, dict[str, Any]] | None:
    found = who.item(item_id)
    if found is None or not 1 <= round_no <= len(found[0].rounds):
        return None
    item, project = found
    return item, project, item.rounds[round_no - 1]


def _stale(who: Resident, item_id: str) -> Response:
    return who.page("stale.html", 409, item_id=item_id)


def _confirm(who: Resident, item: WorksItem, rnd: dict[str, Any], decision: str, reason: str = "",
             photos: list[str] | None = None) -> Response:
    return who.page("confirm.html", item_id=str(item.id), title=item.title or item.parsed_template.name_zh,
                    location=item.location, round=signatures.tally(item, rnd["round_no"]), decision=decision,
                    reason=reason, photos=photos or [], key=f"resident-sign-{uuid4()}")


def _reject_form(who: Resident, item: WorksItem, rnd: dict[str, Any], error: str | None = None,
                 reason: str = "", status: int = 200) -> Response:
    return who.page("reject.html", status, item_id=str(item.id), title=item.title or item.parsed_template.name_zh,
                    round_no=rnd["round_no"], error=error, reason=reason, max_photos=MAX_PHOTOS)


@router.get(ROUND + "/sign", response_class=HTMLResponse)
def sign_page(request: Request, item_id: str, round_no: int, decision: str = "accept") -> Response:
    who = resident(request)
    if isinstance(who, Response):
        return who
    found = _round(who, item_id, round_no)
    if found is None:
        return to_sign_in()
    item, project, rnd = found
    member_id = project.member_of(who.user.user_id)
    if member_id in rnd["signatures"]:
        return RedirectResponse(f"/residents/items/{item_id}/rounds/{round_no}/receipt", status_code=303)
    if rnd["status"] != "open":
        return _stale(who, item_id)
    if member_id not in rnd["electorate"] or member_id not in project.members:
        return who.page("problem.html", 403, title="这一轮不需要您签字", back=f"/residents/items/{item_id}",
                        message="本轮验收开始时您还不是居民监督小组成员（或已不是），所以这一轮不需要您签字。")
    if decision == "reject":
        return _reject_form(who, item, rnd)
    return _confirm(who, item, rnd, "accept")


@router.post(UPLOAD, response_class=HTMLResponse)
async def review_rejection(request: Request, item_id: str, round_no: int) -> Response:
    """不同意: the reason is required; photos from the camera are stored now (through the photo service, on its
    threads) and cited by id on the confirmation form."""
    who = resident(request)
    if isinstance(who, Response):
        return who
    form = await request.form(max_files=MAX_PHOTOS + 1, max_fields=20)
    token = form.get(CSRF_FIELD)
    refused = who.refused_origin(token if isinstance(token, str) else None)
    if refused:
        return refused
    found = _round(who, item_id, round_no)
    if found is None:
        return to_sign_in()
    item, _, rnd = found
    if rnd["status"] != "open":
        return _stale(who, item_id)
    raw = form.get("reason")
    reason = raw.strip()[:REASON_MAX] if isinstance(raw, str) else ""
    if not reason:
        return _reject_form(who, item, rnd, "请写下不同意的理由，例如哪里没修好、在哪个位置。", status=422)
    files = [f for f in form.getlist("photo") if isinstance(f, UploadFile) and f.filename]
    if len(files) > MAX_PHOTOS:
        return _reject_form(who, item, rnd, f"最多附 {MAX_PHOTOS} 张照片，请少选几张。", reason, 422)
    photos = []
    for upload in files:
        try:
            photos.append(await _store(who, item, upload))
        except (ApiError, DomainError) as refusal:
            return _reject_form(who, item, rnd, f"照片“{upload.filename}”没有存上：{refusal.detail_zh}", reason, 422)
    return _confirm(who, item, rnd, "reject", reason, photos)


async def _store(who: Resident, item: WorksItem, upload: UploadFile) -> str:
    photos = who.container.photos

    def store() -> str:
        data = upload.file.read(photos.max_bytes + 1)
        meta, _ = photos.upload(who.user, data, upload.filename, None, str(item.id))
        return str(meta["id"])

    return await photos.workers.run(store)


@router.post(ROUND + "/sign", response_class=HTMLResponse)
async def sign(request: Request, item_id: str, round_no: int) -> Response:
    who = resident(request)
    if isinstance(who, Response):
        return who
    form = await request.form(max_files=0, max_fields=20)
    fields = {key: value for key, value in form.multi_items() if isinstance(value, str)}
    refused = who.refused_origin(fields.get(CSRF_FIELD))
    if refused:
        return refused
    found = _round(who, item_id, round_no)
    if found is None:
        return to_sign_in()
    item, _, rnd = found
    key = fields.get("key", "")
    try:
        command = c.SignAcceptance(item_id=item.id, round_no=round_no, decision=fields.get("decision", ""),
                                   reason=fields.get("reason", ""), subject_hash=fields.get("subject_hash", ""),
                                   photos=[p for p in form.getlist("photo") if isinstance(p, str)])
    except ValidationError:
        return who.page("problem.html", 422, title="签字没有成功", back=f"/residents/items/{item_id}",
                        message="签字内容不完整或理由里有无法识别的字符（理由最多 2000 字），请返回重新签字。")
    if not KEY.match(key):
        return _stale(who, item_id)
    try:
        who.container.commands.handle(who.user, command, Envelope(idempotency_key=key))
    except (DomainError, ApiError) as refusal:
        return _refused(who, item, rnd, refusal)
    return RedirectResponse(f"/residents/items/{item_id}/rounds/{round_no}/receipt", status_code=303)


def _refused(who: Resident, item: WorksItem, rnd: dict[str, Any], refusal: DomainError | ApiError) -> Response:
    item_id = str(item.id)
    if refusal.code in STALE:
        return _stale(who, item_id)
    if refusal.code == "already_signed":  # another tab or phone signed first: one signature stands
        return RedirectResponse(f"/residents/items/{item_id}/rounds/{rnd['round_no']}/receipt", status_code=303)
    if refusal.code == "reject_needs_reason":
        return _reject_form(who, item, rnd, "请写下不同意的理由。", status=422)
    status = STATUS[refusal.kind] if isinstance(refusal, DomainError) else refusal.status
    return who.page("problem.html", status, title="签字没有成功", message=refusal.detail_zh,
                    back=f"/residents/items/{item_id}")


@router.get(ROUND + "/receipt", response_class=HTMLResponse)
def receipt(request: Request, item_id: str, round_no: int) -> Response:
    who = resident(request)
    if isinstance(who, Response):
        return who
    found = _round(who, item_id, round_no)
    if found is None:
        return to_sign_in()
    item, project, _ = found
    signature = signatures.mine(who.ledger, item, project.member_of(who.user.user_id), who.zone).get(round_no)
    if signature is None:
        return RedirectResponse(f"/residents/items/{item_id}", status_code=303)
    return who.page("receipt.html", tab="mine", item_id=item_id, title=item.title or item.parsed_template.name_zh,
                    signature=signature, round=signatures.tally(item, round_no),
                    log=log_entry(who.container, item_id, signature.version))
