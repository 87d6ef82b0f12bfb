"""A weak mobile link on loopback: a TCP proxy that throttles both directions to a byte rate and resets every
connection on a timer, counting the bytes that cross it (what a tablet pays for, and waits for)."""

from __future__ import annotations

import contextlib
import socket
import struct
import threading
import time
from urllib.parse import urlsplit


class Bucket:
    """A byte rate shared by every connection in one direction, as on one radio link."""

    def __init__(self, rate_bps: float) -> None:
        self.rate, self.free_at, self.lock = rate_bps, time.monotonic(), threading.Lock()

    def take(self, n: int) -> None:
        with self.lock:
            now = time.monotonic()
            self.free_at = max(self.free_at, now) + n / self.rate
            wait = self.free_at - now
        time.sleep(wait)


class WeakLink:
    """`url` leads to `upstream` through the link; `up_bytes` counts what the client got across (read from
    it, forwarded or lost in a reset), `resets` how often every open connection was cut (RST)."""

    PIECE = 2048

    def __init__(self, upstream: str, rate_bps: float, reset_every_s: float | None = None) -> None:
        address = urlsplit(upstream)
        self.upstream = (address.hostname or "127.0.0.1", address.port or 80)
        self.up, self.down = Bucket(rate_bps), Bucket(rate_bps)
        self.reset_every_s = reset_every_s
        self.up_bytes = self.down_bytes = self.resets = self.connections = 0
        self._open: set[socket.socket] = set()
        self._lock = threading.Lock()
        self._closed = threading.Event()
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self.listener.getsockname()[1]}"
        threading.Thread(target=self._accept, daemon=True).start()
        if reset_every_s:
            threading.Thread(target=self._reset_on_a_timer, daemon=True).start()

    def _accept(self) -> None:
        while not self._closed.is_set():
            try:
                client, _ = self.listener.accept()
                server = socket.create_connection(self.upstream)
            except OSError:
                return
            for sock in (client, server):
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 16 * 1024)  # the link holds little
            with self._lock:
                self._open.update((client, server))
                self.connections += 1
            threading.Thread(target=self._pump, args=(client, server, True), daemon=True).start()
            threading.Thread(target=self._pump, args=(server, client, False), daemon=True).start()

    def _pump(self, source: socket.socket, target: socket.socket, upward: bool) -> None:
        bucket = self.up if upward else self.down
        try:
            while data := source.recv(self.PIECE):
                with self._lock:
                    if upward:
                        self.up_bytes += len(data)
                    else:
                        self.down_bytes += len(data)
                bucket.take(len(data))
                target.sendall(data)
        except OSError:
            pass
        finally:
            self._cut(source, target, hard=False)

    def _cut(self, *socks: socket.socket, hard: bool) -> None:
        for sock in socks:
            with self._lock:
                self._open.discard(sock)
            with contextlib.suppress(OSError):
                if hard:  # RST, as when the radio drops: no orderly close
                    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                sock.shutdown(socket.SHUT_RDWR)  # wakes the pump blocked in recv on it
            with contextlib.suppress(OSError):
                sock.close()

    def _reset_on_a_timer(self) -> None:
        assert self.reset_every_s is not None
        while not self._closed.wait(self.reset_every_s):
            with self._lock:
                victims = list(self._open)
                self.resets += bool(victims)
            self._cut(*victims, hard=True)

    def close(self) -> None:
        self._closed.set()
        self.listener.close()
        with self._lock:
            victims = list(self._open)
        self._cut(*victims, hard=True)
