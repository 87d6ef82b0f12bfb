"""Progress dashboard: items by kind and state, hold points, defects, stop-work, acceptance, quantities."""

from __future__ import annotations

from typing import Any

from domain.item_state import ItemState
from domain.project import ProjectRegistered
from domain.works_item_events import WorksItemEvent
from projections.driver import Batch
from projections.item_states import ItemStates

STATES = ItemStates("dash_item_states")


class Dashboard:
    """Rows per item (with scalar columns to add up) and per defect, round and quantity."""

    name = "dashboard"
    topics: tuple[str, ...] = ()
    tables = ("dash_projects", "dash_items", "dash_defects", "dash_rounds", "dash_quantities", STATES.table,
              STATES.templates)
    ddl = (
        "CREATE TABLE IF NOT EXISTS dash_projects (project_id TEXT PRIMARY KEY, name TEXT NOT NULL, "
        "district TEXT NOT NULL)",
        "CREATE TABLE IF NOT EXISTS dash_items (item_id TEXT PRIMARY KEY, project_id TEXT NOT NULL, "
        "district TEXT NOT NULL, kind TEXT NOT NULL, state TEXT NOT NULL, stop_work INTEGER NOT NULL, "
        "hold_points_passed INTEGER NOT NULL, hold_points_total INTEGER NOT NULL, last_activity TEXT NOT NULL)",
        "CREATE INDEX IF NOT EXISTS dash_items_project ON dash_items (project_id)",
        "CREATE INDEX IF NOT EXISTS dash_items_district ON dash_items (district)",
        "CREATE TABLE IF NOT EXISTS dash_defects (item_id TEXT NOT NULL, defect_id TEXT NOT NULL, "
        "project_id TEXT NOT NULL, district TEXT NOT NULL, severity TEXT NOT NULL, status TEXT NOT NULL, "
        "due_date TEXT, PRIMARY KEY (item_id, defect_id))",
        "CREATE INDEX IF NOT EXISTS dash_defects_project ON dash_defects (project_id, status)",
        "CREATE INDEX IF NOT EXISTS dash_defects_district ON dash_defects (district, status)",
        "CREATE TABLE IF NOT EXISTS dash_rounds (item_id TEXT NOT NULL, round_no INTEGER NOT NULL, "
        "project_id TEXT NOT NULL, district TEXT NOT NULL, status TEXT NOT NULL, electorate INTEGER NOT NULL, "
        "accepts INTEGER NOT NULL, rejects INTEGER NOT NULL, PRIMARY KEY (item_id, round_no))",
        "CREATE INDEX IF NOT EXISTS dash_rounds_project ON dash_rounds (project_id, status)",
        "CREATE TABLE IF NOT EXISTS dash_quantities (item_id TEXT NOT NULL, quantity TEXT NOT NULL, "
        "project_id TEXT NOT NULL, district TEXT NOT NULL, amount TEXT NOT NULL, PRIMARY KEY (item_id, quantity))",
        *STATES.ddl,
    )

    def apply(self, event: Any, position: int, batch: Batch) -> None:
        if isinstance(event, ProjectRegistered):
            batch.tx.execute("DELETE FROM dash_projects WHERE project_id = ?", (str(event.originator_id),))
            batch.tx.execute("INSERT INTO dash_projects VALUES (?, ?, ?)",
                             (str(event.originator_id), event.name, event.district))
            batch.cache[("district", event.originator_id)] = event.district
            for table in ("dash_items", "dash_defects", "dash_rounds", "dash_quantities"):
                # from Kafka, a project's events may arrive after its items' (other topic, other partition)
                batch.tx.execute(f"UPDATE {table} SET district = ? WHERE project_id = ?",
                                 (event.district, str(event.originator_id)))
        elif isinstance(event, WorksItemEvent):
            STATES.fold(batch, event)

    def _district(self, batch: Batch, item: ItemState) -> str:
        key = ("district", item.project_id)
        if key not in batch.cache:
            row = batch.tx.execute("SELECT district FROM dash_projects WHERE project_id = ?",
                                   (str(item.project_id),)).fetchone()
            batch.cache[key] = row[0] if row else ""
        return batch.cache[key]

    def flush(self, batch: Batch) -> None:
        for item in STATES.save(batch):
            self._write(batch, item)

    def _write(self, batch: Batch, item: ItemState) -> None:
        tx, item_id, project_id = batch.tx, str(item.id), str(item.project_id)
        district = self._district(batch, item)
        for table in ("dash_items", "dash_defects", "dash_rounds", "dash_quantities"):
            tx.execute(f"DELETE FROM {table} WHERE item_id = ?", (item_id,))
        tx.execute("INSERT INTO dash_items VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", (
            item_id, project_id, district, item.kind, item.state, int(item.stop_work is not None),
            len(item.passed_hold_points()), len(item.hold_points), item.modified_on.isoformat()))
        for defect_id, d in item.defects.items():
            tx.execute("INSERT INTO dash_defects VALUES (?, ?, ?, ?, ?, ?, ?)",
                       (item_id, defect_id, project_id, district, d["severity"], d["status"], d["due_date"]))
        for rnd in item.rounds:
            accepts = sum(1 for v in rnd["signatures"].values() if v == "accept")
            tx.execute("INSERT INTO dash_rounds VALUES (?, ?, ?, ?, ?, ?, ?, ?)", (
                item_id, rnd["round_no"], project_id, district, rnd["status"], len(rnd["electorate"]),
                accepts, len(rnd["signatures"]) - accepts))
        for quantity, amount in item.quantities.items():
            tx.execute("INSERT INTO dash_quantities VALUES (?, ?, ?, ?, ?)",
                       (item_id, quantity, project_id, district, str(amount)))
