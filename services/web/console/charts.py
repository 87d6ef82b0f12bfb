"""ECharts options, built on the server as plain JSON (the page carries them in a JSON script element and
console.js hands them to ECharts: no inline script, no chart code of our own)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from domain.templates.catalog import TemplateCatalog
from services.web.console.words import STATES_ZH

PALETTE = ["#0b5cab", "#2f9e44", "#e8590c", "#7048e8", "#c2255c", "#1098ad"]
STATE_COLOURS = {"registered": "#adb5bd", "in_progress": "#0b5cab", "completed": "#2f9e44",
                 "awaiting_acceptance": "#e8590c", "accepted": "#087f5b", "closed_out": "#495057"}
TEXT = {"fontFamily": "Noto Sans CJK SC, sans-serif", "fontSize": 13}


def chart(caption: str, option: dict[str, Any], empty: str | None = None) -> dict[str, Any]:
    """What the page shows: the caption as the figure's own text (a screen reader finds it, the chart does not
    draw it), the ECharts option, or instead a sentence when there is nothing to draw."""
    return {"caption": caption, "option": option, "empty": empty}


def _base(title: str) -> dict[str, Any]:
    return {"aria": {"enabled": True, "label": {"description": title}}, "textStyle": TEXT, "color": PALETTE,
            "animation": False,
            "tooltip": {"trigger": "axis", "axisPointer": {"type": "shadow"}},
            "grid": {"left": 8, "right": 24, "top": 40, "bottom": 8, "containLabel": True}}


def items_by_kind_and_state(by_kind: dict[str, dict[str, Any]], kinds_zh: dict[str, str]) -> dict[str, Any]:
    """A stacked bar per works kind: how many items in each state."""
    kinds = sorted(by_kind)
    states = [s for s in STATES_ZH if any(by_kind[k]["by_state"].get(s) for k in kinds)]
    option = _base("各类工程事项进展")
    option["legend"] = {"top": 0, "left": 0}
    option["xAxis"] = {"type": "category", "data": [kinds_zh.get(k, k) for k in kinds]}
    option["yAxis"] = {"type": "value", "minInterval": 1}
    option["series"] = [{"name": STATES_ZH[s], "type": "bar", "stack": "state", "color": STATE_COLOURS.get(s),
                         "data": [by_kind[k]["by_state"].get(s, 0) for k in kinds]} for s in states]
    return chart("各类工程事项进展（项）", option, None if kinds else "还没有登记工程事项")


def defects_per_week(weekly: dict[str, list[Any]]) -> dict[str, Any]:
    option = _base("每周整改通知：开具与关闭")
    option["legend"] = {"top": 0, "left": 0}
    option["xAxis"] = {"type": "category", "data": [f"{w}起" for w in weekly["weeks"]]}
    option["yAxis"] = {"type": "value", "minInterval": 1}
    option["series"] = [{"name": "开具", "type": "line", "data": weekly["opened"], "color": "#c2255c"},
                        {"name": "关闭", "type": "line", "data": weekly["closed"], "color": "#2f9e44"}]
    return chart("每周整改通知：开具与关闭（条）", option)


def quantity_names(catalog: TemplateCatalog) -> dict[str, tuple[str, str]]:
    """Each quantity the templates add up, named from the template's own data: (name, unit)."""
    names: dict[str, tuple[str, str]] = {}
    for template in catalog:
        for spec in template.hold_points:
            for measurement in spec.measurements:
                if measurement.quantity and measurement.quantity not in names:
                    names[measurement.quantity] = (spec.name_zh, measurement.unit or "项")  # a count otherwise
    return names


def quantities(totals: dict[str, str], names: dict[str, tuple[str, str]]) -> dict[str, Any]:
    option = _base("完成工程量")
    codes = sorted(totals)
    option["xAxis"] = {"type": "value"}
    option["yAxis"] = {"type": "category", "data": [f"{names.get(q, (q, ''))[0]}（{names.get(q, ('', ''))[1]}）"
                                                    for q in codes]}
    option["series"] = [{"type": "bar", "name": "工程量", "label": {"show": True, "position": "right"},
                         "data": [float(Decimal(totals[q])) for q in codes]}]
    option["grid"]["top"] = 8
    return chart("完成工程量", option, None if codes else "还没有完成的工程量")


def completion(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """The year's plan, measure by measure: what share of each planned figure is done (%)."""
    rated = [r for r in rows if r["ratio"] is not None]
    option = _base("年度计划完成率")
    option["xAxis"] = {"type": "value", "axisLabel": {"formatter": "{value}%"}}
    option["yAxis"] = {"type": "category", "inverse": True, "data": [r["name_zh"] for r in rated]}
    option["series"] = [{"type": "bar", "name": "完成率（%）",
                         "label": {"show": True, "position": "right", "formatter": "{c}%"},
                         "data": [float((Decimal(r["ratio"]) * 100).quantize(Decimal("0.1"))) for r in rated]}]
    option["grid"]["top"] = 8
    return chart("年度计划完成率（%）", option, None if rated else "尚未设定年度计划，无法计算完成率")


def kinds_planned(kinds: list[dict[str, Any]]) -> dict[str, Any]:
    """Works items by kind: the plan's number beside those started (first inspected) in the year."""
    option = _base("各类工程事项：年度计划与已开工")
    option["legend"] = {"top": 0, "left": 0}
    option["xAxis"] = {"type": "category", "data": [k["name_zh"] for k in kinds]}
    option["yAxis"] = {"type": "value", "minInterval": 1}
    option["series"] = [{"name": "年度计划", "type": "bar", "color": "#adb5bd",
                         "data": [k["plan"] or 0 for k in kinds]},
                        {"name": "已开工", "type": "bar", "color": "#0b5cab", "data": [k["actual"] for k in kinds]}]
    return chart("各类工程事项：年度计划与已开工（项）", option, None if kinds else "本年度还没有计划或开工的工程事项")
