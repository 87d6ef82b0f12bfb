"""Who may open the console, and the one way a console page is answered.

Only the station (its district) and the owner's staff (their district, or the whole city) use the console.
An unsigned visitor is sent to sign in; anyone else signed in (a resident, a supervisor) gets a refusal page
that names nothing of the works. Scope below the district (a project, an item, a photo) is the domain's own
check (`project_in_scope`, `item_in_scope`, `PhotoService.readable`), so the pages and the API agree.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates

from domain.actors import ROLE_NAMES_ZH, Role
from services.api.authentication import session_user
from services.bootstrap import Container
from services.sessions import ActiveSession
from services.users import User
from services.web import vendor
from services.web.console import words

HERE = Path(__file__).parent
templates = Jinja2Templates(directory=[HERE / "templates", HERE.parent / "templates"])
templates.env.globals.update(vendor=vendor.url, states_zh=words.STATES_ZH, flags_zh=words.FLAG_NAMES_ZH,
                             severity_zh=words.SEVERITY_ZH, device_names=words.DEVICE_NAMES_ZH)
CONSOLE_ROLES = (Role.STATION, Role.ADMIN)
# The sign-in pages' headers, with this origin's scripts (htmx, ECharts, console.js) and nothing inline.
PAGE_HEADERS = {"Cache-Control": "no-store", "Referrer-Policy": "same-origin",
                "Content-Security-Policy": "default-src 'none'; script-src 'self'; style-src 'self'; "
                                           "img-src 'self' data:; connect-src 'self'; form-action 'self'; "
                                           "frame-ancestors 'none'; base-uri 'none'"}
NOT_YOURS = "您的账号不能使用工程监管台：监管台供安全质量监督站与业主单位使用"
OTHER_DISTRICT = "该区不在您的管辖范围内"


class Viewer:
    """The signed-in console user: their scope and the session's CSRF token for the page's forms."""

    def __init__(self, user: User, active: ActiveSession) -> None:
        self.user, self.session = user, active
        self.csrf_token = active.csrf_token

    @property
    def city_wide(self) -> bool:
        return self.user.role == Role.ADMIN and self.user.district is None

    @property
    def is_station(self) -> bool:
        return self.user.role == Role.STATION

    @property
    def role_zh(self) -> str:
        return ROLE_NAMES_ZH.get(self.user.role, str(self.user.role))

    def may_see_district(self, district: str) -> bool:
        return self.city_wide or self.user.district == district


def container_of(request: Request) -> Container:
    return request.app.state.container


def viewer(request: Request) -> Viewer | Response:
    """The console user, or the answer to give instead (sign in first; not a console role)."""
    signed_in = session_user(request, container_of(request))
    if signed_in is None:
        if request.headers.get("hx-request") == "true":  # a part refreshing itself: the whole page goes to sign in,
            return Response(status_code=204, headers={"HX-Redirect": "/sign-in"})  # not the form into the part
        return RedirectResponse("/sign-in", status_code=303)
    user, active = signed_in
    if user.role not in CONSOLE_ROLES:
        return refused(request, NOT_YOURS, 403)
    return Viewer(user, active)


def page(request: Request, template: str, status: int = 200, **context: Any) -> HTMLResponse:
    return templates.TemplateResponse(request, template, context, status_code=status, headers=PAGE_HEADERS)


def refused(request: Request, error: str, status: int) -> HTMLResponse:
    """A refusal that shows no data: the same page for a foreign district, project, item or photo."""
    return page(request, "console_refused.html", status, error=error)
