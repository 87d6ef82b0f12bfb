"""The one composition root: the API, the CLI and the tests all build SiteLedger here, from one Settings."""

from __future__ import annotations

from dataclasses import dataclass

from domain.application import SiteLedger
from projections.acceptance_board import AcceptanceBoard
from projections.catalog import Catalog
from projections.dashboard import Dashboard
from projections.driver import EventStoreDriver
from projections.runner import ProjectionRunner
from projections.sql import Database
from projections.timeline import Timeline
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
    projections: ProjectionRunner
    photos: PhotoService
    uploads: ResumableUploads

    @property
    def catalog(self) -> EventStoreDriver:
        return self.projections.drivers["catalog"]

    def close(self) -> None:
        self.projections.stop()
        self.ledger.close()
        self.db.close()


def build(settings: Settings | None = None) -> Container:
    settings = settings or Settings()
    ledger = SiteLedger(env=settings.event_store_env())
    db = Database(settings.database_url())
    models = [Catalog(), Dashboard(), Timeline(settings.late_arrival_hours, settings.site_utc_offset_hours),
              AcceptanceBoard()]
    runner = ProjectionRunner([EventStoreDriver(m, ledger, db) for m in models], settings.projection_interval_s)
    store = PhotoStore(settings.s3_address(), settings.s3_access_key, settings.s3_secret_key, settings.s3_bucket,
                       secure=settings.s3_secure, region=settings.s3_region)
    photos = PhotoService(store, ledger, db, settings.photo_max_bytes, settings.photo_max_pixels)
    return Container(
        settings=settings, ledger=ledger, db=db, users=UserDirectory(db),
        projections=runner,
        photos=photos, uploads=ResumableUploads(db, photos, settings.upload_chunk_bytes),
    )
