"""Pull the forms down, push the day's work up: photos and commands together, commands in the order made.

Photos upload resumably in background threads while commands go: a command may cite only photos the server
holds, so a command citing a photo still on its way waits for it (and later commands on its works item with
it), while every other command is sent at once. Commands go in rounds (`Queue.next_round`): each round holds
the earliest ready command of every works item, sent in one `POST /api/v1/batch` per chunk (or one request
each with `one_by_one`, for comparison). Every answer is committed to the local store as it is read, so a sync
killed at any point resumes where it was, and resends only what it cannot prove the server has: under the
same keys, which the server answers by replay; a photo resumes its upload from the server's offset.
"""

from __future__ import annotations

import json
import sqlite3
import threading
import time
from collections.abc import Callable
from concurrent.futures import ALL_COMPLETED, FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from typing import Any

from field_client.api import TRANSIENT, Answer, Api, problem_of
from field_client.errors import Offline, SyncStopped, TokenRevoked
from field_client.queue import Command, Queue, cited
from field_client.store import Store
from field_client.upload import Photo, PhotoUploader


@dataclass
class SyncReport:
    photos_uploaded: int = 0
    photos_skipped: int = 0
    photos_refused: int = 0
    photos_waiting: int = 0  # the link never let them finish: they resume at the next sync
    photo_bytes: int = 0  # photo bytes handed to the network, resends included
    sent: int = 0
    replayed: int = 0
    refused: list[Command] = field(default_factory=list)
    blocked: int = 0
    waiting_for_photos: int = 0  # commands kept back because a photo they cite is not on the server yet
    requests: int = 0
    seconds: dict[str, float] = field(default_factory=dict)  # per phase: photos, commands, pull

    def as_dict(self) -> dict[str, Any]:
        return {"photos_uploaded": self.photos_uploaded, "photos_skipped": self.photos_skipped,
                "photos_refused": self.photos_refused, "photos_waiting": self.photos_waiting,
                "photo_bytes": self.photo_bytes, "sent": self.sent, "replayed": self.replayed,
                "refused": len(self.refused), "blocked": self.blocked, "waiting_for_photos": self.waiting_for_photos,
                "requests": self.requests, "seconds": {k: round(v, 3) for k, v in self.seconds.items()}}


@dataclass(frozen=True)
class SyncProgress:
    """What a progress display needs: photo bytes (what takes the time on a weak link) and commands."""

    photo_bytes: int
    photo_bytes_total: int
    commands: int
    commands_total: int
    what: str


Progress = Callable[[SyncProgress], None]


def pull(api: Api, store: Store) -> dict[str, int]:
    """Replace the cache with what this user may see: templates, projects, their works items."""
    me = api.get_json("/api/v1/users/me")
    kinds = api.get_json("/api/v1/works-kinds")["items"]
    if me.get("role") == "resident":  # no tablet snapshot for a resident: lists give ids, each GET the whole
        projects = [api.get_json(f"/api/v1/projects/{p['id']}") for p in api.paged("/api/v1/projects")]
        items = [api.get_json(f"/api/v1/works-items/{i['id']}")
                 for p in projects for i in api.paged(f"/api/v1/projects/{p['id']}/works-items")]
    else:  # one request with every project and item whole (lists answer summaries)
        snapshot = api.get_json("/api/v1/field/snapshot")
        projects, items = snapshot["projects"], snapshot["items"]
    store.replace_cache(kinds, projects, items)
    store.put(user=json.dumps(me, ensure_ascii=False))
    return {"kinds": len(kinds), "projects": len(projects), "items": len(items)}


class Syncer:
    """One sync: the report says what happened; the store says where each command and photo now stands.

    Photos upload in background threads (resumably, see `field_client.upload`) while commands go: a command
    is sent as soon as every photo it cites is on the server, so a photo crawling over a weak link holds back
    only the commands that cite it (and the later ones on their works item), never the rest."""

    def __init__(self, store: Store, api: Api, one_by_one: bool = False, chunk: int = 100,
                 progress: Progress | None = None, max_transient_rounds: int = 5, photo_workers: int = 4) -> None:
        self.store, self.api, self.queue = store, api, Queue(store)
        self.one_by_one, self.chunk = one_by_one, max(1, min(chunk, 500))
        self.progress = progress or (lambda snapshot: None)
        self.max_transient_rounds = max_transient_rounds
        self.photo_workers = max(1, photo_workers)
        self.report = SyncReport()
        self._commands_done = 0
        self._commands_total = 0
        self._photo_bytes: dict[str, int] = {}
        self._photo_bytes_total = 0
        self._missing: set[str] = set()  # photos not on the server yet (uploading, or the link gave up)
        self._shown = threading.Lock()
        self.uploader = PhotoUploader(api, self._remember, self._photo_progress)

    def run(self, refresh: bool = True) -> SyncReport:
        """Photos and commands together, then a fresh cache; a SyncStopped (offline, 401) leaves the rest queued.

        A photo the link never let finish stops the sync as Offline at the end (after every command that did
        not need it was sent), so the caller knows to sync again."""
        user_id = self.store.user["id"]
        pending = [c for c in self.queue.all("queued") if c.user_id == user_id]
        photos = self.store.pending_photos()
        self._commands_total = len(pending)
        self._photo_bytes = {row["sha256"]: 0 for row in photos}
        self._photo_bytes_total = sum(int(row["bytes"]) for row in photos)
        self._missing = set(self._photo_bytes)
        self._show("")
        pool = ThreadPoolExecutor(self.photo_workers, thread_name_prefix="photo-upload")
        started = time.perf_counter()
        uploads = {pool.submit(self._upload, row): row for row in photos}
        try:
            self._timed("commands", self.send_commands, user_id, uploads)
            self._settle_photos(uploads, wait_all=True)
            self.report.seconds["photos"] = time.perf_counter() - started
            if self.report.photos_waiting:
                raise Offline(f"{self.report.photos_waiting} 张照片未传完 photo(s) not finished")
            if refresh:
                self._timed("pull", pull, self.api, self.store)
            self._show("done")
        finally:
            pool.shutdown(wait=True, cancel_futures=True)
            self.report.requests = self.api.requests
            self.report.photo_bytes = self.uploader.bytes_sent
            self.report.blocked = self.queue.counts()["blocked"]
            self.report.waiting_for_photos = sum(1 for c in self.queue.all("queued") if cited(c) & self._missing)
        return self.report

    def _timed(self, phase: str, step: Callable[..., Any], *args: Any) -> None:
        started = time.perf_counter()
        try:
            step(*args)
        finally:
            self.report.seconds[phase] = time.perf_counter() - started

    def _show(self, what: str) -> None:
        with self._shown:
            self.progress(SyncProgress(sum(self._photo_bytes.values()), self._photo_bytes_total,
                                       self._commands_done, self._commands_total, what))

    def _photo_progress(self, sha: str, offset: int) -> None:
        with self._shown:
            self._photo_bytes[sha] = offset
        self._show("photo")

    def _remember(self, photo: Photo, url: str | None) -> None:
        self.store.remember_upload(photo.sha, photo.project_id, url)

    def _upload(self, row: sqlite3.Row) -> tuple[str, dict[str, Any] | None]:
        photo = Photo(row["sha256"], self.store.photo_path(row["sha256"]), int(row["bytes"]), row["content_type"],
                      row["project_id"], row["upload_url"])
        return self.uploader.send(photo)

    def _settle_photos(self, uploads: dict[Future[tuple[str, dict[str, Any] | None]], sqlite3.Row],
                       wait_all: bool = False) -> bool:
        """Record the uploads that ended (from this thread, so the store sees one writer); True if any did.
        An upload that hit a SyncStopped leaves its photo queued: 401 stops everything, Offline waits."""
        if uploads and (wait_all or not any(f.done() for f in uploads)):
            wait(list(uploads), return_when=ALL_COMPLETED if wait_all else FIRST_COMPLETED)
        ended = [f for f in uploads if f.done()]
        for future in ended:
            row = uploads.pop(future)
            sha = row["sha256"]
            try:
                outcome, problem = future.result()
            except TokenRevoked:
                raise
            except SyncStopped:
                self.report.photos_waiting += 1
                continue
            setattr(self.report, f"photos_{outcome}", getattr(self.report, f"photos_{outcome}") + 1)
            self.store.mark_photo(sha, row["project_id"], "refused" if outcome == "refused" else "uploaded", problem)
            self._missing.discard(sha)  # a refused one too: its commands go, and the server says why
        return bool(ended)

    def send_commands(self, user_id: str,
                      uploads: dict[Future[tuple[str, dict[str, Any] | None]], sqlite3.Row] | None = None) -> None:
        """Rounds of ready commands; when none is ready but photos are still on their way, wait for the next
        photo to land (it may free the commands that cite it)."""
        uploads = uploads if uploads is not None else {}
        links = self.store.links()
        transient_rounds = 0
        size = 1 if self.one_by_one else self.chunk
        while True:
            if any(f.done() for f in uploads):
                self._settle_photos(uploads)
            ready = self.queue.next_round(user_id, links, frozenset(self._missing))
            if not ready:
                if uploads and self._settle_photos(uploads):
                    continue
                return
            transient = 0
            for start in range(0, len(ready), size):
                chunk = ready[start:start + size]
                if self.one_by_one:
                    results = [self.api.command(chunk[0].path, chunk[0].id, chunk[0].body)]
                else:
                    results = self.api.batch([(c.path, c.id, c.body) for c in chunk])
                for cmd, answer in zip(chunk, results, strict=True):
                    transient += self._settle(cmd, answer)
            if transient:
                transient_rounds += 1
                if transient_rounds >= self.max_transient_rounds:
                    raise Offline("HTTP 5xx")
                self.api.retry.sleep(self.api.retry.delay(transient_rounds))

    def _settle(self, cmd: Command, answer: Answer) -> int:
        """Commit one answer before reading the next; returns 1 when it was transient (the command stays queued)."""
        status, body = answer.status, answer.body
        if 200 <= status < 300:
            self.queue.mark_sent(cmd, body)
            self.report.sent += 1
            self.report.replayed += answer.replayed
            self._command_done()
            return 0
        if status in TRANSIENT:
            self.queue.mark_attempt(cmd)
            return 1
        if status == 401:
            raise TokenRevoked(problem_of(status, body)["detail"])
        self.queue.mark_refused(cmd, problem_of(status, body))
        self.report.refused.append(cmd)
        self._command_done()
        return 0

    def _command_done(self) -> None:
        self._commands_done += 1
        self._show("command")
