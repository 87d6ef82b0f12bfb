"""Users: created by an admin (the token is shown once), listed to admins, each sees themselves; tokens listed
and revoked."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from fastapi import APIRouter, Query, Request, Response, status
from pydantic import BaseModel, ConfigDict, Field

from domain import commands as c
from domain.actors import Role
from domain.rules import OutOfScope
from services.api import models as m
from services.api.authentication import credentials
from services.api.deps import ContainerDep, CurrentUser, Headers, as_uuid, require_role
from services.api.errors import ApiError
from services.api.responses import AUTH, BODY, HEADER_CODES, SCOPED, DocumentedRoute, problems
from services.api.routers import lists
from services.api.schemas import UserCreate
from services.commands.bus import Envelope
from services.users import IssuedToken, User

router = APIRouter(route_class=DocumentedRoute, prefix="/users", tags=["users"])
PeopleSearch = Query(None, min_length=1, max_length=100, description="part of a name, or digits of a phone number")
mine = APIRouter(route_class=DocumentedRoute, prefix="/me", tags=["users"])


class TokenIssue(BaseModel):
    """A name for the device the token goes to, so a person can tell their tokens apart when revoking one."""

    model_config = ConfigDict(extra="forbid")

    device: str | None = Field(default=None, min_length=1, max_length=128, pattern=r"^[^\x00-\x1f\x7f]+$")


@router.post("", status_code=status.HTTP_201_CREATED, response_model=m.UserCreated, responses=problems(
    SCOPED, BODY, HEADER_CODES,
    {404: ("project_not_found",), 409: ("phone_in_use",), 422: ("district_required", "project_scope_not_applicable")}))
def create_user(body: UserCreate, user: CurrentUser, container: ContainerDep, headers: Headers) -> dict[str, Any]:
    require_role(user, Role.ADMIN)
    if body.role == Role.STATION and not body.district:
        raise ApiError(422, "district_required", "A station inspector needs a district",
                       "安质监站人员必须指定所辖区")
    if user.district and body.district and body.district != user.district:
        raise OutOfScope()
    if body.project_ids and body.role not in (Role.SUPERVISOR, Role.CONTRACTOR):
        raise ApiError(422, "project_scope_not_applicable", "Only supervisors and contractors are assigned",
                       "只有现场监理和施工单位按项目分配；居民请通过居民监督小组添加")
    if body.phone and credentials(container).phone_in_use(body.phone):  # a phone signs in one person
        raise ApiError(409, "phone_in_use", "Another person has this phone number",
                       "这个手机号码已登记给另一位用户；一个手机号码只能对应一个账户")
    project_ids = [as_uuid(p, "project") for p in body.project_ids]
    for project_id in project_ids:
        container.ledger.project_in_scope(user.actor, project_id)  # 404/403 before anything is created
    # A district admin's people are its district's unless said otherwise: it manages them (tokens, sign-in links,
    # the people list) by that district. Residents belong to their community's group, not to an admin's district.
    managed = body.role in (Role.ADMIN, Role.SUPERVISOR, Role.CONTRACTOR)
    created = container.users.create(body.role, body.name, body.phone,
                                     body.district or (user.district if managed else None))
    for project_id in project_ids:
        envelope = Envelope(idempotency_key=f"assign-{created.user_id}-{project_id}", device_id=headers.device_id)
        container.commands.handle(user, c.AssignUser(project_id=project_id, user_id=created.user_id,
                                                     role=body.role), envelope)
    token = container.users.issue_token(created.user_id)
    return {"user": created.public(), "token": token,
            "note_zh": "令牌只显示这一次，请妥善保存", "project_ids": [str(p) for p in project_ids]}


@router.get("", response_model=m.Page[m.PersonListEntry], responses=problems(
    SCOPED, {422: ("validation_error", "invalid_cursor")}))
def list_people(request: Request, response: Response, user: CurrentUser, container: ContainerDep,
                role: Role | None = None, district: str | None = Query(None, max_length=100),
                q: str | None = PeopleSearch,
                limit: int = lists.Limit, offset: int = lists.Offset, cursor: str | None = lists.Cursor
                ) -> dict[str, Any]:
    """The people an admin administers, oldest account first: a city-wide admin everyone, a district admin its
    district's. Others are refused (their own details: `GET /users/me`). Erased people are listed as 已删除;
    phone numbers are masked except to the person's own district admin (see `services.users.sees_phone`)."""
    require_role(user, Role.ADMIN)
    query = container.users.people(user.actor, role, district, q)
    return lists.answer(query, container, request, response, limit, offset, cursor,
                        lambda row: container.users.person(user.actor, row))


@router.get("/me", response_model=m.Me, responses=problems(AUTH))
def me(user: CurrentUser) -> dict[str, Any]:
    return {**user.public(), "phone": user.phone}


def _target(container: ContainerDep, user_id: str, acting: User | None = None) -> User:
    target = container.users.get(as_uuid(user_id, "user"))
    if target is None:
        raise ApiError(404, "user_not_found", "No such user", f"用户不存在：{user_id}")
    if acting is not None and acting.role == Role.ADMIN and acting.district is not None \
            and target.user_id != acting.user_id and target.district != acting.district:
        raise OutOfScope()  # a district admin manages the users of its district, never a city-wide admin
    return target


def _token_owner(container: ContainerDep, user_id: str, acting: User) -> User:
    """An admin manages the tokens of the users of its district; anyone else only their own."""
    target = _target(container, user_id, acting)
    if acting.role != Role.ADMIN and target.user_id != acting.user_id:
        raise ApiError(403, "role_not_permitted", "Only an admin manages another user's tokens",
                       "只有业主单位管理员可以查看或吊销他人的令牌")
    return target


def _issued(container: ContainerDep, target: User, issued: IssuedToken) -> dict[str, Any]:
    return {"user": target.public(), "token": issued.token,
            **issued.info.public(container.users.clock()), "note_zh": "令牌只显示这一次，请妥善保存"}


@router.post("/{user_id}/tokens", status_code=status.HTTP_201_CREATED, response_model=m.TokenIssued,
             responses=problems(SCOPED, BODY, {404: ("user_not_found",)}))
def issue_token(user_id: str, user: CurrentUser, container: ContainerDep,
                body: TokenIssue | None = None) -> dict[str, Any]:
    require_role(user, Role.ADMIN)
    target = _target(container, user_id, user)
    return _issued(container, target, container.users.issue(target.user_id, body.device if body else None))


@router.get("/{user_id}/tokens", response_model=m.TokenList, responses=problems(SCOPED, {404: ("user_not_found",)}))
def list_tokens(user_id: str, user: CurrentUser, container: ContainerDep) -> dict[str, Any]:
    """Id, issue and expiry times, last use and device of each token; never the token itself."""
    target = _token_owner(container, user_id, user)
    return _token_list(container, target)


@router.delete("/{user_id}/tokens", response_model=m.TokensRevoked,
               responses=problems(SCOPED, {404: ("user_not_found",)}))
def revoke_tokens(user_id: str, user: CurrentUser, container: ContainerDep) -> dict[str, Any]:
    """An admin revokes anyone's tokens (a lost tablet); anyone may revoke their own."""
    target = _token_owner(container, user_id, user)
    return {"user_id": str(target.user_id), "revoked": container.users.revoke_tokens(UUID(str(target.user_id)))}


@router.delete("/{user_id}/tokens/{token_id}", response_model=m.TokenRevoked,
               responses=problems(SCOPED, {404: ("user_not_found", "token_not_found")}))
def revoke_token(user_id: str, token_id: str, user: CurrentUser, container: ContainerDep) -> dict[str, Any]:
    """One lost device's token goes; the person's other devices keep working."""
    return _revoke_one(container, _token_owner(container, user_id, user), token_id)


@mine.get("/tokens", response_model=m.TokenList, responses=problems(AUTH))
def my_tokens(user: CurrentUser, container: ContainerDep) -> dict[str, Any]:
    return _token_list(container, user)


@mine.delete("/tokens/{token_id}", response_model=m.TokenRevoked,
             responses=problems(AUTH, {404: ("token_not_found",), 422: ("validation_error",)}))
def revoke_my_token(token_id: str, user: CurrentUser, container: ContainerDep) -> dict[str, Any]:
    return _revoke_one(container, user, token_id)


def _token_list(container: ContainerDep, target: User) -> dict[str, Any]:
    now = container.users.clock()
    items = [token.public(now) for token in container.users.tokens(target.user_id)]
    return {"user_id": str(target.user_id), "items": items, "total": len(items), "offset": 0, "limit": len(items)}


def _revoke_one(container: ContainerDep, target: User, token_id: str) -> dict[str, Any]:
    token_uuid = as_uuid(token_id, "token")
    if not container.users.revoke_token(target.user_id, token_uuid):
        raise ApiError(404, "token_not_found", "No such token for this user",
                       f"该用户没有编号为 {token_id[:64]} 的令牌（可能已被吊销）")
    return {"user_id": str(target.user_id), "token_id": str(token_uuid), "revoked": 1}


@router.delete("/{user_id}/personal-data", response_model=m.PersonalDataErased,
               responses=problems(SCOPED, {404: ("user_not_found",)}))
def erase_personal_data(user_id: str, user: CurrentUser, container: ContainerDep) -> dict[str, Any]:
    """PIPL erasure: name and phone go, and the person's tokens (an erased person no longer signs in); the log,
    which names people only by id, stays whole and verifiable."""
    require_role(user, Role.ADMIN)
    target = _target(container, user_id, user)
    revoked = container.users.erase_personal_data(target.user_id)
    return {"user_id": str(target.user_id), "name": "已删除", "tokens_revoked": revoked}
