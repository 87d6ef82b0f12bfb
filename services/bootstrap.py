"""The one composition root: the API, the CLI and the tests all build SiteLedger here, from one Settings."""

from __future__ import annotations

from dataclasses import dataclass

from domain.application import SiteLedger
from projections import catalog
from projections.driver import EventStoreDriver
from projections.sql import Database
from services.photos.service import PhotoService
from services.photos.store import PhotoStore
from services.photos.uploads import ResumableUploads
from services.settings import Settings
from services.users import UserDirectory


@dataclass
class Container:
    settings: Settings
    ledger: SiteLedger
    db: Database
    users: UserDirectory
    catalog: EventStoreDriver
    photos: PhotoService
    uploads: ResumableUploads

    def close(self) -> None:
        self.ledger.close()
        self.db.close()


def build(settings: Settings | None = None) -> Container:
    settings = settings or Settings()
    ledger = SiteLedger(env=settings.event_store_env())
    db = Database(settings.database_url())
    with db.transaction() as tx:
        for statement in catalog.DDL:
            tx.execute(statement)
    store = PhotoStore(settings.s3_address(), settings.s3_access_key, settings.s3_secret_key, settings.s3_bucket,
                       secure=settings.s3_secure, region=settings.s3_region)
    photos = PhotoService(store, ledger, settings.photo_max_bytes, settings.photo_max_pixels)
    return Container(
        settings=settings, ledger=ledger, db=db, users=UserDirectory(db),
        catalog=EventStoreDriver("catalog", ledger, db, catalog.project, topics=catalog.TOPICS),
        photos=photos, uploads=ResumableUploads(db, photos, settings.upload_chunk_bytes),
    )
