"""Resumable uploads for weak signal: the pieces land in the object store, the offset in SQL.

Two doors share this one mechanism: the tus 1.0 protocol (`services/api/routers/tus.py`, spoken by
tus-js-client and the field client) and the older `/api/v1/photo-uploads` routes. Pieces are stored under
their offset, and the offset only moves after its piece is stored, so whatever a dropped connection delivered
is kept and the client resumes from exactly there. The finished file goes through the same checks and
pipeline as a whole upload (`PhotoService.upload`); until then no photo exists for any command.

A finished upload keeps its row (offset = size, pieces deleted) until it expires, so a client whose last
answer was lost learns from HEAD that it is done instead of starting over.

Expiry: an upload expires `ttl` after it was created (the `Upload-Expires` a client is told at creation stays
true). Abandoned uploads are by definition never touched again, so expiry cannot rely on access alone: an
expired upload is removed when it is touched (410), and a sweep removes the rest. The sweep runs in a
background thread started by upload creation, at most once per `sweep_every`: it needs no scheduler of its
own, works the same with one API process or many, and abandoned uploads can only pile up while new ones
are being created.
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any

import anyio
from pydantic import BaseModel, ConfigDict, Field, TypeAdapter

from domain.fields import OptionalShortText
from services.api.errors import ApiError
from services.db import Database
from services.photos import refusals
from services.photos.service import PhotoService
from services.users import User

log = logging.getLogger("siteledger.uploads")

COLUMNS = "upload_id, user_id, size, upload_offset, sha256, project_id, works_item_id, filename, created_at"
SWEEP_BATCH = 200
LOCK_POLL_S = 0.02
# The file name a person gave the photo is kept as evidence: trimmed, one line, nothing hidden (U+202E can make
# `gpj.exe` read as `exe.jpg`), as every human-readable field. Both doors (JSON and tus metadata) use this.
Filename = OptionalShortText
FILENAME = TypeAdapter(Filename)


class UploadStart(BaseModel):
    model_config = ConfigDict(extra="forbid")

    size: int = Field(gt=0)
    sha256: str | None = Field(default=None, pattern=r"^[0-9a-fA-F]{64}$")
    project_id: str | None = Field(default=None, max_length=64)
    works_item_id: str | None = Field(default=None, max_length=64)
    filename: Filename | None = None


@dataclass(frozen=True)
class Upload:
    upload_id: str
    user_id: str
    size: int
    offset: int
    sha256: str | None
    project_id: str | None
    works_item_id: str | None
    filename: str | None
    created_at: datetime
    expires_at: datetime

    @property
    def complete(self) -> bool:
        return self.offset >= self.size


@dataclass(frozen=True)
class Written:
    """Where an upload stands after a piece; `photo` is the stored photo's meta once the last piece is in."""

    upload: Upload
    photo: dict[str, Any] | None = None
    created: bool = False


def not_found() -> ApiError:
    return refusals.refused(404, "upload_not_found", "No such upload", "上传任务不存在或已完成")


def locked() -> ApiError:
    return refusals.refused(423, "upload_locked", "Another request is writing this upload",
                            "另一请求正在写入该上传任务，请稍后从服务器的位置续传")


def offset_mismatch(server_offset: int) -> ApiError:
    return refusals.refused(409, "upload_offset_mismatch", "Resume from the server's offset",
                            f"续传位置不符：服务器已收到 {server_offset} 字节", offset=server_offset)


class ResumableUploads:
    def __init__(self, db: Database, photos: PhotoService, chunk_max: int, ttl: timedelta = timedelta(hours=24),
                 sweep_every: timedelta = timedelta(minutes=10),
                 clock: Callable[[], datetime] = lambda: datetime.now(UTC)) -> None:
        self.db, self.photos, self.chunk_max = db, photos, chunk_max
        self.ttl, self.sweep_every, self.clock = ttl, sweep_every, clock
        self._locks: dict[str, threading.Lock] = {}
        self._locks_guard = threading.Lock()
        self._sweeping = threading.Lock()
        self._last_sweep: datetime | None = None  # the photo_uploads table: services/migrations

    def limits(self) -> dict[str, int]:
        return {"max_bytes": self.photos.max_bytes, "max_chunk_bytes": self.chunk_max,
                "max_pixels": self.photos.max_pixels}

    # --- the lifecycle, whichever door -------------------------------------------------------------

    def create(self, user: User, size: int, sha256: str | None = None, project_id: str | None = None,
               works_item_id: str | None = None, filename: str | None = None) -> Upload:
        """Refuse what can be refused before a byte is sent: the size and the caller's scope."""
        if size > self.photos.max_bytes:
            raise refusals.too_large(size, self.photos.max_bytes)
        self.photos.upload_scope(user, project_id, works_item_id)
        created = self.clock()
        upload = Upload(uuid.uuid4().hex, str(user.user_id), size, 0, sha256.lower() if sha256 else None,
                        project_id, works_item_id, filename, created, created + self.ttl)
        with self.db.transaction() as tx:
            tx.execute(f"INSERT INTO photo_uploads ({COLUMNS}) VALUES (?, ?, ?, 0, ?, ?, ?, ?, ?)",
                       (upload.upload_id, upload.user_id, size, upload.sha256, project_id, works_item_id,
                        filename, created.isoformat()))
        self._sweep_soon()
        return upload

    def get(self, user: User, upload_id: str) -> Upload:
        """The caller's own upload (another user's is as absent as one never made); expired ones are removed."""
        rows = self.db.query(f"SELECT {COLUMNS} FROM photo_uploads WHERE upload_id = ?", (upload_id,))
        if not rows or rows[0][1] != str(user.user_id):
            raise not_found()
        upload = self._upload(rows[0])
        if upload.expires_at <= self.clock():
            self._discard(upload_id)
            raise refusals.refused(410, "upload_expired", "The upload expired",
                                   f"上传任务已过期（超过 {self.ttl.total_seconds() / 3600:g} 小时未完成），请重新上传",
                                   expired_at=upload.expires_at.isoformat())
        return upload

    def write(self, user: User, upload: Upload, offset: int, data: bytes) -> Written:
        """Store a piece at the offset the server has; the last one runs the whole photo pipeline.

        The caller holds `lock(upload_id)`. A piece is stored under its offset before the offset moves, so a
        piece whose offset never moved is simply overwritten by the next attempt at that offset."""
        if offset != upload.offset:
            raise offset_mismatch(upload.offset)
        if offset + len(data) > upload.size:
            raise refusals.refused(413, "upload_beyond_length", "More bytes than the upload's declared length",
                                   f"上传内容超出声明的文件大小 {upload.size} 字节", offset=upload.offset,
                                   size=upload.size)
        if not data:
            return Written(upload)
        self.photos.store.put_chunk(upload.upload_id, offset, data)
        new_offset = offset + len(data)
        if new_offset < upload.size:
            self._move(upload.upload_id, offset, new_offset)
            return Written(replace(upload, offset=new_offset))
        whole = self.photos.store.assemble(upload.upload_id)
        try:
            meta, created = self.photos.upload(user, whole, upload.filename, upload.project_id,
                                               upload.works_item_id, upload.sha256)
        except ApiError as error:
            if error.status < 500:  # refused for good (corrupt, too many pixels, wrong hash): nothing to resume
                self._discard(upload.upload_id)
            raise  # the store is down: the offset did not move, so the last piece is sent again
        self._move(upload.upload_id, offset, new_offset)
        self.photos.store.discard_upload(upload.upload_id)
        return Written(replace(upload, offset=new_offset), meta, created)

    def terminate(self, user: User, upload_id: str) -> None:
        self.get(user, upload_id)
        self._discard(upload_id)

    @contextmanager
    def lock(self, upload_id: str, timeout_s: float = 5.0) -> Iterator[None]:
        """One writer per upload in this process: a resent piece waits for (or is refused while) an older
        request still stores what it received. Across processes the offset's compare-and-set still holds."""
        lock = self._lock_of(upload_id)
        if not lock.acquire(timeout=timeout_s):
            raise locked()
        try:
            yield
        finally:
            lock.release()

    @asynccontextmanager
    async def locked(self, upload_id: str, timeout_s: float = 5.0) -> AsyncIterator[None]:
        """The same lock, waited for on the event loop: a request queued behind a write to a hung store holds
        no thread while it waits, and a cancelled wait leaves nothing acquired (a thread blocked in
        `acquire` would take the lock after its request is gone, and keep it)."""
        lock = self._lock_of(upload_id)
        deadline = time.monotonic() + timeout_s
        while not lock.acquire(blocking=False):
            if time.monotonic() >= deadline:
                raise locked()
            await anyio.sleep(LOCK_POLL_S)
        try:
            yield
        finally:
            lock.release()

    def _lock_of(self, upload_id: str) -> threading.Lock:
        with self._locks_guard:
            return self._locks.setdefault(upload_id, threading.Lock())

    # --- expiry -------------------------------------------------------------------------------------

    def expire(self, limit: int = SWEEP_BATCH) -> int:
        """Remove uploads past their expiry, pieces first (a row left behind is found again next time)."""
        cutoff = (self.clock() - self.ttl).isoformat()
        rows = self.db.query("SELECT upload_id FROM photo_uploads WHERE created_at < ? ORDER BY created_at LIMIT ?",
                             (cutoff, limit))
        for (upload_id,) in rows:
            self._discard(upload_id)
        return len(rows)

    def _sweep_soon(self) -> None:
        now = self.clock()
        if self._last_sweep is not None and now - self._last_sweep < self.sweep_every:
            return
        if not self._sweeping.acquire(blocking=False):
            return
        self._last_sweep = now

        def sweep() -> None:
            try:
                removed = self.expire()
                if removed:
                    log.info("expired uploads removed", extra={"removed": removed})
            except Exception:  # the store down: the next sweep tries again
                log.warning("upload sweep failed", exc_info=True)
            finally:
                self._sweeping.release()

        threading.Thread(target=sweep, name="upload-sweep", daemon=True).start()

    # --- plumbing -----------------------------------------------------------------------------------

    def _upload(self, row: Any) -> Upload:
        upload_id, user_id, size, offset, sha, project_id, item_id, filename, created_at = row
        created = datetime.fromisoformat(created_at)
        return Upload(upload_id, user_id, int(size), int(offset), sha, project_id, item_id, filename, created,
                      created + self.ttl)

    def _move(self, upload_id: str, offset: int, new_offset: int) -> None:
        with self.db.transaction() as tx:
            moved = tx.execute("UPDATE photo_uploads SET upload_offset = ? WHERE upload_id = ? AND upload_offset = ?",
                               (new_offset, upload_id, offset))
            if moved.rowcount != 1:  # another process sent this piece first
                raise refusals.refused(409, "upload_offset_mismatch", "Resume from the server's offset",
                                       "该分块已由另一请求上传，请从服务器的位置续传")

    def _discard(self, upload_id: str) -> None:
        self.photos.store.discard_upload(upload_id)
        with self.db.transaction() as tx:
            tx.execute("DELETE FROM photo_uploads WHERE upload_id = ?", (upload_id,))
        with self._locks_guard:
            self._locks.pop(upload_id, None)

    # --- the `/photo-uploads` routes ---------------------------------------------------------------

    def start(self, user: User, body: dict[str, Any]) -> dict[str, Any]:
        request = UploadStart.model_validate(body)
        upload = self.create(user, request.size, request.sha256, request.project_id, request.works_item_id,
                             request.filename or None)
        return {"upload_id": upload.upload_id, "offset": 0, "size": upload.size,
                "expires_at": upload.expires_at.isoformat(), **self.limits()}

    def _row(self, user: User, upload_id: str) -> dict[str, Any]:
        upload = self.get(user, upload_id)
        if upload.complete:
            raise not_found()
        return {"upload_id": upload_id, "size": upload.size, "offset": upload.offset, "sha256": upload.sha256,
                "project_id": upload.project_id, "works_item_id": upload.works_item_id, "filename": upload.filename,
                "expires_at": upload.expires_at.isoformat()}

    def state(self, user: User, upload_id: str) -> dict[str, Any]:
        return {**self._row(user, upload_id), **self.limits()}

    def append(self, user: User, upload_id: str, offset: int, data: bytes) -> tuple[int, dict[str, Any]]:
        """One chunk of at most `chunk_max` bytes; 201 (or 200 for a known photo) with its meta at the end."""
        with self.lock(upload_id):
            row = self._row(user, upload_id)
            if offset != row["offset"]:
                raise offset_mismatch(row["offset"])
            if len(data) > self.chunk_max:
                raise refusals.refused(413, "upload_chunk_too_large", "The chunk is larger than allowed",
                                       f"分块大小超过上限 {self.chunk_max} 字节", max_chunk_bytes=self.chunk_max)
            if not data or offset + len(data) > row["size"]:
                raise refusals.refused(422, "upload_chunk_invalid", "The chunk is empty or beyond the declared size",
                                       "分块为空或超出声明的文件大小", offset=row["offset"], size=row["size"])
            written = self.write(user, self.get(user, upload_id), offset, data)
        if written.photo is None:
            return 200, {"upload_id": upload_id, "offset": written.upload.offset, "size": row["size"]}
        return (201 if written.created else 200), {**written.photo, "offset": written.upload.offset}
