"""The photo pipeline and who may see or cite a photo."""

from __future__ import annotations

import hashlib
import re
from typing import Any
from uuid import UUID

from domain.actors import Role
from domain.application import SiteLedger
from domain.errors import DomainError
from domain.permissions import may_see
from services.db import Database
from services.photos import refusals
from services.photos.checks import inspect_image
from services.photos.derivatives import make_derivatives
from services.photos.store import PhotoStore, now
from services.photos.workers import PhotoWorkers
from services.users import User

SHA = re.compile(r"^[0-9a-f]{64}$")


def _uuid(value: str, field: str) -> UUID:
    try:
        return UUID(value)
    except ValueError:
        raise refusals.refused(422, "invalid_id", "Not a valid id", f"{field} 不是有效的编号：{value[:64]}") from None


def user_scope(user: User) -> str:
    return f"user-{user.user_id}"


PROVENANCE = ("uploaded_by", "uploaded_at", "filename", "project_id", "works_item_id")


def without_provenance(meta: dict[str, Any]) -> dict[str, Any]:
    """The facts of the bytes only: none of the first upload's people, names or projects."""
    return {**meta, **dict.fromkeys(PROVENANCE)}


class PhotoService:
    def __init__(self, store: PhotoStore, ledger: SiteLedger, db: Database, max_bytes: int, max_pixels: int,
                 workers: PhotoWorkers | None = None) -> None:
        self.store, self.ledger, self.db = store, ledger, db
        self.workers = workers or PhotoWorkers()
        self.max_bytes, self.max_pixels = max_bytes, max_pixels

    def _scope_for_upload(self, user: User, project_id: str | None, works_item_id: str | None) -> str:
        if works_item_id:
            item, project = self.ledger.item_in_scope(user.actor, _uuid(works_item_id, "works_item_id"))
            if project_id and _uuid(project_id, "project_id") != item.project_id:
                raise refusals.refused(422, "photo_item_not_in_project", "The works item is not in that project",
                                       "该工程事项不属于所填项目")
            return str(project.id)
        if project_id:
            return str(self.ledger.project_in_scope(user.actor, _uuid(project_id, "project_id")).id)
        return user_scope(user)

    def upload_scope(self, user: User, project_id: str | None, works_item_id: str | None) -> str:
        """Checked when a resumable upload starts, so a refusal comes before its bytes cross a weak link."""
        return self._scope_for_upload(user, project_id, works_item_id)

    def upload(self, user: User, data: bytes, name: str | None, project_id: str | None = None,
               works_item_id: str | None = None, declared_sha: str | None = None) -> tuple[dict[str, Any], bool]:
        """Check, derive, store; the same bytes again are the same photo (and gain the new scope)."""
        scope = self._scope_for_upload(user, project_id, works_item_id)
        if len(data) > self.max_bytes:
            raise refusals.too_large(len(data), self.max_bytes)
        sha = hashlib.sha256(data).hexdigest()
        if declared_sha and declared_sha.lower() != sha:
            raise refusals.hash_mismatch(declared_sha, sha)
        existing = self.store.meta(sha)
        if existing is not None:
            sees_provenance = self._sees_provenance(user, existing)  # asked before this upload adds a grant
            self.record_facts(sha, existing.get("taken_at"), existing.get("uploaded_by") or str(user.user_id))
            self._grant(sha, scope)
            if sees_provenance:
                return existing, False
            return {**without_provenance(existing), "filename": name, "works_item_id": works_item_id,
                    "project_id": None if scope.startswith("user-") else scope}, False
        facts, image = inspect_image(data, name, self.max_bytes, self.max_pixels)
        original = self.store.write_original(sha, data, facts.content_type)  # stored while we derive
        try:
            derivatives = make_derivatives(image)
        except BaseException:
            original.cancel()  # an orphan original without meta is no photo; the next upload overwrites it
            raise
        meta = {
            "id": sha, "sha256": sha, "bytes": len(data), **facts.as_dict(),
            "derivatives": {k: len(v) for k, v in derivatives.items()},
            "uploaded_by": str(user.user_id), "uploaded_at": now(), "filename": name,
            "project_id": scope if not scope.startswith("user-") else None, "works_item_id": works_item_id,
        }
        self.store.save(sha, original, derivatives, meta)
        self.record_facts(sha, facts.taken_at, str(user.user_id))  # after the meta: no half-written photo in the log
        self._grant(sha, scope)
        return meta, True

    def _sees_provenance(self, user: User, meta: dict[str, Any]) -> bool:
        """Who uploaded a photo, under what name, for which project: the uploader's, and that project's people.

        Anyone holding the same bytes may learn the facts in them (size, EXIF), never where else they went.
        """
        if user.role == Role.ADMIN and user.district is None:
            return True
        if meta.get("uploaded_by") == str(user.user_id):
            return True
        project_id = meta.get("project_id")
        if not project_id:
            return False
        try:
            return may_see(user.actor, self.ledger.get_project(project_id))
        except DomainError:
            return False

    def view(self, user: User, meta: dict[str, Any]) -> dict[str, Any]:
        """The meta as this caller may see it."""
        return meta if self._sees_provenance(user, meta) else without_provenance(meta)

    def close(self) -> None:
        self.workers.close()
        self.store.close()

    def _grant(self, sha: str, scope: str) -> None:
        """In the bucket (the photos' own record) and in SQL (so citing a photo costs no S3 round trip)."""
        self.store.grant(sha, scope)
        with self.db.transaction() as tx:
            tx.execute("INSERT INTO photo_grants VALUES (?, ?) ON CONFLICT (photo_id, scope) DO NOTHING", (sha, scope))

    def _known(self, sha: str) -> bool:
        return bool(self.db.query("SELECT 1 FROM photo_facts WHERE photo_id = ?", (sha,))) or \
            self.store.meta(sha) is not None

    def _grants(self, sha: str) -> set[str]:
        rows = self.db.query("SELECT scope FROM photo_grants WHERE photo_id = ?", (sha,))
        return {r[0] for r in rows} or self.store.grants(sha)

    def record_facts(self, sha: str, taken_at: str | None, stored_by: str) -> None:
        """What the timeline judges a photo's time by: an event in the log (once per photo), which the timeline
        folds into its own table. The `photo_facts` row is kept only for the Kafka-fed projection workers, which
        receive project and works-item events alone (the relay does not publish photo facts yet)."""
        self.ledger.record_photo(sha, taken_at, stored_by)
        with self.db.transaction() as tx:
            tx.execute("DELETE FROM photo_facts WHERE photo_id = ?", (sha,))
            tx.execute("INSERT INTO photo_facts VALUES (?, ?)", (sha, taken_at))

    def readable(self, user: User, sha: str) -> dict[str, Any]:
        """The photo's meta, if this user may see it: by project scope, or as its uploader."""
        sha = sha.lower()
        if not SHA.match(sha):
            raise refusals.not_found(sha)
        meta = self.store.meta(sha)
        if meta is None:
            raise refusals.not_found(sha)
        if user.role == Role.ADMIN and user.district is None:
            return meta
        for scope in self._grants(sha):
            if scope == user_scope(user):
                return self.view(user, meta)
            if scope.startswith("user-"):
                continue
            try:
                if may_see(user.actor, self.ledger.get_project(scope)):
                    return self.view(user, meta)
            except DomainError:
                continue
        raise refusals.out_of_scope(sha)

    def require(self, user: User, project_id: UUID, photo_ids: list[str]) -> None:
        """A command may cite only stored photos of its project (or the caller's own, now bound to it)."""
        for sha in dict.fromkeys(photo_ids):
            if not SHA.match(sha):
                continue  # the domain refuses a malformed id with its own code
            if not self._known(sha):
                raise refusals.refused(422, "photo_not_found", "A cited photo has not been uploaded",
                                       f"引用的照片尚未上传：{sha}；请先上传照片", photo=sha)
            grants = self._grants(sha)
            if str(project_id) in grants:
                continue
            if user_scope(user) in grants:
                self._grant(sha, str(project_id))
                continue
            raise refusals.out_of_scope(sha)
