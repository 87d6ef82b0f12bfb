"""The station's timeline: every event of every item in order, with who, where, when, and what looks wrong.

A row holds what the log does not say by itself (the item's project and kind, the flags) and what lists filter and
order by; the event's own fields are not copied: a reader takes them from the log (`payload`), so the station
sees exactly what the log holds, and the timeline is no second copy of every event."""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import datetime, timedelta, timezone
from typing import Any
from uuid import UUID

from eventsourcing.application import Application

from domain.canonical import to_plain
from domain.chain import EVENT_METADATA, ChainedEvent, at_site, device_time_of
from domain.inspection import PASSING
from domain.item_state import ItemState
from domain.photo import Photo
from domain.project import ProjectEvent
from domain.works_item_events import InspectionRecorded, RectificationReported, WorksCompleted, WorksItemEvent
from projections.driver import Batch
from projections.item_states import ItemStates

STATES = ItemStates("timeline_item_states")
META = EVENT_METADATA | {"template"}  # the template is the item's, not news of this event

FLAGS_ZH = {
    "out_of_order": "检查点先于其前置检查点通过",
    "late_arrival": "记录时间与到达服务器时间相差过久",
    "during_stop_work": "停工令生效期间的施工活动",
    "photo_after_event": "照片拍摄时间晚于引用它的记录",
    "concealed_photo_after_backfill": "隐蔽工程照片拍摄于后续工序通过之后",
    "device_clock_ahead": "设备时间晚于到达服务器的时间，设备时钟可能不准",
}


class Timeline:
    name = "timeline"
    topics: tuple[str, ...] = ()
    tables = ("timeline_events", "timeline_photos", STATES.table, STATES.templates)
    ddl = (
        "CREATE TABLE IF NOT EXISTS timeline_events (position BIGINT PRIMARY KEY, aggregate_id TEXT NOT NULL, "
        "item_id TEXT, project_id TEXT NOT NULL, kind TEXT, version INTEGER NOT NULL, type TEXT NOT NULL, "
        "actor_id TEXT NOT NULL, actor_role TEXT NOT NULL, device_id TEXT, device_time TEXT, server_time TEXT NOT "
        "NULL, hold_point TEXT, photos TEXT NOT NULL, flags TEXT NOT NULL, flagged INTEGER NOT NULL)",
        "CREATE INDEX IF NOT EXISTS timeline_item ON timeline_events (item_id, position)",
        "CREATE INDEX IF NOT EXISTS timeline_project ON timeline_events (project_id, position)",
        # the console's attention list: the period's flagged entries without reading the clean ones; partial, so
        # the clean entries (most of them) cost no index entry
        "CREATE INDEX IF NOT EXISTS timeline_flagged_only ON timeline_events (position) WHERE flagged = 1",
        "CREATE TABLE IF NOT EXISTS timeline_photos (photo_id TEXT PRIMARY KEY, taken_at TEXT)",
        *STATES.ddl,
    )

    def __init__(self, late_after_hours: float = 12.0, site_utc_offset_hours: float = 8.0,
                 clock_ahead_after_minutes: float = 10.0) -> None:
        self.late_after = timedelta(hours=late_after_hours)
        # A record cannot reach the server before it was made: a device time later than the arrival by more
        # than ordinary drift means the device clock is wrong, and every time it recorded is in doubt.
        self.clock_ahead_after = timedelta(minutes=clock_ahead_after_minutes)
        self.site_tz = timezone(timedelta(hours=site_utc_offset_hours))  # a time without a zone is site local

    def apply(self, event: Any, position: int, batch: Batch) -> None:
        if isinstance(event, ProjectEvent):
            self._insert(batch, position, event, None, str(event.originator_id), [], None, [])
        elif isinstance(event, WorksItemEvent):
            item = STATES.fold(batch, event)
            if item is not None:
                device_time, photos = device_time_of(event, self.site_tz), _photos(event)
                self._insert(batch, position, event, item, _text(batch, item.project_id),
                             self._flags(batch, event, item, device_time, photos), device_time, photos)
        elif isinstance(event, Photo.Stored):  # before any record cites it: a photo is stored, then cited
            batch.tx.execute("INSERT INTO timeline_photos VALUES (?, ?) ON CONFLICT (photo_id) DO NOTHING",
                             (event.sha256, event.taken_at))
            # the records citing it usually follow within the batch: they find its time here, not in the table
            batch.cache[("photo taken", event.sha256)] = self._taken(event.taken_at)

    def flush(self, batch: Batch) -> None:
        STATES.save(batch)
        rows = batch.cache.pop(("timeline rows",), [])
        batch.tx.executemany(
            "INSERT INTO timeline_events VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
            "ON CONFLICT (position) DO NOTHING", rows)  # a position is one event: a replay changes nothing

    def _photo_time(self, batch: Batch, photo_id: str) -> datetime | None:
        """From the photo's own event, folded above. `photo_facts` (the photo service's table) answers only for a
        photo stored before photos were logged, and for a Kafka-fed worker, which receives no photo events yet.
        Kept for the batch (absent ones too): a photo is cited again by later records."""
        key = ("photo taken", photo_id)
        if key in batch.cache:
            return batch.cache[key]
        # one statement for both places: a photo cited but found in neither (one not uploaded yet) would otherwise
        # cost two lookups, in every batch that cites it
        row = batch.tx.execute(
            "SELECT taken_at FROM (SELECT taken_at, 0 AS src FROM timeline_photos WHERE photo_id = ? "
            "UNION ALL SELECT taken_at, 1 AS src FROM photo_facts WHERE photo_id = ?) AS found ORDER BY src "
            "LIMIT 1", (photo_id, photo_id)).fetchone()
        taken = batch.cache[key] = self._taken(row[0] if row else None)
        return taken

    def _taken(self, taken_at: str | None) -> datetime | None:
        return at_site(datetime.fromisoformat(taken_at), self.site_tz) if taken_at else None

    def _flags(self, batch: Batch, event: WorksItemEvent, item: ItemState, device_time: datetime | None,
               photos: list[str]) -> list[str]:
        flags = []
        recorded = device_time or event.timestamp
        if device_time and event.timestamp - device_time > self.late_after:
            flags.append("late_arrival")
        if device_time and device_time - event.timestamp > self.clock_ahead_after:
            flags.append("device_clock_ahead")
        inspection = event if isinstance(event, InspectionRecorded) else None
        spec = item.spec(inspection.hold_point) if inspection is not None else None
        construction = spec.construction if spec is not None else isinstance(event, (RectificationReported,
                                                                                    WorksCompleted))
        if item.stop_work and construction:
            flags.append("during_stop_work")
        if (inspection is not None and spec is not None and inspection.result in PASSING
                and any(not item.is_passed(p) for p in spec.after)):
            flags.append("out_of_order")
        taken = [t for t in (self._photo_time(batch, p) for p in photos) if t is not None] if photos else []
        if any(t > recorded for t in taken):
            flags.append("photo_after_event")
        if spec is not None and spec.concealed and taken:
            covered = [item.hold_points[s.code].get("at") for s in item.parsed_template.followers(spec.code)
                       if item.hold_points[s.code]["result"] in PASSING]
            if any(at and max(taken) > at_site(datetime.fromisoformat(at), self.site_tz) for at in covered):
                flags.append("concealed_photo_after_backfill")
        return flags

    def _insert(self, batch: Batch, position: int, event: ChainedEvent, item: ItemState | None, project_id: str,
                flags: list[str], device_time: datetime | None, photos: list[str]) -> None:
        aggregate_id = str(event.originator_id)
        batch.cache.setdefault(("timeline rows",), []).append(
            (position, aggregate_id, aggregate_id if item else None, project_id,
             item.kind if item else None, event.originator_version, type(event).__name__,
             _text(batch, event.actor_id), event.actor_role, event.device_id,
             device_time.isoformat() if device_time else None, event.timestamp.isoformat(),
             getattr(event, "hold_point", None), _json_list(photos),
             _flags_text(flags), int(bool(flags))))


def payload(event: Any) -> dict[str, Any]:
    """What the timeline shows of an event beyond its row: its own fields, as plain JSON values."""
    plain: dict[str, Any] = to_plain({k: v for k, v in vars(event).items() if k not in META})
    return plain


def payloads(app: Application, entries: Iterable[tuple[str, int]]) -> dict[tuple[str, int], dict[str, Any]]:
    """The `payload` of each entry (aggregate id, version), read from the log: one read per aggregate, of its
    versions from the first entry's to the last's (a page of one item's entries is one read)."""
    wanted: dict[str, set[int]] = {}
    for aggregate_id, version in entries:
        wanted.setdefault(aggregate_id, set()).add(version)
    found: dict[tuple[str, int], dict[str, Any]] = {}
    for aggregate_id, versions in wanted.items():
        for stored in app.recorder.select_events(UUID(aggregate_id), gt=min(versions) - 1, lte=max(versions)):
            if stored.originator_version in versions:
                found[(aggregate_id, stored.originator_version)] = payload(app.mapper.to_domain_event(stored))
    return found


def _text(batch: Batch, value: UUID | None) -> str:
    """A project's or a person's id as text, spelled once per batch: a batch's events name a few of each."""
    texts: dict[UUID | None, str] = batch.cache.setdefault(("uuid text",), {})
    text = texts.get(value)
    if text is None:
        text = texts[value] = str(value)
    return text


def _flags_text(flags: list[str]) -> str:
    """The stored text of a list of flags: a handful of combinations ever occur, so each is encoded once."""
    key = tuple(flags)
    text = _FLAGS_TEXT.get(key)
    if text is None:
        text = _FLAGS_TEXT[key] = _json_list(flags)
    return text


_FLAGS_TEXT: dict[tuple[str, ...], str] = {}  # at most one entry per combination of the six flags


def _json_list(values: list[str]) -> str:
    return json.dumps(values) if values else "[]"  # most entries cite no photo and raise no flag


def _photos(event: Any) -> list[str]:
    return list(getattr(event, "photos", None) or [])
