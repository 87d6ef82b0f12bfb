"""Who is on a residents' page, and how a page is answered.

Only a signed-in resident reads these pages; anyone else — an anonymous visitor, a phone whose invitation was
revoked (its sessions end with it), a resident of another community asking for this one's item — is sent to
the sign-in page (which holds the invitation-code form) and is shown nothing. Staff signed in by password are
sent to their own account page.
"""

from __future__ import annotations

from datetime import timedelta, timezone, tzinfo
from pathlib import Path
from typing import Any
from uuid import UUID

from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates

from domain.actors import Role
from domain.application import SiteLedger
from domain.errors import DomainError
from domain.project import Project
from domain.works_item import WorksItem
from services.api.authentication import check_csrf, session_user
from services.api.errors import ApiError
from services.bootstrap import Container
from services.sessions import ActiveSession
from services.users import User

HERE = Path(__file__).parent
templates = Jinja2Templates(directory=HERE / "templates")
# As the sign-in pages (services/web/pages.py), with the residents' own small script allowed (an enhancement:
# every page reads and signs without it) and `blob:` images (the chosen photos shown before they are sent).
PAGE_HEADERS = {"Cache-Control": "no-store", "Referrer-Policy": "same-origin",
                "Content-Security-Policy": "default-src 'none'; style-src 'self'; script-src 'self'; "
                                           "img-src 'self' blob:; form-action 'self'; frame-ancestors 'none'; "
                                           "base-uri 'none'"}


class Resident:
    """The signed-in resident and what a page needs of the request: the container, the CSRF token, the zone."""

    def __init__(self, request: Request, container: Container, user: User, active: ActiveSession) -> None:
        self.request, self.container, self.user, self.active = request, container, user, active

    @property
    def ledger(self) -> SiteLedger:
        return self.container.ledger

    @property
    def zone(self) -> tzinfo:
        return timezone(timedelta(hours=self.container.settings.site_utc_offset_hours))

    def item(self, item_id: str) -> tuple[WorksItem, Project] | None:
        """The item if it is in this resident's community; None for a malformed id, an unknown or a foreign item."""
        try:
            return self.ledger.item_in_scope(self.user.actor, UUID(item_id))
        except (ValueError, DomainError):
            return None

    def page(self, template: str, status: int = 200, **context: Any) -> HTMLResponse:
        return page(self.request, template, status, csrf_token=self.active.csrf_token, **context)

    def refused_origin(self, presented: str | None) -> HTMLResponse | None:
        """A form's CSRF check (origin and the session's token); the refusal as a page."""
        try:
            check_csrf(self.request, self.active, presented)
        except ApiError as refused:
            return self.page("problem.html", 403, title="无法提交", message=refused.detail_zh)
        return None


def page(request: Request, template: str, status: int = 200, **context: Any) -> HTMLResponse:
    return templates.TemplateResponse(request, template, context, status_code=status, headers=PAGE_HEADERS)


def to_sign_in() -> RedirectResponse:
    return RedirectResponse("/sign-in", status_code=303)


def resident(request: Request) -> Resident | Response:
    """The signed-in resident, or the redirect that replaces the page."""
    container: Container = request.app.state.container
    signed_in = session_user(request, container)
    if signed_in is None:
        return to_sign_in()
    user, active = signed_in
    if user.role != Role.RESIDENT:
        return RedirectResponse("/account", status_code=303)
    return Resident(request, container, user, active)
