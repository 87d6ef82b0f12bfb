"""The works kinds page: each template as a person reads it — hold points in order, what each requires,
the limits a passing inspection must meet."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from domain.templates import reading
from domain.templates.catalog import TemplateCatalog
from domain.templates.model import HoldPointSpec, WorksKindTemplate
from services.web.console.access import container_of, page, viewer

router = APIRouter(include_in_schema=False)


def _hold_point(catalog: TemplateCatalog, template: WorksKindTemplate, spec: HoldPointSpec) -> dict[str, Any]:
    names = {hp.code: hp.name_zh for hp in template.hold_points}
    requires = []
    if spec.after:
        requires.append("须先通过：" + "、".join(names.get(code, code) for code in spec.after))
    if spec.min_photos:
        requires.append(f"至少 {spec.min_photos} 张照片")
    if spec.concealed:
        requires.append("隐蔽工程：覆盖前须验收")
    if not spec.construction:
        requires.append("非施工工序（停工期间也可办理）")
    if spec.linked:
        linked = catalog.get(spec.linked.kind) if spec.linked.kind in catalog else None
        point = linked.hold_point(spec.linked.hold_point) if linked else None
        requires.append(f"关联的{linked.name_zh if linked else spec.linked.kind}工程须先通过"
                        f"“{point.name_zh if point else spec.linked.hold_point}”")
    return {"spec": spec, "requires": requires, "limits": reading.limits(spec),
            "measurements": [(m.name_zh + (f"（{m.unit}）" if m.unit else "")
                              + (f"：{'、'.join(m.choice_zh(ch) for ch in m.choices)}" if m.choices else "")
                              + ("" if m.required else "（选填）")) for m in spec.measurements],
            "checklist": [i.text_zh for i in spec.checklist]}


@router.get("/console/kinds")
def kinds(request: Request) -> Response:
    who = viewer(request)
    if isinstance(who, Response):
        return who
    catalog = container_of(request).ledger.catalog
    templates = [{"template": t, "hold_points": [_hold_point(catalog, t, hp) for hp in t.hold_points]}
                 for t in catalog]
    return page(request, "kinds.html", viewer=who, templates=templates)
