"""The SQL scope builder says what `domain.permissions.may_see` says, for every role; cursors are opaque
but checked; search text is taken literally."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest

from domain.actors import Actor, Role
from projections.listing import Listing, next_state
from projections.listing_queries import (
    BadCursor,
    ListQuery,
    decode_cursor,
    encode_cursor,
    like_pattern,
    scope,
    search,
)
from services.db import Database

SUPERVISOR, CONTRACTOR, RESIDENT = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()


@pytest.fixture
def db(tmp_path: Path) -> Database:
    """Three projects: p1 (徐汇区) with an assigned supervisor, contractor and a resident; p2 (徐汇区), p3 (平谷区)."""
    database = Database(f"sqlite:///{tmp_path / 'lists.db'}")
    with database.transaction() as tx:
        for statement in Listing().ddl:
            tx.execute(statement)
        for n, (project, district) in enumerate((("p1", "徐汇区"), ("p2", "徐汇区"), ("p3", "平谷区"))):
            tx.execute("INSERT INTO lst_projects VALUES (?, 1, ?, ?, '街道', '路', NULL, 1, 1, ',basic,', ?, ?, ?, "
                       "',', NULL)",
                       (project, f"小区{n}", district, f"2026-01-0{n + 1}", f"小区{n} 路", n + 1))
            tx.execute("INSERT INTO lst_text (rowid, body) VALUES (?, ?)", (n + 1, f"小区{n} 路"))
        tx.execute("INSERT INTO lst_assignments VALUES ('p1', ?, 'supervisor')", (str(SUPERVISOR),))
        tx.execute("INSERT INTO lst_assignments VALUES ('p1', ?, 'contractor')", (str(CONTRACTOR),))
        tx.execute("INSERT INTO lst_assignments VALUES ('p3', ?, 'contractor')", (str(SUPERVISOR),))  # other role
        tx.execute("INSERT INTO lst_members VALUES ('p1', 'm1', ?)", (str(RESIDENT),))
    return database


@pytest.mark.parametrize(("actor", "visible"), [
    (Actor(uuid.uuid4(), Role.ADMIN), {"p1", "p2", "p3"}),
    (Actor(uuid.uuid4(), Role.ADMIN, "平谷区"), {"p3"}),
    (Actor(uuid.uuid4(), Role.STATION, "徐汇区"), {"p1", "p2"}),
    (Actor(uuid.uuid4(), Role.STATION), set()),  # a station without a district sees nothing, as may_see says
    (Actor(SUPERVISOR, Role.SUPERVISOR), {"p1"}),  # not p3, where the same id holds another role
    (Actor(CONTRACTOR, Role.CONTRACTOR), {"p1"}),
    (Actor(uuid.uuid4(), Role.CONTRACTOR), set()),
    (Actor(RESIDENT, Role.RESIDENT), {"p1"}),
    (Actor(SUPERVISOR, Role.RESIDENT), set()),  # an assignment is not a membership
])
def test_scope_in_sql_follows_may_see(db: Database, actor: Actor, visible: set[str]) -> None:
    condition, params = scope(actor, "lst_projects")
    rows = db.query(f"SELECT project_id FROM lst_projects WHERE {condition}", params)
    assert {r[0] for r in rows} == visible


def test_pages_by_cursor_and_cursors_belong_to_their_list(db: Database) -> None:
    query = ListQuery("projects", "lst_projects", "project_id, registered_at, project_id",
                      ("registered_at", "project_id"))
    rows, total, after = query.page(db, 2, 0, None)
    assert [r[0] for r in rows] == ["p1", "p2"] and total == 3 and after
    rows, _, last = query.page(db, 2, 0, after)
    assert [r[0] for r in rows] == ["p3"] and last is None
    assert decode_cursor("projects", encode_cursor("projects", ["2026", "p1"]), 2) == ["2026", "p1"]
    for forged in (encode_cursor("defects", ["2026", "p1"]), encode_cursor("projects", ["2026"]), "%%%", "e30",
                   encode_cursor("projects", [["x"], "p1"])):
        with pytest.raises(BadCursor):
            decode_cursor("projects", forged, 2)


def test_search_takes_text_literally(db: Database) -> None:
    assert like_pattern("100%_\\") == "%100\\%\\_\\\\%"
    for text, found in (("小区1", {"p2"}), ("小区", {"p1", "p2", "p3"}), ("区", {"p1", "p2", "p3"}),
                        ('"', set()), ("%", set())):
        condition, params = search(db, "lst_projects", text)
        assert {r[0] for r in db.query(f"SELECT project_id FROM lst_projects WHERE {condition}", params)} == found


def test_item_states_move_as_the_events_apply_them() -> None:
    from domain import works_item_events as e

    def event(kind: type) -> object:
        return object.__new__(kind)  # only the type matters to next_state

    assert next_state("registered", event(e.InspectionRecorded)) == "in_progress"
    assert next_state("accepted", event(e.DefectRaised)) == "in_progress"
    assert next_state("registered", event(e.DefectRaised)) == "registered"
    assert next_state("in_progress", event(e.WorksCompleted)) == "completed"
    assert next_state("completed", event(e.AcceptanceRequested)) == "awaiting_acceptance"
    assert next_state("awaiting_acceptance", event(e.AcceptanceRejected)) == "in_progress"
    assert next_state("accepted", event(e.ClosedOut)) == "closed_out"
    assert next_state("closed_out", event(e.Reopened)) == "in_progress"
    assert next_state("awaiting_acceptance", event(e.AcceptanceRoundCancelled)) == "awaiting_acceptance"
