"""The listing names what the dashboard counts: stop-work since when and why, each defect with its
description, raised and closed times, acceptance rounds with their opening; and a rebuild gives the same rows."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import pytest

from domain import commands as c
from services.bootstrap import Container
from services.web.console import queries
from tests.support import World, inspection, photo

pytestmark = pytest.mark.integration


def rows(container: Container) -> dict[str, list[Any]]:
    query = container.db.query
    return {"items": query("SELECT item_id, district, kind, title, location, stop_reason FROM lst_items "
                           "ORDER BY item_id"),
            "defects": query("SELECT item_id, defect_id, district, severity, status, description, due_date, "
                             "closed_at IS NOT NULL FROM lst_defects ORDER BY item_id, defect_id"),
            "rounds": query("SELECT item_id, round_no, status, electorate, ended_at IS NOT NULL FROM lst_rounds "
                            "ORDER BY item_id, round_no"),
            "projects": query("SELECT name, district, households FROM lst_projects")}


def test_the_listing_follows_stop_work_defects_and_rounds(container: Container) -> None:
    world = World(container.ledger)
    stopped = world.new_item(title="2号楼给水管线迁移")
    world.run(world.station, c.OrderStopWork(item_id=stopped, reason="围挡缺失"))
    world.run(world.station, c.RaiseDefect(item_id=stopped, defect_id="d1", severity="major",
                                           description="夜间无警示灯", due_date="2026-01-05"))
    world.run(world.station, c.RaiseDefect(item_id=stopped, defect_id="d2", severity="minor", description="标识缺失"))
    world.run(world.contractor, c.ReportRectification(item_id=stopped, defect_id="d2", description="已补设",
                                                                 photos=[photo("after")]))
    world.run(world.station, c.CloseDefect(item_id=stopped, defect_id="d2"))
    accepted = world.completed_item()
    round_no, subject = world.open_round(accepted)
    container.projections.run_once()

    found = rows(container)
    assert found["projects"] == [("金牛花苑", "徐汇区", 430)]
    assert (str(stopped), "徐汇区", "pipe_relocation", "2号楼给水管线迁移", "3号楼北侧", "围挡缺失") in found["items"]
    assert found["defects"] == [(str(stopped), "d1", "徐汇区", "major", "open", "夜间无警示灯", "2026-01-05", 0),
                                (str(stopped), "d2", "徐汇区", "minor", "closed", "标识缺失", None, 1)]
    assert found["rounds"] == [(str(accepted), round_no, "open", 5, 0)]

    world.run(world.station, c.LiftStopWork(item_id=stopped))
    for resident in world.residents[:4]:
        world.sign(resident, accepted, round_no, subject)
    container.projections.run_once()
    after = rows(container)
    assert (str(stopped), "徐汇区", "pipe_relocation", "2号楼给水管线迁移", "3号楼北侧", None) in after["items"]
    assert after["rounds"] == [(str(accepted), round_no, "granted", 5, 1)]

    container.projections.rebuild("listing")
    assert rows(container) == after


def test_the_consoles_queries_read_the_listing_on_either_database(container: Container) -> None:
    world = World(container.ledger)
    late, overdue, clean = world.new_item(title="2号楼"), world.new_item(title="5号楼"), world.new_item(title="8号楼")
    world.run(world.station, c.RaiseDefect(item_id=overdue, defect_id="d1", severity="major",
                                           description="夜间无警示灯", due_date="2026-01-05"))
    world.run(world.station, c.OrderStopWork(item_id=late, reason="围挡缺失"))
    world.run(world.supervisor, inspection(clean, "survey_and_marking"))
    container.projections.run_once()
    now = datetime(2026, 1, 9, 12, tzinfo=UTC)

    found = queries.attention(container.db, "徐汇区", date(2026, 1, 9), now)
    assert [(r["item_id"], r["days"]) for r in found.overdue] == [(str(overdue), 4)]
    assert [(r["item_id"], r["reason"]) for r in found.stopped] == [(str(late), "围挡缺失")]
    assert found.counts == {"overdue": 1, "stopped": 1, "flagged": 0, "stalled": 0}
    assert queries.attention(container.db, "黄浦区", date(2026, 1, 9), now).total == 0
    [project] = queries.projects(container.db, "徐汇区")
    assert (project["item_count"], project["stop_work"], project["by_state"]) == (3, 1, {"registered": 2,
                                                                                          "in_progress": 1})
    assert [i["title"] for i in queries.project_items(container.db, str(world.project_id), None, None, "5号")] == \
        ["5号楼"]
    [district] = queries.districts(container.db, date(2026, 1, 9))
    assert (district["district"], district["households"], district["overdue"]) == ("徐汇区", 430, 1)
    weekly = queries.defects_by_week(container.db, "徐汇区", date.today())
    assert sum(weekly["opened"]) == 1 and sum(weekly["closed"]) == 0
    assert queries.first_position_since(container.db, now) > 0
