"""The SiteLedger application: loads aggregates (private copies, scoped to the actor) and saves them.

It stays as thin as the eventsourcing library's examples: get, mutate (the handlers, `domain/handlers.py`),
save. Running a command once (receipts), retrying a lost race, queueing commands per aggregate and saving
a batch together are the services' unit of work (`services/commands/unit_of_work.py`)."""

from __future__ import annotations

import threading
from typing import Any, ClassVar
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError, Application
from eventsourcing.domain import Aggregate
from eventsourcing.persistence import IntegrityError, JSONTranscoder

from domain.acceptance import CITY_FLOOR, AcceptanceRule
from domain.actors import Actor
from domain.chain import ChainReport, verify_chain
from domain.divisions import REGISTRY_ID, DivisionRegistry
from domain.permissions import may_see
from domain.photo import Photo
from domain.plan import AnnualPlan
from domain.project import Project
from domain.rules import OutOfScope, ProjectNotFound, WorksItemNotFound
from domain.templates.catalog import TemplateCatalog, builtin_catalog
from domain.templates.frozen import FrozenTemplateAsDict
from domain.working_days import ChineseCalendar, WorkingCalendar
from domain.works_item import WorksItem

LOAD_STRIPES = 64


class SiteLedger(Application):
    """Snapshots every 100 events and a cache keep a command's cost flat however long the item's log."""

    name = "SiteLedger"
    env: ClassVar[dict[str, str]] = {"AGGREGATE_CACHE_MAXSIZE": "2000"}
    snapshotting_intervals: ClassVar[dict[type, int]] = {WorksItem: 100, Project: 100}

    def __init__(self, env: dict[str, str] | None = None,
                 catalog: TemplateCatalog | None = None, acceptance_floor: AcceptanceRule = CITY_FLOOR,
                 calendar: WorkingCalendar | None = None) -> None:
        super().__init__(env)
        self.calendar: WorkingCalendar = calendar or ChineseCalendar()
        self.catalog = catalog or builtin_catalog()
        self.acceptance_floor = acceptance_floor  # the city's: no project's rule goes below it
        self._load_stripes = [threading.Lock() for _ in range(LOAD_STRIPES)]

    def register_transcodings(self, transcoder: JSONTranscoder) -> None:
        super().register_transcodings(transcoder)
        transcoder.register(FrozenTemplateAsDict())

    # --- photos ---------------------------------------------------------------------------------

    def record_photo(self, sha256: str, taken_at: str | None, stored_by: str) -> bool:
        """A stored photo's facts into the log, once per content hash (False: they were there already)."""
        try:
            self.save(Photo.store(sha256, taken_at, stored_by))
        except IntegrityError:
            return False
        return True

    def has_photo(self, sha256: str) -> bool:
        return Photo.id_for(sha256) in self.repository

    # --- loading, with scope -----------------------------------------------------------------

    def _load(self, aggregate_id: UUID) -> Aggregate:
        """A private copy of the aggregate, never one caught mid-update.

        The library fast-forwards the one cached object in place, under its own lock, but copies it
        after letting go; and a shared (uncopied) object changes under a reader whenever another thread
        loads it. Every load in this process passes this stripe, so no fast-forward runs during a copy."""
        with self._load_stripes[hash(aggregate_id) % LOAD_STRIPES]:
            return self.repository.get(aggregate_id)  # copies (deepcopy_from_cache) inside the stripe

    def current_version(self, aggregate_id: UUID) -> int:
        """The stored version now (what a stale If-Match is told), read like every other load."""
        return int(self._load(aggregate_id).version)

    def get_project(self, project_id: UUID | str, for_update: bool = False) -> Project:
        """Every load is a private copy (`for_update` is kept for callers; reads and commands load alike)."""
        project_id = UUID(str(project_id))
        try:
            project = self._load(project_id)
        except AggregateNotFoundError:
            raise ProjectNotFound(project_id=project_id) from None
        if not isinstance(project, Project):
            raise ProjectNotFound(project_id=project_id)
        return project

    def get_item(self, item_id: UUID | str, for_update: bool = False) -> WorksItem:
        item_id = UUID(str(item_id))
        try:
            item = self._load(item_id)
        except AggregateNotFoundError:
            raise WorksItemNotFound(item_id=item_id) from None
        if not isinstance(item, WorksItem):
            raise WorksItemNotFound(item_id=item_id)
        return item

    def division_registry(self) -> DivisionRegistry | None:
        """The city's districts and streets; None until an admin loads them (names are then free text)."""
        try:
            registry = self._load(REGISTRY_ID)
        except AggregateNotFoundError:
            return None
        return registry if isinstance(registry, DivisionRegistry) else None

    def annual_plan(self, plan_id: UUID) -> AnnualPlan | None:
        """A district's plan for a year (id: domain.plan.plan_id), None until an admin sets one."""
        try:
            plan = self._load(plan_id)
        except AggregateNotFoundError:
            return None
        return plan if isinstance(plan, AnnualPlan) else None

    def project_in_scope(self, actor: Actor, project_id: UUID, for_update: bool = False) -> Project:
        project = self.get_project(project_id, for_update)
        if not may_see(actor, project):
            raise OutOfScope()
        return project

    def item_in_scope(self, actor: Actor, item_id: UUID, for_update: bool = False) -> tuple[WorksItem, Project]:
        item = self.get_item(item_id, for_update)
        return item, self.project_in_scope(actor, item.project_id)

    # --- the log -------------------------------------------------------------------------------

    def item_events(self, item_id: UUID | str, after_version: int = 0, limit: int = 100) -> list[Any]:
        return list(self.events.get(UUID(str(item_id)), gt=after_version or None, limit=limit))

    def verify(self, aggregate_id: UUID | str) -> ChainReport:
        """Check the stored log itself, decoding record by record: an unreadable record is a break."""
        events = []
        for record in self.recorder.select_events(UUID(str(aggregate_id))):
            try:
                events.append(self.mapper.to_domain_event(record))
            except Exception as error:  # a tampered record may not even decode
                so_far = verify_chain(events)
                reason = f"undecodable: {type(error).__name__}"
                return ChainReport(False, so_far.events, so_far.head,
                                   record.originator_version, reason)
        return verify_chain(events)
