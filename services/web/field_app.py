"""The supervisors' tablet app: a PWA under /field/, its files in field_client/web, plus the JSON it syncs from.

The shell is static files, the same for everyone, so the service worker can cache it and the app opens in a
stairwell with no signal; who the caller is and what they may see come later, from the API, with the tablet's
device credential. So these routes need no sign-in (a visitor with no credential sees the app's own
"请先登录" screen, which leads to /sign-in); only `/field/session` reads the session cookie, to hand the
signed-in page its CSRF token for enrolling the tablet.

Headers: a Content-Security-Policy that lets in only the app's own scripts and the API (no inline script, no
other origin); `no-cache` on every file, so the service worker (which caches them itself) always revalidates
and a new version reaches tablets at their next online visit; the worker itself with `Service-Worker-Allowed`
naming /field/ as its scope.
"""

from __future__ import annotations

import mimetypes
from pathlib import Path

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import FileResponse, JSONResponse, RedirectResponse, Response

from services.api.authentication import session_user
from services.api.routers import field
from services.bootstrap import Container

WEB = Path(__file__).resolve().parents[2] / "field_client" / "web"
SCOPE = "/field/"
CSP = ("default-src 'none'; script-src 'self'; connect-src 'self'; img-src 'self' blob: data:; "
       "style-src 'self'; manifest-src 'self'; worker-src 'self'; font-src 'self'; base-uri 'none'; "
       "form-action 'self'; frame-ancestors 'none'")
TYPES = {".js": "text/javascript; charset=utf-8", ".mjs": "text/javascript; charset=utf-8",
         ".css": "text/css; charset=utf-8", ".html": "text/html; charset=utf-8",
         ".webmanifest": "application/manifest+json", ".svg": "image/svg+xml", ".png": "image/png"}
NOT_FOUND = {"type": "about:blank", "status": 404, "code": "not_found", "title": "Not found",
             "detail": "平板应用中没有这个文件"}

router = APIRouter(include_in_schema=False)


def _file(relative: str) -> Path | None:
    """A file of the app, never one outside its directory (`..`, absolute paths, links out)."""
    candidate = (WEB / relative).resolve()
    if not candidate.is_relative_to(WEB) or not candidate.is_file() or candidate.name.startswith("."):
        return None
    return candidate


def _headers(path: Path) -> dict[str, str]:
    headers = {"Cache-Control": "no-cache", "Content-Security-Policy": CSP}
    if path.name == "sw.js":
        headers["Service-Worker-Allowed"] = SCOPE
    return headers


@router.get("/field")
def field_without_slash() -> Response:
    return RedirectResponse(SCOPE, status_code=308)


@router.get("/field/session")
def field_session(request: Request) -> Response:
    """Who is signed in on this browser (by cookie) and their CSRF token, so the app can enrol the tablet
    with `POST /api/v1/me/devices`; same-origin only by CORS (no other site can read it)."""
    container: Container = request.app.state.container
    signed_in = session_user(request, container)
    if signed_in is None:
        return JSONResponse({"signed_in": False}, headers={"Cache-Control": "no-store"})
    user, active = signed_in
    return JSONResponse({"signed_in": True, "user": user.public(), "csrf_token": active.csrf_token},
                        headers={"Cache-Control": "no-store"})


@router.get("/field/{relative:path}")
def field_file(relative: str) -> Response:
    found = _file(relative or "index.html")
    if found is None:
        return JSONResponse(NOT_FOUND, status_code=404, media_type="application/problem+json")
    media = TYPES.get(found.suffix) or mimetypes.guess_type(found.name)[0] or "application/octet-stream"
    return FileResponse(found, media_type=media, headers=_headers(found))


def install(app: FastAPI) -> None:
    app.include_router(field.router, prefix="/api/v1")
    app.include_router(router)
