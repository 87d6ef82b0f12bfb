"""Failed authentications, limited per client address: a guesser is answered 429, a valid token is not slowed.

Uses `limits` (the library behind slowapi and Flask-Limiter): a moving window over a storage given by URI.
`memory://` keeps the count in this process; `redis://…` (with `limits[redis]`) would share it between
processes without changing anything here.
"""

from __future__ import annotations

import math
import time
from typing import Protocol

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from limits import RateLimitItemPerMinute
from limits.storage import storage_from_string
from limits.strategies import MovingWindowRateLimiter

from services.api.errors import ApiError, problem

NAMESPACE = "auth-failures"


class FailureLimit(Protocol):
    """What authentication needs of a limiter; another store only has to provide these two."""

    def retry_after(self, client: str) -> int | None:
        """Seconds until `client` may try again, or None while it may."""

    def record_failure(self, client: str) -> None: ...


class MovingWindowFailureLimit:
    """At most `per_minute` failures in any 60 s; only failures are counted, a success costs one look-up."""

    def __init__(self, per_minute: int, storage_uri: str = "memory://") -> None:
        self._rate = RateLimitItemPerMinute(per_minute)
        self._limiter = MovingWindowRateLimiter(storage_from_string(storage_uri))

    def retry_after(self, client: str) -> int | None:
        if self._limiter.test(self._rate, NAMESPACE, client):
            return None
        reset_at = self._limiter.get_window_stats(self._rate, NAMESPACE, client).reset_time
        return max(1, math.ceil(reset_at - time.time()))

    def record_failure(self, client: str) -> None:
        self._limiter.hit(self._rate, NAMESPACE, client)


class TooManyFailedAttempts(ApiError):
    def __init__(self, retry_after: int) -> None:
        super().__init__(429, "too_many_attempts", "Too many failed authentication attempts",
                         f"身份验证失败次数过多，请 {retry_after} 秒后再试", retry_after=retry_after)
        self.retry_after = retry_after


def client_address(request: Request) -> str:
    """The peer as uvicorn resolved it (a trusted proxy's X-Forwarded-For already applied)."""
    return request.client.host if request.client else "unknown"


def limiter(request: Request) -> FailureLimit:
    return request.app.state.auth_failure_limit


def install(app: FastAPI, per_minute: int) -> None:
    """One limiter per application (per process), and the 429 with its Retry-After."""
    app.state.auth_failure_limit = MovingWindowFailureLimit(per_minute)

    @app.exception_handler(TooManyFailedAttempts)
    async def too_many(request: Request, error: TooManyFailedAttempts) -> JSONResponse:
        return problem(429, error.code, error.title, error.detail_zh, instance=request.url.path,
                       headers={"Retry-After": str(error.retry_after)}, retry_after=error.retry_after)
