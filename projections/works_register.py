"""The works register: what the station's console names that the dashboard only counts.

The dashboard says `overdue: 1`; the console must say which item, which defect, since when and why. Rows
here are the facts as events state them (title and location, a stop-work order's time and reason, a
defect's description, raised and closed times and due date, an acceptance round's opening). A registration,
defect or round is inserted once: both drivers apply an event once (the event store's by compare-and-set position,
Kafka's by each aggregate's version), so a row already there is a bug to fail on. The item's state and progress
stay the dashboard's (`dash_items`, judged by the domain's own rules); pages join the two on `item_id`.
"""

from __future__ import annotations

from typing import Any

from domain.project import ProjectRegistered
from domain.works_item_events import (
    AcceptanceGranted,
    AcceptanceRejected,
    AcceptanceRequested,
    AcceptanceRoundCancelled,
    DefectClosed,
    DefectRaised,
    RectificationRejected,
    RectificationReported,
    Registered,
    StopWorkLifted,
    StopWorkOrdered,
)
from projections.driver import Batch

ROUND_ENDINGS = {AcceptanceGranted: "granted", AcceptanceRejected: "rejected", AcceptanceRoundCancelled: "cancelled"}
DEFECT_STATUS = {RectificationReported: "rectification_reported", RectificationRejected: "open"}


class WorksRegister:
    name = "works_register"
    topics = tuple(t.TOPIC for t in (
        ProjectRegistered, Registered, StopWorkOrdered, StopWorkLifted, DefectRaised, RectificationReported,
        RectificationRejected, DefectClosed, AcceptanceRequested, AcceptanceGranted, AcceptanceRejected,
        AcceptanceRoundCancelled))
    tables = ("reg_projects", "reg_items", "reg_defects", "reg_rounds")
    ddl = (
        "CREATE TABLE IF NOT EXISTS reg_projects (project_id TEXT PRIMARY KEY, name TEXT NOT NULL, "
        "district TEXT NOT NULL, street_office TEXT NOT NULL, buildings INTEGER NOT NULL, "
        "households INTEGER NOT NULL, registered_at TEXT NOT NULL)",
        "CREATE INDEX IF NOT EXISTS reg_projects_district ON reg_projects (district)",
        "CREATE TABLE IF NOT EXISTS reg_items (item_id TEXT PRIMARY KEY, project_id TEXT NOT NULL, "
        "district TEXT NOT NULL, kind TEXT NOT NULL, title TEXT NOT NULL, location TEXT NOT NULL, "
        "registered_at TEXT NOT NULL, stop_since TEXT, stop_reason TEXT)",
        "CREATE INDEX IF NOT EXISTS reg_items_project ON reg_items (project_id)",
        "CREATE INDEX IF NOT EXISTS reg_items_district_stop ON reg_items (district, stop_since)",
        "CREATE TABLE IF NOT EXISTS reg_defects (item_id TEXT NOT NULL, defect_id TEXT NOT NULL, "
        "project_id TEXT NOT NULL, district TEXT NOT NULL, severity TEXT NOT NULL, status TEXT NOT NULL, "
        "description TEXT NOT NULL, hold_point TEXT, due_date TEXT, raised_at TEXT NOT NULL, closed_at TEXT, "
        "PRIMARY KEY (item_id, defect_id))",
        "CREATE INDEX IF NOT EXISTS reg_defects_district ON reg_defects (district, status, due_date)",
        "CREATE INDEX IF NOT EXISTS reg_defects_project ON reg_defects (project_id, status)",
        "CREATE TABLE IF NOT EXISTS reg_rounds (item_id TEXT NOT NULL, round_no INTEGER NOT NULL, "
        "project_id TEXT NOT NULL, district TEXT NOT NULL, status TEXT NOT NULL, electorate INTEGER NOT NULL, "
        "opened_at TEXT NOT NULL, ended_at TEXT, PRIMARY KEY (item_id, round_no))",
        "CREATE INDEX IF NOT EXISTS reg_rounds_district ON reg_rounds (district, status)",
    )

    def apply(self, event: Any, position: int, batch: Batch) -> None:
        tx, at = batch.tx, event.timestamp.isoformat()
        if isinstance(event, ProjectRegistered):
            project_id = str(event.originator_id)
            tx.execute("INSERT INTO reg_projects VALUES (?, ?, ?, ?, ?, ?, ?)",
                       (project_id, event.name, event.district, event.street_office, event.buildings,
                        event.households, at))
            batch.cache[("district", project_id)] = event.district
            for table in ("reg_items", "reg_defects", "reg_rounds"):
                # from Kafka a project's event may come after its items' (another topic, another partition)
                tx.execute(f"UPDATE {table} SET district = ? WHERE project_id = ?", (event.district, project_id))
            return
        item_id = str(event.originator_id)
        if isinstance(event, Registered):
            project_id = str(event.project_id)
            batch.cache[("project", item_id)] = project_id  # what its defects and rounds in this batch will ask
            tx.execute("INSERT INTO reg_items VALUES (?, ?, ?, ?, ?, ?, ?, NULL, NULL)",
                       (item_id, project_id, self._district(batch, project_id), event.kind, event.title,
                        event.location, at))
        elif isinstance(event, StopWorkOrdered):
            tx.execute("UPDATE reg_items SET stop_since = ?, stop_reason = ? WHERE item_id = ?",
                       (at, event.reason, item_id))
        elif isinstance(event, StopWorkLifted):
            tx.execute("UPDATE reg_items SET stop_since = NULL, stop_reason = NULL WHERE item_id = ?", (item_id,))
        elif isinstance(event, DefectRaised):
            self._raise(batch, item_id, event, at)
        elif isinstance(event, DefectClosed):
            tx.execute("UPDATE reg_defects SET status = 'closed', closed_at = ? WHERE item_id = ? AND defect_id = ?",
                       (at, item_id, event.defect_id))
        elif isinstance(event, (RectificationReported, RectificationRejected)):
            tx.execute("UPDATE reg_defects SET status = ? WHERE item_id = ? AND defect_id = ?",
                       (DEFECT_STATUS[type(event)], item_id, event.defect_id))
        elif isinstance(event, AcceptanceRequested):
            project_id = self._project(batch, item_id)
            tx.execute("INSERT INTO reg_rounds VALUES (?, ?, ?, ?, 'open', ?, ?, NULL)",
                       (item_id, event.round_no, project_id, self._district(batch, project_id),
                        len(event.electorate), at))
        elif type(event) in ROUND_ENDINGS:
            tx.execute("UPDATE reg_rounds SET status = ?, ended_at = ? WHERE item_id = ? AND round_no = ?",
                       (ROUND_ENDINGS[type(event)], at, item_id, event.round_no))

    def flush(self, batch: Batch) -> None:
        """Every change is written as it is applied."""

    def _raise(self, batch: Batch, item_id: str, event: DefectRaised, at: str) -> None:
        project_id = self._project(batch, item_id)
        batch.tx.execute("INSERT INTO reg_defects VALUES (?, ?, ?, ?, ?, 'open', ?, ?, ?, ?, NULL)",
                         (item_id, event.defect_id, project_id, self._district(batch, project_id), event.severity,
                          event.description, event.hold_point, event.due_date, at))

    def _project(self, batch: Batch, item_id: str) -> str:
        key = ("project", item_id)
        if key not in batch.cache:
            row = batch.tx.execute("SELECT project_id FROM reg_items WHERE item_id = ?", (item_id,)).fetchone()
            batch.cache[key] = row[0] if row else ""
        return str(batch.cache[key])

    def _district(self, batch: Batch, project_id: str) -> str:
        key = ("district", project_id)
        if key not in batch.cache:
            row = batch.tx.execute("SELECT district FROM reg_projects WHERE project_id = ?", (project_id,)).fetchone()
            batch.cache[key] = row[0] if row else ""
        return str(batch.cache[key])
