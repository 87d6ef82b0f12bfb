"""Structured JSON logs with a request id, and the Prometheus series an operator watches."""

from __future__ import annotations

import contextvars
import json
import logging
import sys
import time
import uuid
from typing import Any, ClassVar

from prometheus_client import Counter, Gauge, Histogram

REQUEST_ID: contextvars.ContextVar[str | None] = contextvars.ContextVar("request_id", default=None)

HTTP_REQUESTS = Counter("siteledger_http_requests_total", "HTTP requests by route and status",
                        ["method", "route", "status"])
COMMAND_SECONDS = Histogram("siteledger_command_seconds", "Time to execute a command (domain + store)",
                            ["command"], buckets=(0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5))
EVENTS_APPENDED = Counter("siteledger_events_appended_total", "Events appended to the store", ["type"])
PROJECTION_LAG = Gauge("siteledger_projection_lag_events", "Events a read model is behind the log", ["projection"])
PROJECTION_FAILURES = Counter("siteledger_projection_failures_total",
                              "Attempts to apply a read model's next events that failed (it backs off and retries)",
                              ["projection"])
RELAY_LAG = Gauge("siteledger_relay_lag_events", "Events not yet published to Kafka")
PHOTO_UPLOADS = Counter("siteledger_photo_uploads_total", "Photo uploads by result", ["result"])
PHOTO_REFUSALS = Counter("siteledger_photo_refusals_total", "Photos refused, by reason", ["reason"])
AUTH_REFUSALS = Counter("siteledger_auth_refusals_total",
                        "Authentication refused, by reason (too_many_attempts: the address was throttled)", ["reason"])

# A label value comes from a fixed set, never from the client: each new value is a series kept for ever.
KNOWN_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
OTHER_METHOD, UNMATCHED_ROUTE = "other", "unmatched"


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, request id, and any `extra` fields."""

    RESERVED: ClassVar[frozenset[str]] = frozenset({*vars(logging.makeLogRecord({})), "message", "asctime"})

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created)) + f".{int(record.msecs):03d}Z",
            "level": record.levelname.lower(), "logger": record.name, "message": record.getMessage(),
        }
        request_id = REQUEST_ID.get()
        if request_id:
            entry["request_id"] = request_id
        entry.update({k: v for k, v in vars(record).items()
                      if k not in self.RESERVED and not k.startswith(("_", "color_"))})
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False, default=str)


def configure_logging(level: str = "INFO") -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    for noisy in ("uvicorn.access",):
        logging.getLogger(noisy).disabled = True  # our middleware logs each request once, in JSON


access_log = logging.getLogger("siteledger.http")


class RequestContext:
    """Pure ASGI middleware (cheaper than @app.middleware): give every request an id (the caller's
    X-Request-Id or a new one), echo it, log the request once, count it."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope.get("headers") or [])
        request_id = headers.get(b"x-request-id", b"").decode("latin-1")[:128] or uuid.uuid4().hex
        token = REQUEST_ID.set(request_id)
        started = time.perf_counter()
        status = {"code": 500}

        async def send_with_id(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                status["code"] = message["status"]
                message.setdefault("headers", [])
                message["headers"] = [*message["headers"], (b"x-request-id", request_id.encode("latin-1"))]
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            path = route_label(scope)
            method = scope["method"] if scope["method"] in KNOWN_METHODS else OTHER_METHOD
            HTTP_REQUESTS.labels(method, path, str(status["code"])).inc()
            access_log.info("request", extra={"method": scope["method"][:16], "route": path, "status": status["code"],
                                              "duration_ms": round((time.perf_counter() - started) * 1000, 2)})
            REQUEST_ID.reset(token)


def route_label(scope: dict[str, Any]) -> str:
    """The route's template, never the raw path: unmatched paths fold into one label."""
    path = getattr(scope.get("route"), "path", None)
    if not isinstance(path, str):
        return UNMATCHED_ROUTE
    if scope.get("path", "").startswith("/api/v1/") and not path.startswith("/api/v1"):
        path = "/api/v1" + path  # routes of an included router carry their own path, not the prefix
    return path
