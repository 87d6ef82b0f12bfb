"""The regulatory clocks as a read model: one row per deadline with the facts its state is judged from.

Each row holds what a deadline needs and nothing that depends on the day it is read: its due date and the day it
was met (if it was). The rows are whatever `domain.deadlines` finds on the item or project after each of its
events (the read model folds the aggregates, as the dashboard does, and asks the domain: it does not re-code which
clocks run or when they fall due). So "which deadlines are approaching or breached today" is one SQL query with
today as a parameter (services/deadline_scan.py), instead of every aggregate loaded on every read.

Working days are counted when the fact is written. A notice whose seventh working day falls in a year the
calendar package does not know yet is stored with no due date and the reason (`pending`); it is computed again
when its project's next event arrives, or by a rebuild once the package knows the year. Until then it is not
listed (as the aggregates' reading did before), and `pending` says why.
"""

from __future__ import annotations

import json
from datetime import date
from typing import Any
from uuid import UUID

from domain.deadlines import item_deadlines, project_deadlines
from domain.item_state import ItemState
from domain.project import ProjectRegistered
from domain.project_event import ProjectEvent
from domain.project_state import ProjectState, fold, from_plain, to_plain
from domain.working_days import ChineseCalendar, WorkingCalendar
from domain.works_item_events import WorksItemEvent
from projections.driver import Batch
from projections.item_states import ItemStates

ITEMS = ItemStates("dl_item_states")
PROJECT_LEVEL = ""  # the item_id of a project's own deadlines (a key column cannot hold NULL)
ANY_DAY = date.min  # which clocks run, and when they fall due, does not depend on the day asked


class Deadlines:
    name = "deadlines"
    topics: tuple[str, ...] = ()  # every item and project event: their states are folded in full
    tables = ("dl_deadlines", "dl_projects", ITEMS.table, ITEMS.templates)
    ddl = (
        "CREATE TABLE IF NOT EXISTS dl_deadlines (project_id TEXT NOT NULL, item_id TEXT NOT NULL, "
        "kind TEXT NOT NULL, subject TEXT NOT NULL, district TEXT NOT NULL, due TEXT, met_on TEXT, pending TEXT, "
        "PRIMARY KEY (project_id, item_id, kind, subject))",
        "CREATE INDEX IF NOT EXISTS dl_deadlines_due ON dl_deadlines (district, due)",
        "CREATE INDEX IF NOT EXISTS dl_deadlines_item ON dl_deadlines (item_id)",
        "CREATE TABLE IF NOT EXISTS dl_projects (project_id TEXT PRIMARY KEY, district TEXT NOT NULL, "
        "state TEXT NOT NULL)",
        *ITEMS.ddl,
    )

    def __init__(self, calendar: WorkingCalendar | None = None) -> None:
        self.calendar: WorkingCalendar = calendar or ChineseCalendar()

    def apply(self, event: Any, position: int, batch: Batch) -> None:
        if isinstance(event, WorksItemEvent):
            ITEMS.fold(batch, event)
        elif isinstance(event, ProjectEvent):
            self._fold_project(batch, event)

    def flush(self, batch: Batch) -> None:
        gone: list[tuple[str]] = []
        rows: list[tuple[Any, ...]] = []
        for item in ITEMS.save(batch):
            self._item_rows(batch, item, gone, rows)
        batch.tx.executemany("DELETE FROM dl_deadlines WHERE item_id = ?", gone)
        batch.tx.executemany("INSERT INTO dl_deadlines VALUES (?, ?, ?, ?, ?, ?, ?, NULL)", rows)
        for project_id in batch.cache.get(("dirty", "dl_projects"), set()):
            self._write_project(batch, batch.cache[("dl_projects", project_id)])

    def _project(self, batch: Batch, project_id: Any) -> ProjectState | None:
        key = ("dl_projects", project_id)
        if key not in batch.cache:
            row = batch.tx.execute("SELECT state FROM dl_projects WHERE project_id = ?", (str(project_id),)
                                   ).fetchone()
            batch.cache[key] = from_plain(json.loads(row[0])) if row is not None else None
        return batch.cache[key]

    def _fold_project(self, batch: Batch, event: ProjectEvent) -> None:
        before = None if isinstance(event, ProjectRegistered) else self._project(batch, event.originator_id)
        version = before.version if before is not None else None
        project = fold(before, event)
        if project is None or project.version == version:
            return  # already applied (a replayed batch), or a project registered before tracking began
        batch.cache[("dl_projects", event.originator_id)] = project
        batch.cache.setdefault(("dirty", "dl_projects"), set()).add(event.originator_id)

    def _district(self, batch: Batch, project_id: UUID) -> str:
        """Keyed by the UUID, as folding keys it: a project registered in this batch is found before it is written."""
        project = self._project(batch, project_id)
        return project.district if project is not None else ""  # filled in when the project arrives (Kafka)

    def _item_rows(self, batch: Batch, item: ItemState, gone: list[tuple[str]], rows: list[tuple[Any, ...]]) -> None:
        """An item's deadlines replace what it had: its old rows to delete (none for an item new in a rebuild's
        batch), its new rows to insert, written for the whole batch at once (the deletes first)."""
        item_id, project_id = str(item.id), str(item.project_id)
        district = self._district(batch, item.project_id) if item.project_id is not None else ""
        if not ITEMS.is_new(batch, item.id):
            gone.append((item_id,))
        rows += [(project_id, item_id, found.kind, found.subject, district, found.due.isoformat(),
                  found.met_on.isoformat() if found.met_on else None) for found in item_deadlines(item, ANY_DAY)]

    def _write_project(self, batch: Batch, project: ProjectState) -> None:
        project_id = str(project.id)
        batch.tx.execute("INSERT INTO dl_projects VALUES (?, ?, ?) ON CONFLICT (project_id) DO UPDATE "
                         "SET district = excluded.district, state = excluded.state", (
            project_id, project.district, json.dumps(to_plain(project), ensure_ascii=False)))
        # from Kafka, a project's events may arrive after its items' (another topic, another partition)
        batch.tx.execute("UPDATE dl_deadlines SET district = ? WHERE project_id = ? AND item_id <> ?",
                         (project.district, project_id, PROJECT_LEVEL))
        batch.tx.execute("DELETE FROM dl_deadlines WHERE project_id = ? AND item_id = ?", (project_id, PROJECT_LEVEL))
        found = project_deadlines(project, self.calendar, ANY_DAY)
        for deadline in found:
            batch.tx.execute("INSERT INTO dl_deadlines VALUES (?, ?, ?, ?, ?, ?, ?, NULL)", (
                project_id, PROJECT_LEVEL, deadline.kind, deadline.subject, project.district,
                deadline.due.isoformat(), deadline.met_on.isoformat() if deadline.met_on else None))
        notice = project.completion["notice"]
        if notice is not None and not any(d.kind == "acceptance_notice" for d in found):
            # the domain could not count the working days: the calendar does not know the year yet
            batch.tx.execute("INSERT INTO dl_deadlines VALUES (?, ?, 'acceptance_notice', 'completion_acceptance', "
                             "?, NULL, NULL, ?)", (project_id, PROJECT_LEVEL, project.district,
                                                   f"working_calendar_unavailable: notice {notice['date']}"))
