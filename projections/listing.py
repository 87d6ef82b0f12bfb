"""Lists and search: one row per project, works item, defect, stop-work order and acceptance round.

The same rows name what the dashboard only counts, for the station's console and attention lists: which item is
stopped since when and why, each defect with its description and due date, each round with its opening.

Every list route answers from these rows with its scope in SQL, so no list loads an aggregate. The rows
carry what scope needs (a project's district, its assignments and residents' group), what filters need
(street office, categories, kind, state, dates) and a text to search. Chinese has no spaces between
words, so search uses what each store offers for substrings: on SQLite an FTS5 table with the trigram
tokenizer (`lst_text`, rowid = the log position of the event that wrote the text), on PostgreSQL a
`pg_trgm` GIN index on each table's district and `search_text` (`_pg_search`). A registration is inserted once
(see `Listing`); the tables are this read model's own and a rebuild makes them again.
"""

from __future__ import annotations

from typing import Any

from domain.project import (
    FundingSet,
    MemberAdded,
    MemberRemoved,
    ProjectRegistered,
    UserAssigned,
    UserUnassigned,
)
from domain.templates.frozen import FrozenTemplate
from domain.works_item_events import (
    AcceptanceGranted,
    AcceptanceRejected,
    AcceptanceRequested,
    AcceptanceRoundCancelled,
    ClosedOut,
    DefectClosed,
    DefectRaised,
    InspectionRecorded,
    RectificationRejected,
    RectificationReported,
    Registered,
    Reopened,
    ResidentSigned,
    StopWorkLifted,
    StopWorkOrdered,
    WorksCompleted,
)
from projections.driver import Batch

ROUND_ENDINGS = {AcceptanceGranted: "granted", AcceptanceRejected: "rejected", AcceptanceRoundCancelled: "cancelled"}
DEFECT_STATUS = {RectificationReported: "rectification_reported", RectificationRejected: "open",
                 DefectClosed: "closed"}
UNDONE_BY_A_DEFECT = ("completed", "awaiting_acceptance", "accepted")
ITEM_EVENTS = (Registered, InspectionRecorded, DefectRaised, RectificationReported, DefectClosed,
               RectificationRejected, StopWorkOrdered, StopWorkLifted, WorksCompleted, AcceptanceRequested,
               ResidentSigned, AcceptanceGranted, AcceptanceRejected, AcceptanceRoundCancelled, ClosedOut, Reopened)


def short_grams(text: str) -> list[str]:
    """Each letter or digit of `text` and each pair of them side by side, lowercased, once: `lst_short`'s
    tokens (SQLite) or a row's `short_grams` (PostgreSQL), what one or two characters are found by (a trigram
    index has nothing shorter than three)."""
    lowered, grams = text.lower(), []
    for i, char in enumerate(lowered):
        if char.isalnum():
            grams.append(char)
            if i + 1 < len(lowered) and lowered[i + 1].isalnum():
                grams.append(lowered[i:i + 2])
    return list(dict.fromkeys(grams))


class Listing:
    """The read model behind every list and `?q=`; `postgres` picks the search index's form.

    A registration is inserted, not replaced: both drivers apply an event to a read model once (the event store's
    by position, compare-and-set, Kafka's by each aggregate's version), so a row already there would be a bug to
    fail on, not a replay to absorb (and forgetting first cost three statements a registration)."""

    name = "listing"
    topics = tuple(t.TOPIC for t in (ProjectRegistered, UserAssigned, UserUnassigned, MemberAdded, MemberRemoved,
                                     FundingSet,
                                     *ITEM_EVENTS))

    def __init__(self, postgres: bool = False) -> None:
        self.postgres = postgres
        text = "search_text TEXT NOT NULL, doc_id BIGINT NOT NULL"
        self.ddl: tuple[str, ...] = (
            "CREATE TABLE IF NOT EXISTS lst_projects (project_id TEXT PRIMARY KEY, version INTEGER NOT NULL, "
            "name TEXT NOT NULL, district TEXT NOT NULL, street_office TEXT NOT NULL, address TEXT NOT NULL, "
            "year_built INTEGER, buildings INTEGER NOT NULL, households INTEGER NOT NULL, "
            f"categories TEXT NOT NULL, registered_at TEXT NOT NULL, {text}, funding_sources TEXT NOT NULL, "
            "funding_category TEXT)",
            "CREATE INDEX IF NOT EXISTS lst_projects_order ON lst_projects (registered_at, project_id)",
            "CREATE INDEX IF NOT EXISTS lst_projects_district ON lst_projects (district, registered_at, project_id)",
            "CREATE TABLE IF NOT EXISTS lst_assignments (project_id TEXT NOT NULL, user_id TEXT NOT NULL, "
            "role TEXT NOT NULL, PRIMARY KEY (project_id, user_id))",
            "CREATE INDEX IF NOT EXISTS lst_assignments_user ON lst_assignments (user_id, role, project_id)",
            "CREATE TABLE IF NOT EXISTS lst_members (project_id TEXT NOT NULL, member_id TEXT NOT NULL, "
            "user_id TEXT NOT NULL, PRIMARY KEY (project_id, member_id))",
            "CREATE INDEX IF NOT EXISTS lst_members_user ON lst_members (user_id, project_id)",
            "CREATE TABLE IF NOT EXISTS lst_items (item_id TEXT PRIMARY KEY, version INTEGER NOT NULL, "
            "project_id TEXT NOT NULL, district TEXT NOT NULL, street_office TEXT NOT NULL, kind TEXT NOT NULL, "
            "kind_zh TEXT NOT NULL, title TEXT NOT NULL, location TEXT NOT NULL, state TEXT NOT NULL, "
            "contractor_id TEXT, planned_start TEXT, planned_end TEXT, open_defects INTEGER NOT NULL, "
            f"stop_since TEXT, template_digest TEXT NOT NULL, registered_at TEXT NOT NULL, {text}, "
            "category TEXT, funding_sources TEXT, stop_reason TEXT)",  # funding null: the project's
            "CREATE INDEX IF NOT EXISTS lst_items_order ON lst_items (registered_at, item_id)",
            "CREATE INDEX IF NOT EXISTS lst_items_project ON lst_items (project_id, registered_at, item_id)",
            "CREATE INDEX IF NOT EXISTS lst_items_district ON lst_items (district, registered_at, item_id)",
            # the console's stopped items, longest stopped first; partial: a running item costs no entry
            "CREATE INDEX IF NOT EXISTS lst_items_stopped ON lst_items (district, stop_since) "
            "WHERE stop_since IS NOT NULL",
            "CREATE TABLE IF NOT EXISTS lst_defects (item_id TEXT NOT NULL, defect_id TEXT NOT NULL, "
            "project_id TEXT NOT NULL, district TEXT NOT NULL, street_office TEXT NOT NULL, severity TEXT NOT NULL, "
            "status TEXT NOT NULL, description TEXT NOT NULL, hold_point TEXT, due_date TEXT, "
            f"raised_at TEXT NOT NULL, closed_at TEXT, {text}, PRIMARY KEY (item_id, defect_id))",
            "CREATE INDEX IF NOT EXISTS lst_defects_order ON lst_defects (raised_at, item_id, defect_id)",
            "CREATE INDEX IF NOT EXISTS lst_defects_district ON lst_defects (district, raised_at, item_id, defect_id)",
            "CREATE INDEX IF NOT EXISTS lst_defects_project ON lst_defects (project_id, raised_at)",
            # the console's overdue defects, most overdue first; partial: a closed defect leaves it
            "CREATE INDEX IF NOT EXISTS lst_defects_due ON lst_defects (district, due_date) WHERE status <> 'closed'",
            "CREATE TABLE IF NOT EXISTS lst_stops (item_id TEXT NOT NULL, order_id TEXT NOT NULL, "
            "project_id TEXT NOT NULL, district TEXT NOT NULL, street_office TEXT NOT NULL, reason TEXT NOT NULL, "
            "ordered_at TEXT NOT NULL, lifted_at TEXT, PRIMARY KEY (item_id, order_id))",
            "CREATE INDEX IF NOT EXISTS lst_stops_order ON lst_stops (ordered_at, item_id, order_id)",
            "CREATE INDEX IF NOT EXISTS lst_stops_district ON lst_stops (district, ordered_at, item_id, order_id)",
            "CREATE INDEX IF NOT EXISTS lst_stops_project ON lst_stops (project_id, ordered_at)",
            "CREATE TABLE IF NOT EXISTS lst_rounds (item_id TEXT NOT NULL, round_no INTEGER NOT NULL, "
            "project_id TEXT NOT NULL, district TEXT NOT NULL, street_office TEXT NOT NULL, status TEXT NOT NULL, "
            "electorate INTEGER NOT NULL, signed INTEGER NOT NULL, opened_at TEXT NOT NULL, ended_at TEXT, "
            "PRIMARY KEY (item_id, round_no))",
            "CREATE INDEX IF NOT EXISTS lst_rounds_order ON lst_rounds (opened_at, item_id, round_no)",
            "CREATE INDEX IF NOT EXISTS lst_rounds_district ON lst_rounds (district, opened_at, item_id, round_no)",
            "CREATE INDEX IF NOT EXISTS lst_rounds_project ON lst_rounds (project_id, opened_at)",
            *(self._pg_search() if postgres else self._sqlite_search()),
        )
        self.tables: tuple[str, ...] = ("lst_projects", "lst_assignments", "lst_members", "lst_items", "lst_defects",
                                        "lst_stops", "lst_rounds", *(() if postgres else ("lst_text", "lst_short")))

    @staticmethod
    def _sqlite_search() -> tuple[str, ...]:
        return ("CREATE VIRTUAL TABLE IF NOT EXISTS lst_text USING fts5(body, tokenize = 'trigram')",
                # text shorter than a trigram: each letter and pair of letters a token (no positions kept)
                "CREATE VIRTUAL TABLE IF NOT EXISTS lst_short USING fts5(body, tokenize = 'unicode61 "
                "remove_diacritics 0', detail = none)", *(
            # from the text's matches to their rows, and to whether the caller's scope holds them without the row
            f"CREATE INDEX IF NOT EXISTS {table}_doc_scope ON {table} (doc_id, district, project_id)"
            for table in ("lst_projects", "lst_items", "lst_defects")))

    @staticmethod
    def _pg_search() -> tuple[str, ...]:
        """Each text index also holds the district (btree_gin), so a station's search is one index scan that
        yields only its district's matches: with the text alone, a capped count in a district read three rows
        for each one it kept, and the planner chose to scan the table for it (a broad two-letter term: 18-29 ms
        -> 4 ms at 100,000 items). Without a district condition the same index serves the text alone.

        A GIN index's pending list (new entries not yet merged) is read by every search and counted by the
        planner as cost: at its default 4 MB a rare term took 3.7 ms instead of 0.1, and the inflated cost made
        the planner scan the table instead. 256 kB keeps it short while inserts still merge in batches
        (`fastupdate = off` made inserting 6 times slower)."""
        merged = "WITH (gin_pending_list_limit = 256)"
        return ("CREATE EXTENSION IF NOT EXISTS pg_trgm", "CREATE EXTENSION IF NOT EXISTS btree_gin", *(
            statement for table in ("lst_projects", "lst_items", "lst_defects") for statement in (
            # text shorter than a trigram: the row's letters and pairs of letters (the last column, PostgreSQL's
            # own: an INSERT naming fewer values leaves it NULL until `_index_text` sets it)
            f"ALTER TABLE {table} ADD COLUMN IF NOT EXISTS short_grams TEXT[]",
            f"DROP INDEX IF EXISTS {table}_search",  # the text alone: before the district was in each
            f"DROP INDEX IF EXISTS {table}_short",
            f"CREATE INDEX IF NOT EXISTS {table}_text_by_district ON {table} "
            f"USING gin (district, search_text gin_trgm_ops) {merged}",
            f"CREATE INDEX IF NOT EXISTS {table}_grams_by_district ON {table} USING gin (district, short_grams) "
            f"{merged}")))

    def apply(self, event: Any, position: int, batch: Batch) -> None:
        tx = batch.tx
        if isinstance(event, ProjectRegistered):
            self._register_project(event, position, batch)
        elif isinstance(event, UserAssigned):
            tx.execute("DELETE FROM lst_assignments WHERE project_id = ? AND user_id = ?",
                       (str(event.originator_id), str(event.user_id)))
            tx.execute("INSERT INTO lst_assignments VALUES (?, ?, ?)",
                       (str(event.originator_id), str(event.user_id), event.role))
        elif isinstance(event, UserUnassigned):
            tx.execute("DELETE FROM lst_assignments WHERE project_id = ? AND user_id = ?",
                       (str(event.originator_id), str(event.user_id)))
        elif isinstance(event, MemberAdded):
            tx.execute("DELETE FROM lst_members WHERE project_id = ? AND member_id = ?",
                       (str(event.originator_id), event.member_id))
            tx.execute("INSERT INTO lst_members VALUES (?, ?, ?)",
                       (str(event.originator_id), event.member_id, str(event.user_id)))
        elif isinstance(event, MemberRemoved):
            tx.execute("DELETE FROM lst_members WHERE project_id = ? AND member_id = ?",
                       (str(event.originator_id), event.member_id))
        elif isinstance(event, FundingSet):
            self._fund(event, batch)
        if isinstance(event, (ProjectRegistered, UserAssigned, UserUnassigned, MemberAdded, MemberRemoved,
                              FundingSet)):
            tx.execute("UPDATE lst_projects SET version = ? WHERE project_id = ?",
                       (event.originator_version, str(event.originator_id)))
            return
        if isinstance(event, Registered):
            self._register_item(event, position, batch)
        else:
            self._item_event(event, position, batch)

    def flush(self, batch: Batch) -> None:
        """Each item's version and state once per batch; every other change is written as it is applied."""
        moved = batch.cache.pop(("moved",), {})
        batch.tx.executemany("UPDATE lst_items SET version = ?, state = ? WHERE item_id = ?", list(moved.values()))

    def _fund(self, event: FundingSet, batch: Batch) -> None:
        """The newest funding counts: the project's, or an item's own (an item without one has its project's)."""
        sources = "," + ",".join(event.funding_sources) + ","
        if event.item_id is not None:
            batch.tx.execute("UPDATE lst_items SET category = ?, funding_sources = ? WHERE item_id = ?",
                             (event.category, sources, str(event.item_id)))
            return
        batch.tx.execute("UPDATE lst_projects SET funding_sources = ?, funding_category = ? WHERE project_id = ?",
                         (sources, event.category, str(event.originator_id)))

    def _register_project(self, event: ProjectRegistered, position: int, batch: Batch) -> None:
        project_id = str(event.originator_id)
        text = f"{event.name} {event.address}"
        batch.tx.execute("INSERT INTO lst_projects VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ',', NULL)",
                         (project_id, event.originator_version, event.name, event.district, event.street_office,
                          event.address, event.year_built, event.buildings, event.households,
                          "," + ",".join(event.categories) + ",", event.timestamp.isoformat(), text, position))
        self._index_text(batch, position, text, "lst_projects", "project_id = ?", (project_id,))
        batch.cache[("project", project_id)] = (event.district, event.street_office)
        for table in ("lst_items", "lst_defects", "lst_stops", "lst_rounds"):
            # from Kafka a project's event may come after its items' (another topic, another partition)
            batch.tx.execute(f"UPDATE {table} SET district = ?, street_office = ? WHERE project_id = ?",
                             (event.district, event.street_office, project_id))

    def _register_item(self, event: Registered, position: int, batch: Batch) -> None:
        item_id, project_id = str(event.originator_id), str(event.project_id)
        district, street = self._project(batch, project_id)
        template = FrozenTemplate.of(event.template)
        text = f"{event.title} {event.location}"
        batch.tx.execute("INSERT INTO lst_items VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 'registered', ?, ?, ?, 0, NULL, "
                         "?, ?, ?, ?, NULL, NULL, NULL)",
                         (item_id, event.originator_version, project_id, district, street, event.kind,
                          template.parsed.name_zh, event.title, event.location,
                          str(event.contractor_id) if event.contractor_id else None, event.planned_start,
                          event.planned_end, template.digest, event.timestamp.isoformat(), text, position))
        self._index_text(batch, position, text, "lst_items", "item_id = ?", (item_id,))
        batch.cache[("item", item_id)] = (project_id, "registered")

    def _item_event(self, event: Any, position: int, batch: Batch) -> None:
        tx, at, item_id = batch.tx, event.timestamp.isoformat(), str(event.originator_id)
        project_id, state = self._item(batch, item_id)
        state = event.next_state(state)  # as the event moves the item itself (domain/works_item_events.py)
        batch.cache[("item", item_id)] = (project_id, state)
        batch.cache.setdefault(("moved",), {})[item_id] = (event.originator_version, state, item_id)
        if isinstance(event, DefectRaised):
            self._raise(batch, item_id, project_id, event, position)
        elif type(event) in DEFECT_STATUS:
            closed_at = at if isinstance(event, DefectClosed) else None
            tx.execute("UPDATE lst_defects SET status = ?, closed_at = ? WHERE item_id = ? AND defect_id = ?",
                       (DEFECT_STATUS[type(event)], closed_at, item_id, event.defect_id))
        elif isinstance(event, StopWorkOrdered):
            district, street = self._project(batch, project_id)
            tx.execute("DELETE FROM lst_stops WHERE item_id = ? AND order_id = ?", (item_id, event.order_id))
            tx.execute("INSERT INTO lst_stops VALUES (?, ?, ?, ?, ?, ?, ?, NULL)",
                       (item_id, event.order_id, project_id, district, street, event.reason, at))
            tx.execute("UPDATE lst_items SET stop_since = ?, stop_reason = ? WHERE item_id = ?",
                       (at, event.reason, item_id))
        elif isinstance(event, StopWorkLifted):
            tx.execute("UPDATE lst_stops SET lifted_at = ? WHERE item_id = ? AND order_id = ?",
                       (at, item_id, event.order_id))
            tx.execute("UPDATE lst_items SET stop_since = NULL, stop_reason = NULL WHERE item_id = ?", (item_id,))
        elif isinstance(event, AcceptanceRequested):
            district, street = self._project(batch, project_id)
            tx.execute("DELETE FROM lst_rounds WHERE item_id = ? AND round_no = ?", (item_id, event.round_no))
            tx.execute("INSERT INTO lst_rounds VALUES (?, ?, ?, ?, ?, 'open', ?, 0, ?, NULL)",
                       (item_id, event.round_no, project_id, district, street, len(event.electorate), at))
        elif isinstance(event, ResidentSigned):
            tx.execute("UPDATE lst_rounds SET signed = signed + 1 WHERE item_id = ? AND round_no = ?",
                       (item_id, event.round_no))
        elif type(event) in ROUND_ENDINGS:
            tx.execute("UPDATE lst_rounds SET status = ?, ended_at = ? WHERE item_id = ? AND round_no = ?",
                       (ROUND_ENDINGS[type(event)], at, item_id, event.round_no))
        if isinstance(event, (DefectRaised, DefectClosed)):
            tx.execute("UPDATE lst_items SET open_defects = (SELECT COUNT(*) FROM lst_defects d WHERE "
                       "d.item_id = ? AND d.status <> 'closed') WHERE item_id = ?", (item_id, item_id))

    def _raise(self, batch: Batch, item_id: str, project_id: str, event: DefectRaised, position: int) -> None:
        district, street = self._project(batch, project_id)
        batch.tx.execute("INSERT INTO lst_defects VALUES (?, ?, ?, ?, ?, ?, 'open', ?, ?, ?, ?, NULL, ?, ?)",
                         (item_id, event.defect_id, project_id, district, street, event.severity,
                          event.description, event.hold_point, event.due_date, event.timestamp.isoformat(),
                          event.description, position))
        self._index_text(batch, position, event.description, "lst_defects", "item_id = ? AND defect_id = ?",
                         (item_id, event.defect_id))

    def _index_text(self, batch: Batch, position: int, text: str, table: str, where: str,
                    key: tuple[str, ...]) -> None:
        if self.postgres:  # the row just written, by its key
            batch.tx.execute(f"UPDATE {table} SET short_grams = ? WHERE {where}", (short_grams(text), *key))
        else:
            batch.tx.execute("INSERT INTO lst_text (rowid, body) VALUES (?, ?)", (position, text))
            batch.tx.execute("INSERT INTO lst_short (rowid, body) VALUES (?, ?)",
                             (position, " ".join(short_grams(text))))

    def _project(self, batch: Batch, project_id: str) -> tuple[str, str]:
        key = ("project", project_id)
        if key not in batch.cache:
            row = batch.tx.execute("SELECT district, street_office FROM lst_projects WHERE project_id = ?",
                                   (project_id,)).fetchone()
            batch.cache[key] = (row[0], row[1]) if row else ("", "")
        district, street = batch.cache[key]
        return str(district), str(street)

    def _item(self, batch: Batch, item_id: str) -> tuple[str, str]:
        key = ("item", item_id)
        if key not in batch.cache:
            row = batch.tx.execute("SELECT project_id, state FROM lst_items WHERE item_id = ?", (item_id,)).fetchone()
            batch.cache[key] = (row[0], row[1]) if row else ("", "registered")
        project_id, state = batch.cache[key]
        return str(project_id), str(state)
