"""The one composition root: the API, the CLI and the tests all build SiteLedger here, from one Settings."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

from domain.acceptance import AcceptanceRule
from domain.application import SiteLedger
from projections.acceptance_board import AcceptanceBoard
from projections.dashboard import Dashboard
from projections.deadlines import Deadlines
from projections.driver import EventStoreDriver, ReadModel
from projections.kafka_driver import KafkaDriver
from projections.listing import Listing
from projections.runner import ProjectionRunner
from projections.statistics import Statistics
from projections.timeline import Timeline
from services import migrations
from services.bus import envelope, kafka_clients
from services.bus.relay import Relay
from services.commands.bus import CommandBus
from services.db import Database
from services.observability import PROJECTION_FAILURES
from services.photos.service import PhotoService
from services.photos.store import PhotoStore
from services.photos.uploads import ResumableUploads
from services.photos.workers import PhotoWorkers
from services.settings import Settings
from services.store_versions import NewestVersions
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
    commands: CommandBus = field(init=False)  # the one path every front door acts through

    def __post_init__(self) -> None:
        self.commands = CommandBus(self.ledger, self.photos, self.settings.device_time_max_ahead_hours,
                                   after_commit=self.projections.nudge)

    def __enter__(self) -> Container:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self.projections.stop()
        self.ledger.close()
        self.db.close()
        self.photos.close()


def read_models(settings: Settings) -> list[ReadModel]:
    timeline = Timeline(settings.late_arrival_hours, settings.site_utc_offset_hours,
                        settings.device_clock_ahead_minutes)
    return [Dashboard(), timeline, AcceptanceBoard(),
            Listing(postgres=settings.database_url().startswith(("postgresql://", "postgres://"))), Deadlines(),
            Statistics(settings.site_utc_offset_hours)]


def build(settings: Settings | None = None) -> Container:
    settings = settings or Settings()
    migrations.prepare(settings.database_url(), apply=settings.env == "development")
    ledger = SiteLedger(env=settings.event_store_env(), acceptance_floor=AcceptanceRule.parse(
        settings.acceptance_floor_min_signed, settings.acceptance_floor_min_accept), newest_versions=NewestVersions.of)
    db = Database(settings.database_url())
    models = read_models(settings)
    runner = ProjectionRunner([EventStoreDriver(m, ledger, db) for m in models], settings.projection_interval_s,
                              fed_by_kafka=bool(settings.kafka_bootstrap) and not settings.projections_in_process,
                              on_failure=lambda name: PROJECTION_FAILURES.labels(name).inc(),
                              decoder_env=settings.event_store_env())
    store = PhotoStore(settings.s3_address(), settings.s3_access_key, settings.s3_secret_key, settings.s3_bucket,
                       secure=settings.s3_secure, region=settings.s3_region,
                       connect_timeout_s=settings.s3_connect_timeout_s, read_timeout_s=settings.s3_read_timeout_s,
                       probe_interval_s=settings.s3_probe_interval_s)
    photos = PhotoService(store, ledger, db, settings.photo_max_bytes, settings.photo_max_pixels,
                          PhotoWorkers(settings.photo_workers, settings.photo_wait_s))
    return Container(
        settings=settings, ledger=ledger, db=db, users=UserDirectory(db, settings.token_max_age_days),
        projections=runner,
        photos=photos, uploads=ResumableUploads(db, photos, settings.upload_chunk_bytes,
                                                timedelta(hours=settings.upload_expiry_hours)),
    )


def build_relay(container: Container) -> Relay:
    settings = container.settings
    return Relay(container.ledger, container.db, lambda: kafka_clients.producer(settings),
                 lambda: kafka_clients.admin(settings), kafka_clients.topics(settings),
                 partitions=settings.kafka_partitions, replication=settings.kafka_replication,
                 source=settings.kafka_source, check_interval_s=settings.kafka_loss_check_interval_s,
                 reader_factory=lambda: kafka_clients.reader(settings),
                 encoder_env=settings.event_store_env() if settings.relay_encoder_process else None)


def build_kafka_driver(container: Container, group: str | None = None) -> KafkaDriver:
    models = [driver.model for driver in container.projections.drivers.values()]
    return kafka_driver(container.settings, models, container.db, group)


def build_kafka_worker(settings: Settings, group: str | None = None) -> tuple[KafkaDriver, Database]:
    """A projection worker fed by Kafka alone: read models and their database, no event store, no S3."""
    migrations.prepare(settings.database_url(), apply=settings.env == "development")
    db = Database(settings.database_url())
    return kafka_driver(settings, read_models(settings), db, group), db


def kafka_driver(settings: Settings, models: list[ReadModel], db: Database, group: str | None) -> KafkaDriver:
    transcoding = SiteLedger(env={"PERSISTENCE_MODULE": "eventsourcing.popo"})  # the item-state encoding only
    return KafkaDriver(models, transcoding, db, lambda: kafka_clients.consumer(settings, group), envelope.decode,
                       group=group or settings.kafka_group)
