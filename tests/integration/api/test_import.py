"""Issue 19: a district's projects and works items imported from an XLSX sheet, twice, the second time changing
nothing; a dry run answers per-row errors in Chinese; only an admin, only for their district.

Real parts: the app on SQLite, workbooks written and read by openpyxl, the commands through the bus.
"""

from __future__ import annotations

import io
import os
from typing import Any

import httpx
import pytest
from openpyxl import Workbook, load_workbook

from domain.commands import RegisterProject
from services.commands.bus import Envelope
from services.spreadsheet_import import ITEM_COLUMNS, PROJECT_COLUMNS, Importer, apply
from tests.http_support import ApiWorld
from tests.integration.api.test_users_and_projects import problem

pytestmark = pytest.mark.integration
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
PROJECT_ROWS: list[list[Any]] = [
    ["田林十二村", "徐汇区", "田林街道", "田林路 100 弄", 1986, 20, 960, "基础类、完善类", "中央预算内投资、居民出资"],
    ["康健新村", "徐汇区", "康健新村街道", "康健路 8 号", 1990, 8, 320, "基础类", "地方专项债"],
]
ITEM_ROWS: list[list[Any]] = [
    ["田林十二村", "徐汇区", "管线迁移", "给水管改迁", "5号楼南侧", "2026-03-01", "2026-06-30", "基础类", "地方专项债"],
    ["田林十二村", "徐汇区", "flying_wire_burial", "弱电架空线入地", "小区主干道", None, None, None, None],
    ["康健新村", "徐汇区", "既有多层住宅加装电梯", "2号楼加装电梯", "2号楼1单元", None, "2026-12-31", "提升类",
     "居民出资、社会资本"],
]


def workbook(projects: list[list[Any]], items: list[list[Any]]) -> bytes:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "项目"
    sheet.append(list(PROJECT_COLUMNS))
    for row in projects:
        sheet.append(row)
    items_sheet = book.create_sheet("工程事项")
    items_sheet.append(list(ITEM_COLUMNS))
    for row in items:
        items_sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def upload(api: ApiWorld, content: bytes, token: str | None = None, dry_run: bool = False) -> httpx.Response:
    return api.call("POST", f"/api/v1/imports/projects{'?dry_run=true' if dry_run else ''}", token or api.admin,
                    content=content, headers={"Content-Type": XLSX})


def log_head(api: ApiWorld) -> int:
    return int(api.container.ledger.recorder.max_notification_id() or 0)


def test_the_same_file_twice_changes_nothing_the_second_time(api: ApiWorld) -> None:
    content = workbook(PROJECT_ROWS, ITEM_ROWS)
    before = log_head(api)
    checked = upload(api, content, dry_run=True)
    assert checked.status_code == 200, checked.text
    assert checked.json() == {"dry_run": True, "projects": 2, "works_items": 3, "unchanged": 0, "commands": 9,
                              "recorded": 0, "replayed": 0, "transactions": 0, "errors": []}
    assert log_head(api) == before  # a dry run writes nothing

    first = upload(api, content)
    assert first.status_code == 200, first.text
    assert (first.json()["recorded"], first.json()["commands"]) == (9, 9)
    after_first = log_head(api)
    assert after_first > before

    second = upload(api, content)
    assert second.status_code == 200, second.text
    assert second.json()["recorded"] == 0 and second.json()["unchanged"] == 5
    assert log_head(api) == after_first  # the same file again: not one event appended

    projects = {p["name"]: p for p in api.ok("GET", "/api/v1/projects?limit=50", api.admin)["items"]}
    assert {"田林十二村", "康健新村"} <= set(projects)
    tianlin = projects["田林十二村"]["id"]
    items = api.ok("GET", f"/api/v1/projects/{tianlin}/works-items", api.admin)["items"]
    assert sorted(i["kind"] for i in items) == ["flying_wire_burial", "pipe_relocation"]
    funding = api.container.ledger.get_project(tianlin).funding
    assert funding[""]["funding_sources"] == ["central_budget", "resident_contributions"]
    water = next(i for i in items if i["kind"] == "pipe_relocation")
    assert funding[str(water["id"])] == {"category": "basic", "funding_sources": ["local_special_bonds"]}


def test_a_dry_run_names_each_bad_row_in_chinese_and_applying_it_imports_nothing(api: ApiWorld) -> None:
    bad_projects: list[list[Any]] = [
        PROJECT_ROWS[0],
        ["", "徐汇区"],  # no name
        ["南小区", "徐汇区", "", "", 1700, 3, 90, "豪华类", "彩票"],
        ["远郊小区", "黄浦区", "", "", None, None, None, None, None],
    ]
    bad_items: list[list[Any]] = [
        ["田林十二村", "徐汇区", "修自行车棚", "车棚", "1号楼"],
        ["不存在的小区", "徐汇区", "既有多层住宅加装电梯", "", "1号楼"],
        ["田林十二村", "徐汇区", "既有多层住宅加装电梯", "", "2号楼", None, "2026-02-30"],
    ]
    district_admin = api.user("admin", district="徐汇区")
    checked = upload(api, workbook(bad_projects, bad_items), district_admin, dry_run=True)
    assert checked.status_code == 200, checked.text
    errors = {(e["sheet"], e["row"]): e["detail_zh"] for e in checked.json()["errors"]}
    assert set(errors) == {("项目", 3), ("项目", 4), ("项目", 5), ("工程事项", 2), ("工程事项", 3), ("工程事项", 4)}
    assert "项目名称" in errors[("项目", 3)]
    assert "改造类别“豪华类”无效" in errors[("项目", 4)] and "基础类" in errors[("项目", 4)]
    assert "黄浦区" in errors[("项目", 5)] and "管辖" in errors[("项目", 5)]
    assert "工程类型“修自行车棚”无效" in errors[("工程事项", 2)]
    assert "既不在“项目”表中，也未登记" in errors[("工程事项", 3)]
    assert "计划完工" in errors[("工程事项", 4)]
    before = log_head(api)
    refused = problem(upload(api, workbook(bad_projects, bad_items), district_admin), 422, "import_invalid")
    assert "6 处错误" in refused["detail"] and len(refused["errors"]) == 6
    assert log_head(api) == before


def test_the_template_reads_back_and_only_an_admin_imports(api: ApiWorld) -> None:
    response = api.call("GET", "/api/v1/imports/projects/template.xlsx", api.admin)
    assert response.status_code == 200 and response.headers["content-type"] == XLSX
    book = load_workbook(io.BytesIO(response.content))
    assert book.sheetnames == ["项目", "工程事项", "填写说明"]
    assert [c.value for c in book["项目"][1]] == list(PROJECT_COLUMNS)
    checked = upload(api, response.content, dry_run=True)  # the template's example rows are valid as they are
    assert checked.status_code == 200 and checked.json()["errors"] == [], checked.text
    problem(api.call("GET", "/api/v1/imports/projects/template.xlsx", api.station), 403, "role_not_permitted")
    problem(upload(api, response.content, api.station, dry_run=True), 403, "role_not_permitted")
    problem(upload(api, response.content, api.supervisor), 403, "role_not_permitted")
    problem(upload(api, b"not a workbook"), 422, "unreadable_file")
    problem(api.call("POST", "/api/v1/imports/projects", api.admin, content=response.content,
                     headers={"Content-Type": "text/csv"}), 415, "unsupported_media_type")
    assert api.call("POST", "/api/v1/imports/projects", "bad-token", content=response.content,
                    headers={"Content-Type": XLSX}).status_code == 401


def test_a_workbook_past_the_json_limit_imports_and_one_past_twenty_mib_is_refused_in_chinese(api: ApiWorld) -> None:
    """A district's year is megabytes (40,000 item rows are about 2 MB): more than the 1 MiB a JSON body may be.
    Here the bulk is a sheet of notes the import ignores (incompressible, so the file is really that big)."""
    book = load_workbook(io.BytesIO(workbook(PROJECT_ROWS, ITEM_ROWS)))
    notes = book.create_sheet("备注")
    for _ in range(2200):
        notes.append([os.urandom(700).hex()])
    out = io.BytesIO()
    book.save(out)
    content = out.getvalue()
    assert 1024 * 1024 * 1.2 < len(content) < 20 * 1024 * 1024
    imported = upload(api, content)
    assert imported.status_code == 200, imported.text
    assert imported.json()["recorded"] == 9 and imported.json()["transactions"] >= 1

    huge = b"PK" + os.urandom(20 * 1024 * 1024)
    refused = problem(upload(api, huge), 413, "body_too_large")
    assert "超过上限" in refused["detail"]


def test_rows_refused_while_applying_stop_their_own_project_only_and_are_named_in_chinese(api: ApiWorld) -> None:
    """What the dry run cannot know (another writer registered the project differently in between): the row is
    refused with the domain's Chinese reason, that project's later rows wait, the other projects import."""
    user = api.container.users.by_token(api.admin)
    assert user is not None
    plan = Importer(api.container.ledger).read(workbook(PROJECT_ROWS, ITEM_ROWS), user)
    assert plan.errors == []
    first = plan.commands[0][2]
    assert isinstance(first, RegisterProject)
    api.container.commands.handle(user, RegisterProject(project_id=first.project_id, name="田林十二村",
                                                        district="徐汇区"), Envelope())  # registered meanwhile
    done = apply(plan, api.container.commands, user, batch=2)
    assert [(e.sheet, e.row) for e in done.errors] == [("项目", 2)]
    assert done.errors[0].detail_zh and any("\u4e00" <= ch <= "\u9fff" for ch in done.errors[0].detail_zh)
    assert done.skipped == 4  # 田林十二村's funding and its two items with their funding… less the refused one
    assert done.recorded == 4  # 康健新村: registered, funding, its item, the item's funding


def test_the_same_item_twice_in_a_file_is_an_error_of_the_second_row(api: ApiWorld) -> None:
    checked = upload(api, workbook(PROJECT_ROWS, [*ITEM_ROWS, ITEM_ROWS[0]]), dry_run=True)
    assert checked.status_code == 200, checked.text
    assert checked.json()["errors"] == [{"sheet": "工程事项", "row": 5,
                                         "detail_zh": "与第 2 行是同一工程事项（项目、工程类型、位置和标题都相同）"}]
