"""Browser hardening headers on every response, as a pure ASGI middleware (no per-request task or copy)."""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

# An API answer is never a page to sniff, frame or follow a referrer from; a page that needs a broader
# policy (the docs, the web pages) sets its own Content-Security-Policy and keeps it.
DEFAULTS = (
    ("x-content-type-options", "nosniff"),
    ("referrer-policy", "no-referrer"),
    ("x-frame-options", "DENY"),
    ("content-security-policy", "frame-ancestors 'none'"),
)
# One year, without includeSubDomains: the operator's other hosts under the same domain are not ours to pin.
HSTS = ("strict-transport-security", "max-age=31536000")


class SecurityHeaders:
    """HSTS only over TLS: `scope["scheme"]` is `https` when served over TLS, or when uvicorn trusted the
    proxy's `X-Forwarded-Proto` (its `forwarded_allow_ips`, our `SITELEDGER_TRUSTED_PROXIES`)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        over_tls = scope.get("scheme") == "https"

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message.setdefault("headers", [])
                headers = MutableHeaders(scope=message)
                for name, value in DEFAULTS:
                    headers.setdefault(name, value)
                if over_tls:
                    headers.setdefault(*HSTS)
            await send(message)

        await self.app(scope, receive, send_with_headers)


def install(app: Starlette) -> None:
    """Wrap the whole stack, outside Starlette's ServerErrorMiddleware (which `add_middleware` cannot reach),
    so an unexpected error's 500 carries the headers too."""
    build = app.build_middleware_stack
    setattr(app, "build_middleware_stack", lambda: SecurityHeaders(build()))  # noqa: B010 (an instance override)
