"""The housing bureau's statistics: dated facts per project and item, so a year's figures are sums in SQL.

The dashboard knows what an item has (its quantities now) but not when: a year's report needs the date a
community started (its first inspection), was completed (竣工验收, the date the minutes give), and the date
each quantity was recorded. Rows hold only those facts, and the category and funding sources recorded for
a project or item (`stat_funding`); districts are joined from `stat_projects` at query time (from Kafka a
project's events may come after its items'), and an item's state is read from the dashboard's `dash_items`.

A quantity counts as the domain counts it (domain/works_item_events.py, InspectionRecorded.apply): a
passed or conditional inspection's measurement that the template marks as a quantity replaces the item's
figure, dated by that inspection.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

from domain.completion import CompletionAcceptanceHeld
from domain.project import FundingSet, ProjectRegistered
from domain.templates.frozen import FrozenTemplate
from domain.works_item_events import InspectionRecorded, Registered
from projections.driver import Batch


def milli(amount: Decimal) -> int | None:
    """Thousandths as a whole number, so SQL adds them exactly; None for a finer figure (added as text)."""
    scaled = amount.scaleb(3)
    return int(scaled) if scaled == scaled.to_integral_value() and abs(scaled) < 10**15 else None


def quantity_spec(template: dict[str, Any]) -> dict[str, dict[str, str]]:
    """hold point → {measurement code: quantity} for the measurements the dashboards add up."""
    parsed = FrozenTemplate.of(template).parsed
    spec = {hp.code: {m.code: m.quantity for m in hp.measurements if m.quantity} for hp in parsed.hold_points}
    return {code: found for code, found in spec.items() if found}


class Statistics:
    name = "statistics"
    topics = tuple(t.TOPIC for t in (ProjectRegistered, FundingSet, CompletionAcceptanceHeld, Registered,
                                     InspectionRecorded))
    tables = ("stat_projects", "stat_items", "stat_quantities", "stat_funding")
    ddl = (
        "CREATE TABLE IF NOT EXISTS stat_projects (project_id TEXT PRIMARY KEY, district TEXT NOT NULL, "
        "street_office TEXT NOT NULL, households INTEGER NOT NULL, categories TEXT NOT NULL, "
        "registered_on TEXT NOT NULL, started_on TEXT, completed_on TEXT)",
        "CREATE INDEX IF NOT EXISTS stat_projects_district ON stat_projects (district)",
        "CREATE TABLE IF NOT EXISTS stat_items (item_id TEXT PRIMARY KEY, project_id TEXT NOT NULL, "
        "kind TEXT NOT NULL, planned_end TEXT, registered_on TEXT NOT NULL, first_inspected_on TEXT, "
        "quantity_spec TEXT NOT NULL)",
        "CREATE INDEX IF NOT EXISTS stat_items_project ON stat_items (project_id)",
        "CREATE TABLE IF NOT EXISTS stat_quantities (item_id TEXT NOT NULL, quantity TEXT NOT NULL, "
        "project_id TEXT NOT NULL, amount TEXT NOT NULL, amount_milli BIGINT, recorded_on TEXT NOT NULL, "
        "PRIMARY KEY (item_id, quantity))",
        "CREATE INDEX IF NOT EXISTS stat_quantities_project ON stat_quantities (project_id, recorded_on)",
        # a project's (subject = project id) or an item's (subject = item id): from Kafka an item's funding,
        # a project event, may come before the item's own Registered, so it is kept apart and joined
        "CREATE TABLE IF NOT EXISTS stat_funding (subject_id TEXT PRIMARY KEY, project_id TEXT NOT NULL, "
        "category TEXT, funding_sources TEXT NOT NULL)",
    )

    def __init__(self, site_utc_offset_hours: float = 8) -> None:
        self.site_tz = timezone(timedelta(hours=site_utc_offset_hours))
        self._specs: dict[str, tuple[dict[str, dict[str, str]], str]] = {}  # by template digest

    def _day(self, moment: datetime) -> str:
        """The site's calendar day of a server timestamp: 31 Dec 23:30 in Shanghai belongs to that year."""
        return moment.astimezone(self.site_tz).date().isoformat()

    def apply(self, event: Any, position: int, batch: Batch) -> None:
        tx, day = batch.tx, self._day(event.timestamp)
        if isinstance(event, ProjectRegistered):
            project_id = str(event.originator_id)
            # items may come first from Kafka: those stored, and those of this batch not yet written
            stored = tx.execute("SELECT MIN(first_inspected_on) FROM stat_items WHERE project_id = ?",
                                (project_id,)).fetchone()
            days = [row[5] for row in self._new(batch).values() if row[1] == project_id and row[5]]
            started = min([*days, *([stored[0]] if stored and stored[0] else [])], default=None)
            tx.execute("INSERT INTO stat_projects VALUES (?, ?, ?, ?, ?, ?, ?, NULL)",
                       (project_id, event.district, event.street_office, event.households,
                        json.dumps(list(event.categories)), day, started))
        elif isinstance(event, FundingSet):
            subject = str(event.item_id or event.originator_id)
            tx.execute("DELETE FROM stat_funding WHERE subject_id = ?", (subject,))
            tx.execute("INSERT INTO stat_funding VALUES (?, ?, ?, ?)", (
                subject, str(event.originator_id), event.category, json.dumps(list(event.funding_sources))))
        elif isinstance(event, CompletionAcceptanceHeld):
            tx.execute("UPDATE stat_projects SET completed_on = ? WHERE project_id = ?",
                       (event.held_on, str(event.originator_id)))
        elif isinstance(event, Registered):
            spec, spec_text = self._spec(event.template)
            item_id, project_id = str(event.originator_id), str(event.project_id)
            # its inspections later in this batch read the row as kept here, not from the table
            batch.cache[("stat item", item_id)] = (project_id, spec, None)
            # written in `flush`, with its first inspection of this batch already in it (no UPDATE after)
            self._new(batch)[item_id] = [item_id, project_id, event.kind, event.planned_end, day, None, spec_text]
        elif isinstance(event, InspectionRecorded):
            self._inspected(batch, event, day)

    def _spec(self, template: dict[str, Any]) -> tuple[dict[str, dict[str, str]], str]:
        """A template's quantity spec and its stored text, worked out once per template (a handful serve every
        item)."""
        digest = FrozenTemplate.of(template).digest
        found = self._specs.get(digest)
        if found is None:
            spec = quantity_spec(template)
            found = self._specs[digest] = (spec, json.dumps(spec))
        return found

    @staticmethod
    def _new(batch: Batch) -> dict[str, list[Any]]:
        """The items registered in this batch, as the rows `flush` inserts."""
        new: dict[str, list[Any]] = batch.cache.setdefault(("stat new items",), {})
        return new

    @staticmethod
    def _started(batch: Batch) -> dict[str, str]:
        """Each project's earliest first inspection in this batch, which `flush` writes once per project."""
        started: dict[str, str] = batch.cache.setdefault(("stat started",), {})
        return started

    def _inspected(self, batch: Batch, event: InspectionRecorded, day: str) -> None:
        tx, item_id = batch.tx, str(event.originator_id)
        key = ("stat item", item_id)  # an item's inspections come many to a batch: read its row once
        if key not in batch.cache:
            row = tx.execute("SELECT project_id, quantity_spec, first_inspected_on FROM stat_items "
                             "WHERE item_id = ?", (item_id,)).fetchone()
            batch.cache[key] = None if row is None else (row[0], json.loads(row[1]), row[2])
        if batch.cache[key] is None:
            return
        project_id, spec, first = batch.cache[key]
        if first is None:
            batch.cache[key] = (project_id, spec, day)
            new = self._new(batch).get(item_id)
            if new is not None:
                new[5] = day
            else:
                tx.execute("UPDATE stat_items SET first_inspected_on = ? WHERE item_id = ?", (day, item_id))
            started = self._started(batch)
            if project_id not in started or day < started[project_id]:
                started[project_id] = day
        if event.result not in ("pass", "conditional"):
            return
        for code, quantity in spec.get(event.hold_point, {}).items():
            value = event.measurements.get(code)
            if value is None:
                continue
            amount = value if isinstance(value, Decimal) else Decimal(1)
            tx.execute("INSERT INTO stat_quantities VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (item_id, quantity) DO "
                       "UPDATE SET amount = excluded.amount, amount_milli = excluded.amount_milli, "
                       "recorded_on = excluded.recorded_on",
                       (item_id, quantity, project_id, str(amount), milli(amount), day))

    def flush(self, batch: Batch) -> None:
        """The batch's new items, then each project's start; every other change is written as it is applied."""
        new = batch.cache.pop(("stat new items",), {})
        if new:
            batch.tx.executemany("INSERT INTO stat_items VALUES (?, ?, ?, ?, ?, ?, ?)", list(new.values()))
        started = batch.cache.pop(("stat started",), {})
        if started:
            batch.tx.executemany("UPDATE stat_projects SET started_on = ? WHERE project_id = ? "
                                 "AND (started_on IS NULL OR started_on > ?)",
                                 [(day, project_id, day) for project_id, day in started.items()])
