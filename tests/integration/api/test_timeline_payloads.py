"""The timeline shows each event's own fields read from the log, not from a copy: on a project's page that mixes
several items and the project's own events, and under a filter. (The station's item page reads the same way:
tests/integration/web/test_console_pages.py checks what it shows of inspections and defects.)"""

from __future__ import annotations

from typing import Any

import pytest

from tests.http_support import ApiWorld

pytestmark = pytest.mark.integration


def log_fields(api: ApiWorld, item_id: str) -> dict[int, dict[str, Any]]:
    """What the item's own log route (`/events`, read from the event store) says each version holds."""
    events = api.ok("GET", f"/api/v1/works-items/{item_id}/events", api.station)["items"]
    return {e["version"]: {k: v for k, v in e["data"].items() if k != "template"} for e in events}


def test_a_project_page_shows_every_events_fields_as_the_log_holds_them(api: ApiWorld) -> None:
    first, second = api.item(), api.item("flying_wire_burial")
    assert api.inspect(first, "survey_and_marking", measurements={"utility_owner": "自来水公司"}).status_code == 201
    api.ok("POST", f"/api/v1/works-items/{second}/defects", api.supervisor,
           json={"severity": "minor", "description": "围挡缺口"})
    last = api.inspect(first, "excavation")
    assert last.status_code == 201, last.text
    after = last.headers["x-log-position"]

    page = api.ok("GET", f"/api/v1/projects/{api.project_id}/timeline?after={after}&limit=1000", api.station)
    expected = {item: log_fields(api, item) for item in (first, second)}
    items = [e for e in page["items"] if e["item_id"]]
    assert {e["item_id"] for e in items} == {first, second}
    for entry in items:
        assert entry["data"] == expected[entry["item_id"]][entry["version"]], entry["type"]
    assert any(e["data"].get("measurements") == {"utility_owner": "自来水公司"} for e in items)
    assert any(e["data"].get("description") == "围挡缺口" for e in items)
    projects = [e for e in page["items"] if not e["item_id"]]
    assert projects and all(e["data"] for e in projects)  # the project's own events, from its own log

    later = api.ok("GET", f"/api/v1/projects/{api.project_id}/timeline?kind=pipe_relocation&offset=1", api.station)
    assert [(e["item_id"], e["version"], e["data"]) for e in later["items"]] == \
        [(first, v, expected[first][v]) for v in sorted(expected[first])[1:]]
    assert "data" not in {c[1] for c in api.container.db.query("PRAGMA table_info(timeline_events)")}

