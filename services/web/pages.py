"""The sign-in pages: phone and password, the one-time set-password link, and 我的账户 with its sessions.

Forms post back to the same origin; every post is checked for CSRF (`authentication.check_csrf`): the
sign-in and set-password forms by origin alone (there is no session yet to hold a token), the signed-in
forms by origin and the session's token. Wrong phone and wrong password answer the same sentence.
"""

from __future__ import annotations

from contextlib import suppress
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Depends, FastAPI, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates

from domain.actors import ROLE_NAMES_ZH, Role
from services import passwords
from services.api.auth_limits import client_address, short_code_limits, sign_in_limits
from services.api.authentication import (
    CSRF_FIELD,
    SESSION_COOKIE,
    check_csrf,
    credentials,
    invitations,
    session_user,
    sessions,
)
from services.api.errors import ApiError
from services.bootstrap import Container
from services.credentials import LinkRefused
from services.invitations import InvitationRefused
from services.observability import AUTH_REFUSALS
from services.users import User, normalize_phone
from services.web import vendor
from services.web.devices import describe

HERE = Path(__file__).parent
templates = Jinja2Templates(directory=HERE / "templates")
router = APIRouter(include_in_schema=False)
# Pages name a person: never cached, never framed, and only this origin's styles and forms. The referrer
# goes to this origin only: under the API's `no-referrer` a browser posts a form with `Origin: null`, which
# the CSRF check must refuse (sandboxed frames send it too).
PAGE_HEADERS = {"Cache-Control": "no-store", "Referrer-Policy": "same-origin",
                "Content-Security-Policy": "default-src 'none'; style-src 'self'; img-src 'self' data:; "
                                           "form-action 'self'; frame-ancestors 'none'; base-uri 'none'"}
FIELD_MAX = 256
WRONG = "手机号码或密码不正确，请检查后重试"
SITE_TIME_FORMAT = "%Y-%m-%d %H:%M"


# Where each person starts after signing in: the page built for their work (a contractor has none yet).
HOMES: dict[Role, str] = {Role.STATION: "/console", Role.ADMIN: "/console", Role.RESIDENT: "/residents",
                          Role.SUPERVISOR: "/field/"}


def home_for(user: User) -> str:
    return HOMES.get(user.role, "/account")


def _container(request: Request) -> Container:
    return request.app.state.container


def _page(request: Request, template: str, status: int = 200, **context: Any) -> HTMLResponse:
    return templates.TemplateResponse(request, template, context, status_code=status, headers=PAGE_HEADERS)


async def _form(request: Request) -> dict[str, str]:
    """Text fields only, each bounded (the body guard already bounds the whole body). Read in the event loop as
    a dependency, so the handlers themselves are plain functions on the thread pool: Argon2 takes ~0.2 s of
    CPU and must not hold up every other request."""
    form = await request.form()
    return {key: value[:FIELD_MAX] for key, value in form.items() if isinstance(value, str)}


FormFields = Annotated[dict[str, str], Depends(_form)]


def _refused_origin(request: Request, form: dict[str, str], signed_in: bool = False) -> HTMLResponse | None:
    active = session_user(request, _container(request)) if signed_in else None
    try:
        check_csrf(request, active[1] if active else None, form.get(CSRF_FIELD))
    except ApiError as refused:
        return _page(request, "refused.html", 403, error=refused.detail_zh)
    return None


def _account_form(request: Request, form: dict[str, str]) -> tuple[Container, User | Response]:
    """A form on 我的账户: the signed-in person, or the answer instead (sign in first; a foreign origin)."""
    container = _container(request)
    signed_in = session_user(request, container)
    if signed_in is None:
        return container, RedirectResponse("/sign-in", status_code=303)
    return container, _refused_origin(request, form, signed_in=True) or signed_in[0]


@router.get("/", response_class=HTMLResponse)
def home(request: Request) -> Response:
    signed_in = session_user(request, _container(request))
    return RedirectResponse(home_for(signed_in[0]) if signed_in else "/sign-in", status_code=303)


@router.get("/sign-in", response_class=HTMLResponse)
def sign_in_page(request: Request) -> Response:
    signed_in = session_user(request, _container(request))
    if signed_in is not None:
        return RedirectResponse(home_for(signed_in[0]), status_code=303)
    notice = "密码已设置，请用手机号码和新密码登录" if request.query_params.get("done") == "password" else None
    return _page(request, "sign_in.html", notice=notice)


@router.post("/sign-in", response_class=HTMLResponse)
def sign_in(request: Request, form: FormFields) -> Response:
    refused = _refused_origin(request, form)  # login CSRF: a foreign page must not sign you in as someone else
    if refused:
        return refused
    phone, password = form.get("phone", "").strip(), form.get("password", "")
    phone_key, address = normalize_phone(phone) or phone[:32], client_address(request)
    limits = sign_in_limits(request)
    wait = limits.retry_after(phone_key, address)
    if wait is not None:  # before the hash is computed: a throttled guesser costs no Argon2 time either
        AUTH_REFUSALS.labels("too_many_attempts").inc()
        return _page(request, "sign_in.html", 429, phone=phone,
                     error=f"登录失败次数过多，请{_wait_zh(wait)}后再试")
    user = credentials(_container(request)).verify(phone, password) if phone and password else None
    if user is None:
        limits.record_failure(phone_key, address)
        AUTH_REFUSALS.labels("sign_in_failed").inc()
        return _page(request, "sign_in.html", 401, phone=phone, error=WRONG)
    limits.succeeded(phone_key)
    return _signed_in(request, user, resident=False)


def _signed_in(request: Request, user: User, resident: bool) -> Response:
    """A new session and its cookie; a resident's (by invitation) lasts `resident_session_days`, idle or not."""
    container = _container(request)
    store = sessions(container)
    previous = request.cookies.get(SESSION_COOKIE)
    if previous:  # whoever was signed in on this browser before is signed out: one browser, one person
        store.end(previous)
    if resident:
        long = timedelta(days=container.settings.resident_session_days)
        opened = store.open(user.user_id, "invitation", request.headers.get("user-agent"), client_address(request),
                            idle=long, absolute=long)
    else:
        opened = store.open(user.user_id, "password", request.headers.get("user-agent"), client_address(request))
    response = RedirectResponse(home_for(user), status_code=303)
    max_age = int((opened.info.expires_at - opened.info.created_at).total_seconds())
    response.set_cookie(SESSION_COOKIE, opened.cookie, max_age=max_age, path="/", httponly=True, samesite="lax",
                        secure=request.url.scheme == "https")
    return response


@router.post("/sign-in/code", response_class=HTMLResponse)
def sign_in_with_code(request: Request, form: FormFields) -> Response:
    """A resident types the short code from the sheet (the QR link's fallback); limited per address and
    across the server (services/invitations.py has the arithmetic)."""
    refused = _refused_origin(request, form)
    if refused:
        return refused
    address, limits = client_address(request), short_code_limits(request)
    wait = limits.retry_after(address)
    if wait is not None:
        AUTH_REFUSALS.labels("too_many_attempts").inc()
        return _page(request, "sign_in.html", 429, code_error=f"邀请码错误次数过多，请{_wait_zh(wait)}后再试，"
                                                              "或直接扫描邀请单上的二维码")
    try:
        user = invitations(_container(request)).redeem_code(form.get("code", "")[:12])
    except InvitationRefused:
        limits.record_failure(address)
        AUTH_REFUSALS.labels("invitation_refused").inc()
        return _page(request, "sign_in.html", 401,
                     code_error="邀请码不正确或已失效（每个邀请码只能用一次），请核对后重试")
    return _signed_in(request, user, resident=True)


@router.get("/invite/{token}", response_class=HTMLResponse)
def invitation_page(request: Request, token: str) -> Response:
    """What the QR code opens: a page that asks, so a chat app's link preview cannot spend the invitation."""
    container = _container(request)
    try:
        user = invitations(container).peek(token[:FIELD_MAX])
    except InvitationRefused:
        return _page(request, "invitation.html", 410, dead=True)
    return _page(request, "invitation.html", name=user.name, token=token,
                 days=int(container.settings.resident_session_days))


@router.post("/invite/{token}", response_class=HTMLResponse)
def accept_invitation(request: Request, token: str, form: FormFields) -> Response:
    refused = _refused_origin(request, form)
    if refused:
        return refused
    try:
        user = invitations(_container(request)).redeem_link(token[:FIELD_MAX])
    except InvitationRefused:
        return _page(request, "invitation.html", 410, dead=True)
    return _signed_in(request, user, resident=True)


@router.get("/set-password", response_class=HTMLResponse)
def set_password_page(request: Request, token: str = "") -> Response:
    return _set_password_form(request, token[:FIELD_MAX])


def _set_password_form(request: Request, token: str, error: str | None = None, status: int = 200) -> Response:
    creds = credentials(_container(request))
    try:
        user = creds.link_user(token)
    except LinkRefused:
        return _page(request, "set_password.html", 410, dead=True)
    purpose = "reset" if creds.has_password(user.user_id) else "set"
    phone_hint = f"尾号 {user.phone[-4:]}" if user.phone else "未登记"
    return _page(request, "set_password.html", status, token=token, name=user.name, phone_hint=phone_hint,
                 purpose=purpose, error=error, min_length=passwords.MIN_LENGTH)


@router.post("/set-password", response_class=HTMLResponse)
def set_password(request: Request, form: FormFields) -> Response:
    refused = _refused_origin(request, form)
    if refused:
        return refused
    token, password = form.get("token", ""), form.get("password", "")
    if password != form.get("confirm", ""):
        return _set_password_form(request, token, "两次输入的密码不一致，请重新输入", 422)
    try:
        credentials(_container(request)).set_password(token, password)
    except passwords.WeakPassword as weak:
        return _set_password_form(request, token, weak.detail_zh, 422)
    except LinkRefused:
        return _page(request, "set_password.html", 410, dead=True)
    return RedirectResponse("/sign-in?done=password", status_code=303)


@router.get("/account", response_class=HTMLResponse)
def account(request: Request) -> Response:
    container = _container(request)
    signed_in = session_user(request, container)
    if signed_in is None:
        return RedirectResponse("/sign-in", status_code=303)
    user, active = signed_in
    listed = [{"id": str(s.session_id), "device_zh": describe(s.user_agent), "address": s.address,
               "created": _local(container, s.created_at), "last_seen": _local(container, s.last_seen_at),
               "current": s.session_id == active.info.session_id}
              for s in sessions(container).sessions(user.user_id)]
    tablets = [{"id": str(info.token_id), "device_id": device_id, "name": info.device,
                "created": _local(container, info.created_at),
                "last_used": _local(container, info.last_used_at) if info.last_used_at else None}
               for device_id, info in container.users.devices(user.user_id)]
    notice = {"revoked": "已让该设备退出登录", "device": "已停用该平板的凭据"}.get(request.query_params.get("done", ""))
    return _page(request, "account.html", user=user, role_zh=ROLE_NAMES_ZH.get(user.role, str(user.role)),
                 sessions=listed, tablets=tablets, csrf_token=active.csrf_token, notice=notice)


@router.post("/sign-out", response_class=HTMLResponse)
def sign_out(request: Request, form: FormFields) -> Response:
    refused = _refused_origin(request, form, signed_in=True)
    if refused:
        return refused
    cookie = request.cookies.get(SESSION_COOKIE)
    if cookie:
        sessions(_container(request)).end(cookie)
    response = RedirectResponse("/sign-in", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/", httponly=True, samesite="lax",
                           secure=request.url.scheme == "https")
    return response


@router.post("/account/sessions/{session_id}/revoke", response_class=HTMLResponse)
def revoke_session(request: Request, session_id: str, form: FormFields) -> Response:
    container, person = _account_form(request, form)
    if isinstance(person, Response):
        return person
    with suppress(ValueError):  # not a session id: nothing of this person's to end
        sessions(container).revoke(person.user_id, UUID(session_id))
    return RedirectResponse("/account?done=revoked", status_code=303)


@router.post("/account/devices/{token_id}/revoke", response_class=HTMLResponse)
def revoke_device(request: Request, token_id: str, form: FormFields) -> Response:
    """A lost tablet: its device credential stops working at once."""
    container, person = _account_form(request, form)
    if isinstance(person, Response):
        return person
    with suppress(ValueError):  # not a token id: nothing of this person's to revoke
        container.users.revoke_token(person.user_id, UUID(token_id))
    return RedirectResponse("/account?done=device", status_code=303)


def _wait_zh(seconds: int) -> str:
    if seconds <= 60:
        return f" {seconds} 秒"
    if seconds < 3600:
        return f" {-(-seconds // 60)} 分钟"
    return f" {-(-seconds // 3600)} 小时"


def _local(container: Container, moment: datetime) -> str:
    zone = timezone(timedelta(hours=container.settings.site_utc_offset_hours))
    return moment.astimezone(zone).strftime(SITE_TIME_FORMAT)


def install(app: FastAPI) -> None:
    """The pages and their stylesheet, at the root beside /api/v1."""
    app.include_router(router)
    app.mount("/static/web", StaticFiles(directory=HERE / "static"), name="web-static")
    vendor.install(app)
