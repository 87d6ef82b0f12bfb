"""Photo work (object-store I/O and decoding) on a few threads of its own, never on the API's shared ones.

A hung object store blocks every thread that talks to it until its timeout. When photo work ran on
anyio's shared pool (40 threads), 48 photo reads against a stopped store took every thread and a
command without photos waited 28.7 s for one. Here photo work has `workers` threads of its own; a
request that cannot start within `wait_s` is refused at once with 503 instead of being held, so a
queue of photo requests can neither grow without bound nor make anyone wait long.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

from services.photos import refusals

T = TypeVar("T")


class PhotoWorkers:
    def __init__(self, workers: int = 8, wait_s: float = 1.0, queue: int | None = None) -> None:
        self.workers, self.wait_s = workers, wait_s
        self.limit = workers + (queue if queue is not None else 4 * workers)
        self._executor = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="photo")
        self._lock = threading.Lock()
        self._pending = 0

    @property
    def pending(self) -> int:
        """Photo jobs running or waiting for a thread."""
        return self._pending

    def _admit(self) -> None:
        with self._lock:
            if self._pending >= self.limit:
                raise refusals.store_busy(self.wait_s)
            self._pending += 1

    def _done(self, *_: object) -> None:
        with self._lock:
            self._pending -= 1

    async def run(self, fn: Callable[..., T], *args: object) -> T:
        """Run `fn(*args)` on a photo thread; 503 `photo_store_busy` if it could not start within `wait_s`."""
        self._admit()
        try:
            future = self._executor.submit(fn, *args)
        except BaseException:
            self._done()
            raise
        future.add_done_callback(self._done)
        running = asyncio.wrap_future(future)
        try:
            return await asyncio.wait_for(asyncio.shield(running), self.wait_s)
        except TimeoutError:
            if future.cancel():  # still queued: every thread is stuck, so say so now rather than pile on
                raise refusals.store_busy(self.wait_s) from None
            return await running  # it started: the store's own timeouts bound it

    def close(self) -> None:
        self._executor.shutdown(wait=False, cancel_futures=True)
