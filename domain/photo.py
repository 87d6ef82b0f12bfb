"""A stored photo's facts in the log: what the read models may judge a photo by, with nothing else kept.

The bytes live in the object store; the log keeps only the facts a record is checked against (its
hash, when EXIF says it was taken, who first stored it), so a read model is a function of the log.
One per content hash: the id is derived from it, so storing the same bytes again appends nothing.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate

PHOTO_NAMESPACE = uuid5(NAMESPACE_URL, "https://siteledger.example/photos")


class Photo(Aggregate):
    TOPIC = "siteledger:Photo"

    class Event(Aggregate.Event):
        TOPIC = "siteledger.photo:Event"

    class Stored(Event, Aggregate.Created):
        TOPIC = "siteledger.photo:Stored"
        sha256: str
        taken_at: str | None  # EXIF DateTimeOriginal as the photo checks read it (ISO 8601), if any
        stored_by: str

        def apply(self, photo: Any) -> None:
            photo.sha256, photo.taken_at, photo.stored_by = self.sha256, self.taken_at, self.stored_by

    Created = Stored

    if TYPE_CHECKING:  # state set by the event's apply(); not dataclass fields
        sha256: str
        taken_at: str | None
        stored_by: str

    @staticmethod
    def id_for(sha256: str) -> UUID:
        return uuid5(PHOTO_NAMESPACE, sha256.lower())

    @classmethod
    def store(cls, sha256: str, taken_at: str | None, stored_by: str) -> Photo:
        return cls._create(cls.Stored, id=cls.id_for(sha256), sha256=sha256.lower(), taken_at=taken_at,
                           stored_by=stored_by)
