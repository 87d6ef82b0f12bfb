"""Pydantic's refusals in words a site engineer reads: each field named, each reason in Chinese."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

REASONS: dict[str, str] = {
    "missing": "必填",
    "extra_forbidden": "不是可接受的字段",
    "string_type": "应为文字",
    "string_too_short": "不能为空或只有空格",
    "string_too_long": "不能超过 {max_length} 个字符",
    "string_pattern_mismatch": "格式不正确",
    "hidden_character": "含有不可见的控制或格式字符（{character}），请删除后重试",
    "int_type": "应为整数", "int_parsing": "应为整数", "int_from_float": "应为整数",
    "float_type": "应为数值", "float_parsing": "应为数值",
    "finite_number": "应为有限数值（不能是 NaN、Infinity 或超出范围的数）",
    "greater_than_equal": "不能小于 {ge}", "less_than_equal": "不能大于 {le}",
    "greater_than": "应大于 {gt}", "less_than": "应小于 {lt}",
    "bool_type": "应为 true 或 false", "bool_parsing": "应为 true 或 false",
    "dict_type": "应为对象", "model_type": "应为对象", "model_attributes_type": "应为对象", "list_type": "应为列表",
    "too_long": "最多 {max_length} 项", "too_short": "至少 {min_length} 项",
    "literal_error": "应为以下之一：{expected}", "enum": "应为以下之一：{expected}",
    "uuid_type": "应为 UUID", "uuid_parsing": "应为 UUID",
    "date_invalid": "不是真实存在的日期（格式 YYYY-MM-DD）",
    "date_out_of_range": "应在 {earliest} 至 {latest} 之间",
    "datetime_type": "应为 ISO 8601 时间", "datetime_parsing": "应为 ISO 8601 时间（例如 2026-05-01T09:30:00+08:00）",
    "datetime_from_date_parsing": "应为 ISO 8601 时间（例如 2026-05-01T09:30:00+08:00）",
    "timezone_aware": "须带时区（例如 +08:00），否则无法确定发生时刻",
    "device_time_too_early": "早于 {earliest}，设备时钟可能未设置",
    "gps_shape": "应为只含 lat（纬度）和 lon（经度）的对象",
    "gps_out_of_range": "{key} 应在 {low} 至 {high} 之间",
    "measurement_type": "应为数值或文字",
    "measurement_out_of_range": "绝对值不能超过 {limit}",
    "json_invalid": "不是有效的 JSON",
}
SOURCES = {"body", "query", "path", "header", "cookie"}
SHOWN = 5


def field_name(loc: Iterable[Any]) -> str:
    """`body.gps.lat` → `gps.lat`: where the value came from is not part of its name."""
    parts = [str(p) for p in loc]
    if parts and parts[0] in SOURCES:
        parts = parts[1:] or parts
    return ".".join(parts) or "请求内容"


def reason(error: Mapping[str, Any]) -> str:
    template = REASONS.get(str(error.get("type", "")))
    if template is None:
        return str(error.get("msg", "无效"))
    context = {k: str(v) for k, v in (error.get("ctx") or {}).items()}
    try:
        return template.format_map(context)
    except (KeyError, IndexError, ValueError):
        return template.split("{", 1)[0].strip() or str(error.get("msg", "无效"))


def describe(errors: Sequence[Mapping[str, Any]]) -> str:
    """One sentence naming each refused field (the first few) and why."""
    parts = [f"{field_name(e.get('loc', ()))}：{reason(e)}" for e in errors[:SHOWN]]
    more = f"；另有 {len(errors) - SHOWN} 处" if len(errors) > SHOWN else ""
    return "请求内容无效——" + "；".join(parts) + more
