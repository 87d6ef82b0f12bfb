"""The SQL scope builder says what `domain.permissions.may_see` says, for every role; cursors are opaque
but checked; search text is taken literally; a count stops at its cap and says so; a search walks its
matches."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest

from domain.actors import Actor, Role
from projections.listing import Listing, short_grams
from projections.listing_queries import (
    COUNT_CAP,
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
            tx.execute("INSERT INTO lst_short (rowid, body) VALUES (?, ?)", (n + 1, " ".join(short_grams(f"小区{n}"))))
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
    query = ListQuery("projects", "lst_projects", "project_id", ("registered_at", "project_id"))
    first = query.page(db, 2, 0, None)
    assert [r[0] for r in first.rows] == ["p1", "p2"] and (first.total, first.exact) == (3, True)
    assert first.next_cursor
    last = query.page(db, 2, 0, first.next_cursor)
    assert [r[0] for r in last.rows] == ["p3"] and last.next_cursor is None and last.total == 3
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


def add_projects(db: Database, count: int, name: str = "花园") -> list[str]:
    """Projects q0… in 平谷区, registered in order after the fixture's, each with its text indexed."""
    made = []
    with db.transaction() as tx:
        for n in range(count):
            project, doc = f"q{n:03d}", 100 + n
            tx.execute("INSERT INTO lst_projects VALUES (?, 1, ?, '平谷区', '街道', '路', NULL, 1, 1, ',basic,', ?, ?, "
                       "?, ',', NULL)", (project, f"{name}{n}", f"2026-02-01T{n:06d}", f"{name}{n} 路", doc))
            tx.execute("INSERT INTO lst_text (rowid, body) VALUES (?, ?)", (doc, f"{name}{n} 路"))
            tx.execute("INSERT INTO lst_short (rowid, body) VALUES (?, ?)", (doc, " ".join(short_grams(f"{name}{n}"))))
            made.append(project)
    return made


def test_a_count_stops_at_its_cap_and_an_offset_client_still_reaches_the_last_row(db: Database) -> None:
    assert COUNT_CAP == 1000
    made = ["p1", "p2", "p3", *add_projects(db, 7)]  # ten rows, a cap of four

    def query() -> ListQuery:
        return ListQuery("projects", "lst_projects", "project_id", ("registered_at", "project_id"), cap=4)

    first = query().page(db, 3, 0, None)
    assert (first.total, first.exact) == (5, False)  # at least cap + 1
    assert (query().page(db, 3, 6, None).total, query().page(db, 3, 6, None).exact) == (10, False)  # past the page
    assert (query().page(db, 3, 7, None).total, query().page(db, 3, 7, None).exact) == (10, True)  # the end seen
    held: list[str] = []
    while True:  # the tablet's client (field_client/api.py `paged`): offset until it holds `total` rows
        page = query().page(db, 3, len(held), None)
        held += [r[0] for r in page.rows]
        if not page.rows or len(held) >= page.total:
            break
    assert held == made
    assert query().when("lst_projects.district = ?", "徐汇区").page(db, 1, 0, None).total == 2  # under the cap
    assert query().page(db, 3, 0, first.next_cursor).exact is False  # a cursor page counts too
    beyond = query().page(db, 3, 50, None)
    assert beyond.rows == [] and (beyond.total, beyond.exact) == (5, False)


def test_a_search_walks_its_matches_in_registration_order_with_its_own_cursors(db: Database) -> None:
    made = add_projects(db, 5, name="金牛花苑")
    add_projects_elsewhere = ListQuery("projects", "lst_projects", "project_id", ("registered_at", "project_id"))
    plain_cursor = add_projects_elsewhere.page(db, 1, 0, None).next_cursor
    walked: list[str] = []
    cursor = None
    while True:
        query = ListQuery("projects", "lst_projects", "project_id", ("registered_at", "project_id"))
        page = query.when("lst_projects.district = ?", "平谷区").matching(db, "牛花苑").page(db, 2, 0, cursor)
        walked += [r[0] for r in page.rows]
        assert (page.total, page.exact) == (5, True)
        if not (cursor := page.next_cursor):
            break
    assert walked == made
    query = ListQuery("projects", "lst_projects", "project_id", ("registered_at", "project_id")).matching(db, "牛花苑")
    with pytest.raises(BadCursor):  # a plain list's cursor is not a search's
        query.page(db, 2, 0, plain_cursor)
    short = ListQuery("projects", "lst_projects", "project_id", ("registered_at", "project_id")).matching(db, "牛花")
    assert [r[0] for r in short.page(db, 10, 0, None).rows] == made  # below a trigram: its own index
    assert short.page(db, 1, 0, None).next_cursor  # …with its own cursors
    one = ListQuery("projects", "lst_projects", "project_id", ("registered_at", "project_id")).matching(db, "牛")
    assert [r[0] for r in one.page(db, 10, 0, None).rows] == made
    assert " ".join(short_grams("Sunny 花园, A1")) == "s su u un n nn ny y 花 花园 园 a a1 1"
    assert ListQuery("projects", "lst_projects", "project_id", ("registered_at", "project_id")
                     ).matching(db, "牛花苑3").page(db, 10, 0, None).rows[0][0] == made[3]
