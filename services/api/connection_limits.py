"""How `serve` bounds its connections: uvicorn's own limits, plus a deadline for each request's head.

uvicorn closes an idle keep-alive connection, and `BodyGuard` answers a body that does not arrive with 408;
but a client that trickles its request line and headers (slowloris) is never timed out by uvicorn, and every
such connection counts against `limit_concurrency` until the server answers everyone 503. The protocol below
is uvicorn's h11 protocol with one addition: a connection has `request_head_timeout_s` to send a request's
head, from when it opens or its previous response ends; past that, and with no request in progress, it is
closed. It relies on `H11Protocol`'s `cycle`, `handle_events` and `on_response_complete` (uvicorn 0.3x–0.5x).
"""

from __future__ import annotations

import asyncio
from typing import Any, ClassVar

from uvicorn.protocols.http.h11_impl import H11Protocol

from services.settings import Settings

MAX_REQUEST_HEAD_BYTES = 16 * 1024  # request line and headers; larger is refused by h11 with 400


class H11WithHeadDeadline(H11Protocol):
    head_timeout: ClassVar[float] = 10.0
    _head_timer: asyncio.TimerHandle | None = None
    _served: object = None  # the request cycle that was current when the deadline was set

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]  # as uvicorn's own (Transport)
        super().connection_made(transport)
        self._await_head()

    def handle_events(self) -> None:
        super().handle_events()
        if self._head_timer is not None and self.cycle is not self._served:
            self._stop_head_timer()  # a new request's head has arrived

    def on_response_complete(self) -> None:
        super().on_response_complete()
        if not self.transport.is_closing():
            self._await_head()

    def connection_lost(self, exc: Exception | None) -> None:
        self._stop_head_timer()
        super().connection_lost(exc)

    def _await_head(self) -> None:
        self._stop_head_timer()
        self._served = self.cycle
        self._head_timer = self.loop.call_later(self.head_timeout, self._head_late)

    def _stop_head_timer(self) -> None:
        if self._head_timer is not None:
            self._head_timer.cancel()
            self._head_timer = None

    def _head_late(self) -> None:
        self._head_timer = None
        if self.transport.is_closing():
            return
        if self.cycle is not None and not self.cycle.response_complete:
            return  # a request is being served (its body has its own timeout); its response re-arms this
        self.transport.close()


def protocol_with_head_deadline(seconds: float) -> type[H11WithHeadDeadline]:
    return type("H11WithHeadDeadline", (H11WithHeadDeadline,), {"head_timeout": seconds})


def uvicorn_limits(settings: Settings) -> dict[str, Any]:
    """Keyword arguments for `uvicorn.run`/`uvicorn.Config`, the same for `serve` and the tests."""
    return {
        "http": protocol_with_head_deadline(settings.request_head_timeout_s),
        "timeout_keep_alive": settings.http_keep_alive_s,
        "limit_concurrency": settings.http_max_concurrency,
        "h11_max_incomplete_event_size": MAX_REQUEST_HEAD_BYTES,
    }
