"""An admin imports a district's projects and works items from a spreadsheet (the template is downloadable).

The body is the XLSX file itself. `?dry_run=true` answers every row's errors in Chinese and changes nothing;
otherwise a file with errors is refused whole (422 `import_invalid`, the same list), and a clean one runs
through the command bus — the API's own path, with its authorization and idempotency — so applying the
same file twice changes nothing the second time (services/spreadsheet_import.py says how).

A district's year is a large workbook (2,000 projects × 20 items is about 2 MB): the body is streamed here and
refused past `MAX_BYTES` (20 MiB, 413 `body_too_large`), and the work runs on a worker thread, not the event loop.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response
from pydantic import Field
from starlette.concurrency import run_in_threadpool

from domain.actors import Role
from services.api.deps import ContainerDep, CurrentUser, require_role
from services.api.errors import ApiError
from services.api.models import Model
from services.api.responses import BODY, SCOPED, DocumentedRoute, merge, problems
from services.bootstrap import Container
from services.spreadsheet_import import MAX_BYTES, Importer, UnreadableFile, apply, template
from services.users import User

router = APIRouter(route_class=DocumentedRoute, prefix="/imports", tags=["imports"])
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
IMPORT = merge(SCOPED, BODY, {415: ("unsupported_media_type",), 422: ("import_invalid", "unreadable_file")})


class RowProblem(Model):
    sheet: str = Field(description="项目 or 工程事项")
    row: int = Field(description="the row number as the spreadsheet shows it")
    detail_zh: str


class ImportReport(Model):
    dry_run: bool
    projects: int = Field(description="project rows without errors")
    works_items: int = Field(description="works item rows without errors")
    unchanged: int = Field(description="rows naming a project or item already registered exactly so")
    commands: int = Field(description="commands the file makes (dry run) or ran")
    recorded: int = Field(description="commands that recorded events (0 on a dry run, and on a file applied again)")
    replayed: int = Field(description="commands already run by an earlier import of the same rows")
    transactions: int = Field(description="batches the commands were saved in (0 on a dry run)")
    errors: list[RowProblem]


@router.get("/projects/template.xlsx", response_class=Response, responses=problems(SCOPED))
def projects_template(user: CurrentUser) -> Response:
    require_role(user, Role.ADMIN)
    return Response(template(), media_type=XLSX,
                    headers={"Content-Disposition": 'attachment; filename="projects-template.xlsx"'})


def too_large() -> ApiError:
    return ApiError(413, "body_too_large", "The workbook is larger than allowed",
                    f"文件超过上限 {MAX_BYTES // 1048576} MB；请把工作簿分成几个文件分批导入", max_bytes=MAX_BYTES)


async def workbook_body(request: Request) -> bytes:
    """The XLSX body, read as it arrives and refused as soon as it passes the limit."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > MAX_BYTES:
        raise too_large()
    data = bytearray()
    async for part in request.stream():  # a chunked request has no Content-Length: stop at the limit
        data += part
        if len(data) > MAX_BYTES:
            raise too_large()
    return bytes(data)


def run_import(container: Container, user: User, content: bytes, dry_run: bool) -> dict[str, Any]:
    """Check the file, and unless it is a dry run (or has errors) apply it: the report as the API answers it.
    Blocking work (openpyxl, the commands): callers on the event loop run it on a worker thread."""
    try:
        plan = Importer(container.ledger).read(content, user)
    except UnreadableFile as error:
        raise ApiError(422, "unreadable_file", "The file is not the import template", str(error)) from None
    errors = [e.as_dict() for e in plan.errors]
    body: dict[str, Any] = {"dry_run": dry_run, "projects": plan.projects, "works_items": plan.works_items,
                            "unchanged": plan.unchanged, "commands": len(plan.commands), "recorded": 0,
                            "replayed": 0, "transactions": 0, "errors": errors}
    if dry_run:
        return body
    if errors:
        raise ApiError(422, "import_invalid", "Rows of the file are not valid; nothing was imported",
                       f"文件中有 {len(errors)} 处错误，未导入任何内容", errors=errors)
    done = apply(plan, container.commands, user)
    body.update(commands=done.commands, recorded=done.recorded, replayed=done.replayed,
                transactions=done.transactions)
    if done.errors:
        first = done.errors[0]
        raise ApiError(422, "import_invalid", "Rows were refused; the other rows were imported",
                       f"{len(done.errors)} 行被拒绝（第一处：{first.sheet}第 {first.row} 行，{first.detail_zh}）；"
                       f"这些行所属项目的后续行未导入，其他行已导入；修正后重新导入同一文件即可继续",
                       errors=[e.as_dict() for e in done.errors], skipped=done.skipped,
                       **{k: body[k] for k in ("commands", "recorded", "replayed")})
    return body


@router.post("/projects", response_model=ImportReport, responses=problems(IMPORT))
async def import_projects(request: Request, user: CurrentUser, container: ContainerDep,
                          dry_run: Annotated[bool, Query(description="check only, change nothing")] = False
                          ) -> dict[str, Any]:
    require_role(user, Role.ADMIN)
    if request.headers.get("content-type", "").split(";")[0].strip() != XLSX:
        raise ApiError(415, "unsupported_media_type", "Send the XLSX file as the body",
                       f"请以 {XLSX} 上传 .xlsx 工作簿")
    content = await workbook_body(request)
    return await run_in_threadpool(run_import, container, user, content, dry_run)
