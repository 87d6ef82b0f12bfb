"""A district's workbook imported through HTTP (FastAPI's TestClient, the real app, auth and body guard): the dry
run, the first import and the same file again (which must record nothing). Prints JSON.

The workbook is written with openpyxl the way a district's clerk would fill the template: P projects, each with
I works items (kinds in turn, each with a category and funding sources), so a file makes 2·P + 2·P·I commands
(each project and item registered and its funding set).

The same file is then imported into a fresh store with one transaction per command (`BATCH = 1`, the path
before batching) in the same run: `batched_over_single` is the ratio of the two first imports' commands/s.
Over HTTP the read models run in the app's process as in the embedded deployment, catching up (on the same
GIL) while the import runs; `command_path` times the import alone (`Importer.read` and `apply` on a store whose
read models are not running, as when they run in their own process), batched and one by one.

    python -m benchmarks.import_xlsx [--projects 200] [--items 10] [--store sqlite|postgres] [--no-compare]
"""

from __future__ import annotations

import argparse
import io
import json
import os
import sys
import time
from typing import Any

from fastapi.testclient import TestClient
from openpyxl import Workbook

from benchmarks.common import settings_for
from domain.actors import Role
from services import spreadsheet_import
from services.api.app import create_app
from services.bootstrap import build
from services.spreadsheet_import import ITEM_COLUMNS, ITEMS, PROJECT_COLUMNS, PROJECTS

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
KINDS = ("管线迁移", "飞线下地", "既有多层住宅加装电梯", "燃气管线迁移")
FUNDING = ("中央预算内投资、居民出资", "地方专项债", "超长期特别国债、社会资本")


def district_workbook(projects: int, items: int, district: str = "徐汇区") -> bytes:
    """P projects of one district, each with I works items, as the template's two sheets."""
    book = Workbook(write_only=True)
    sheet = book.create_sheet(PROJECTS)
    sheet.append(list(PROJECT_COLUMNS))
    for p in range(projects):
        sheet.append([f"第{p + 1}小区", district, "长桥街道", f"龙川北路 {p + 1} 弄", 1980 + p % 20, 4 + p % 12,
                      120 + p % 300, "基础类、完善类", FUNDING[p % len(FUNDING)]])
    item_sheet = book.create_sheet(ITEMS)
    item_sheet.append(list(ITEM_COLUMNS))
    for p in range(projects):
        for i in range(items):
            item_sheet.append([f"第{p + 1}小区", district, KINDS[i % len(KINDS)], f"第{i + 1}项改造",
                               f"{i // len(KINDS) + 1}号楼", "2026-03-01", "2026-10-31",
                               "基础类" if i % 2 else "提升类", FUNDING[(p + i) % len(FUNDING)]])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def timed_upload(client: TestClient, token: str, content: bytes, dry_run: bool = False) -> dict[str, Any]:
    started = time.perf_counter()
    response = client.post(f"/api/v1/imports/projects{'?dry_run=true' if dry_run else ''}", content=content,
                           headers={"Authorization": f"Bearer {token}", "Content-Type": XLSX})
    seconds = time.perf_counter() - started
    if response.status_code != 200:
        raise RuntimeError(f"import answered {response.status_code}: {response.text[:500]}")
    answer = response.json()
    return {"seconds": round(seconds, 3), "commands": answer["commands"], "recorded": answer["recorded"],
            "replayed": answer["replayed"], "unchanged": answer["unchanged"],
            "transactions": answer["transactions"],
            "commands_per_s": round(answer["commands"] / seconds, 1) if answer["commands"] else None}


def imports(content: bytes, store: str, second: bool = True) -> dict[str, Any]:
    with settings_for(store, s3_endpoint="127.0.0.1:9") as settings:
        container = build(settings)
        try:
            admin = container.users.create(Role.ADMIN, "业主管理员")
            token = container.users.issue_token(admin.user_id)
            head = container.ledger.recorder.max_notification_id
            with TestClient(create_app(container)) as client:
                dry = timed_upload(client, token, content, dry_run=True)
                before = int(head() or 0)
                first = timed_upload(client, token, content)
                figures = {"dry_run": dry, "first": {**first, "events": int(head() or 0) - before}}
                if second:
                    after_first = int(head() or 0)
                    again = timed_upload(client, token, content)
                    figures["second"] = {**again, "events": int(head() or 0) - after_first}
        finally:
            container.close()
    return figures


def command_path(content: bytes, store: str, batch: int) -> dict[str, Any]:
    """The import without HTTP and without read models in the process: reading the file, then the commands."""
    with settings_for(store, s3_endpoint="127.0.0.1:9") as settings:
        container = build(settings)
        try:
            admin = container.users.create(Role.ADMIN, "业主管理员")
            started = time.perf_counter()
            plan = spreadsheet_import.Importer(container.ledger).read(content, admin)
            read = time.perf_counter()
            done = spreadsheet_import.apply(plan, container.commands, admin, batch=batch)
            applied = time.perf_counter()
        finally:
            container.close()
    assert not done.errors, done.errors[:3]
    return {"read_seconds": round(read - started, 3), "apply_seconds": round(applied - read, 3),
            "commands": done.commands, "transactions": done.transactions,
            "commands_per_s": round(done.commands / (applied - read), 1)}


def run(projects: int, items: int, store: str, compare: bool) -> dict[str, Any]:
    content = district_workbook(projects, items)
    started_load = [round(x, 2) for x in os.getloadavg()]
    figures = imports(content, store)
    result: dict[str, Any] = {"benchmark": "import_xlsx", "store": store, "projects": projects,
                              "items_per_project": items, "file_bytes": len(content),
                              "batch": spreadsheet_import.BATCH, **figures}
    if compare:
        batch, spreadsheet_import.BATCH = spreadsheet_import.BATCH, 1
        try:
            single = imports(content, store, second=False)["first"]
        finally:
            spreadsheet_import.BATCH = batch
        result["one_transaction_per_command"] = single
        result["batched_over_single"] = round(figures["first"]["commands_per_s"] / single["commands_per_s"], 2)
        batched = command_path(content, store, spreadsheet_import.BATCH)
        one_by_one = command_path(content, store, 1)
        result["command_path"] = {"batched": batched, "one_transaction_per_command": one_by_one,
                                  "batched_over_single": round(batched["commands_per_s"]
                                                               / one_by_one["commands_per_s"], 2)}
    result["load_average"] = {"start": started_load, "end": [round(x, 2) for x in os.getloadavg()]}
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--projects", type=int, default=200)
    parser.add_argument("--items", type=int, default=10)
    parser.add_argument("--store", choices=("sqlite", "postgres"), default="sqlite")
    parser.add_argument("--no-compare", dest="compare", action="store_false",
                        help="skip the import with one transaction per command")
    args = parser.parse_args()
    print(f"importing {args.projects} projects × {args.items} items on {args.store}", file=sys.stderr)
    print(json.dumps(run(args.projects, args.items, args.store, args.compare), ensure_ascii=False, indent=2))


if __name__ == "__main__":
    main()
