"""Who is calling: a bearer token checked against the directory, with failed attempts limited per address."""

from __future__ import annotations

from typing import NoReturn

from fastapi import Request

from services.api.auth_limits import FailureLimit, TooManyFailedAttempts, client_address, limiter
from services.api.errors import unauthorized
from services.observability import AUTH_REFUSALS
from services.users import TokenRefused, User, UserDirectory

REFUSALS_ZH = {"invalid_token": "令牌无效或已被吊销，请重新获取",
               "token_expired": "令牌已过期，请向管理员申请新的令牌"}


def authenticate(request: Request, users: UserDirectory, authorization: str | None) -> User:
    """A request without credentials is not an attempt; one with wrong credentials is, and counts."""
    if not authorization:
        AUTH_REFUSALS.labels("missing").inc()
        raise unauthorized("unauthenticated", "请先登录：缺少 Authorization: Bearer 令牌")
    client, limit = client_address(request), limiter(request)
    wait = limit.retry_after(client)
    if wait is not None:  # refused before the look-up: a throttled guesser costs no query
        AUTH_REFUSALS.labels("too_many_attempts").inc()
        raise TooManyFailedAttempts(wait)
    scheme, _, token = authorization.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        _refuse(limit, client, "unauthenticated", "Authorization 头格式应为：Bearer <令牌>")
    try:
        return users.authenticate(token.strip(), request.headers.get("x-device-id"))
    except TokenRefused as refused:
        _refuse(limit, client, refused.reason, REFUSALS_ZH[refused.reason])


def _refuse(limit: FailureLimit, client: str, code: str, detail_zh: str) -> NoReturn:
    limit.record_failure(client)
    AUTH_REFUSALS.labels(code).inc()
    raise unauthorized(code, detail_zh)
