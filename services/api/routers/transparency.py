"""The transparency log: the signed checkpoint, the verifier key, proofs (hashes only), and the stations' side.

Anyone signed in may read; only a station inspector (or an admin) may hand in a cosignature or an alarm."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query
from fastapi.responses import PlainTextResponse
from pydantic import BaseModel, Field

from domain.actors import Role
from services.api.deps import MAX_POSITION, ContainerDep, CurrentUser, require_role
from services.api.errors import ApiError
from services.api.responses import AUTH, BODY, SCOPED, DocumentedRoute, problems
from services.transparency.service import Inconsistent, TransparencyService, service_for
from siteledger_verify.note import NoteError, VerifierKey

router = APIRouter(route_class=DocumentedRoute, prefix="/transparency", tags=["transparency"])
TEXT: dict[int | str, dict[str, Any]] = {
    200: {"description": "text/plain", "content": {"text/plain": {"schema": {"type": "string"}}}}}
INCONSISTENT = {503: ("transparency_inconsistent",)}
READ = {**problems(AUTH, {422: ("validation_error",)})}


class InclusionProof(BaseModel):
    aggregate_id: str
    version: int
    leaf_index: int
    tree_size: int
    event_hash: str
    included: bool = Field(description="false: the event came after that tree size (ask after the next checkpoint)")
    proof: list[str] = Field(description="base64 SHA-256 hashes, RFC 9162 order")


class Receipt(BaseModel):
    aggregate_id: str
    version: int
    event_hash: str
    log_position: int
    leaf_index: int
    checkpoint: str | None = Field(description="the signed checkpoint holding it; null until the next one is made")
    tree_size: int | None
    proof: list[str]


class ConsistencyProof(BaseModel):
    from_size: int
    to_size: int
    proof: list[str]


class Leaf(BaseModel):
    leaf_index: int
    aggregate_id: str
    version: int
    event_hash: str


class Leaves(BaseModel):
    items: list[Leaf]


class CheckpointSummary(BaseModel):
    tree_size: int
    signed_at: str


class WitnessedSummary(BaseModel):
    tree_size: int
    cosigner: str
    cosigned_at: str


class StationAlarm(BaseModel):
    alarm_id: str
    reported_by: str
    reason: str
    reported_at: str


class LogStatus(BaseModel):
    origin: str
    tree_size: int
    log_position: int
    state: str = Field(description="ok | alarm (a station reported one) | inconsistent (with what was witnessed)")
    problem: str | None
    latest_checkpoint: CheckpointSummary | None
    last_witnessed: WitnessedSummary | None
    alarms: list[StationAlarm]


class CosignatureIn(BaseModel):
    note: str = Field(max_length=8000, description="the checkpoint with the station's tlog-cosignature line")
    key: str = Field(max_length=300, description="the station's verifier key <name>+<id>+<base64>")


class AlarmIn(BaseModel):
    reason: str = Field(max_length=2000)
    held_checkpoint: str = Field(max_length=4000)
    served_checkpoint: str | None = Field(default=None, max_length=4000)


class Accepted(BaseModel):
    tree_size: int | None = None
    alarm_id: str | None = None


def _refused(error: Inconsistent) -> ApiError:
    return ApiError(503, "transparency_inconsistent", "The log disagrees with the checkpoint a station witnessed",
                    f"事件日志与监督站已见证的检查点不一致，拒绝签发或提供检查点：{error}")


def _service(container: Any) -> TransparencyService:
    return service_for(container)


@router.get("/checkpoint", response_class=PlainTextResponse,
            responses={**TEXT, **problems(AUTH, INCONSISTENT, {422: ("validation_error",)})})
def checkpoint(user: CurrentUser, container: ContainerDep,
               fresh: bool = Query(False, description="sign a new checkpoint now if the tree grew")) -> str:
    """The newest checkpoint (C2SP tlog-checkpoint, a signed note), with the stations' cosignatures if any."""
    service = _service(container)
    try:
        note = service.checkpoint(fresh=fresh)
    except Inconsistent as error:
        raise _refused(error) from None
    size = int(note.split("\n")[1])
    return service.cosigned(size) or note


@router.get("/key", response_class=PlainTextResponse, responses={**TEXT, **READ})
def key(user: CurrentUser, container: ContainerDep) -> str:
    """The log's verifier key in signed-note form, to pin (better: take it from the city on paper)."""
    return _service(container).key.verifier.text() + "\n"


@router.get("/proof/inclusion", response_model=InclusionProof,
            responses=problems(AUTH, {404: ("event_not_in_log",), 422: ("validation_error", "tree_size_too_large")}))
def inclusion(user: CurrentUser, container: ContainerDep, aggregate_id: Annotated[str, Query(max_length=64)],
              version: Annotated[int, Query(ge=1, le=MAX_POSITION)],
              tree_size: Annotated[int | None, Query(ge=1, le=MAX_POSITION)] = None) -> dict[str, Any]:
    service = _service(container)
    size = service.catch_up()
    if tree_size is not None and tree_size > size:
        raise ApiError(422, "tree_size_too_large", "The tree is not that large",
                       f"日志树目前只有 {size} 个叶子，小于请求的 {tree_size}", size=size)
    proof = service.inclusion(aggregate_id.lower(), version, tree_size)
    if proof is None:
        raise ApiError(404, "event_not_in_log", "No such event in the log",
                       f"日志中没有事项 {aggregate_id[:64]} 的第 {version} 个事件")
    return {"aggregate_id": aggregate_id.lower(), "version": version, **proof}


@router.get("/receipt", response_model=Receipt,
            responses=problems(AUTH, {404: ("event_not_in_log",), 422: ("validation_error",)}))
def receipt(user: CurrentUser, container: ContainerDep, aggregate_id: Annotated[str, Query(max_length=64)],
            version: Annotated[int, Query(ge=1, le=MAX_POSITION)]) -> dict[str, Any]:
    """An event's receipt (存证): its log position and, once a checkpoint holds it, that checkpoint and the proof;
    `siteledger-verify receipt FILE --key K` checks it offline."""
    found = _service(container).receipt(aggregate_id.lower(), version)
    if found is None:
        raise ApiError(404, "event_not_in_log", "No such event in the log",
                       f"日志中没有事项 {aggregate_id[:64]} 的第 {version} 个事件")
    return found


@router.get("/proof/consistency", response_model=ConsistencyProof,
            responses=problems(AUTH, {422: ("validation_error", "tree_size_too_large")}))
def consistency(user: CurrentUser, container: ContainerDep,
                from_size: Annotated[int, Query(alias="from", ge=0, le=MAX_POSITION)],
                to_size: Annotated[int, Query(alias="to", ge=0, le=MAX_POSITION)]) -> dict[str, Any]:
    service = _service(container)
    size = service.catch_up()
    if to_size > size or from_size > to_size:
        raise ApiError(422, "tree_size_too_large", "Sizes must satisfy from ≤ to ≤ the tree's size",
                       f"需满足 from ≤ to ≤ 日志树大小（{size}）", size=size)
    return {"from_size": from_size, "to_size": to_size, "proof": service.consistency(from_size, to_size)}


@router.get("/leaves", response_model=Leaves,
            responses=problems(AUTH, {403: ("role_not_permitted",), 422: ("validation_error", "tree_size_too_large")}))
def leaves(user: CurrentUser, container: ContainerDep, start: Annotated[int, Query(ge=0, le=MAX_POSITION)],
           end: Annotated[int, Query(ge=0, le=MAX_POSITION)]) -> dict[str, Any]:
    """Leaves [start, end) (at most 10,000): ids, versions and hashes, for a station's witness that mirrors the log.
    Only stations and admins: the ids of every item in the city and how busy each is are not a resident's to list."""
    require_role(user, Role.STATION, Role.ADMIN)
    service = _service(container)
    if end < start or end - start > 10_000 or end > service.catch_up():
        raise ApiError(422, "tree_size_too_large", "At most 10,000 leaves, within the tree",
                       "一次最多 10,000 个叶子，且不超过日志树大小")
    return {"items": [{"leaf_index": i, "aggregate_id": a, "version": v, "event_hash": h}
                      for i, a, v, h in service.tree.leaves(start, end)]}


@router.get("/status", response_model=LogStatus, responses=READ)
def status(user: CurrentUser, container: ContainerDep) -> dict[str, Any]:
    """Tree size, newest checkpoint, last witnessed, and any inconsistency or station alarm."""
    return _service(container).status()


@router.post("/cosignatures", status_code=201, response_model=Accepted,
             responses=problems(SCOPED, BODY, {422: ("invalid_cosignature",), 403: ("role_not_permitted",)}))
def cosign(body: CosignatureIn, user: CurrentUser, container: ContainerDep) -> dict[str, Any]:
    """A station's cosignature of one of our checkpoints: kept, then every later checkpoint must extend it."""
    require_role(user, Role.STATION, Role.ADMIN)
    try:
        witnessed = _service(container).accept_cosignature(body.note, VerifierKey.parse(body.key))
    except NoteError as error:
        raise ApiError(422, "invalid_cosignature", "Not a valid cosignature of our checkpoint",
                       f"见证签名无效：{error}") from None
    return {"tree_size": witnessed.size}


@router.post("/alarms", status_code=201, response_model=Accepted,
             responses=problems(SCOPED, BODY, {403: ("role_not_permitted",)}))
def alarm(body: AlarmIn, user: CurrentUser, container: ContainerDep) -> dict[str, Any]:
    """A station's witness found a checkpoint inconsistent with the one it holds: the status shows it."""
    require_role(user, Role.STATION, Role.ADMIN)
    alarm_id = _service(container).report_alarm(str(user.user_id), body.reason, body.held_checkpoint,
                                                body.served_checkpoint)
    return {"alarm_id": alarm_id}
