"""Who is calling: a bearer token (integrations, CLIs) or a web session cookie (people in a browser).

Both give the same `User`, so every route has one notion of the caller and the same scopes. Failed bearer
attempts are limited per address; a cookie names a server-side session (services/sessions.py), and a
cookie-authenticated request that changes state must also pass the CSRF check below.

CSRF, our own small check rather than a middleware library: sessions are server-side already, so each
carries a synchronizer token (OWASP's primary defence) that a form posts back as `csrf_token` and a script
sends as `X-CSRF-Token`; and, as defence in depth, a request whose `Sec-Fetch-Site` is not same-origin or
whose `Origin` is not this server is refused before the token is looked at. Libraries such as
`starlette-csrf` implement the double-submit cookie, which needs no server state — we have that state, and
a double-submit cookie can be planted by a sibling subdomain.
"""

from __future__ import annotations

from datetime import timedelta
from typing import NoReturn

from fastapi import Request
from starlette.concurrency import run_in_threadpool

from services.api.auth_limits import FailureLimit, TooManyFailedAttempts, client_address, limiter
from services.api.errors import ApiError, unauthorized
from services.bootstrap import Container
from services.credentials import Credentials
from services.invitations import Invitations
from services.observability import AUTH_REFUSALS
from services.sessions import ActiveSession, SessionStore
from services.users import TokenCheck, TokenRefused, User, UserDirectory

REFUSALS_ZH = {"invalid_token": "令牌无效或已被吊销，请重新获取",
               "token_expired": "令牌已过期，请向管理员申请新的令牌",
               "device_mismatch": "这是绑定到某台设备的凭据，只能由该设备使用（X-Device-Id 缺失或不符）"}
SESSION_COOKIE = "siteledger_session"
CSRF_HEADER = "X-CSRF-Token"
CSRF_FIELD = "csrf_token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def authenticate(request: Request, users: UserDirectory, authorization: str | None) -> User:
    """A request without credentials is not an attempt; one with wrong credentials is, and counts."""
    checked = check_bearer(request, users, authorization)
    if checked.use_due:
        users.note_use(checked)
    return checked.user


def check_bearer(request: Request, users: UserDirectory, authorization: str | None) -> TokenCheck:
    """`authenticate` up to its one write (the token's last use, noted at most once a minute)."""
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
        return users.check_token(token.strip(), request.headers.get("x-device-id"))
    except TokenRefused as refused:
        _refuse(limit, client, refused.reason, REFUSALS_ZH[refused.reason])


async def identify_async(request: Request, container: Container, authorization: str | None) -> User:
    """`identify`, without a thread hop when it can: a bearer token on SQLite is checked on the event loop (one
    indexed row from a local file, ~10 us, where the hop costs several times that in both threads; the failure
    limits are in this process's memory). Only what would block goes to the threadpool: the token's last use
    when it is due (at most once a minute), PostgreSQL (a network round trip), and session cookies (a session's
    last-seen write)."""
    if not container.db.is_postgres and (authorization or SESSION_COOKIE not in request.cookies):
        checked = check_bearer(request, container.users, authorization)
        if checked.use_due:
            await run_in_threadpool(container.users.note_use, checked)
        return checked.user
    return await run_in_threadpool(identify, request, container, authorization)


def identify(request: Request, container: Container, authorization: str | None) -> User:
    """The caller by bearer token if one is sent, else by session cookie; a cookie alone never outranks a
    token. Cookie-authenticated writes pass the CSRF check."""
    if authorization or SESSION_COOKIE not in request.cookies:
        return authenticate(request, container.users, authorization)
    signed_in = session_user(request, container)
    if signed_in is None:
        AUTH_REFUSALS.labels("session_ended").inc()
        raise unauthorized("unauthenticated", "登录已过期或已退出，请重新登录")
    user, active = signed_in
    if request.method not in SAFE_METHODS:
        check_csrf(request, active, request.headers.get(CSRF_HEADER))
    return user


def session_user(request: Request, container: Container) -> tuple[User, ActiveSession] | None:
    """The signed-in person and their live session, or None (no cookie, ended, revoked, or erased since);
    kept on `request.state` so a page and its dependencies look it up once."""
    if hasattr(request.state, "signed_in"):
        found: tuple[User, ActiveSession] | None = request.state.signed_in
        return found
    cookie, found = request.cookies.get(SESSION_COOKIE), None
    active = sessions(container).resolve(cookie) if cookie else None
    if active is not None:
        user = container.users.get(active.info.user_id)
        if user is not None and user.name is not None:
            found = (user, active)
    request.state.signed_in = found
    return found


def same_origin(request: Request) -> bool:
    """False for a request a browser says came from another site, or whose Origin is not this server.
    `Sec-Fetch-Site: same-site` is refused too: another port or subdomain is another origin."""
    site = request.headers.get("sec-fetch-site")
    if site is not None and site not in ("same-origin", "none"):
        return False
    origin = request.headers.get("origin")
    return origin is None or origin == f"{request.url.scheme}://{request.url.netloc}"


def check_csrf(request: Request, active: ActiveSession | None, presented: str | None) -> None:
    """Refuse a state-changing request that a browser was tricked into sending from another site."""
    if not same_origin(request) or (active is not None and not active.csrf_matches(presented)):
        AUTH_REFUSALS.labels("csrf").inc()
        raise ApiError(403, "csrf_refused", "The request's origin could not be verified",
                       "无法确认这个请求来自本系统的页面（可能是其他网站伪造的），已拒绝；请刷新页面后重试")


def sessions(container: Container) -> SessionStore:
    """Built per use from the container's database and settings (a few attributes, no connection of its own);
    it shares the directory's clock, so a test moves both at once."""
    settings = container.settings
    return SessionStore(container.db, timedelta(hours=settings.session_idle_hours),
                        timedelta(days=settings.session_max_days), clock=lambda: container.users.clock())


def invitations(container: Container) -> Invitations:
    return Invitations(container.db, container.users, timedelta(days=container.settings.invitation_days))


def credentials(container: Container) -> Credentials:
    return Credentials(container.db, container.users, timedelta(hours=container.settings.password_link_hours))


def _refuse(limit: FailureLimit, client: str, code: str, detail_zh: str) -> NoReturn:
    limit.record_failure(client)
    AUTH_REFUSALS.labels(code).inc()
    raise unauthorized(code, detail_zh)
