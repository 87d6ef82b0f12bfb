"""The tablet's local store: one SQLite file plus content-addressed photo files under the home directory.

Everything a supervisor records offline lives here until the server has it, so the database is in WAL mode
and a recording is committed with `synchronous=FULL` (a flat battery must not lose an inspection). Every
later state change is its own transaction too, committed with `synchronous=NORMAL`: as atomic, and safe
against the process being killed; only a power cut may forget the newest marks, and a command whose "sent"
mark was forgotten is resent under its key, which the server answers by replay (a user's retry or drop is
fsynced). Photos are copied in at capture, named by their SHA-256, so a file moved or deleted in the gallery
afterwards cannot take evidence with it.
"""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from field_client.errors import FieldError, NotLoggedIn

DEFAULT_HOME = Path("~/.siteledger-field")
HOME_ENV = "SITELEDGER_FIELD_HOME"

SCHEMA = """
CREATE TABLE IF NOT EXISTS config (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS cache_kinds (code TEXT PRIMARY KEY, body TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS cache_projects (id TEXT PRIMARY KEY, body TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS cache_items (id TEXT PRIMARY KEY, project_id TEXT NOT NULL, body TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS photos (
    sha256 TEXT NOT NULL, project_id TEXT NOT NULL, content_type TEXT NOT NULL, bytes INTEGER NOT NULL,
    captured_at TEXT NOT NULL, state TEXT NOT NULL DEFAULT 'queued', problem TEXT, upload_url TEXT,
    PRIMARY KEY (sha256, project_id));
CREATE TABLE IF NOT EXISTS commands (
    seq INTEGER PRIMARY KEY AUTOINCREMENT, id TEXT NOT NULL UNIQUE, action TEXT NOT NULL,
    item_id TEXT NOT NULL, project_id TEXT NOT NULL, user_id TEXT NOT NULL, path TEXT NOT NULL,
    body TEXT NOT NULL, summary TEXT NOT NULL, recorded_at TEXT NOT NULL,
    state TEXT NOT NULL DEFAULT 'queued', forced INTEGER NOT NULL DEFAULT 0, blocked_by TEXT,
    attempts INTEGER NOT NULL DEFAULT 0, problem TEXT, response TEXT, updated_at TEXT);
CREATE INDEX IF NOT EXISTS commands_by_state ON commands (state, seq);
"""

# What the API accepts as a photo, recognised by its first bytes so a wrong file is caught on site.
MAGIC: tuple[tuple[bytes, int, str], ...] = (
    (b"\xff\xd8\xff", 0, "image/jpeg"), (b"\x89PNG\r\n\x1a\n", 0, "image/png"), (b"WEBP", 8, "image/webp"),
    (b"ftypheic", 4, "image/heic"), (b"ftypheix", 4, "image/heic"), (b"ftypmif1", 4, "image/heic"),
)


def home_dir(explicit: str | os.PathLike[str] | None = None) -> Path:
    """`--home`, else `$SITELEDGER_FIELD_HOME`, else `~/.siteledger-field`."""
    return Path(explicit or os.environ.get(HOME_ENV) or DEFAULT_HOME).expanduser()


def content_type(data: bytes) -> str | None:
    return next((kind for magic, at, kind in MAGIC if data[at:at + len(magic)] == magic), None)


class Store:
    """The SQLite file and the photo directory; the command queue itself is `field_client.queue.Queue`."""

    def __init__(self, home: Path) -> None:
        self.home = home
        self.photo_dir = home / "photos"
        self.photo_dir.mkdir(parents=True, exist_ok=True)
        os.chmod(home, 0o700)  # it holds a bearer token and residents' photos
        self.db = sqlite3.connect(home / "field.db", isolation_level=None, check_same_thread=False)
        self.db.row_factory = sqlite3.Row
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA busy_timeout=10000")
        self.db.executescript(SCHEMA)
        self._migrate()
        self._writing = threading.RLock()  # photo uploads run in threads; one transaction at a time
        if self.get("device_id") is None:
            self.put(device_id=f"field-{uuid.uuid4().hex[:12]}")

    def close(self) -> None:
        self.db.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _migrate(self) -> None:
        """A tablet keeps its database across client versions: add what a newer client needs."""
        columns = {row[1] for row in self.db.execute("PRAGMA table_info(photos)")}
        if "upload_url" not in columns:
            self.db.execute("ALTER TABLE photos ADD COLUMN upload_url TEXT")

    @contextmanager
    def transaction(self, durable: bool = True) -> Iterator[sqlite3.Connection]:
        """One atomic unit: committed on leaving, rolled back on any error; `durable` fsyncs the commit."""
        with self._writing:
            self.db.execute(f"PRAGMA synchronous={'FULL' if durable else 'NORMAL'}")
            self.db.execute("BEGIN IMMEDIATE")
            try:
                yield self.db
            except BaseException:
                self.db.execute("ROLLBACK")
                raise
            self.db.execute("COMMIT")

    # --- settings: server, token, the logged-in user, this device -------------------------------------

    def get(self, key: str) -> str | None:
        row = self.db.execute("SELECT value FROM config WHERE key = ?", (key,)).fetchone()
        return None if row is None else str(row[0])

    def put(self, **values: str) -> None:
        with self.transaction() as tx:
            tx.executemany("INSERT OR REPLACE INTO config VALUES (?, ?)", list(values.items()))

    @property
    def device_id(self) -> str:
        return self.get("device_id") or ""

    def session(self) -> tuple[str, str]:
        server, token = self.get("server"), self.get("token")
        if not server or not token:
            raise NotLoggedIn()
        return server, token

    @property
    def user(self) -> dict[str, Any]:
        raw = self.get("user")
        if raw is None:
            raise NotLoggedIn()
        return dict(json.loads(raw))

    # --- the cache that lets forms be filled offline ------------------------------------------------------

    def replace_cache(self, kinds: list[dict[str, Any]], projects: list[dict[str, Any]],
                      items: list[dict[str, Any]]) -> None:
        """All or nothing: a pull interrupted half-way leaves the previous cache whole."""
        with self.transaction(durable=False) as tx:  # a cache: lost, it is pulled again
            for table in ("cache_kinds", "cache_projects", "cache_items"):
                tx.execute(f"DELETE FROM {table}")  # fixed table names
            tx.executemany("INSERT INTO cache_kinds VALUES (?, ?)", [(k["code"], json.dumps(k)) for k in kinds])
            tx.executemany("INSERT INTO cache_projects VALUES (?, ?)", [(p["id"], json.dumps(p)) for p in projects])
            tx.executemany("INSERT INTO cache_items VALUES (?, ?, ?)",
                           [(i["id"], i["project_id"], json.dumps(i)) for i in items])

    def kind(self, code: str) -> dict[str, Any] | None:
        row = self.db.execute("SELECT body FROM cache_kinds WHERE code = ?", (code,)).fetchone()
        return None if row is None else dict(json.loads(row[0]))

    def project(self, project_id: str) -> dict[str, Any] | None:
        row = self.db.execute("SELECT body FROM cache_projects WHERE id = ?", (project_id,)).fetchone()
        return None if row is None else dict(json.loads(row[0]))

    def projects(self) -> list[dict[str, Any]]:
        return [json.loads(r[0]) for r in self.db.execute("SELECT body FROM cache_projects ORDER BY rowid")]

    def items(self, project_id: str | None = None) -> list[dict[str, Any]]:
        sql, params = "SELECT body FROM cache_items", []
        if project_id:
            sql, params = sql + " WHERE project_id = ?", [project_id]
        return [json.loads(r[0]) for r in self.db.execute(sql + " ORDER BY rowid", params)]

    def item(self, ref: str) -> dict[str, Any]:
        """A works item by id or unique id prefix (nobody types a whole UUID on a tablet)."""
        rows = self.db.execute("SELECT body FROM cache_items WHERE id LIKE ? || '%'", (ref.lower(),)).fetchall()
        if len(rows) == 1:
            return dict(json.loads(rows[0][0]))
        if not rows:
            raise FieldError("works_item_not_cached", f"本机缓存中没有该工程事项：{ref}（请联网后执行 pull）",
                             f"No works item {ref} in the local cache (run pull while online)")
        raise FieldError("ambiguous_reference", f"编号前缀 {ref} 对应多个工程事项，请多输入几位",
                         f"{ref} matches several works items: type more of the id")

    def links(self) -> dict[str, set[str]]:
        """Each cached item's linked items (a lift and the pipe relocation clearing its shaft)."""
        return {i["id"]: {str(v) for v in (i.get("links") or {}).values()} for i in self.items()}

    # --- photos, content-addressed -----------------------------------------------------------------------

    def photo_path(self, sha: str) -> Path:
        return self.photo_dir / sha[:2] / sha

    def copy_photo(self, source: Path) -> tuple[str, str, int]:
        """Copy a photo in under its SHA-256 (durably, before the command citing it is committed)."""
        try:
            data = source.expanduser().read_bytes()
        except OSError as error:
            raise FieldError("photo_unreadable", f"无法读取照片文件：{source}（{error.strerror}）",
                             f"Cannot read photo file {source}: {error.strerror}") from None
        kind = content_type(data)
        if kind is None:
            raise FieldError("photo_not_an_image", f"不是照片文件（仅支持 JPEG、PNG、WebP、HEIC）：{source}",
                             f"Not a photo (JPEG, PNG, WebP or HEIC only): {source}")
        sha = hashlib.sha256(data).hexdigest()
        target = self.photo_path(sha)
        if not target.exists():
            target.parent.mkdir(exist_ok=True)
            partial = target.with_suffix(".part")
            with partial.open("wb") as out:
                out.write(data)
                out.flush()
                os.fsync(out.fileno())
            os.replace(partial, target)
        return sha, kind, len(data)

    def pending_photos(self) -> list[sqlite3.Row]:
        return self.db.execute("SELECT * FROM photos WHERE state = 'queued' ORDER BY captured_at").fetchall()

    def photos(self) -> list[sqlite3.Row]:
        return self.db.execute("SELECT * FROM photos ORDER BY captured_at").fetchall()

    def remember_upload(self, sha: str, project_id: str, url: str | None) -> None:
        """The resumable upload begun for this photo, so that the next sync resumes it instead of starting over."""
        with self.transaction(durable=False) as tx:  # forgotten, the next sync starts a new upload
            tx.execute("UPDATE photos SET upload_url = ? WHERE sha256 = ? AND project_id = ?", (url, sha, project_id))

    def mark_photo(self, sha: str, project_id: str, state: str, problem: dict[str, Any] | None = None) -> None:
        with self.transaction(durable=False) as tx:  # forgotten, the photo is HEAD-checked and skipped again
            tx.execute("UPDATE photos SET state = ?, problem = ?, upload_url = NULL "
                       "WHERE sha256 = ? AND project_id = ?",
                       (state, json.dumps(problem, ensure_ascii=False) if problem else None, sha, project_id))
