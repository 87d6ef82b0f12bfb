"""Pull the forms down, push the day's work up: photos first, then commands in the order they were made.

Photos go first because a command may cite only photos the server already holds. Commands go in rounds
(`Queue.next_round`): each round holds the earliest queued command of every works item, sent in one
`POST /api/v1/batch` per chunk (or one request each with `one_by_one`, for comparison). Every answer is
committed to the local store as it is read, so a sync killed at any point resumes where it was, and
resends only what it cannot prove the server has: under the same keys, which the server answers by replay.
"""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from field_client.api import TRANSIENT, Answer, Api, problem_of
from field_client.errors import Offline, TokenRevoked
from field_client.queue import Command, Queue
from field_client.store import Store


@dataclass
class SyncReport:
    photos_uploaded: int = 0
    photos_skipped: int = 0
    photos_refused: int = 0
    sent: int = 0
    replayed: int = 0
    refused: list[Command] = field(default_factory=list)
    blocked: int = 0
    requests: int = 0
    seconds: dict[str, float] = field(default_factory=dict)  # per phase: photos, commands, pull

    def as_dict(self) -> dict[str, Any]:
        return {"photos_uploaded": self.photos_uploaded, "photos_skipped": self.photos_skipped,
                "photos_refused": self.photos_refused, "sent": self.sent, "replayed": self.replayed,
                "refused": len(self.refused), "blocked": self.blocked, "requests": self.requests,
                "seconds": {k: round(v, 3) for k, v in self.seconds.items()}}


Progress = Callable[[int, int, str], None]


def pull(api: Api, store: Store) -> dict[str, int]:
    """Replace the cache with what this user may see: templates, projects, their works items."""
    me = api.get_json("/api/v1/users/me")
    kinds = api.get_json("/api/v1/works-kinds")["items"]
    projects = api.paged("/api/v1/projects")
    items = [item for p in projects for item in api.paged(f"/api/v1/projects/{p['id']}/works-items")]
    store.replace_cache(kinds, projects, items)
    store.put(user=json.dumps(me, ensure_ascii=False))
    return {"kinds": len(kinds), "projects": len(projects), "items": len(items)}


class Syncer:
    """One sync: the report says what happened; the store says where each command and photo now stands."""

    def __init__(self, store: Store, api: Api, one_by_one: bool = False, chunk: int = 100,
                 progress: Progress | None = None, max_transient_rounds: int = 5, photo_workers: int = 4) -> None:
        self.store, self.api, self.queue = store, api, Queue(store)
        self.one_by_one, self.chunk = one_by_one, max(1, min(chunk, 500))
        self.progress = progress or (lambda done, total, what: None)
        self.max_transient_rounds = max_transient_rounds
        self.photo_workers = max(1, photo_workers)
        self.report = SyncReport()
        self._done = 0
        self._total = 0

    def run(self, refresh: bool = True) -> SyncReport:
        """Photos, then commands, then a fresh cache; a SyncStopped (offline, 401) leaves the rest queued."""
        user_id = self.store.user["id"]
        pending = [c for c in self.queue.all("queued") if c.user_id == user_id]
        photos = self.store.pending_photos()
        self._total = len(photos) + len(pending)
        self.progress(0, self._total, "")
        try:
            self._timed("photos", self.upload_photos, photos)
            self._timed("commands", self.send_commands, user_id)
            if refresh:
                self._timed("pull", pull, self.api, self.store)
            self.progress(self._total, self._total, "done")
        finally:
            self.report.requests = self.api.requests
            self.report.blocked = self.queue.counts()["blocked"]
        return self.report

    def _timed(self, phase: str, step: Callable[..., Any], *args: Any) -> None:
        started = time.perf_counter()
        try:
            step(*args)
        finally:
            self.report.seconds[phase] = time.perf_counter() - started

    def _tick(self, what: str) -> None:
        self._done += 1
        self.progress(self._done, self._total, what)

    def _upload(self, row: sqlite3.Row) -> tuple[str, dict[str, Any] | None]:
        """HEAD first (skip what the server has), else upload with the hash taken at capture (it checks it)."""
        sha = row["sha256"]
        if self.api.photo_exists(sha):
            return "skipped", None
        status, body = self.api.upload_photo(self.store.photo_path(sha), sha, row["content_type"], row["project_id"])
        return ("uploaded", None) if status in (200, 201) else ("refused", problem_of(status, body))

    def upload_photos(self, photos: list[sqlite3.Row]) -> None:
        """A few at a time, so that over a slow link their round trips overlap; each result is committed from
        this thread, in order. On a SyncStopped the rest is cancelled, not lost: an upload that finished but
        was not recorded is skipped by HEAD next time."""
        pool = ThreadPoolExecutor(self.photo_workers, thread_name_prefix="photo-upload")
        try:
            for row, (outcome, problem) in zip(photos, pool.map(self._upload, photos), strict=True):
                setattr(self.report, f"photos_{outcome}", getattr(self.report, f"photos_{outcome}") + 1)
                self.store.mark_photo(row["sha256"], row["project_id"],
                                      "refused" if outcome == "refused" else "uploaded", problem)
                self._tick("photo")
        finally:
            pool.shutdown(wait=True, cancel_futures=True)

    def send_commands(self, user_id: str) -> None:
        links = self.store.links()
        transient_rounds = 0
        size = 1 if self.one_by_one else self.chunk
        while ready := self.queue.next_round(user_id, links):
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
            self._tick("command")
            return 0
        if status in TRANSIENT:
            self.queue.mark_attempt(cmd)
            return 1
        if status == 401:
            raise TokenRevoked(problem_of(status, body)["detail"])
        self.queue.mark_refused(cmd, problem_of(status, body))
        self.report.refused.append(cmd)
        self._tick("command")
        return 0
