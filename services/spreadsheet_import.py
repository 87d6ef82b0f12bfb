"""Importing a district's projects and works items from an XLSX sheet, through the same commands as the API.

The file is read whole and checked first (a dry run answers every row's errors in Chinese and changes
nothing); only a file without errors is applied. Applying is idempotent by construction:

- a project's id is derived from its district and name, an item's from its project, kind, location and
  title, so the same row names the same aggregate every time;
- what is registered already (a project, an item, funding as recorded) makes no command at all, and each
  command's idempotency key is a hash of the command itself, so the same row applied again is a replay of its
  receipt (nothing appended), whoever applies it and however often.

Applying runs the commands through the command bus's batch path (`handle_many`): a round takes one command of
each project, so a district's workbook (2,000 projects × 20 items, 84,000 commands) is saved in a few hundred
transactions rather than one per command, each command still with its own receipt.

A row that names an existing project or item with other details is an error, not a silent overwrite: a
correction goes through the command made for it.
"""

from __future__ import annotations

import hashlib
import io
import json
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any
from uuid import NAMESPACE_URL, UUID, uuid5

from openpyxl import Workbook, load_workbook
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter
from pydantic import ValidationError

from domain import commands as c
from domain.application import SiteLedger
from domain.errors import DomainError
from domain.project import Project
from domain.rules import ProjectNotFound
from domain.templates.catalog import TemplateCatalog
from domain.wording import CATEGORY_ZH, FUNDING_SOURCE_ZH
from services.api.validation_zh import reason
from services.commands.bus import CommandBus, Envelope
from services.commands.unit_of_work import Outcome
from services.users import User

PROJECTS, ITEMS = "项目", "工程事项"
PROJECT_COLUMNS = {"项目名称": "name", "区": "district", "街道": "street_office", "地址": "address",
                   "建成年份": "year_built", "楼栋数": "buildings", "户数": "households", "改造类别": "categories",
                   "资金来源": "funding_sources"}
ITEM_COLUMNS = {"项目名称": "project_name", "区": "district", "工程类型": "kind", "标题": "title", "位置": "location",
                "计划开工": "planned_start", "计划完工": "planned_end", "改造类别": "category",
                "资金来源": "funding_sources"}
REQUIRED = {PROJECTS: ("项目名称", "区"), ITEMS: ("项目名称", "区", "工程类型", "位置")}
MAX_ROWS = 50_000  # rows per sheet: a district's year (2,000 projects × 20 items is 40,000 item rows)
MAX_BYTES = 20 * 1024 * 1024  # the workbook as uploaded (40,000 item rows are about 2 MB)
BATCH = 200  # commands saved in one transaction when applying (the batch path costs grow with its square today)
DEVICE = "spreadsheet-import"
SEPARATORS = ("、", "，", ",", "；", ";", "/")


def project_id_for(district: str, name: str) -> UUID:
    return uuid5(NAMESPACE_URL, f"urn:siteledger:import:project:{district}:{name}")


def item_id_for(project_id: UUID, kind: str, location: str, title: str) -> UUID:
    return uuid5(project_id, f"works-item:{kind}:{location}:{title}")


def idempotency_key(command: c.Command) -> str:
    """The command's own content names it: the same row makes the same key (a replay), another row another."""
    canonical = json.dumps({"type": type(command).__name__, **command.model_dump(mode="json")},
                           sort_keys=True, ensure_ascii=False)
    return f"import:{type(command).__name__}:{hashlib.sha256(canonical.encode()).hexdigest()[:40]}"


@dataclass
class RowError:
    sheet: str
    row: int
    detail_zh: str

    def as_dict(self) -> dict[str, Any]:
        return {"sheet": self.sheet, "row": self.row, "detail_zh": self.detail_zh}


@dataclass
class Plan:
    """What the file asks for, row by row: the commands to run and what is wrong."""

    commands: list[tuple[str, int, c.Command]] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)
    projects: int = 0
    works_items: int = 0
    unchanged: int = 0  # rows naming a project or item already registered exactly so


class UnreadableFile(ValueError):
    """Not an XLSX workbook, or without the sheets and columns of the template."""


def template() -> bytes:
    """The sheet to fill in: the two tables, one example row each, and the words allowed in coded columns."""
    book = Workbook()
    projects = book.active
    assert projects is not None
    projects.title = PROJECTS
    projects.append(list(PROJECT_COLUMNS))
    projects.append(["金牛花苑", "徐汇区", "长桥街道", "龙川北路 100 弄", 1994, 12, 430, "基础类、完善类",
                     "中央预算内投资、居民出资"])
    items = book.create_sheet(ITEMS)
    items.append(list(ITEM_COLUMNS))
    items.append(["金牛花苑", "徐汇区", "管线迁移", "给水管改迁", "3号楼北侧", "2026-03-01", "2026-06-30",
                  "基础类", "地方专项债"])
    notes = book.create_sheet("填写说明")
    notes.append(["列", "可填写的值"])
    notes.append(["改造类别", "、".join(CATEGORY_ZH.values())])
    notes.append(["资金来源（可填多个，用“、”分隔）", "、".join(FUNDING_SOURCE_ZH.values())])
    notes.append(["工程类型", "见系统中的工程类型名称（如“管线迁移”“飞线下地”“既有多层住宅加装电梯”），或其代码"])
    notes.append(["日期", "YYYY-MM-DD，或 Excel 日期"])
    notes.append(["必填列", "项目：项目名称、区；工程事项：项目名称、区、工程类型、位置"])
    for sheet in book.worksheets:
        for cell in sheet[1]:
            cell.font = Font(bold=True)
        for column in range(1, 10):
            sheet.column_dimensions[get_column_letter(column)].width = 18
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _cell(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str):
        return value.strip()
    return value


def _rows(book: Any, sheet: str, columns: dict[str, str]) -> Iterator[tuple[int, dict[str, Any]]]:
    if sheet not in book.sheetnames:
        raise UnreadableFile(f"缺少工作表“{sheet}”（请使用下载的模板）")
    rows = book[sheet].iter_rows(values_only=True)
    header = [str(h).strip() if h is not None else "" for h in next(rows, ())]
    missing = [name for name in REQUIRED[sheet] if name not in header]
    if missing:
        raise UnreadableFile(f"工作表“{sheet}”缺少列：{'、'.join(missing)}")
    for number, values in enumerate(rows, start=2):
        if number > MAX_ROWS + 1:
            raise UnreadableFile(f"工作表“{sheet}”超过 {MAX_ROWS} 行，请分批导入")
        cells = {columns[h]: _cell(v) for h, v in zip(header, values, strict=False) if h in columns}
        if any(v not in (None, "") for v in cells.values()):
            yield number, {k: v for k, v in cells.items() if v not in (None, "")}


def _codes(text: Any, names: dict[str, str], what: str) -> list[str]:
    """'中央预算内投资、居民出资' → ['central_budget', 'resident_contributions'] (codes are accepted too)."""
    by_name = {name: code for code, name in names.items()}
    words = [str(text)]
    for separator in SEPARATORS:
        words = [part for word in words for part in word.split(separator)]
    codes = []
    for word in (w.strip() for w in words if w.strip()):
        code = by_name.get(word, word if word in names else None)
        if code is None:
            raise ValueError(f"{what}“{word}”无效，可填写：{'、'.join(names.values())}")
        codes.append(code)
    return list(dict.fromkeys(codes))


def _kind(catalog: TemplateCatalog, text: str) -> str:
    for template in catalog:
        if text in (template.code, template.name_zh):
            return template.code
    raise ValueError(f"工程类型“{text}”无效，可填写：{'、'.join(t.name_zh for t in catalog)}")


def _invalid(error: ValidationError, columns: dict[str, str]) -> str:
    names = {field_name: heading for heading, field_name in columns.items()}
    parts = [f"{names.get(str(e['loc'][0]), str(e['loc'][0])) if e['loc'] else '本行'}：{reason(e)}"
             for e in error.errors()[:5]]
    return "；".join(parts)


@dataclass
class _Known:
    """A project the file names: its id, and the project as registered (None while only the file has it)."""

    project_id: UUID
    registered: Project | None
    works_items: dict[str, str] = field(default_factory=dict)  # as registered: item id → kind
    funding: dict[str, dict[str, Any]] = field(default_factory=dict)  # as registered, "" for the project


def _known(project_id: UUID, registered: Project | None) -> _Known:
    if registered is None:
        return _Known(project_id, None)
    return _Known(project_id, registered, registered.works_items, registered.funding)


class Importer:
    """Reads a workbook into commands (the dry run), then runs them through the command bus (apply).

    Each project is loaded once (what is registered of it, its items and funding are the project's own
    record), so a file of 2,000 projects and 40,000 items costs 2,000 loads, not 42,000."""

    def __init__(self, ledger: SiteLedger) -> None:
        self.ledger = ledger

    def read(self, content: bytes, user: User) -> Plan:
        try:
            book = load_workbook(io.BytesIO(content), read_only=True, data_only=True)
        except Exception as error:  # openpyxl raises many kinds for a file that is not a workbook
            raise UnreadableFile("无法读取该文件：请上传 .xlsx 格式的工作簿（可下载模板填写）") from error
        plan = Plan()
        in_file: dict[tuple[str, str], _Known] = {}
        elsewhere: dict[tuple[str, str], _Known | str] = {}  # projects items name that the file's sheet does not
        items_seen: dict[UUID, int] = {}
        try:
            for number, row in _rows(book, PROJECTS, PROJECT_COLUMNS):
                self._project(plan, number, row, user, in_file)
            for number, row in _rows(book, ITEMS, ITEM_COLUMNS):
                self._item(plan, number, row, in_file, elsewhere, items_seen, user)
        finally:
            book.close()
        return plan

    def _project(self, plan: Plan, number: int, row: dict[str, Any], user: User,
                 known: dict[tuple[str, str], _Known]) -> None:
        try:
            categories = _codes(row.pop("categories", ""), CATEGORY_ZH, "改造类别")
            funding = _codes(row.pop("funding_sources", ""), FUNDING_SOURCE_ZH, "资金来源")
            project_id = project_id_for(str(row.get("district", "")), str(row.get("name", "")))
            register = c.RegisterProject.model_validate({**row, "project_id": project_id, "categories": categories})
        except ValidationError as error:
            plan.errors.append(RowError(PROJECTS, number, _invalid(error, PROJECT_COLUMNS)))
            return
        except ValueError as error:
            plan.errors.append(RowError(PROJECTS, number, str(error)))
            return
        key = (register.district, register.name)
        if key in known:
            plan.errors.append(RowError(PROJECTS, number, f"项目“{register.name}”（{register.district}）在本表中重复"))
            return
        problem, existing = self._project_problem(register, user)
        if problem:
            plan.errors.append(RowError(PROJECTS, number, problem))
            return
        entry = known[key] = _known(project_id, existing)
        plan.projects += 1
        if existing is not None:
            plan.unchanged += 1
        else:
            plan.commands.append((PROJECTS, number, register))
        wanted = {"category": None, "funding_sources": funding}
        if funding and entry.funding.get("") != wanted:
            plan.commands.append((PROJECTS, number, c.SetFunding(project_id=project_id, funding_sources=funding)))

    def _project_problem(self, register: c.RegisterProject, user: User) -> tuple[str | None, Project | None]:
        """What is wrong with the row (in Chinese), and the project when it is registered exactly so."""
        if user.district is not None and user.district != register.district:
            return f"“{register.district}”不在您的管辖范围内（您只能导入{user.district}的项目）", None
        registry = self.ledger.division_registry()
        try:
            if registry is not None:
                registry.check(register.district, register.street_office)
            assert register.project_id is not None
            existing = self.ledger.get_project(register.project_id)
        except ProjectNotFound:
            return None, None
        except DomainError as error:
            return error.detail_zh, None
        wanted = register.model_dump()
        same = existing.details == {k: wanted[k] for k in existing.details} and existing.name == register.name
        if same:
            return None, existing
        return f"项目“{register.name}”已登记，且内容与本行不同；修改请通过相应功能办理", None

    def _item(self, plan: Plan, number: int, row: dict[str, Any], in_file: dict[tuple[str, str], _Known],
              elsewhere: dict[tuple[str, str], _Known | str], items_seen: dict[UUID, int], user: User) -> None:
        try:
            funding = _codes(row.pop("funding_sources", ""), FUNDING_SOURCE_ZH, "资金来源")
            category = _codes(row.pop("category", ""), CATEGORY_ZH, "改造类别")
            if len(category) > 1:
                raise ValueError("工程事项只能填写一个改造类别")
            project_key = (str(row.pop("district", "")), str(row.pop("project_name", "")))
            project = in_file.get(project_key) or self._registered(project_key, user, elsewhere)
            kind = _kind(self.ledger.catalog, str(row.pop("kind", "")))
            item_id = item_id_for(project.project_id, kind, str(row.get("location", "")), str(row.get("title", "")))
            register = c.RegisterWorksItem.model_validate({**row, "project_id": project.project_id,
                                                           "item_id": item_id, "kind": kind})
        except ValidationError as error:
            plan.errors.append(RowError(ITEMS, number, _invalid(error, ITEM_COLUMNS)))
            return
        except ValueError as error:
            plan.errors.append(RowError(ITEMS, number, str(error)))
            return
        if item_id in items_seen:
            plan.errors.append(RowError(ITEMS, number, f"与第 {items_seen[item_id]} 行是同一工程事项（项目、工程类型、"
                                                       f"位置和标题都相同）"))
            return
        items_seen[item_id] = number
        if self._item_exists(project, item_id):
            plan.unchanged += 1
        else:
            plan.commands.append((ITEMS, number, register))
        plan.works_items += 1
        wanted = {"category": category[0] if category else None, "funding_sources": funding}
        if (funding or category) and project.funding.get(str(item_id)) != wanted:
            plan.commands.append((ITEMS, number, c.SetFunding(
                project_id=project.project_id, item_id=item_id, category=wanted["category"],
                funding_sources=funding)))

    def _registered(self, key: tuple[str, str], user: User, elsewhere: dict[tuple[str, str], _Known | str]) -> _Known:
        """A project not in the file's project sheet must already be registered (by an earlier import)."""
        if key not in elsewhere:
            try:
                elsewhere[key] = _known(project_id_for(*key), self.ledger.project_in_scope(user.actor,
                                                                                           project_id_for(*key)))
            except ProjectNotFound:
                elsewhere[key] = f"项目“{key[1]}”（{key[0]}）既不在“{PROJECTS}”表中，也未登记"
            except DomainError as error:
                elsewhere[key] = error.detail_zh
        found = elsewhere[key]
        if isinstance(found, str):
            raise ValueError(found)
        return found

    def _item_exists(self, project: _Known, item_id: UUID) -> bool:
        """Same id means same kind, location and title (they make the id): registering again would fail.
        A registered project lists its items; only one registered before it did is looked up on its own."""
        if project.registered is None:
            return False
        if str(item_id) in project.works_items:
            return True
        try:
            self.ledger.get_item(item_id)
        except DomainError:
            return False
        return True


@dataclass
class Applied:
    commands: int = 0  # commands run (recorded, replayed or changing nothing)
    recorded: int = 0  # commands that appended events
    replayed: int = 0  # commands this file had already run (their receipts answered)
    skipped: int = 0  # commands not run: an earlier row of their project was refused
    transactions: int = 0  # batches saved (a batch falls back to one transaction per command on a conflict)
    errors: list[RowError] = field(default_factory=list)


def _by_project(plan: Plan) -> Iterator[list[tuple[str, int, c.Command]]]:
    """Rounds of commands, one per project in each: the first command of every project, then the second…
    Commands on one project keep the file's order (each changes the project); in a round no two touch the
    same aggregate, so the command bus saves a round's commands together instead of one transaction each."""
    queues: dict[Any, deque[tuple[str, int, c.Command]]] = {}
    for entry in plan.commands:
        queues.setdefault(getattr(entry[2], "project_id", None), deque()).append(entry)
    while queues:
        yield [queue.popleft() for queue in queues.values()]
        queues = {key: queue for key, queue in queues.items() if queue}


def apply(plan: Plan, bus: CommandBus, user: User, batch: int | None = None) -> Applied:
    """Run the commands, each under the key its content makes, in batches through `CommandBus.handle_many`.

    A refused command stops its own project's later rows (they would build on it), not the other projects';
    what ran stays. Running the file again replays nothing twice: the dry run leaves out what is registered
    already, and a command it still makes answers from its receipt, so a partly applied file is finished by
    applying it again."""
    done = Applied()
    batch = batch or BATCH
    stopped: set[Any] = set()
    for round_ in _by_project(plan):
        runnable = [entry for entry in round_ if getattr(entry[2], "project_id", None) not in stopped]
        done.skipped += len(round_) - len(runnable)
        for start in range(0, len(runnable), batch):
            chunk = runnable[start:start + batch]
            results = bus.handle_many(user, [(command, Envelope(idempotency_key=idempotency_key(command),
                                                                device_id=DEVICE)) for _, _, command in chunk])
            done.transactions += 1
            for (sheet, number, command), result in zip(chunk, results, strict=True):
                if isinstance(result, Outcome):
                    done.commands += 1
                    if result.replayed:
                        done.replayed += 1
                    elif result.events:
                        done.recorded += 1
                else:
                    done.errors.append(RowError(sheet, number, result.detail_zh))
                    stopped.add(getattr(command, "project_id", None))
    done.errors.sort(key=lambda e: (e.sheet != PROJECTS, e.row))
    return done
