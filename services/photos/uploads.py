"""Resumable uploads for weak signal: chunks land in the object store, the offset in the directory."""

from __future__ import annotations

import uuid
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from projections.sql import Database
from services.photos import refusals
from services.photos.service import PhotoService
from services.photos.store import now
from services.users import User

DDL = ("CREATE TABLE IF NOT EXISTS photo_uploads (upload_id TEXT PRIMARY KEY, user_id TEXT NOT NULL, "
       "size BIGINT NOT NULL, upload_offset BIGINT NOT NULL, sha256 TEXT, project_id TEXT, works_item_id TEXT, "
       "filename TEXT, created_at TEXT NOT NULL)",)


class UploadStart(BaseModel):
    model_config = ConfigDict(extra="forbid")

    size: int = Field(gt=0)
    sha256: str | None = Field(default=None, pattern=r"^[0-9a-fA-F]{64}$")
    project_id: str | None = None
    works_item_id: str | None = None
    filename: str | None = Field(default=None, max_length=255)


class ResumableUploads:
    def __init__(self, db: Database, photos: PhotoService, chunk_max: int) -> None:
        self.db, self.photos, self.chunk_max = db, photos, chunk_max
        with db.transaction() as tx:
            for statement in DDL:
                tx.execute(statement)

    def _discard(self, upload_id: str) -> None:
        self.photos.store.discard_upload(upload_id)
        with self.db.transaction() as tx:
            tx.execute("DELETE FROM photo_uploads WHERE upload_id = ?", (upload_id,))

    def limits(self) -> dict[str, int]:
        return {"max_bytes": self.photos.max_bytes, "max_chunk_bytes": self.chunk_max,
                "max_pixels": self.photos.max_pixels}

    def start(self, user: User, body: dict[str, Any]) -> dict[str, Any]:
        request = UploadStart.model_validate(body)
        if request.size > self.photos.max_bytes:
            raise refusals.too_large(request.size, self.photos.max_bytes)
        self.photos._scope_for_upload(user, request.project_id, request.works_item_id)  # refuse early
        upload_id = uuid.uuid4().hex
        with self.db.transaction() as tx:
            tx.execute("INSERT INTO photo_uploads VALUES (?, ?, ?, 0, ?, ?, ?, ?, ?)",
                       (upload_id, str(user.user_id), request.size, request.sha256, request.project_id,
                        request.works_item_id, request.filename, now()))
        return {"upload_id": upload_id, "offset": 0, "size": request.size, **self.limits()}

    def _row(self, user: User, upload_id: str) -> dict[str, Any]:
        rows = self.db.query("SELECT size, upload_offset, sha256, project_id, works_item_id, filename, user_id "
                             "FROM photo_uploads WHERE upload_id = ?", (upload_id,))
        if not rows or rows[0][6] != str(user.user_id):
            raise refusals.refused(404, "upload_not_found", "No such upload", "上传任务不存在或已完成")
        size, offset, sha, project_id, item_id, filename, _ = rows[0]
        return {"upload_id": upload_id, "size": int(size), "offset": int(offset), "sha256": sha,
                "project_id": project_id, "works_item_id": item_id, "filename": filename}

    def state(self, user: User, upload_id: str) -> dict[str, Any]:
        return {**self._row(user, upload_id), **self.limits()}

    def append(self, user: User, upload_id: str, offset: int, data: bytes) -> tuple[int, dict[str, Any]]:
        """Store a chunk at the offset the server has; the last one runs the whole photo pipeline."""
        row = self._row(user, upload_id)
        if offset != row["offset"]:
            raise refusals.refused(409, "upload_offset_mismatch", "Resume from the server's offset",
                                   f"续传位置不符：服务器已收到 {row['offset']} 字节", offset=row["offset"])
        if len(data) > self.chunk_max:
            raise refusals.refused(413, "upload_chunk_too_large", "The chunk is larger than allowed",
                                   f"分块大小超过上限 {self.chunk_max} 字节", max_chunk_bytes=self.chunk_max)
        if not data or offset + len(data) > row["size"]:
            raise refusals.refused(422, "upload_chunk_invalid", "The chunk is empty or beyond the declared size",
                                   "分块为空或超出声明的文件大小", offset=row["offset"], size=row["size"])
        self.photos.store.put_chunk(upload_id, offset, data)
        new_offset = offset + len(data)
        with self.db.transaction() as tx:
            moved = tx.execute("UPDATE photo_uploads SET upload_offset = ? WHERE upload_id = ? AND upload_offset = ?",
                               (new_offset, upload_id, offset))
            if moved.rowcount != 1:  # another request sent this chunk first
                raise refusals.refused(409, "upload_offset_mismatch", "Resume from the server's offset",
                                       "该分块已由另一请求上传，请从服务器的位置续传")
        if new_offset < row["size"]:
            return 200, {"upload_id": upload_id, "offset": new_offset, "size": row["size"]}
        whole = self.photos.store.assemble(upload_id)
        try:
            meta, created = self.photos.upload(user, whole, row["filename"], row["project_id"],
                                               row["works_item_id"], row["sha256"])
        except Exception as error:
            if getattr(error, "status", 500) < 500:  # refused for good (corrupt, too many pixels): clean up
                self._discard(upload_id)
            raise
        self._discard(upload_id)
        return (201 if created else 200), {**meta, "offset": new_offset}
