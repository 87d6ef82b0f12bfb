"""A works item as a resident reads it: hold point by hold point in plain words, defects with their before and
after photos, stop-work orders and when they were lifted — folded from the item's own log.

Read from the log (not a read model) and only up to the version the open round asks residents to sign
(`subject_version`): what the page shows is exactly the content whose hash the signature binds. A pure
function of the events, so it is tested without a server.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, tzinfo
from typing import Any

from domain.templates.model import WorksKindTemplate
from domain.templates.reading import checks, measurements
from domain.wording import RESULT_ZH, SEVERITY_ZH
from domain.works_item_events import (
    DefectClosed,
    DefectRaised,
    InspectionRecorded,
    RectificationRejected,
    RectificationReported,
    Registered,
    StopWorkLifted,
    StopWorkOrdered,
    WorksCompleted,
)

DEFECT_STATUS_ZH = {  # in a neighbour's words, not the station's (domain.wording)
    "open": "待整改", "rectification_reported": "已整改，待监理复查", "closed": "已整改完毕"}
# Units a neighbour says in words ("1.2 米", "10 分钟"); a pressure stays "MPa", as on the gauge and in the standards.
UNITS_ZH = {"m²": "平方米", "mm": "毫米", "min": "分钟", "m": "米"}
UNIT_AFTER_FIGURE = re.compile(r"(?<=\d) (m²|mm|min|m)(?=$|[，。；、\s）)])")
ACCEPTANCE_REASON_PREFIX = "居民验收意见（"  # domain/acceptance_rounds.py names the member inside: never shown


def day(moment: datetime, zone: tzinfo) -> str:
    return moment.astimezone(zone).strftime("%Y年%-m月%-d日")


def minute(moment: datetime, zone: tzinfo) -> str:
    return moment.astimezone(zone).strftime("%Y年%-m月%-d日 %H:%M")


def date_zh(iso_day: str) -> str:
    """'2026-09-01' → '2026年9月1日', as the other dates on the page read."""
    year, month, day_of_month = iso_day.split("-")
    return f"{year}年{int(month)}月{int(day_of_month)}日"


def units_in_words(sentence: str) -> str:
    return UNIT_AFTER_FIGURE.sub(lambda unit: f" {UNITS_ZH[unit.group(1)]}", sentence)


def resident_words(description: str) -> str:
    """A defect raised from a resident's reason names the member's id; neighbours see the reason alone."""
    if description.startswith(ACCEPTANCE_REASON_PREFIX) and "）：" in description:
        return "居民意见：" + description.split("）：", 1)[1]
    return description


@dataclass
class HoldPointRecord:
    code: str
    name_zh: str
    result_zh: str | None = None  # None: not inspected yet
    passed: bool = False
    date: str | None = None
    sentences: list[str] = field(default_factory=list)
    photos: list[str] = field(default_factory=list)


@dataclass
class DefectRecord:
    defect_id: str
    description: str
    severity_zh: str
    raised: str
    hold_point_zh: str | None
    hold_point: str | None = None
    status: str = "open"
    before: list[str] = field(default_factory=list)
    after: list[str] = field(default_factory=list)
    fixed: str | None = None  # the rectification's date
    closed: str | None = None
    from_residents: bool = False

    @property
    def status_zh(self) -> str:
        return DEFECT_STATUS_ZH[self.status]


@dataclass
class StopWorkRecord:
    reason: str
    ordered: str
    lifted: str | None = None


@dataclass
class ItemRecord:
    registered: str | None = None
    planned: str | None = None
    completed: str | None = None
    hold_points: list[HoldPointRecord] = field(default_factory=list)
    defects: list[DefectRecord] = field(default_factory=list)
    stop_work: list[StopWorkRecord] = field(default_factory=list)

    def photos(self) -> dict[str, str]:
        """Every photo the page shows, with what it shows (a full-screen view is offered for these alone)."""
        found = {p: f"{hp.name_zh}（{hp.date}）" for hp in self.hold_points for p in hp.photos}
        for d in self.defects:
            found |= {p: f"整改前：{d.description}（{d.raised}）" for p in d.before}
            found |= {p: f"整改后：{d.description}（{d.fixed}）" for p in d.after}
        return found


def _sentences(template: WorksKindTemplate, event: InspectionRecorded) -> list[str]:
    spec = template.hold_point(event.hold_point)
    if spec is None:
        return []
    judged = checks(spec, event.measurements)
    judged_codes = {reading.code for reading in judged}
    checked_measurements = {c.measurement for c in spec.checks if c.code in judged_codes}
    lines = list(dict.fromkeys(reading.plain_zh for reading in judged))  # two limits may read the same
    lines += [f"{m.name_zh}：{m.text}" for m in measurements(spec, event.measurements)
              if m.code not in checked_measurements]
    lines = [units_in_words(line) for line in lines]
    if event.notes:
        lines.append(f"备注：{event.notes}")
    return lines


def fold(template: WorksKindTemplate, events: Iterable[Any], zone: tzinfo) -> ItemRecord:
    """The record from the item's events in order (those of other kinds — signatures, rounds — add nothing)."""
    record = ItemRecord(hold_points=[HoldPointRecord(hp.code, hp.name_zh) for hp in template.hold_points])
    points = {hp.code: hp for hp in record.hold_points}
    defects: dict[str, DefectRecord] = {}
    for event in events:
        when = event.timestamp
        if isinstance(event, Registered):
            record.registered = day(when, zone)
            if event.planned_start and event.planned_end:
                record.planned = f"{date_zh(event.planned_start)} 至 {date_zh(event.planned_end)}"
        elif isinstance(event, InspectionRecorded) and event.hold_point in points:
            point = points[event.hold_point]
            point.result_zh = RESULT_ZH.get(event.result, event.result)
            point.passed = event.result in ("pass", "conditional")
            point.date = day(when, zone)
            point.sentences = _sentences(template, event)
            point.photos = list(event.photos)
        elif isinstance(event, DefectRaised):
            spec = template.hold_point(event.hold_point) if event.hold_point else None
            defects[event.defect_id] = DefectRecord(
                event.defect_id, resident_words(event.description), SEVERITY_ZH.get(event.severity, event.severity),
                day(when, zone), spec.name_zh if spec else None, event.hold_point, before=list(event.photos),
                from_residents=event.source == "acceptance")
        elif isinstance(event, RectificationReported) and event.defect_id in defects:
            defects[event.defect_id].status = "rectification_reported"
            defects[event.defect_id].after = list(event.photos)
            defects[event.defect_id].fixed = day(when, zone)
        elif isinstance(event, RectificationRejected) and event.defect_id in defects:
            defects[event.defect_id].status = "open"
        elif isinstance(event, DefectClosed) and event.defect_id in defects:
            defects[event.defect_id].status = "closed"
            defects[event.defect_id].closed = day(when, zone)
        elif isinstance(event, StopWorkOrdered):
            record.stop_work.append(StopWorkRecord(event.reason, minute(when, zone)))
        elif isinstance(event, StopWorkLifted) and record.stop_work:
            record.stop_work[-1].lifted = minute(when, zone)
        elif isinstance(event, WorksCompleted):
            record.completed = day(when, zone)
    for point in record.hold_points:  # a later open defect at a passed hold point: shown as under rectification
        if point.passed and any(d.status != "closed" and d.hold_point == point.code for d in defects.values()):
            point.passed = False
    record.defects = list(defects.values())
    return record
