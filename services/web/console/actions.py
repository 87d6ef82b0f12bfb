"""The station's actions on an item page, through the one command path (`container.commands.handle`).

Each form carries the session's CSRF token and an idempotency key made when the form was rendered: a
double-clicked or re-submitted form is the same command, recorded once (the second answer is the first's
replay). A refusal re-renders the page with the domain's Chinese message beside the form that caused it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse, Response
from pydantic import ValidationError

from domain import commands as c
from domain.errors import DomainError
from domain.works_item import WorksItem
from services.api.authentication import CSRF_FIELD, check_csrf
from services.api.deps import KEY
from services.api.errors import STATUS, ApiError
from services.api.validation_zh import reason
from services.bootstrap import Container
from services.commands.bus import Envelope
from services.commands.unit_of_work import Outcome
from services.users import User
from services.web.console.access import container_of, refused, viewer
from services.web.console.item_page import load, render

router = APIRouter(include_in_schema=False)
FIELD_MAX = 4000  # a description's bound is the command's own; this only keeps a form's fields finite
DEVICE = "web-console"  # named 监管台网页 on the timeline (words.DEVICE_NAMES_ZH)
STALE_FORM = "表单已失效，请刷新页面后重新填写提交"
LABELS = {"description": "问题描述", "reason": "原因", "severity": "严重程度", "due_date": "整改期限",
          "notes": "说明", "result": "抽查结论", "hold_point": "检查点", "measurements": "记录的数值",
          "checklist": "核查项", "photos": "照片", "defects": "整改要求"}  # the forms' own labels

Form = dict[str, str]


async def _form(request: Request) -> Form:
    form = await request.form()
    return {key: value[:FIELD_MAX] for key, value in form.items() if isinstance(value, str)}


FormFields = Annotated[Form, Depends(_form)]


def _text(form: Form, name: str) -> str:
    return form.get(name, "").strip()


def _photos(form: Form) -> list[str]:
    """The ids the page's script put in the hidden field as each photo finished uploading."""
    return [p.strip() for p in form.get("photos", "").split(",") if p.strip()]


def spot_check(item: WorksItem, form: Form) -> c.Command:
    """A spot check is an inspection recorded by the station: the hold point's measurements and checklist
    as the template names them, and for a failed check the defect it raises."""
    spec = item.spec(_text(form, "hold_point"))
    measurements = {m.code: _text(form, f"m_{m.code}") for m in spec.measurements if _text(form, f"m_{m.code}")}
    checklist = {i.code: form.get(f"c_{i.code}") == "on" for i in spec.checklist}
    result = _text(form, "result")
    defects = []
    if result != "pass" and _text(form, "defect_description"):
        defects.append({"severity": _text(form, "defect_severity") or "major",
                        "description": _text(form, "defect_description"),
                        "due_date": _text(form, "defect_due") or None})
    return c.RecordInspection(item_id=item.id, hold_point=spec.code, result=result, measurements=measurements,
                              checklist=checklist, notes=_text(form, "notes"), photos=_photos(form),
                              defects=defects)


def raise_defect(item: WorksItem, form: Form) -> c.Command:
    return c.RaiseDefect(item_id=item.id, severity=_text(form, "severity"), description=_text(form, "description"),
                         due_date=_text(form, "due_date") or None, hold_point=_text(form, "hold_point") or None,
                         photos=_photos(form))


ACTIONS: dict[str, Callable[[WorksItem, Form], c.Command]] = {
    "spot-check": spot_check,
    "defects": raise_defect,
    "stop-work": lambda item, form: c.OrderStopWork(item_id=item.id, reason=_text(form, "reason")),
    "stop-work/lift": lambda item, form: c.LiftStopWork(item_id=item.id, notes=_text(form, "notes")),
    "reopen": lambda item, form: c.Reopen(item_id=item.id, reason=_text(form, "reason")),
}
FORM_OF = {"spot-check": "spot_check", "defects": "defect", "stop-work": "stop_work", "stop-work/lift": "lift",
           "reopen": "reopen"}


def _act(request: Request, item_id: str, form: Form, name: str,
         build: Callable[[WorksItem, Form], c.Command]) -> Response:
    who = viewer(request)
    if isinstance(who, Response):
        return who
    try:
        check_csrf(request, who.session, form.get(CSRF_FIELD))
    except ApiError as refusal:
        return refused(request, refusal.detail_zh, 403)
    loaded = load(request, who, item_id)
    if isinstance(loaded, Response):
        return loaded
    item, project = loaded
    outcome, status, error = submit(container_of(request), who.user, form.get("idempotency_key", ""),
                                    lambda: build(item, form), LABELS)
    if outcome is not None:
        after = f"&after={outcome.position}" if outcome.position else ""
        return RedirectResponse(f"/console/items/{item.id}?done={name}{after}", status_code=303)
    spot = form.get("hold_point") if name == "spot_check" else None
    return render(request, who, container_of(request).ledger.get_item(item.id), project, status,
                  errors={name: error}, values=form, spot=spot)


def submit(container: Container, user: User, key: str, build: Callable[[], c.Command],
           labels: dict[str, str]) -> tuple[Outcome | None, int, str]:
    """A console form's command through the one command path: its outcome, or the status and the Chinese message
    the form shows by the field (a stale form, a refused field, the domain's refusal)."""
    if not KEY.match(key):
        return None, 422, STALE_FORM
    try:
        outcome = container.commands.handle(user, build(), Envelope(idempotency_key=key, device_id=DEVICE))
    except ValidationError as invalid:
        return None, 422, field_errors(invalid, labels)
    except DomainError as refusal:
        return None, STATUS[refusal.kind], refusal.detail_zh
    except ApiError as refusal:
        return None, refusal.status, refusal.detail_zh
    return outcome, 200, ""


def field_errors(invalid: ValidationError, labels: dict[str, str]) -> str:
    """Each refused field by the label the form shows it under: "问题描述：不能为空或只有空格"; a field inside one by
    its own label when the form names it ("各类工程事项（加装电梯）：…"), never by an English code."""
    parts = []
    for e in invalid.errors()[:3]:
        loc = [str(part) for part in e["loc"]]
        label = labels.get(loc[0], loc[0]) if loc else "表单"
        inner = labels.get(loc[1]) if len(loc) > 1 else None
        parts.append(f"{label}{'（' + inner + '）' if inner else ''}：{reason(e)}")
    return "；".join(parts)


def _item_action(path: str, build: Callable[[WorksItem, Form], c.Command]) -> None:
    name = FORM_OF[path]

    def route(request: Request, item_id: str, form: FormFields) -> Response:
        return _act(request, item_id, form, name, build)

    router.add_api_route(f"/console/items/{{item_id}}/{path}", route, methods=["POST"], name=f"console-{name}")


for _path, _build in ACTIONS.items():
    _item_action(_path, _build)


@router.post("/console/items/{item_id}/defects/{defect_id}/{decision}")
def review_defect(request: Request, item_id: str, defect_id: str, decision: str, form: FormFields) -> Response:
    """Close a defect whose rectification holds, or send it back with a reason."""
    def build(item: WorksItem, fields: Form) -> c.Command:
        if decision == "close":
            return c.CloseDefect(item_id=item.id, defect_id=defect_id, notes=_text(fields, "notes"))
        return c.RejectRectification(item_id=item.id, defect_id=defect_id, reason=_text(fields, "reason"))

    if decision not in ("close", "reject"):
        return refused(request, "没有这个操作", 404)
    return _act(request, item_id, form, "review", build)
