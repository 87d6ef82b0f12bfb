"""Managing sign-in over the API: set-password links for people, and the web sessions each person has.

An admin issues links and lists or ends the sessions of the people of its district (a city-wide admin:
everyone's); anyone lists and ends their own sessions. A link is shown once, to the admin, who hands it
to the person: nobody but the person ever sees the password.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from fastapi import APIRouter, FastAPI, Request, status
from pydantic import BaseModel

from domain.actors import Role
from services.api.authentication import credentials, sessions
from services.api.deps import ContainerDep, CurrentUser, as_uuid, require_role
from services.api.errors import ApiError
from services.api.responses import AUTH, SCOPED, problems
from services.api.routers.users import _target
from services.users import User

router = APIRouter(prefix="/users", tags=["sign-in"])
mine = APIRouter(prefix="/me", tags=["sign-in"])


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


def include_sign_in_routes(app: FastAPI) -> None:
    app.include_router(router, prefix="/api/v1")
    app.include_router(mine, prefix="/api/v1")
