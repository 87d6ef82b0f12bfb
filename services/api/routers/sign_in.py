"""Managing sign-in over the API: set-password links for people, and the web sessions each person has.

An admin issues links and lists or ends the sessions of the people of its district (a city-wide admin:
everyone's); anyone lists and ends their own sessions. A link is shown once, to the admin, who hands it
to the person: nobody but the person ever sees the password.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from fastapi import APIRouter, FastAPI, Request, Response, status
from pydantic import BaseModel, ConfigDict, Field

from domain.actors import Role
from services.api.authentication import credentials, invitations, sessions
from services.api.deps import ContainerDep, CurrentUser, as_uuid, require_role
from services.api.errors import ApiError
from services.api.responses import AUTH, BODY, SCOPED, DocumentedRoute, problems
from services.api.routers.users import _target
from services.invitation_sheet import Card, render
from services.users import User

router = APIRouter(route_class=DocumentedRoute, prefix="/users", tags=["sign-in"])
mine = APIRouter(route_class=DocumentedRoute, prefix="/me", tags=["sign-in"])
projects = APIRouter(route_class=DocumentedRoute, prefix="/projects", tags=["sign-in"])
PDF = {"application/pdf": {"schema": {"type": "string", "format": "binary"}}}


class PasswordLink(BaseModel):
    user_id: str
    purpose: str
    url: str
    expires_at: str
    note_zh: str


class SessionView(BaseModel):
    id: str
    kind: str
    device: str | None
    address: str | None
    created_at: str
    last_seen_at: str
    expires_at: str
    current: bool


class SessionList(BaseModel):
    user_id: str
    items: list[SessionView]
    total: int


class SessionsEnded(BaseModel):
    user_id: str
    revoked: int


@router.post("/{user_id}/password-link", status_code=status.HTTP_201_CREATED, response_model=PasswordLink,
             responses=problems(SCOPED, {404: ("user_not_found",), 422: ("phone_required",)}))
def issue_password_link(user_id: str, request: Request, user: CurrentUser, container: ContainerDep) -> dict[str, Any]:
    """A one-time link (valid `SITELEDGER_PASSWORD_LINK_HOURS`) for the person to set, or reset, a password;
    older unused links of theirs die. Only staff with a phone number sign in with a password."""
    require_role(user, Role.ADMIN)
    target = _target(container, user_id, user)
    if not target.phone or target.role == Role.RESIDENT:
        raise ApiError(422, "phone_required", "Only staff with a phone number sign in with a password",
                       "该用户没有登记手机号码（或是居民），不能用密码登录；请先登记手机号码")
    link = credentials(container).issue_link(target.user_id, created_by=user.user_id)
    url = str(request.url_for("set_password_page").include_query_params(token=link.token))
    return {"user_id": str(target.user_id), "purpose": link.purpose, "url": url,
            "expires_at": link.expires_at.isoformat(),
            "note_zh": "链接只显示这一次，只能使用一次；请只交给本人（可通过短信或当面）"}


def _session_owner(container: ContainerDep, user_id: str, acting: User) -> User:
    target = _target(container, user_id, acting)
    if acting.role != Role.ADMIN and target.user_id != acting.user_id:
        raise ApiError(403, "role_not_permitted", "Only an admin manages another person's sessions",
                       "只有业主单位管理员可以查看或结束他人的登录")
    return target


def _current_session(request: Request) -> UUID | None:
    signed_in = getattr(request.state, "signed_in", None)
    return signed_in[1].info.session_id if signed_in else None


def _list(container: ContainerDep, target: User, request: Request) -> dict[str, Any]:
    current = _current_session(request)
    items = [s.public(current) for s in sessions(container).sessions(target.user_id)]
    return {"user_id": str(target.user_id), "items": items, "total": len(items)}


@router.get("/{user_id}/sessions", response_model=SessionList, responses=problems(SCOPED, {404: ("user_not_found",)}))
def list_sessions(user_id: str, request: Request, user: CurrentUser, container: ContainerDep) -> dict[str, Any]:
    return _list(container, _session_owner(container, user_id, user), request)


@router.delete("/{user_id}/sessions", response_model=SessionsEnded,
               responses=problems(SCOPED, {404: ("user_not_found",)}))
def end_sessions(user_id: str, user: CurrentUser, container: ContainerDep) -> dict[str, Any]:
    """Every web sign-in of the person ends (a lost phone); bearer tokens are managed under /tokens."""
    target = _session_owner(container, user_id, user)
    return {"user_id": str(target.user_id), "revoked": sessions(container).revoke_all(target.user_id)}


@mine.get("/sessions", response_model=SessionList, responses=problems(AUTH))
def my_sessions(request: Request, user: CurrentUser, container: ContainerDep) -> dict[str, Any]:
    return _list(container, user, request)


@mine.delete("/sessions/{session_id}", response_model=SessionsEnded,
             responses=problems(AUTH, {404: ("session_not_found",)}))
def end_my_session(session_id: str, user: CurrentUser, container: ContainerDep) -> dict[str, Any]:
    if not sessions(container).revoke(user.user_id, as_uuid(session_id, "session")):
        raise ApiError(404, "session_not_found", "No such session",
                       f"没有编号为 {session_id[:64]} 的登录（可能已退出或已过期）")
    return {"user_id": str(user.user_id), "revoked": 1}


class InvitationRequest(BaseModel):
    """Which members get a new card (their old invitations die); none named: every member of the group."""

    model_config = ConfigDict(extra="forbid")

    member_ids: list[str] | None = Field(default=None, min_length=1, max_length=1000)


class InvitationsRevoked(BaseModel):
    user_id: str
    invitations_revoked: int
    sessions_ended: int


@projects.post("/{project_id}/invitations", status_code=status.HTTP_201_CREATED, response_class=Response,
               responses={201: {"description": "the invitation sheet (A4 PDF, one card per member)", "content": PDF},
                          **problems(SCOPED, BODY, {404: ("project_not_found", "member_not_found"),
                                              422: ("no_members",), 503: ("invitation_font_missing",)})})
def print_invitations(project_id: str, request: Request, user: CurrentUser, container: ContainerDep,
                      body: InvitationRequest | None = None) -> Response:
    """New invitations for the residents' group (or the members named), as a printable sheet. The codes are
    only on this sheet: printing again issues new ones, and the earlier sheet's cards die."""
    require_role(user, Role.ADMIN)
    project = container.ledger.project_in_scope(user.actor, as_uuid(project_id, "project"))
    members: dict[str, dict[str, str]] = dict(project.members)
    wanted = body.member_ids if body and body.member_ids else list(members)
    for member_id in wanted:
        if member_id not in members:
            raise ApiError(404, "member_not_found", "No such member of the residents' group",
                           f"居民监督小组中没有编号为 {member_id[:64]} 的成员")
    people = [(members[m], container.users.get(members[m]["user_id"])) for m in wanted]
    people = [(m, p) for m, p in people if p is not None and p.name is not None]  # erased people get no card
    if not people:
        raise ApiError(422, "no_members", "The residents' group has no members to invite",
                       "居民监督小组还没有成员（或成员的个人信息已删除），请先添加成员")
    font = container.settings.cjk_font_path
    if not font.exists():  # before any invitation is issued: a failed print must not kill the old cards
        raise ApiError(503, "invitation_font_missing", "The Chinese font for the sheet is not installed",
                       f"服务器缺少中文字体 {font}，无法生成邀请单；请管理员安装 fonts-noto-cjk")
    store, cards = invitations(container), []
    for member, person in people:
        assert person is not None and person.name is not None
        issued = store.issue(person.user_id, project.id, created_by=user.user_id)
        link = str(request.url_for("invitation_page", token=issued.link_token))
        cards.append(Card(project.name, member["building"], member["unit"], person.name, link, issued.code,
                          issued.expires_at))
    return Response(render(cards, font), status_code=201, media_type="application/pdf",
                    headers={"Content-Disposition": 'attachment; filename="invitations.pdf"',
                             "Cache-Control": "no-store"})


@projects.delete("/{project_id}/invitations/{member_id}", response_model=InvitationsRevoked,
                 responses=problems(SCOPED, {404: ("project_not_found", "member_not_found")}))
def revoke_invitation(project_id: str, member_id: str, user: CurrentUser, container: ContainerDep) -> dict[str, Any]:
    """A lost phone or card: the member's unused invitation dies and every phone signed in by one is signed out."""
    require_role(user, Role.ADMIN)
    project = container.ledger.project_in_scope(user.actor, as_uuid(project_id, "project"))
    member = project.members.get(member_id)
    if member is None:
        raise ApiError(404, "member_not_found", "No such member of the residents' group",
                       f"居民监督小组中没有编号为 {member_id[:64]} 的成员")
    resident = UUID(member["user_id"])
    return {"user_id": str(resident), "invitations_revoked": invitations(container).revoke(resident),
            "sessions_ended": sessions(container).revoke_all(resident, "invitation")}


class DeviceEnrol(BaseModel):
    """The tablet's own id (the `X-Device-Id` it sends with every command) and a name a person recognises."""

    model_config = ConfigDict(extra="forbid")

    device_id: str = Field(min_length=8, max_length=128, pattern=r"^[A-Za-z0-9][A-Za-z0-9_.:-]*$")
    name: str = Field(min_length=1, max_length=64, pattern=r"^[^\x00-\x1f\x7f]+$")


class DeviceCredential(BaseModel):
    id: str
    device_id: str
    name: str | None
    token: str
    expires_at: str
    note_zh: str


class DeviceView(BaseModel):
    id: str
    device_id: str
    name: str | None
    created_at: str
    expires_at: str
    last_used_at: str | None


class DeviceList(BaseModel):
    user_id: str
    items: list[DeviceView]
    total: int


@mine.post("/devices", status_code=status.HTTP_201_CREATED, response_model=DeviceCredential,
           responses=problems(SCOPED, BODY))
def enrol_device(body: DeviceEnrol, user: CurrentUser, container: ContainerDep) -> dict[str, Any]:
    """A supervisor signed in once on a tablet gets the tablet its own credential, bound to the device id, so
    the offline app syncs for weeks without a password; listed under /me/devices and revoked like any token
    (DELETE /me/tokens/{id}, or an admin's DELETE /users/{user_id}/tokens/{id}: a lost tablet)."""
    if user.role == Role.RESIDENT:
        raise ApiError(403, "role_not_permitted", "Residents do not enrol devices",
                       "居民通过邀请登录，不需要登记设备")
    issued = container.users.issue(user.user_id, device=body.name, bound_device_id=body.device_id)
    return {"id": str(issued.info.token_id), "device_id": body.device_id, "name": body.name, "token": issued.token,
            "expires_at": issued.info.expires_at.isoformat(),
            "note_zh": "设备凭据只显示这一次，只能由该设备使用（每个请求带 X-Device-Id）"}


@mine.get("/devices", response_model=DeviceList, responses=problems(AUTH))
def my_devices(user: CurrentUser, container: ContainerDep) -> dict[str, Any]:
    items = [{"id": str(info.token_id), "device_id": device_id, "name": info.device,
              "created_at": info.created_at.isoformat(), "expires_at": info.expires_at.isoformat(),
              "last_used_at": info.last_used_at.isoformat() if info.last_used_at else None}
             for device_id, info in container.users.devices(user.user_id)]
    return {"user_id": str(user.user_id), "items": items, "total": len(items)}


def include_sign_in_routes(app: FastAPI) -> None:
    app.include_router(router, prefix="/api/v1")
    app.include_router(mine, prefix="/api/v1")
    app.include_router(projects, prefix="/api/v1")
