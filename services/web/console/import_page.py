"""导入: an admin uploads a district's workbook, reads the dry run's per-row errors in Chinese, and applies it.

Checking keeps the uploaded file under the data directory, named by its SHA-256 and its uploader, so the
apply form names the file that was checked (not a new upload); applying runs the same import as
POST /api/v1/imports/projects (services/spreadsheet_import.py: the dry run first, then the commands through
the command bus), so the same file applied twice records nothing the second time. Both forms carry the
session's CSRF token. Only an admin imports (as over the API); a station, a resident or a supervisor is refused.
"""

from __future__ import annotations

import hashlib
import re
import time
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile

from domain.actors import Role
from services.api.authentication import CSRF_FIELD, check_csrf
from services.api.errors import ApiError
from services.bootstrap import Container
from services.spreadsheet_import import MAX_BYTES, Importer, Plan, UnreadableFile, apply
from services.users import User
from services.web.console.access import Viewer, container_of, page, refused, viewer

router = APIRouter(include_in_schema=False)
ADMIN_ONLY = "只有业主单位管理员可以导入项目和工程事项"
DIGEST = re.compile(r"^[0-9a-f]{64}$")
KEPT_SECONDS = 24 * 3600  # a checked file waits this long to be applied
MULTIPART_OVERHEAD = 64 * 1024


def _admin(request: Request) -> Viewer | Response:
    who = viewer(request)
    if isinstance(who, Response):
        return who
    if who.user.role != Role.ADMIN:
        return refused(request, ADMIN_ONLY, 403)
    return who


def _kept(container: Container, user: User, digest: str) -> Path:
    return container.settings.data_dir / "imports" / f"{user.user_id}-{digest}.xlsx"


def _keep(container: Container, user: User, content: bytes) -> str:
    """Store the checked file for its apply form (and forget files left longer than a day)."""
    digest = hashlib.sha256(content).hexdigest()
    path = _kept(container, user, digest)
    path.parent.mkdir(parents=True, exist_ok=True)
    for old in path.parent.glob("*.xlsx"):
        if old.stat().st_mtime < time.time() - KEPT_SECONDS:
            old.unlink(missing_ok=True)
    path.write_bytes(content)
    return digest


def _show(request: Request, who: Viewer, status: int = 200, **context: Any) -> Response:
    context.setdefault("plan", None)
    context.setdefault("done", None)
    context.setdefault("error", None)
    return page(request, "import.html", status, viewer=who, max_mb=MAX_BYTES // 1048576, **context)


@router.get("/console/import")
def import_form(request: Request) -> Response:
    who = _admin(request)
    if isinstance(who, Response):
        return who
    return _show(request, who)


def _read(container: Container, user: User, content: bytes) -> Plan | str:
    try:
        return Importer(container.ledger).read(content, user)
    except UnreadableFile as error:
        return str(error)


@router.post("/console/import/check")
async def check(request: Request) -> Response:
    """The dry run: the file's counts and every row's errors; a clean file gets the apply form."""
    who = _admin(request)
    if isinstance(who, Response):
        return who
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > MAX_BYTES + MULTIPART_OVERHEAD:
        return _show(request, who, 413, error=f"文件超过上限 {MAX_BYTES // 1048576} MB；请把工作簿分成几个文件分批导入")
    form = await request.form(max_files=1, max_fields=10)
    token = form.get(CSRF_FIELD)
    try:
        check_csrf(request, who.session, token if isinstance(token, str) else None)
    except ApiError as refusal:
        return refused(request, refusal.detail_zh, 403)
    upload = form.get("file")
    if not isinstance(upload, UploadFile) or not upload.filename:
        return _show(request, who, 422, error="请选择要导入的 .xlsx 文件")
    content = await upload.read(MAX_BYTES + 1)
    if len(content) > MAX_BYTES:
        return _show(request, who, 413, error=f"文件超过上限 {MAX_BYTES // 1048576} MB；请把工作簿分成几个文件分批导入")
    container = container_of(request)
    plan = await run_in_threadpool(_read, container, who.user, content)
    if isinstance(plan, str):
        return _show(request, who, 422, error=plan, filename=upload.filename)
    digest = await run_in_threadpool(_keep, container, who.user, content) if not plan.errors else None
    return _show(request, who, 200 if not plan.errors else 422, plan=plan, digest=digest, filename=upload.filename)


def _apply(container: Container, user: User, digest: str) -> dict[str, Any]:
    path = _kept(container, user, digest)
    if not DIGEST.match(digest) or not path.exists():
        return {"status": 422, "error": "要导入的文件已失效（超过一天或未经检查），请重新上传并检查"}
    read = _read(container, user, path.read_bytes())
    if isinstance(read, str):
        return {"status": 422, "error": read}
    if read.errors:  # the records changed since the check (another import, another admin)
        return {"status": 422, "plan": read}
    done = apply(read, container.commands, user)
    return {"status": 422 if done.errors else 200, "plan": read, "done": done}


@router.post("/console/import/apply")
async def apply_checked(request: Request) -> Response:
    who = _admin(request)
    if isinstance(who, Response):
        return who
    form = await request.form(max_files=0, max_fields=10)
    fields = {k: v for k, v in form.items() if isinstance(v, str)}
    try:
        check_csrf(request, who.session, fields.get(CSRF_FIELD))
    except ApiError as refusal:
        return refused(request, refusal.detail_zh, 403)
    digest = fields.get("digest", "")
    answer = await run_in_threadpool(_apply, container_of(request), who.user, digest)
    return _show(request, who, answer.pop("status"), filename=fields.get("filename", ""), **answer)
