"""Reading the notification log in a child process, one batch ahead of the process that uses the batches.

A reader of the whole log (the Kafka relay, a rebuild of the read models) spends much of its time decoding what
it reads, in the same interpreter, so under the same GIL, as the work it does with it. Here a child interpreter
(its own GIL and, on a machine with a free core, its own core) reads and prepares each batch while the parent
works on the one before. The parent keeps what is its own (positions, acknowledgements, transactions): the child
only reads.

The child is a new interpreter (`python -c` with the parent's sys.path): the parent may have threads, so no fork,
and unlike multiprocessing's spawn it does not import the parent's `__main__` again. It reads the store through
its own connection (SQLite in WAL mode and PostgreSQL both allow that). Batches are pickled and length-prefixed by
`Connection` over the child's stdin and stdout (stdout itself then points at stderr, so nothing printed can corrupt
them). A child that fails, dies or stalls raises in the parent; when the parent dies the child sees its stdin close
and exits.
"""

from __future__ import annotations

import importlib
import json
import os
import subprocess
import sys
from collections.abc import Callable
from multiprocessing.connection import Connection
from typing import Any, Protocol

REPLY_TIMEOUT_S = 60.0


class Batch(Protocol):
    """What a reader answers: anything picklable that says where it ends (the next batch starts after it)."""

    @property
    def end(self) -> int: ...


class Reader(Protocol):
    def read(self, start: int) -> Batch | None: ...  # the batch after `start`, None when there is none yet

    def close(self) -> None: ...


def serve() -> None:
    """The child's loop: the reader's factory (`module:function`) and its settings first, then a start position
    in, that batch (or None, or an error's text) out, until the parent closes the pipe."""
    inbox = Connection(0, writable=False)
    outbox = Connection(os.dup(1), readable=False)
    os.dup2(2, 1)
    factory, setup = inbox.recv()
    module, _, name = factory.partition(":")
    make: Callable[[Any], Reader] = getattr(importlib.import_module(module), name)
    reader = make(setup)
    outbox.send(None)  # ready: it imported everything and opened the store
    try:
        while True:
            try:
                start = inbox.recv()
            except (EOFError, OSError):
                return  # the parent is gone
            try:
                outbox.send(reader.read(start))
            except Exception as error:  # the parent raises it
                outbox.send(f"{type(error).__name__}: {error}")
    finally:
        reader.close()


class ReadAhead:
    """The parent's side: `batch(start)` answers the batch after `start`, and asks the child for the one after it
    at once, so that it is read while the parent works on this one. `what` names the child in errors."""

    def __init__(self, factory: str, setup: Any, what: str, wait: bool = True) -> None:
        """`wait`: until the child has opened the store (a failure raises here); without it the child starts while
        the parent does other work, and a failure to start raises at the first `batch`."""
        self.what = what
        boot = f"import sys; sys.path[:0] = {json.dumps(sys.path)}; import {__name__} as m; m.serve()"
        self._process = subprocess.Popen([sys.executable, "-c", boot], stdin=subprocess.PIPE,
                                         stdout=subprocess.PIPE)
        assert self._process.stdin is not None and self._process.stdout is not None
        self._outbox = Connection(os.dup(self._process.stdin.fileno()), readable=False)
        self._inbox = Connection(os.dup(self._process.stdout.fileno()), writable=False)
        self._process.stdin.close()
        self._process.stdout.close()
        self._outbox.send((factory, setup))
        self._asked: int | None = None  # the start of the batch the child is working on
        self._started = False  # its "ready" received
        if wait:
            try:
                self._await_start()
            except Exception:
                self.close()
                raise

    def batch(self, start: int) -> Any | None:
        if self._asked is not None and self._asked != start:
            self._reply()  # a batch read ahead for another position (the parent went on from elsewhere)
            self._asked = None
        read_ahead = self._asked is not None
        if not read_ahead:
            self._ask(start)
        batch = self._reply()
        self._asked = None
        if batch is None and read_ahead:  # "nothing new" as of the read-ahead; a fresh look costs a round trip
            self._ask(start)
            batch = self._reply()
            self._asked = None
        if batch is not None:
            self._ask(batch.end)
        return batch

    def read_ahead(self, start: int) -> None:
        """Have the child read the batch after `start` now, for a `batch(start)` to come (the parent reads the one
        before itself while the child starts)."""
        if self._asked is None:
            self._ask(start)

    def _ask(self, start: int) -> None:
        try:
            self._outbox.send(start)
        except OSError as gone:
            raise RuntimeError(f"{self.what} exited (code {self._process.poll()})") from gone
        self._asked = start

    def _reply(self) -> Any | None:
        self._await_start()
        return self._receive()

    def _await_start(self) -> None:
        if not self._started:
            self._receive()  # its "ready" (None) comes before any batch
            self._started = True

    def _receive(self) -> Any | None:
        if not self._inbox.poll(REPLY_TIMEOUT_S):
            raise TimeoutError(f"{self.what} gave no batch within {REPLY_TIMEOUT_S:.0f} s")
        try:
            reply = self._inbox.recv()
        except EOFError as gone:
            raise RuntimeError(f"{self.what} exited (code {self._process.poll()})") from gone
        if isinstance(reply, str):
            raise RuntimeError(f"{self.what} failed: {reply}")
        return reply

    def close(self) -> None:
        self._outbox.close()  # the child sees its stdin close and exits
        self._inbox.close()
        try:
            self._process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait(timeout=5)
