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
from limits import RateLimitItem, RateLimitItemPerMinute, parse_many
from limits.storage import storage_from_string
from limits.strategies import MovingWindowRateLimiter

from services.api.errors import ApiError, problem
from services.invitations import SHORT_CODE_FAILURES_GLOBAL, SHORT_CODE_FAILURES_PER_ADDRESS

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


class TieredFailureLimit:
    """Failures counted in several moving windows at once, so the wait grows with the count: with
    "5/minute;10/hour;20/day" the 6th failure within a minute waits out that minute, the 11th within an hour
    the hour, the 21st the day. Nothing waits while every window has room."""

    def __init__(self, tiers: str, namespace: str, storage_uri: str = "memory://") -> None:
        self._tiers: list[RateLimitItem] = list(parse_many(tiers))
        self._namespace = namespace
        self._limiter = MovingWindowRateLimiter(storage_from_string(storage_uri))

    def retry_after(self, client: str) -> int | None:
        waits = [self._limiter.get_window_stats(tier, self._namespace, client).reset_time - time.time()
                 for tier in self._tiers if not self._limiter.test(tier, self._namespace, client)]
        return max(1, math.ceil(max(waits))) if waits else None

    def record_failure(self, client: str) -> None:
        for tier in self._tiers:
            self._limiter.hit(tier, self._namespace, client)

    def clear(self, client: str) -> None:
        """A success forgives the person's earlier slips (per phone only: an address stays counted)."""
        for tier in self._tiers:
            self._limiter.clear(tier, self._namespace, client)


# Per phone number: a guesser of one person's password gets 20 tries a day. Per address: an office or a
# mobile carrier's NAT puts many honest people behind one address, so it is looser, but still bounds a
# guesser spraying one common password over many phone numbers.
SIGN_IN_PER_PHONE = "5/minute;10/hour;20/day"
SIGN_IN_PER_ADDRESS = "30/minute;200/hour;1000/day"


class SignInLimits:
    def __init__(self, per_phone: str = SIGN_IN_PER_PHONE, per_address: str = SIGN_IN_PER_ADDRESS) -> None:
        self.phone = TieredFailureLimit(per_phone, "sign-in-phone")
        self.address = TieredFailureLimit(per_address, "sign-in-address")

    def retry_after(self, phone: str, address: str) -> int | None:
        waits = [w for w in (self.phone.retry_after(phone), self.address.retry_after(address)) if w is not None]
        return max(waits) if waits else None

    def record_failure(self, phone: str, address: str) -> None:
        self.phone.record_failure(phone)
        self.address.record_failure(address)

    def succeeded(self, phone: str) -> None:
        self.phone.clear(phone)


class ShortCodeLimits:
    """Failed residents' short codes, per address and across the server (the arithmetic is in
    services/invitations.py): a botnet of many addresses still shares the global budget."""

    def __init__(self, per_address: str = SHORT_CODE_FAILURES_PER_ADDRESS,
                 everyone: str = SHORT_CODE_FAILURES_GLOBAL) -> None:
        self.address = TieredFailureLimit(per_address, "short-code-address")
        self.everyone = TieredFailureLimit(everyone, "short-code-global")

    def retry_after(self, address: str) -> int | None:
        waits = [w for w in (self.address.retry_after(address), self.everyone.retry_after("all")) if w is not None]
        return max(waits) if waits else None

    def record_failure(self, address: str) -> None:
        self.address.record_failure(address)
        self.everyone.record_failure("all")


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


def sign_in_limits(request: Request) -> SignInLimits:
    return request.app.state.sign_in_limits


def short_code_limits(request: Request) -> ShortCodeLimits:
    return request.app.state.short_code_limits


def install(app: FastAPI, per_minute: int) -> None:
    """One limiter per application (per process), and the 429 with its Retry-After."""
    app.state.auth_failure_limit = MovingWindowFailureLimit(per_minute)
    app.state.sign_in_limits = SignInLimits()
    app.state.short_code_limits = ShortCodeLimits()

    @app.exception_handler(TooManyFailedAttempts)
    async def too_many(request: Request, error: TooManyFailedAttempts) -> JSONResponse:
        return problem(429, error.code, error.title, error.detail_zh, instance=request.url.path,
                       headers={"Retry-After": str(error.retry_after)}, retry_after=error.retry_after)
