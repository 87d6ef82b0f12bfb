"""A loopback HTTP proxy that loses a share of requests, before or after the server answered: the network the
tablets' exactly-once sync is tested through (the command-line client's tests and the tablet app's)."""

from __future__ import annotations

import random
import socket
import threading
import time
from collections import Counter
from typing import BinaryIO
from urllib.parse import urlsplit


def _read_message(stream: BinaryIO, head_only: bool = False) -> bytes | None:
    """One HTTP/1.1 message, raw: headers, then a Content-Length or chunked body (none for HEAD answers)."""
    head = b""
    while not head.endswith(b"\r\n\r\n"):
        line = stream.readline()
        if not line:
            return None
        head += line
    headers = {k.strip().lower(): v.strip() for k, _, v in
               (line.partition(b":") for line in head.split(b"\r\n")[1:] if line)}
    status = head.split(b" ", 2)[1]
    if head_only or status in (b"204", b"304"):
        return head
    if headers.get(b"transfer-encoding") == b"chunked":
        body = b""
        while True:
            size_line = stream.readline()
            body += size_line
            size = int(size_line.split(b";")[0], 16)
            body += stream.read(size + 2)
            if size == 0:
                return head + body
    return head + stream.read(int(headers.get(b"content-length", b"0")))


class FaultyProxy:
    """A loopback HTTP proxy that loses a share of requests: some before they reach the server, some after
    the server answered (the connection is closed instead of relaying the answer); or none at all (offline)."""

    def __init__(self, upstream: str, drop: float = 0.0, seed: int = 7) -> None:
        address = urlsplit(upstream)
        self.upstream, self.drop, self.rng = (address.hostname, address.port), drop, random.Random(seed)
        self.offline, self.slow_batch_s = False, 0.0
        self.unreachable: bytes | None = None  # requests starting so never get through (a path the link eats)
        self.lines: list[bytes] = []
        self.counts: Counter[str] = Counter()
        self.batch_answered = threading.Semaphore(0)
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self.listener.getsockname()[1]}"
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                conn, _ = self.listener.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, conn: socket.socket) -> None:
        upstream: socket.socket | None = None
        answers: BinaryIO | None = None
        try:
            client = conn.makefile("rb")
            while (request := _read_message(client, head_only=False)) is not None:
                self.lines.append(request.split(b"\r\n", 1)[0])
                if self.unreachable is not None and request.startswith(self.unreachable):
                    return
                fate = "offline" if self.offline else self.rng.choices(
                    ["before", "after", "ok"], [self.drop / 2, self.drop / 2, 1 - self.drop])[0]
                self.counts[fate] += 1
                if fate in ("offline", "before"):
                    return
                if upstream is None:
                    upstream = socket.create_connection(self.upstream)
                    answers = upstream.makefile("rb")
                assert answers is not None
                upstream.sendall(request)
                response = _read_message(answers, head_only=request.startswith(b"HEAD "))
                if request.startswith(b"POST /api/v1/batch "):
                    self.batch_answered.release()
                    time.sleep(self.slow_batch_s)
                if response is None or fate == "after":
                    return
                conn.sendall(response)
        except OSError:
            return
        finally:
            conn.close()
            if upstream is not None:
                upstream.close()

    def close(self) -> None:
        self.listener.close()
