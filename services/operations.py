"""Operator commands: is everything reachable, do all the logs verify, and an item's evidence as a zip."""

from __future__ import annotations

import hashlib
import json
import zipfile
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import IO, Any
from uuid import UUID

from domain.project import ProjectRegistered
from domain.works_item_events import Registered
from services.api.views import event_view, item_view
from services.bootstrap import Container
from services.transparency.evidence import log_entries, transparency_document
from services.transparency.service import service_for

Progress = Callable[[int, int], None]


def check(container: Container) -> list[tuple[str, bool, str]]:
    """(part, ok, detail) for the event store, the read-model database, S3 and Kafka (when configured)."""
    results: list[tuple[str, bool, str]] = []

    def probe(name: str, action: Callable[[], str]) -> None:
        try:
            results.append((name, True, action()))
        except Exception as error:
            results.append((name, False, f"{type(error).__name__}: {str(error)[:200]}"))

    settings = container.settings
    probe("event store", lambda: f"{settings.event_store}, log position "
                                 f"{container.ledger.recorder.max_notification_id() or 0}")
    probe("read models", lambda: (container.db.query("SELECT 1"), settings.database_url().split("@")[-1])[1])

    def s3() -> str:
        container.photos.store.ping()
        return f"{settings.s3_address()} bucket {settings.s3_bucket}"

    probe("photo store (S3)", s3)
    if settings.kafka_bootstrap:
        def kafka() -> str:
            from services.bus import kafka_clients

            admin = kafka_clients.admin(settings)
            try:
                return f"{settings.kafka_bootstrap}, {len(admin.list_topics())} topics"
            finally:
                admin.close()

        probe("event bus (Kafka)", kafka)
    else:
        results.append(("event bus (Kafka)", True, "not configured (embedded mode)"))
    return results


def aggregate_ids(container: Container) -> Iterator[tuple[str, UUID]]:
    """Every project and works item, from the log itself (not a read model someone could have edited)."""
    topics = {ProjectRegistered.TOPIC: "project", Registered.TOPIC: "works_item"}
    start = 0
    while True:
        notes = container.ledger.recorder.select_notifications(start, 1000, topics=list(topics),
                                                               inclusive_of_start=False)
        if not notes:
            return
        for note in notes:
            yield topics[note.topic], UUID(str(note.originator_id))  # typed UUID | str; ours are UUIDs
        start = notes[-1].id


def verify_all(container: Container, progress: Progress | None = None) -> list[dict[str, Any]]:
    ids = list(aggregate_ids(container))
    broken = []
    for n, (kind, aggregate_id) in enumerate(ids, start=1):
        report = container.ledger.verify(aggregate_id)
        if not report.valid:
            broken.append({"kind": kind, "id": str(aggregate_id), **report.as_dict()})
        if progress:
            progress(n, len(ids))
    return broken


def export_item(container: Container, item_id: UUID, out: IO[bytes]) -> int:
    """Write the item's events, its photos (originals) and a manifest of SHA-256s as a zip, for handing over
    as evidence, with what `siteledger-verify` checks them by (each event as hashed, a signed checkpoint and
    inclusion proofs); returns the bytes written.

    Photos are copied chunk by chunk from the store into the archive (hashed on the way), so an item with
    hundreds of 30 MB originals costs a chunk of memory, not the archive's size."""
    item = container.ledger.get_item(item_id)
    transparency = transparency_document(service_for(container), item_id)
    in_checkpoint = max((leaf["version"] for leaf in transparency.get("leaves", ())), default=item.version)
    # an event saved after the checkpoint was chosen waits for the next pack; a version the checkpoint has and the
    # store lacks shows as a leaf without its event, which is what the verifier reports
    stored = container.ledger.item_events(item_id, limit=in_checkpoint)
    events = [event_view(e, container.users) for e in stored]
    photos = sorted({p for e in events for p in cited_photos(e["data"])})
    documents: dict[str, bytes] = {
        "events.json": json.dumps(events, ensure_ascii=False, indent=2).encode(),
        "log.json": json.dumps(log_entries(stored), ensure_ascii=False, indent=1).encode(),
        "transparency.json": json.dumps(transparency, ensure_ascii=False, indent=1).encode(),
        "item.json": json.dumps(item_view(item), ensure_ascii=False, indent=2, default=str).encode(),
        "verification.json": json.dumps(container.ledger.verify(item_id).as_dict(), indent=2).encode(),
    }
    entries: list[dict[str, Any]] = []
    start = out.tell() if out.seekable() else 0
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for path, data in documents.items():
            archive.writestr(path, data)
            entries.append({"path": path, "sha256": hashlib.sha256(data).hexdigest(), "bytes": len(data)})
        for photo_id in photos:
            meta = container.photos.store.meta(photo_id) or {}
            chunks, _ = container.photos.store.open(photo_id, "original")
            extension = {"image/png": "png", "image/webp": "webp", "image/heic": "heic"}.get(
                meta.get("content_type", ""), "jpg")
            path, digest, size = f"photos/{photo_id}.{extension}", hashlib.sha256(), 0
            with archive.open(path, "w", force_zip64=True) as entry:
                for chunk in chunks:
                    entry.write(chunk)
                    digest.update(chunk)
                    size += len(chunk)
            entries.append({"path": path, "sha256": digest.hexdigest(), "bytes": size})
        manifest = {
            "works_item": str(item_id), "version": item.version, "chain_head": item.chain_head,
            "exported_at": datetime.now(UTC).isoformat(), "files": sorted(entries, key=lambda e: e["path"]),
        }
        archive.writestr("manifest.json", json.dumps(manifest, ensure_ascii=False, indent=2))
    return (out.tell() - start) if out.seekable() else 0


def cited_photos(data: Any) -> Iterator[str]:
    """Every photo id an event's data cites, at any depth (an inspection's, a defect's within it, a signature's)."""
    if isinstance(data, dict):
        for key, value in data.items():
            if key == "photos" and isinstance(value, list):
                yield from (p for p in value if isinstance(p, str))
            else:
                yield from cited_photos(value)
    elif isinstance(data, list):
        for value in data:
            yield from cited_photos(value)
