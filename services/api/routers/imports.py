"""An admin imports a district's projects and works items from a spreadsheet (the template is downloadable).

The body is the XLSX file itself. `?dry_run=true` answers every row's errors in Chinese and changes nothing;
otherwise a file with errors is refused whole (422 `import_invalid`, the same list), and a clean one runs
through the command bus — the API's own path, with its authorization and idempotency — so applying the
same file twice changes nothing the second time (services/spreadsheet_import.py says how).
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response
from pydantic import Field

from domain.actors import Role
from services.api.deps import ContainerDep, CurrentUser, require_role
from services.api.errors import ApiError
from services.api.models import Model
from services.api.responses import BODY, SCOPED, merge, problems
from services.spreadsheet_import import Importer, UnreadableFile, apply, template

router = APIRouter(prefix="/imports", tags=["imports"])
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
    errors: list[RowProblem]


@router.get("/projects/template.xlsx", response_class=Response, responses=problems(SCOPED))
def projects_template(user: CurrentUser) -> Response:
    require_role(user, Role.ADMIN)
    return Response(template(), media_type=XLSX,
                    headers={"Content-Disposition": 'attachment; filename="projects-template.xlsx"'})


@router.post("/projects", response_model=ImportReport, responses=problems(IMPORT))
async def import_projects(request: Request, user: CurrentUser, container: ContainerDep,
                          dry_run: Annotated[bool, Query(description="check only, change nothing")] = False
                          ) -> dict[str, Any]:
    require_role(user, Role.ADMIN)
    if request.headers.get("content-type", "").split(";")[0].strip() != XLSX:
        raise ApiError(415, "unsupported_media_type", "Send the XLSX file as the body",
                       f"请以 {XLSX} 上传 .xlsx 工作簿")
    content = await request.body()
    try:
        plan = Importer(container.ledger).read(content, user)
    except UnreadableFile as error:
        raise ApiError(422, "unreadable_file", "The file is not the import template", str(error)) from None
    errors = [e.as_dict() for e in plan.errors]
    body: dict[str, Any] = {"dry_run": dry_run, "projects": plan.projects, "works_items": plan.works_items,
                            "unchanged": plan.unchanged, "commands": len(plan.commands), "recorded": 0,
                            "replayed": 0, "errors": errors}
    if dry_run:
        return body
    if errors:
        raise ApiError(422, "import_invalid", "Rows of the file are not valid; nothing was imported",
                       f"文件中有 {len(errors)} 处错误，未导入任何内容", errors=errors)
    done = apply(plan, container.commands, user)
    body.update(commands=done.commands, recorded=done.recorded, replayed=done.replayed)
    if done.error is not None:
        raise ApiError(422, "import_invalid", "A row was refused; the rows before it were imported",
                       f"第 {done.error.row} 行（{done.error.sheet}）被拒绝：{done.error.detail_zh}；"
                       f"之前的行已导入，修正后重新导入同一文件即可继续", errors=[done.error.as_dict()], **{
                           k: body[k] for k in ("commands", "recorded", "replayed")})
    return body
