"""A district's workbook imported through HTTP (FastAPI's TestClient, the real app, auth and body guard): the dry
run, the first import and the same file again (which must record nothing). Prints JSON.

The workbook is written with openpyxl the way a district's clerk would fill the template: P projects, each with
I works items (kinds in turn, each with a category and funding sources), so a file makes 2·P + 2·P·I commands
(each project and item registered and its funding set).

    python -m benchmarks.import_xlsx [--projects 200] [--items 10] [--store sqlite|postgres]
"""

from __future__ import annotations

import argparse
import io
import json
import os
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient
from openpyxl import Workbook

from domain.actors import Role
from services.api.app import create_app
from services.bootstrap import build
from services.settings import Settings
from services.spreadsheet_import import ITEM_COLUMNS, ITEMS, PROJECT_COLUMNS, PROJECTS
from tests.pg import postgres_env

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


@contextmanager
def settings_for(store: str) -> Iterator[Settings]:
    with tempfile.TemporaryDirectory() as tmp:
        common: dict[str, Any] = {"data_dir": Path(tmp) / "data", "s3_endpoint": "127.0.0.1:9"}
        if store == "sqlite":
            yield Settings(event_store="sqlite", **common)
            return
        gen = postgres_env()
        env = next(gen)
        try:
            yield Settings(event_store="postgres", postgres_db=env["POSTGRES_DBNAME"],
                           postgres_user=env["POSTGRES_USER"], postgres_host=env["POSTGRES_HOST"],
                           postgres_port=int(env["POSTGRES_PORT"]), postgres_password=env["POSTGRES_PASSWORD"],
                           **common)
        finally:
            gen.close()


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
            "commands_per_s": round(answer["commands"] / seconds, 1) if answer["commands"] else None}


def run(projects: int, items: int, store: str) -> dict[str, Any]:
    content = district_workbook(projects, items)
    with settings_for(store) as settings:
        container = build(settings)
        try:
            admin = container.users.create(Role.ADMIN, "业主管理员")
            token = container.users.issue_token(admin.user_id)
            head = container.ledger.recorder.max_notification_id
            with TestClient(create_app(container)) as client:
                dry = timed_upload(client, token, content, dry_run=True)
                before = int(head() or 0)
                first = timed_upload(client, token, content)
                after_first = int(head() or 0)
                second = timed_upload(client, token, content)
                after_second = int(head() or 0)
        finally:
            container.close()
    return {"benchmark": "import_xlsx", "store": store, "projects": projects, "items_per_project": items,
            "file_bytes": len(content), "dry_run": dry, "first": {**first, "events": after_first - before},
            "second": {**second, "events": after_second - after_first},
            "load_average": [round(x, 2) for x in os.getloadavg()]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--projects", type=int, default=200)
    parser.add_argument("--items", type=int, default=10)
    parser.add_argument("--store", choices=("sqlite", "postgres"), default="sqlite")
    args = parser.parse_args()
    print(f"importing {args.projects} projects × {args.items} items on {args.store}", file=sys.stderr)
    print(json.dumps(run(args.projects, args.items, args.store), ensure_ascii=False, indent=2))


if __name__ == "__main__":
    main()
