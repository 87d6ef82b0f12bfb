"""A tablet's store with a cache filled by hand (the real built-in templates, as the API serves them)."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from domain.templates import builtin_catalog
from field_client.store import Store

PROJECT = "0b5c8a8e-0000-4000-8000-000000000001"
SUPERVISOR = {"id": "5a1e0000-0000-4000-8000-00000000000a", "role": "supervisor", "name": "李工"}


def kinds() -> list[dict[str, Any]]:
    return [t.model_dump(mode="json") for t in builtin_catalog()]


def item_view(kind: str = "pipe_relocation", **extra: Any) -> dict[str, Any]:
    """The shape of GET /api/v1/works-items/{id}, reduced to what the tablet reads."""
    template = next(k for k in kinds() if k["code"] == kind)
    hold_points = [{"code": hp["code"], "name_zh": hp["name_zh"], "status": "pending", "status_zh": "待检查",
                    "after": hp["after"], "min_photos": hp["min_photos"], "construction": hp["construction"]}
                   for hp in template["hold_points"]]
    return {"id": str(uuid.uuid4()), "project_id": PROJECT, "kind": kind, "kind_zh": template["name_zh"],
            "title": "3号楼管线", "location": "3号楼北侧", "state": "registered", "state_zh": "已登记",
            "hold_points": hold_points, "hold_points_passed": 0, "defects": [], "stop_work": None,
            "acceptance_rounds": [], "links": {}, **extra}


def fill(store: Store, items: list[dict[str, Any]], user: dict[str, Any] | None = None) -> None:
    store.replace_cache(kinds(), [{"id": PROJECT, "name": "金牛花苑", "district": "徐汇区"}], items)
    store.put(user=json.dumps(user or SUPERVISOR), server="http://127.0.0.1:9", token="slt_unit")


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    with Store(tmp_path / "home") as opened:
        yield opened
