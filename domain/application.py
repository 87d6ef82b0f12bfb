"""The SiteLedger application: loads aggregates (private copies, scoped to the actor) and saves them.

It stays as thin as the eventsourcing library's examples: get, mutate (the handlers, `domain/handlers.py`),
save. Running a command once (receipts), retrying a lost race, queueing commands per aggregate and saving
a batch together are the services' unit of work (`services/commands/unit_of_work.py`)."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from copy import deepcopy
from typing import Any, ClassVar, Protocol
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError, Application, ProcessingEvent
from eventsourcing.domain import Aggregate, DomainEvent
from eventsourcing.persistence import IntegrityError, JSONTranscoder, Recording

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


class VersionLookup(Protocol):
    """The newest stored version of an aggregate, asked more cheaply than the library's fast-forward read (a
    store-specific port: the services give one for a store that has it, `services/store_versions.py`)."""

    def newest(self, *aggregate_ids: UUID) -> list[int | None]: ...

    def close(self) -> None: ...


def mutate_all(aggregate: Any, events: Iterable[Any]) -> Any:
    """The library's `project_aggregate` less its per-event `isinstance` against a runtime-checkable Protocol
    (typing's slow path, most of the cost of applying one event): every event and snapshot we store has `mutate`."""
    for event in events:
        aggregate = event.mutate(aggregate)
    return aggregate


class SiteLedger(Application):
    """Snapshots every 100 events and a cache keep a command's cost flat however long the item's log."""

    name = "SiteLedger"
    env: ClassVar[dict[str, str]] = {"AGGREGATE_CACHE_MAXSIZE": "2000"}
    snapshotting_intervals: ClassVar[dict[type, int]] = {WorksItem: 100, Project: 100}
    snapshotting_projectors: ClassVar[dict[type, Any]] = {WorksItem: mutate_all, Project: mutate_all}

    def __init__(self, env: dict[str, str] | None = None,
                 catalog: TemplateCatalog | None = None, acceptance_floor: AcceptanceRule = CITY_FLOOR,
                 calendar: WorkingCalendar | None = None,
                 newest_versions: Callable[[Any], VersionLookup | None] | None = None) -> None:
        super().__init__(env)
        self.calendar: WorkingCalendar = calendar or ChineseCalendar()
        self.catalog = catalog or builtin_catalog()
        self.acceptance_floor = acceptance_floor  # the city's: no project's rule goes below it
        self._load_stripes = [threading.Lock() for _ in range(LOAD_STRIPES)]
        # None: every load fast-forwards as the library does; else a current cached copy costs one look-up
        self._newest = newest_versions(self.recorder) if newest_versions is not None else None
        self._overlay = threading.local()  # a thread's unsaved aggregates (`overlaid`), seen first by its loads

    def register_transcodings(self, transcoder: JSONTranscoder) -> None:
        super().register_transcodings(transcoder)
        transcoder.register(FrozenTemplateAsDict())

    # --- saving ---------------------------------------------------------------------------------

    def save(self, *objs: Any, **kwargs: Any) -> list[Recording[UUID]]:
        """The library's `save` (collect, record, snapshot, notify), collecting an aggregate's pending events, or an
        event, directly: the library tests each object against runtime-checkable Protocols first (typing's slow
        path)."""
        processing: ProcessingEvent[UUID] = ProcessingEvent()  # not ProcessingEvent[UUID](): typing's slow call
        for obj in objs:
            if isinstance(obj, Aggregate):
                processing.events.extend(obj.collect_events())
                processing.aggregates[obj.id] = obj
            elif isinstance(obj, DomainEvent):  # an event saved as it is (a command receipt)
                processing.events.append(obj)
            else:
                processing.collect_events(obj)
        processing.saved_kwargs.update(kwargs)
        recordings = self._record(processing)
        self._take_snapshots(processing)
        self._notify(recordings)
        self.notify(processing.events)  # the library's deprecated hook, kept as its save calls it
        return recordings

    def _take_snapshots(self, processing_event: ProcessingEvent[UUID]) -> None:
        """A snapshot at each interval, taken from the aggregate just saved when it stands at the snapshot's
        version (it is the recorded state: every change to it was an event, now stored); else as the library
        does, from the store. The library always reloads it: the last 100 events read, decoded and applied."""
        rest: ProcessingEvent[UUID] = ProcessingEvent()
        rest.aggregates = processing_event.aggregates
        for event in processing_event.events:
            aggregate = processing_event.aggregates.get(event.originator_id)
            interval = self.snapshotting_intervals.get(type(aggregate)) if aggregate is not None else None
            if interval is None or event.originator_version % interval != 0:
                continue
            snapshot_class = getattr(type(aggregate), "Snapshot", type(self).snapshot_class)
            if self.snapshots is not None and snapshot_class is not None and aggregate is not None \
                    and aggregate.version == event.originator_version:
                self.snapshots.put([snapshot_class.take(aggregate)])
            else:
                rest.events.append(event)
        if rest.events:
            super()._take_snapshots(rest)

    @contextmanager
    def overlaid(self, aggregates: dict[UUID, Aggregate]) -> Iterator[None]:
        """While open, loads in this thread (only) find these aggregates first, as copies: commands decided one
        after another, each on what the ones before it decided, before any of it is saved. The caller keeps
        the dict current and saves it all, or nothing."""
        previous = getattr(self._overlay, "aggregates", None)
        self._overlay.aggregates = aggregates
        try:
            yield
        finally:
            self._overlay.aggregates = previous

    def remember(self, *aggregates: Aggregate) -> None:
        """Aggregates a command has just saved become the cached copies, so the next load of each does not read,
        decode and apply again the events this process has just written. The cache stays a hint: every load still
        asks the store for newer events (another process may write), and an older copy never replaces a newer one.
        The caller hands the objects over and must not change them after."""
        cache = self.repository.cache
        if cache is None:
            return
        for aggregate in aggregates:
            with self._load_stripes[hash(aggregate.id) % LOAD_STRIPES]:
                cached = self._peek(cache, aggregate.id)
                if cached is None or cached.version < aggregate.version:
                    cache.put(aggregate.id, aggregate)

    def close(self) -> None:
        super().close()
        if self._newest is not None:
            self._newest.close()

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
        overlay: dict[UUID, Aggregate] | None = getattr(self._overlay, "aggregates", None)
        if overlay and aggregate_id in overlay:
            return deepcopy(overlay[aggregate_id])  # decided in this thread, not saved yet
        with self._load_stripes[hash(aggregate_id) % LOAD_STRIPES]:
            cache = self.repository.cache
            if self._newest is not None and cache is not None:
                cached = self._peek(cache, aggregate_id)
                if cached is not None and self._newest.newest(aggregate_id) == [cached.version]:
                    return deepcopy(cached)  # current: what the library's fast-forward would find
            # copies (deepcopy_from_cache) inside the stripe
            return self.repository.get(aggregate_id, projector_func=mutate_all)

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
        item_id = UUID(str(item_id))
        pair = self._current_pair(item_id)
        if pair is None:
            item = self.get_item(item_id, for_update)
            return item, self.project_in_scope(actor, item.project_id)
        if not may_see(actor, pair[1]):
            raise OutOfScope()
        return pair

    def _current_pair(self, item_id: UUID) -> tuple[WorksItem, Project] | None:
        """Copies of a cached item and its cached project when both are current, checked in one statement (every
        command on an item loads both; two look-ups were two read transactions). None: load them one by one.

        Each copy is taken under its aggregate's stripe, as `_load` takes it, and only if the cached object still
        stands at the version just checked: a fast-forward under that stripe would have moved it on."""
        cache = self.repository.cache
        overlay: dict[UUID, Aggregate] | None = getattr(self._overlay, "aggregates", None)
        if self._newest is None or cache is None or overlay:
            return None
        item, project = self._peek(cache, item_id), None
        if isinstance(item, WorksItem):
            project = self._peek(cache, item.project_id)
        if not isinstance(item, WorksItem) or not isinstance(project, Project):
            return None
        versions = [item.version, project.version]
        if self._newest.newest(item.id, project.id) != versions:
            return None
        copies = [self._copy_if_at(cache, aggregate_id, version)
                  for aggregate_id, version in zip((item.id, project.id), versions, strict=True)]
        return None if copies[0] is None or copies[1] is None else (copies[0], copies[1])

    @staticmethod
    def _peek(cache: Any, aggregate_id: UUID) -> Any:
        """The cached object itself (not a copy), or None."""
        try:
            return cache.get(aggregate_id)
        except KeyError:
            return None

    def _copy_if_at(self, cache: Any, aggregate_id: UUID, version: int) -> Any:
        with self._load_stripes[hash(aggregate_id) % LOAD_STRIPES]:
            current = self._peek(cache, aggregate_id)
            if current is None or current.version != version:
                return None
            return deepcopy(current)

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
