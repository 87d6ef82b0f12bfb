"""The catalogue of projects and works items, so lists need no scan of the log."""

from __future__ import annotations

from typing import Any

from domain.project import ProjectRegistered
from domain.works_item_events import Registered
from projections.driver import Batch


class Catalog:
    name = "catalog"
    topics = (ProjectRegistered.TOPIC, Registered.TOPIC)
    tables = ("catalog_projects", "catalog_items")
    ddl = (
        "CREATE TABLE IF NOT EXISTS catalog_projects (project_id TEXT PRIMARY KEY, name TEXT NOT NULL, "
        "district TEXT NOT NULL, registered_at TEXT NOT NULL)",
        "CREATE TABLE IF NOT EXISTS catalog_items (item_id TEXT PRIMARY KEY, project_id TEXT NOT NULL, "
        "kind TEXT NOT NULL, title TEXT NOT NULL, location TEXT NOT NULL, registered_at TEXT NOT NULL)",
        "CREATE INDEX IF NOT EXISTS catalog_items_project ON catalog_items (project_id)",
    )

    def apply(self, event: Any, position: int, batch: Batch) -> None:
        """A registration is inserted, not replaced: both drivers apply an event once (see `Listing`), so a row
        already there is a bug to fail on; forgetting it first cost a statement per registration."""
        tx = batch.tx
        if isinstance(event, ProjectRegistered):
            tx.execute("INSERT INTO catalog_projects VALUES (?, ?, ?, ?)",
                       (str(event.originator_id), event.name, event.district, event.timestamp.isoformat()))
        elif isinstance(event, Registered):
            tx.execute("INSERT INTO catalog_items VALUES (?, ?, ?, ?, ?, ?)",
                       (str(event.originator_id), str(event.project_id), event.kind, event.title,
                        event.location, event.timestamp.isoformat()))

    def flush(self, batch: Batch) -> None:
        """Every change is written as it is applied."""
