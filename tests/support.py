"""A small world to tell domain stories in: users of every role, a project, and valid inspections."""

from __future__ import annotations

import hashlib
from typing import Any
from uuid import UUID, uuid4

from domain import commands as c
from domain.actors import Actor, CommandContext, Role
from domain.application import SiteLedger
from domain.chain import ChainedEvent
from domain.templates import builtin_catalog
from services.commands.unit_of_work import Outcome, UnitOfWork

DISTRICT = "徐汇区"


def photo(label: str) -> str:
    return hashlib.sha256(label.encode()).hexdigest()


# Measurements and checklists that pass each built-in hold point.
VALID: dict[str, dict[str, Any]] = {
    "survey_and_marking": {"measurements": {"utility_owner": "自来水公司"},
                           "checklist": {"utilities_located": True, "owner_notified": True}},
    "excavation": {"measurements": {"depth_m": "1.2", "width_m": "0.8"},
                   "checklist": {"shoring_in_place": True, "fencing_in_place": True}},
    "pipe_laying": {"measurements": {"length_laid_m": "42.5", "material_certificate": "MC-1"},
                    "checklist": {"bedding_ok": True}},
    "pressure_test": {"measurements": {
        "medium": "water_supply", "pipe_material": "metal", "working_pressure_mpa": "0.4",
        "test_pressure_mpa": "0.6", "hold_time_min": "10", "pressure_drop_mpa": "0.02",
        "gauge_id": "G-7"}},
    "utility_handover": {"measurements": {"utility_company": "自来水公司",
                                          "handover_document_no": "H-1"}},
    "conduit_construction": {"measurements": {"depth_m": "0.8", "duct_count": "6", "length_m": "120"}},
    "manhole_inspection": {"measurements": {"manhole_count": "4"}},
    "cable_cutover": {"measurements": {"operators_total": "3", "operators_cut_over": "3"}},
    "stairwell_boxing": {"measurements": {"boxes_installed": "12"}},
    "old_cable_removal": {"measurements": {"removed_m": "300", "recovered_m": "280"}},
    "owner_consent": {"measurements": {
        "total_area_m2": "1200", "total_owners": "12", "participating_area_m2": "800",
        "participating_owners": "8", "agreeing_area_m2": "600", "agreeing_owners": "6"},
        "checklist": {"publicised": True}},
    "start_notification": {"measurements": {"notification_no": "GZ-2026-1"}},
    "foundation": {"checklist": {"pit_ok": True, "rebar_ok": True}},
    "supervision_inspection": {"measurements": {"certificate_no": "JY-9"}},
    "usage_registration": {"measurements": {"registration_no": "DT-001"}},
}


def inspection(item_id: Any, hold_point: str, result: str = "pass", **overrides: Any) -> c.RecordInspection:
    spec = next(hp for t in builtin_catalog() for hp in t.hold_points if hp.code == hold_point)
    body: dict[str, Any] = {
        "item_id": item_id, "hold_point": hold_point, "result": result,
        "photos": [photo(f"{hold_point}-{n}") for n in range(spec.min_photos)],
        **VALID.get(hold_point, {}),
    }
    return c.RecordInspection(**{**body, **overrides})


class World:
    """Users of every role around one project in 徐汇区; `run` executes as one of them."""

    def __init__(self, app: SiteLedger) -> None:
        self.app = app
        self.admin = Actor(uuid4(), Role.ADMIN)
        self.supervisor = Actor(uuid4(), Role.SUPERVISOR)
        self.supervisor2 = Actor(uuid4(), Role.SUPERVISOR)
        self.contractor = Actor(uuid4(), Role.CONTRACTOR)
        self.station = Actor(uuid4(), Role.STATION, district=DISTRICT)
        self.other_station = Actor(uuid4(), Role.STATION, district="黄浦区")
        self.residents = [Actor(uuid4(), Role.RESIDENT) for _ in range(5)]
        self.member_ids: dict[UUID, str] = {}
        self.project_id = self.new_project()

    def run(self, actor: Actor, command: c.Command, command_id: str | None = None,
            expected_version: int | None = None) -> Outcome:
        ctx = CommandContext(actor=actor, command_id=command_id or uuid4().hex,
                             device_id="tablet-01", expected_version=expected_version)
        return UnitOfWork.for_app(self.app).execute(ctx, command)

    def new_project(self, residents: int = 5) -> UUID:
        out = self.run(self.admin, c.RegisterProject(
            name="金牛花苑", district=DISTRICT, street_office="长桥街道", address="龙川北路",
            year_built=1994, buildings=12, households=430, categories=["basic", "improvement"]))
        pid = UUID(out.aggregate_id)
        for actor in (self.supervisor, self.supervisor2, self.contractor):
            self.run(self.admin, c.AssignUser(project_id=pid, user_id=actor.user_id, role=actor.role))
        for n, resident in enumerate(self.residents[:residents], start=1):
            out = self.run(self.admin, c.AddGroupMember(
                project_id=pid, user_id=resident.user_id, building=f"{n}号楼", unit="1单元"))
            self.member_ids[resident.user_id] = out.result["member_id"]
        return pid

    def new_item(self, kind: str = "pipe_relocation", **extra: Any) -> UUID:
        out = self.run(self.admin, c.RegisterWorksItem(
            project_id=self.project_id, kind=kind, location="3号楼北侧", **extra))
        return UUID(out.aggregate_id)

    def pass_through(self, item_id: UUID, until: str | None = None) -> None:
        """Pass every hold point in template order (stopping before `until`)."""
        item = self.app.get_item(item_id)
        for hp in item.parsed_template.hold_points:
            if hp.code == until:
                return
            self.run(self.supervisor, inspection(item_id, hp.code))

    def completed_item(self, kind: str = "pipe_relocation") -> UUID:
        item_id = self.new_item(kind)
        self.pass_through(item_id)
        self.run(self.supervisor, c.CompleteWorks(item_id=item_id))
        return item_id

    def open_round(self, item_id: UUID) -> tuple[int, str]:
        out = self.run(self.supervisor, c.RequestAcceptance(item_id=item_id))
        return out.result["round_no"], out.result["subject_hash"]

    def sign(self, resident: Actor, item_id: UUID, round_no: int, subject_hash: str,
             decision: str = "accept", reason: str = "") -> Outcome:
        return self.run(resident, c.SignAcceptance(
            item_id=item_id, round_no=round_no, decision=decision, reason=reason,
            subject_hash=subject_hash))

    def events(self, aggregate_id: UUID) -> list[ChainedEvent]:
        """The aggregate's log as the domain's own events (the store types them as a bare protocol)."""
        stored = list(self.app.events.get(aggregate_id))
        events = [e for e in stored if isinstance(e, ChainedEvent)]
        assert len(events) == len(stored), "every stored event is a ChainedEvent"
        return events

    def event_types(self, aggregate_id: UUID) -> list[str]:
        return [type(e).__name__ for e in self.app.events.get(aggregate_id)]


def ledger(env: dict[str, str]) -> SiteLedger:
    """The application as `services.bootstrap.build` makes it for a store: with the store's version look-up."""
    from services.store_versions import NewestVersions

    return SiteLedger(env=env, newest_versions=NewestVersions.of)
