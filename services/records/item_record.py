"""What the printed record of a works item holds, gathered once from the log, the directory and the photo store.

The record is of one version of the item: every event up to it, the photos those events cite, and the chain
verified up to it, so the same version gives the same record (and, rendered, the same bytes) whenever it is
printed. Photos are read from the store as they are now: a replaced photo shows a SHA-256 that no longer
matches its bytes, which the record states rather than hides.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any
from uuid import UUID

from domain.chain import at_site
from domain.project import Project
from domain.works_item import WorksItem
from services.api.views import event_view
from services.bootstrap import Container
from services.operations import cited_photos
from services.transparency.evidence import earliest_covering
from services.transparency.service import service_for

TIME_FORMAT = "%Y-%m-%d %H:%M:%S"
THUMB = "thumb"


@dataclass(frozen=True)
class PhotoFact:
    sha256: str
    taken_at: str | None
    gps: dict[str, float] | None
    device_model: str | None
    thumbnail: bytes | None  # None: not in the store (the record says so)
    matches: bool | None  # the original's bytes still hash to its id; None when not checked


@dataclass
class ItemRecord:
    item: WorksItem
    project: Project
    events: list[dict[str, Any]]
    photos: dict[str, PhotoFact]
    chain: dict[str, Any]
    names: dict[str, str] = field(default_factory=dict)  # user id -> name, for the people the record names
    site_tz: timezone = timezone(timedelta(hours=8))
    checkpoint: dict[str, Any] | None = None  # the transparency checkpoint including the item's last event

    def local(self, iso: str | None) -> str:
        """A stored time as the site reads it (naive device times are site local: domain.chain.at_site)."""
        if not iso:
            return "—"
        return at_site(datetime.fromisoformat(iso), self.site_tz).astimezone(self.site_tz).strftime(TIME_FORMAT)

    def name(self, user_id: str | UUID | None) -> str:
        if user_id is None:
            return "—"
        return self.names.get(str(user_id)) or "已删除"

    def of_type(self, *types: str) -> Iterator[dict[str, Any]]:
        return (e for e in self.events if e["type"] in types)


def gather(container: Container, item: WorksItem, project: Project, check_photos: bool = True) -> ItemRecord:
    """The record of `item` at its loaded version (the caller has checked the reader may see it)."""
    events = [event_view(e, container.users)
              for e in container.ledger.item_events(item.id, limit=item.version)]
    names = {e["actor_id"]: e.get("actor_name") or "" for e in events}
    for user_id in [*project.assignments, *([str(item.contractor_id)] if item.contractor_id else [])]:
        person = container.users.get(user_id)
        names[str(user_id)] = person.public()["name"] if person else ""
    cited = sorted({p for e in events for p in cited_photos(e["data"])})
    photos = {sha: _photo(container, sha, check_photos) for sha in cited}
    chain = container.ledger.verify(item.id).as_dict()
    offset = timezone(timedelta(hours=container.settings.site_utc_offset_hours))
    return ItemRecord(item=item, project=project, events=events, photos=photos, chain=chain, names=names,
                      site_tz=offset, checkpoint=earliest_covering(service_for(container), item.id, item.version))


def _photo(container: Container, sha: str, check: bool) -> PhotoFact:
    meta = container.photos.store.meta(sha) or {}
    thumbnail = _read(container, sha, THUMB) if meta else None
    matches = None
    if check and meta:
        digest = hashlib.sha256()
        chunks, _ = container.photos.store.open(sha, "original")
        for chunk in chunks:
            digest.update(chunk)
        matches = digest.hexdigest() == sha
    return PhotoFact(sha256=sha, taken_at=meta.get("taken_at"), gps=meta.get("gps"),
                     device_model=meta.get("device_model"), thumbnail=thumbnail, matches=matches)


def _read(container: Container, sha: str, size: str) -> bytes | None:
    try:
        chunks, _ = container.photos.store.open(sha, size)
        return b"".join(chunks)
    except Exception:  # a missing derivative: the record shows the photo's facts without its picture
        return None
