"""Progress dashboard: items by kind and state, hold points, defects, stop-work, acceptance, quantities.

Rows per item (and per defect, round and quantity) for a project's figures and for the pages that join them, and
running totals per district (projections/dashboard_rollups.py) for a district's and the city's: each batch takes
an item's rows as they were before its first event in the batch, and writes only the rows that changed and the
totals' difference.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from domain.item_state import ItemState
from domain.project import ProjectRegistered
from domain.works_item_events import AcceptanceRequested, WorksItemEvent
from projections.dashboard_rollups import ROLLUP_DDL, ROLLUP_TABLES, Deltas, ItemRows, contribution
from projections.driver import Batch
from projections.item_states import ItemStates

STATES = ItemStates("dash_item_states")
BEFORE, OPENED, DELTAS = "dash before", "dash opened", "dash deltas"  # this batch's keys in `batch.cache`


class Dashboard:
    """Rows per item (with scalar columns to add up) and per defect, round and quantity; totals per district."""

    name = "dashboard"
    topics: tuple[str, ...] = ()
    tables = ("dash_projects", "dash_items", "dash_defects", "dash_rounds", "dash_quantities", *ROLLUP_TABLES,
              STATES.table, STATES.templates)
    ddl = (
        "CREATE TABLE IF NOT EXISTS dash_projects (project_id TEXT PRIMARY KEY, name TEXT NOT NULL, "
        "district TEXT NOT NULL)",
        "CREATE INDEX IF NOT EXISTS dash_projects_district ON dash_projects (district)",
        "CREATE TABLE IF NOT EXISTS dash_items (item_id TEXT PRIMARY KEY, project_id TEXT NOT NULL, "
        "district TEXT NOT NULL, kind TEXT NOT NULL, state TEXT NOT NULL, stop_work INTEGER NOT NULL, "
        "hold_points_passed INTEGER NOT NULL, hold_points_total INTEGER NOT NULL, last_activity TEXT NOT NULL)",
        "CREATE INDEX IF NOT EXISTS dash_items_project ON dash_items (project_id)",
        # a district's rows, and its latest activity in one step
        "CREATE INDEX IF NOT EXISTS dash_items_district_activity ON dash_items (district, last_activity)",
        "CREATE TABLE IF NOT EXISTS dash_defects (item_id TEXT NOT NULL, defect_id TEXT NOT NULL, "
        "project_id TEXT NOT NULL, district TEXT NOT NULL, severity TEXT NOT NULL, status TEXT NOT NULL, "
        "due_date TEXT, PRIMARY KEY (item_id, defect_id))",
        "CREATE INDEX IF NOT EXISTS dash_defects_project ON dash_defects (project_id, status)",
        "CREATE TABLE IF NOT EXISTS dash_rounds (item_id TEXT NOT NULL, round_no INTEGER NOT NULL, "
        "project_id TEXT NOT NULL, district TEXT NOT NULL, status TEXT NOT NULL, electorate INTEGER NOT NULL, "
        "accepts INTEGER NOT NULL, rejects INTEGER NOT NULL, opened_at TEXT NOT NULL, "
        "PRIMARY KEY (item_id, round_no))",
        "CREATE INDEX IF NOT EXISTS dash_rounds_project ON dash_rounds (project_id, status)",
        # the newest open rounds, of the city and of a district
        "CREATE INDEX IF NOT EXISTS dash_rounds_open ON dash_rounds (opened_at, item_id, round_no) "
        "WHERE status = 'open'",
        "CREATE INDEX IF NOT EXISTS dash_rounds_open_district ON dash_rounds (district, opened_at, item_id, "
        "round_no) WHERE status = 'open'",
        "CREATE TABLE IF NOT EXISTS dash_quantities (item_id TEXT NOT NULL, quantity TEXT NOT NULL, "
        "project_id TEXT NOT NULL, district TEXT NOT NULL, amount TEXT NOT NULL, PRIMARY KEY (item_id, quantity))",
        "CREATE INDEX IF NOT EXISTS dash_quantities_project ON dash_quantities (project_id)",
        *ROLLUP_DDL,
        *STATES.ddl,
    )

    def apply(self, event: Any, position: int, batch: Batch) -> None:
        if isinstance(event, ProjectRegistered):
            self._project(batch, str(event.originator_id), event.name, event.district)
        elif isinstance(event, WorksItemEvent):
            before: dict[UUID, ItemRows | None] = batch.cache.setdefault(BEFORE, {})
            if event.originator_id not in before:  # the rows as stored, before this batch's first change
                state = STATES.before(batch, event)
                before[event.originator_id] = ItemRows.of(state) if state is not None else None
            state = STATES.fold(batch, event)
            if (isinstance(event, AcceptanceRequested) and state is not None
                    and state.version == event.originator_version):
                batch.cache.setdefault(OPENED, {})[(event.originator_id, event.round_no)] = event.timestamp

    def _project(self, batch: Batch, project_id: str, name: str, district: str) -> None:
        tx = batch.tx
        tx.execute("INSERT INTO dash_projects VALUES (?, ?, ?) ON CONFLICT (project_id) DO UPDATE SET "
                   "name = excluded.name, district = excluded.district", (project_id, name, district))
        batch.cache[("district", UUID(project_id))] = district
        # from Kafka, a project's events may arrive after its items' (other topic, other partition): its items'
        # rows and totals move to its district
        moved = contribution(tx, project_id, district)
        if not any(moved.values()):
            return
        deltas = self._deltas(batch)
        deltas.add_rows(moved, -1)
        deltas.add_rows({k: [(district, *row[1:]) for row in rows] for k, rows in moved.items()}, 1)
        for table in ("dash_items", "dash_defects", "dash_rounds", "dash_quantities"):
            tx.execute(f"UPDATE {table} SET district = ? WHERE project_id = ?", (district, project_id))

    @staticmethod
    def _deltas(batch: Batch) -> Deltas:
        deltas: Deltas = batch.cache.setdefault(DELTAS, Deltas())
        return deltas

    def _district(self, batch: Batch, item: ItemState) -> str:
        key = ("district", item.project_id)
        if key not in batch.cache:
            row = batch.tx.execute("SELECT district FROM dash_projects WHERE project_id = ?",
                                   (str(item.project_id),)).fetchone()
            batch.cache[key] = row[0] if row else ""
        return batch.cache[key]

    def flush(self, batch: Batch) -> None:
        before: dict[UUID, ItemRows | None] = batch.cache.get(BEFORE, {})
        deltas, writes = self._deltas(batch), Writes()
        for item in STATES.save(batch):
            district, old, new = self._district(batch, item), before.get(item.id), ItemRows.of(item)
            deltas.add(district, old, -1)
            deltas.add(district, new, 1)
            writes.add(item, district, old, new, batch.cache.get(OPENED, {}))
        writes.write(batch.tx)
        deltas.write(batch.tx)
        for key in (BEFORE, OPENED, DELTAS):
            batch.cache.pop(key, None)


class Writes:
    """The per-item rows that changed in a batch, written table by table."""

    def __init__(self) -> None:
        self.items: list[tuple[Any, ...]] = []
        self.defects: list[tuple[Any, ...]] = []
        self.defects_gone: list[tuple[str, str]] = []
        self.rounds: list[tuple[Any, ...]] = []
        self.rounds_changed: list[tuple[Any, ...]] = []
        self.quantities: list[tuple[Any, ...]] = []
        self.quantities_gone: list[tuple[str, str]] = []

    def add(self, item: ItemState, district: str, old: ItemRows | None, new: ItemRows,
            opened: dict[tuple[UUID, int], Any]) -> None:
        item_id, project_id = str(item.id), str(item.project_id)
        self.items.append((item_id, project_id, district, new.kind, new.state, new.stop_work, new.passed, new.total,
                           new.last_activity))
        was = old or ItemRows("", "", 0, 0, 0, "", {}, {}, {})
        for defect_id, defect in new.defects.items():
            if was.defects.get(defect_id) != defect:
                self.defects.append((item_id, defect_id, project_id, district, *defect))
        self.defects_gone += [(item_id, d) for d in was.defects if d not in new.defects]
        for round_no, rnd in new.rounds.items():
            if round_no not in was.rounds:
                at = opened.get((item.id, round_no), item.modified_on)
                self.rounds.append((item_id, round_no, project_id, district, *rnd, at.isoformat()))
            elif was.rounds[round_no] != rnd:
                self.rounds_changed.append((*rnd, item_id, round_no))
        for quantity, amount in new.quantities.items():
            if str(was.quantities.get(quantity)) != str(amount):  # 1.0 and 1 are equal, yet each shown as given
                self.quantities.append((item_id, quantity, project_id, district, str(amount)))
        self.quantities_gone += [(item_id, q) for q in was.quantities if q not in new.quantities]

    def write(self, tx: Any) -> None:
        if self.items:
            tx.executemany(
                "INSERT INTO dash_items VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (item_id) DO UPDATE SET "
                "district = excluded.district, kind = excluded.kind, state = excluded.state, "
                "stop_work = excluded.stop_work, hold_points_passed = excluded.hold_points_passed, "
                "hold_points_total = excluded.hold_points_total, last_activity = excluded.last_activity",
                self.items)
        if self.defects:
            tx.executemany(
                "INSERT INTO dash_defects VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (item_id, defect_id) DO UPDATE "
                "SET district = excluded.district, severity = excluded.severity, status = excluded.status, "
                "due_date = excluded.due_date", self.defects)
        if self.defects_gone:
            tx.executemany("DELETE FROM dash_defects WHERE item_id = ? AND defect_id = ?", self.defects_gone)
        if self.rounds:
            tx.executemany("INSERT INTO dash_rounds VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", self.rounds)
        if self.rounds_changed:
            tx.executemany("UPDATE dash_rounds SET status = ?, electorate = ?, accepts = ?, rejects = ? "
                           "WHERE item_id = ? AND round_no = ?", self.rounds_changed)
        if self.quantities:
            tx.executemany(
                "INSERT INTO dash_quantities VALUES (?, ?, ?, ?, ?) ON CONFLICT (item_id, quantity) DO UPDATE "
                "SET district = excluded.district, amount = excluded.amount", self.quantities)
        if self.quantities_gone:
            tx.executemany("DELETE FROM dash_quantities WHERE item_id = ? AND quantity = ?", self.quantities_gone)
