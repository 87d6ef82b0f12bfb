"""Response models: the shapes the API promises, so a client can generate its types from `/openapi.json`.

Every route declares one of these; FastAPI validates what a read route returns against it, so the
contract cannot drift from the code without a test failing. Quantities and template limits are numbers
(JSON numbers, not strings); acceptance-rule fractions stay exact strings such as "2/3".
"""

from __future__ import annotations

from typing import Any, Generic, Literal, TypeVar
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

T = TypeVar("T")

ItemState = Literal["registered", "in_progress", "completed", "awaiting_acceptance", "accepted", "closed_out"]
HoldPointStatus = Literal["passed", "failed", "conditional", "pending", "blocked"]
DefectStatus = Literal["open", "rectification_reported", "closed"]
RoundStatus = Literal["open", "granted", "rejected", "cancelled"]
Severity = Literal["minor", "major", "critical"]
HASH = r"^[0-9a-f]{64}$"


class Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


# --- problems and pages -----------------------------------------------------------------------------------


class Problem(BaseModel):
    """RFC 9457 problem details; further members (`current`, `expected`, `errors`, `behind`, …) may follow."""

    model_config = ConfigDict(extra="allow")

    type: str
    status: int
    code: str = Field(description="stable English code, e.g. `version_conflict`")
    title: str = Field(description="English summary")
    detail: str = Field(description="中文说明 (Chinese explanation for the person)")
    instance: str | None = None


class Page(Model, Generic[T]):
    """The one list envelope: a page of `items` out of `total`, starting at `offset`.

    A list counts at most 1,000 matching rows (a broad search would otherwise cost more to count than to
    page). Past that, `total_exact` is false and `total` is a lower bound: at least that many rows match
    (more than 1,000, and always more than the rows up to the end of this page while a next page exists),
    so a client paging by `offset` until it holds `total` rows still reaches the last row."""

    items: list[T]
    total: int = Field(ge=0, description="how many rows match; a lower bound when `total_exact` is false")
    total_exact: bool = Field(default=True, description="false: the count stopped at its cap (show “1000+”)")
    offset: int = Field(ge=0)
    limit: int = Field(ge=0)


# --- works kinds' templates (numbers as numbers) -----------------------------------------------------------


class MeasurementView(Model):
    code: str
    name_zh: str
    name_en: str
    type: Literal["number", "text", "choice"]
    unit: str | None
    choices: list[str]
    choice_names_zh: dict[str, str] = Field(default_factory=dict, description="中文 names of the choices")
    required: bool
    required_when: dict[str, list[str]] = Field(
        default_factory=dict, description="required only when each named measurement is one of these values")
    integer: bool = Field(default=False, description="a count: whole numbers only")
    minimum: float | None
    quantity: str | None = Field(description="the dashboard figure this measurement adds to")


class ChecklistItemView(Model):
    code: str
    text_zh: str
    text_en: str


class CheckView(Model):
    """A limit a passing inspection must meet: `measurement op value`, or `measurement op ratio × of`."""

    code: str
    name_zh: str
    measurement: str
    op: Literal[">=", "<=", "=="]
    value: float | None
    ratio: str | None = Field(description="exact fraction, e.g. \"3/2\"")
    of: str | None
    when: dict[str, str]
    validity: bool = Field(default=False, description="the figures' consistency: refused whatever the result")
    source: str | None = Field(default=None, description="the standard and clause the limit comes from")
    source_note: str | None = Field(default=None, description="how far the value was confirmed")


class LinkedRequirementView(Model):
    kind: str
    hold_point: str
    or_kinds: list[str] = Field(default_factory=list, description="other kinds that may be linked instead")


class HoldPointSpecView(Model):
    code: str
    name_zh: str
    name_en: str
    min_photos: int
    measurements: list[MeasurementView]
    checklist: list[ChecklistItemView]
    checks: list[CheckView]
    after: list[str]
    construction: bool
    concealed: bool
    linked: LinkedRequirementView | None


class TemplateView(Model):
    """A works kind's template; an item carries the copy it was registered under."""

    code: str
    name_zh: str
    name_en: str
    version: int
    hold_points: list[HoldPointSpecView]
    rectification_min_photos: int = Field(default=1, description="after-photos a rectification must carry")


# --- projects --------------------------------------------------------------------------------------------


class AcceptanceRuleView(Model):
    min_signed: str = Field(description="exact fraction of the electorate that must sign, e.g. \"2/3\"")
    min_accept: str = Field(description="exact fraction of signatures that must accept, e.g. \"4/5\"")


class MemberView(Model):
    member_id: str = Field(description="a UUID (members added before v1.1 have 32 hex digits)")
    user_id: UUID
    building: str
    unit: str


class ProjectView(Model):
    id: UUID
    version: int
    name: str
    district: str
    assignments: dict[str, Literal["supervisor", "contractor"]] = Field(description="user id → role")
    residents_group: list[MemberView]
    acceptance_rule: AcceptanceRuleView
    street_office: str
    address: str
    year_built: int | None
    buildings: int
    households: int
    categories: list[Literal["basic", "improvement", "upgrade"]]


# --- works items ------------------------------------------------------------------------------------------


class HoldPointStateView(Model):
    code: str
    name_zh: str
    name_en: str
    status: HoldPointStatus
    status_zh: str
    inspections: int
    last_inspected_at: str | None = Field(description="ISO 8601 server time")
    ready: bool = Field(description="every hold point it follows has passed")
    after: list[str]
    min_photos: int
    construction: bool
    concealed: bool


class DefectView(Model):
    defect_id: str
    status: DefectStatus
    severity: Severity
    description: str = Field(default="", description="empty for an item whose read-model state predates it")
    hold_point: str | None
    due_date: str | None
    raised_by: UUID
    raised_by_role: str | None = Field(default=None, description="the raiser's role; a station's defect is "
                                                                  "closed only by the station")
    reported_by: UUID | None


class StopWorkView(Model):
    order_id: str
    reason: str
    ordered_by: UUID
    at: str = Field(description="ISO 8601 server time")


class TallyView(Model):
    electorate: int
    accepts: int
    rejects: int
    signed: int


class RoundView(Model):
    round_no: int
    status: RoundStatus
    electorate: list[str] = Field(description="member ids")
    rule: AcceptanceRuleView
    subject_version: int
    subject_hash: str = Field(pattern=HASH)
    tally: TallyView
    signed_by: list[str]
    decided_if_closed_now: Literal["granted", "rejected"] | None


class WorksItemSummary(Model):
    """An item as lists show it: its state, without its template (see `template_digest`)."""

    id: UUID
    version: int
    project_id: UUID
    kind: str
    kind_zh: str
    title: str
    location: str
    state: ItemState
    state_zh: str
    contractor_id: UUID | None
    links: dict[str, UUID] = Field(description="hold point → linked works item")
    hold_points: list[HoldPointStateView]
    hold_points_passed: int
    defects: list[DefectView]
    open_defects: int
    stop_work: StopWorkView | None
    acceptance_rounds: list[RoundView]
    quantities: dict[str, float]
    chain_head: str
    template_digest: str = Field(pattern=HASH, description="SHA-256 of the frozen template the item carries")


class WorksItemView(WorksItemSummary):
    """One item, with the frozen template it was registered under: a tablet needs nothing else to know its rules."""

    template: TemplateView = Field(description="the frozen template this item was registered under")


class EventView(Model):
    """One event of an item's hash-chained log: `event_hash = SHA-256(prev_hash ‖ canonical JSON)`."""

    version: int
    type: str
    topic: str
    server_time: str = Field(description="ISO 8601, when the server recorded it")
    device_time: str | None = Field(description="ISO 8601, the device's own clock")
    actor_id: UUID
    actor_role: str
    actor_name: str | None
    device_id: str | None
    command_id: str | None
    prev_hash: str
    event_hash: str
    data: dict[str, Any]


class ChainReportView(Model):
    valid: bool
    events: int
    head: str | None
    broken_at_version: int | None = None
    reason: str | None = None


# --- command outcomes --------------------------------------------------------------------------------------


class EventRef(Model):
    version: int
    type: str
    aggregate_id: UUID


class CommandOutcome(Model):
    """What a command did. `ETag` carries the new version, `X-Log-Position` the log position; a retry with
    the same `Idempotency-Key` answers the same body with `Idempotent-Replayed: true`."""

    id: UUID = Field(description="the aggregate the command addressed")
    version: int
    command: str
    events: list[EventRef]


class MemberAdded(CommandOutcome):
    member_id: str


class InspectionRecorded(CommandOutcome):
    inspection_id: str
    defect_ids: list[str]


class DefectRaised(CommandOutcome):
    defect_id: str


class StopWorkOrdered(CommandOutcome):
    order_id: str


class AcceptanceRequested(CommandOutcome):
    round_no: int
    subject_hash: str = Field(pattern=HASH, description="the hash of the log residents are shown and sign")
    subject_version: int


class Signed(CommandOutcome):
    member_id: str
    round_status: RoundStatus


class RoundClosed(CommandOutcome):
    round_status: RoundStatus


# --- read models -------------------------------------------------------------------------------------------


class PhotoRef(Model):
    id: str
    thumbnail: str


class FlagView(Model):
    code: str
    label_zh: str


class TimelineEntry(Model):
    position: int
    aggregate_id: UUID
    item_id: UUID | None
    kind: str | None
    version: int
    type: str
    actor_id: UUID
    actor_name: str | None
    actor_role: str
    device_id: str | None
    device_time: str | None
    server_time: str
    hold_point: str | None
    hold_point_zh: str | None = Field(description="the hold point's Chinese name in the item's template")
    data: dict[str, Any]
    photos: list[PhotoRef]
    flags: list[FlagView]


class KindSummary(Model):
    items: int
    hold_points_passed: int
    hold_points_total: int
    by_state: dict[str, int]


class Progress(Model):
    passed: int
    total: int


class OpenDefects(Model):
    total: int
    by_severity: dict[str, int]
    overdue: int


class OpenRound(Model):
    item_id: UUID
    round_no: int
    electorate: int
    accepts: int
    rejects: int
    opened_at: str | None = Field(default=None, description="when the round was opened (its request's time)")


class Dashboard(Model):
    scope: Literal["project", "district", "city"]
    value: str | None
    projects: int
    works_items: int
    by_kind: dict[str, KindSummary]
    hold_points: Progress
    open_defects: OpenDefects
    stop_work_in_force: int
    acceptance_rounds_open: list[OpenRound] = Field(description="the newest open rounds, at most 50")
    acceptance_rounds_open_total: int = Field(default=0, ge=0, description="every open round in scope")
    quantities: dict[str, float]
    last_activity: str | None


class ProjectDashboard(Dashboard):
    name: str
    district: str


class BoardTally(Model):
    electorate: int
    signed: int
    accepts: int
    rejects: int


class BoardEntry(Model):
    project_id: UUID
    item_id: UUID
    round_no: int
    kind: str
    title: str
    location: str
    status: RoundStatus
    subject_hash: str
    opened_at: str | None
    decided_at: str | None
    my_decision: Literal["accept", "reject"] | None
    tally: BoardTally


class AcceptanceBoard(Model):
    awaiting_my_signature: list[BoardEntry]
    signed_awaiting_decision: list[BoardEntry]
    decided: list[BoardEntry]


class ProjectionFailure(Model):
    """The event a read model cannot apply; it retries later and later (exponential back-off, capped)."""

    position: int | None = Field(description="the event's log position; null: the batch failed as a whole")
    event_type: str | None
    error: str
    since: str = Field(description="ISO 8601, the first failure at this position")
    attempts: int
    retry_in_s: float


class ProjectionStatus(Model):
    name: str
    position: int
    head: int
    lag: int
    state: Literal["caught_up", "catching_up", "failing"]
    failure: ProjectionFailure | None = None


class RelayStatus(Model):
    state: str
    detail: str | None = None
    position: int | None = None
    head: int | None = None
    lag: int | None = None
    updated_at: str | None = None


class KafkaGap(Model):
    projection: str
    aggregate_id: str
    missing_version: int
    received_version: int
    position: int
    since: float


class KafkaWorkerStatus(Model):
    """A Kafka-fed projection worker (`projections run --source kafka`), from its row in the read-model DB."""

    worker: str
    group: str
    state: Literal["starting", "running", "failing", "gap"]
    updated_at: float
    stale: bool
    position: int | None = None
    event_type: str | None = None
    error: str | None = None
    since: float | None = None
    attempts: int | None = None
    gaps: list[KafkaGap] = []


class ProjectionsStatus(Model):
    projections: list[ProjectionStatus]
    relay: RelayStatus
    kafka_workers: list[KafkaWorkerStatus] = []


# --- users and tokens ----------------------------------------------------------------------------------------

RoleName = Literal["admin", "supervisor", "contractor", "station", "resident"]


class UserPublic(Model):
    id: UUID
    role: RoleName
    district: str | None
    name: str = Field(description="已删除 once the person's data is erased")


class Me(UserPublic):
    phone: str | None


class PersonListEntry(Model):
    """A person as the people list shows them to an admin."""

    id: UUID
    role: RoleName
    role_zh: str
    district: str | None
    name: str = Field(description="已删除 once the person's data is erased")
    erased: bool
    phone: str | None = Field(description="whole only to the admin of the person's district (a city-wide admin: "
                                          "of the people of no district) and to the person; else 138****1234")
    phone_masked: bool
    created_at: str


class UserCreated(Model):
    user: UserPublic
    token: str = Field(description="shown this once")
    note_zh: str
    project_ids: list[UUID]


class TokenView(Model):
    """What a person may see of a token: never the token itself."""

    id: UUID
    created_at: str
    expires_at: str
    last_used_at: str | None
    device: str | None
    expired: bool


class TokenIssued(TokenView):
    user: UserPublic
    token: str = Field(description="shown this once")
    note_zh: str


class TokenList(Page[TokenView]):
    user_id: UUID


class TokensRevoked(Model):
    user_id: UUID
    revoked: int


class TokenRevoked(TokensRevoked):
    token_id: UUID


class PersonalDataErased(Model):
    user_id: UUID
    name: str
    tokens_revoked: int


# --- photos ------------------------------------------------------------------------------------------------


class PhotoMeta(BaseModel):
    """A stored photo's facts; who uploaded it and where only for those who may see that."""

    model_config = ConfigDict(extra="allow")

    id: str = Field(pattern=HASH, description="the SHA-256 of the original bytes")
    sha256: str = Field(pattern=HASH)
    bytes: int
    content_type: str | None = None
    format: str | None = None
    width: int | None = None
    height: int | None = None
    taken_at: str | None = None
    gps: dict[str, float] | None = None
    uploaded_by: str | None = None
    uploaded_at: str | None = None
    filename: str | None = None
    project_id: str | None = None
    works_item_id: str | None = None


class UploadState(BaseModel):
    """A resumable upload: how much the server holds, and the limits to send it within."""

    model_config = ConfigDict(extra="allow")

    upload_id: str
    offset: int
    size: int


# --- batch -------------------------------------------------------------------------------------------------


class BatchResult(Model):
    """One queued command's answer, exactly as its own route would give it: an outcome or a problem."""

    status: int
    body: (InspectionRecorded | DefectRaised | StopWorkOrdered | AcceptanceRequested | Signed | RoundClosed
           | CommandOutcome | Problem)
    headers: dict[str, str] = Field(default_factory=dict, description="ETag, X-Log-Position, Idempotent-Replayed")


class BatchResponse(Model):
    results: list[BatchResult]


# --- health --------------------------------------------------------------------------------------------------


class Health(Model):
    status: Literal["ok"]


class Readiness(Model):
    status: Literal["ready"]
    event_store: str
    log_position: int
    photo_store: str = Field(description="the background probe's last answer; commands work without it")
    photo_store_checked_at: str | None = None


class NotReady(Model):
    status: Literal["unavailable"]
    code: str
    detail: str


# --- lists read from the listing read model (summaries: no aggregate is loaded to answer them) --------------


class ProjectListEntry(Model):
    """A project as lists show it: its registration facts, without assignments, group or rule (GET the
    project for those). The next page is named by the `Link: <…?cursor=…>; rel="next"` header."""

    id: UUID
    version: int
    name: str
    district: str
    street_office: str
    address: str
    year_built: int | None
    buildings: int
    households: int
    categories: list[Literal["basic", "improvement", "upgrade"]]
    registered_at: str
    funding_category: Literal["basic", "improvement", "upgrade"] | None = Field(
        description="the category set with the project's funding (POST /projects/{id}/funding)")
    funding_sources: list[str] = Field(description="codes, e.g. central_budget; the newest funding counts")


class WorksItemListEntry(Model):
    """A works item as lists show it: its state and counts, without hold points, defects or rounds (GET the
    item for those) and without its template (see `template_digest`)."""

    id: UUID
    version: int
    project_id: UUID
    district: str
    street_office: str
    kind: str
    kind_zh: str
    title: str
    location: str
    state: ItemState
    state_zh: str
    contractor_id: UUID | None
    planned_start: str | None
    planned_end: str | None
    open_defects: int = Field(ge=0)
    stop_since: str | None = Field(description="when the stop-work order in force was given; null: none")
    template_digest: str = Field(pattern=HASH, description="SHA-256 of the frozen template the item carries")
    registered_at: str
    category: Literal["basic", "improvement", "upgrade"] | None = Field(
        description="the item's own; null: its project's")
    funding_sources: list[str] = Field(description="the item's own, or else its project's")


class DefectListEntry(Model):
    item_id: UUID
    defect_id: str
    project_id: UUID
    district: str
    street_office: str
    severity: Severity
    status: DefectStatus
    status_zh: str
    description: str
    hold_point: str | None
    due_date: str | None
    raised_at: str
    closed_at: str | None


class StopWorkListEntry(Model):
    item_id: UUID
    order_id: str
    project_id: UUID
    district: str
    street_office: str
    reason: str
    ordered_at: str
    lifted_at: str | None = Field(description="null: the order is still in force")


class RoundListEntry(Model):
    item_id: UUID
    round_no: int = Field(ge=1)
    project_id: UUID
    district: str
    street_office: str
    status: RoundStatus
    status_zh: str
    electorate: int = Field(ge=0)
    signed: int = Field(ge=0)
    opened_at: str
    ended_at: str | None
