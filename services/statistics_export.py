"""The statistics as a spreadsheet: CSV (UTF-8 with a BOM, so Excel reads the Chinese) and XLSX (openpyxl).

Both carry the same figures as the JSON, as exact decimal text for CSV and as numbers for XLSX (so a
bureau's clerk can add them up); the headings are Chinese, the measure codes stay in a column of their own.
"""

from __future__ import annotations

import csv
import io
from decimal import Decimal
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

HEADINGS = ("指标代码", "指标", "单位", "年度计划", "实际完成", "完成率")


def _summary_rows(report: dict[str, Any]) -> list[list[Any]]:
    return [[r["measure"], r["name_zh"], r["unit_zh"], r["plan"], r["actual"], r["ratio"]] for r in report["rows"]]


def _title(report: dict[str, Any]) -> str:
    return f"{report['year']}年 {report['district'] or '全市'} 老旧小区改造计划完成情况"


def as_csv(report: dict[str, Any]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([_title(report)])
    writer.writerow(HEADINGS)
    for row in _summary_rows(report):
        writer.writerow(["" if v is None else v for v in row])
    writer.writerow([])
    writer.writerow(["工程类型代码", "工程类型", "计划项数", "已开工项数"])
    for k in report["items_by_kind"]:
        writer.writerow([k["kind"], k["name_zh"], "" if k["plan"] is None else k["plan"], k["actual"]])
    writer.writerow([])
    writer.writerow(["资金来源代码", "资金来源", "新开工小区数"])
    for f in report["by_funding_source"]:
        writer.writerow([f["code"], f["name_zh"], f["communities"]])
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def _number(value: str | None) -> Decimal | int | None:
    if value is None:
        return None
    number = Decimal(value)
    return int(number) if number == number.to_integral_value() else number


def as_xlsx(report: dict[str, Any]) -> bytes:
    book = Workbook()
    summary = book.active
    assert summary is not None  # a new workbook has its one sheet
    summary.title = "计划与完成"
    summary.append([_title(report)])
    summary["A1"].font = Font(bold=True, size=13)
    summary.append(list(HEADINGS))
    for code, name, unit, plan, done, ratio in _summary_rows(report):
        summary.append([code, name, unit, _number(plan), _number(done), _number(ratio)])
    for row in summary.iter_rows(min_row=3, min_col=6, max_col=6):
        row[0].number_format = "0.0%"
    kinds = book.create_sheet("按工程类型")
    kinds.append(["工程类型代码", "工程类型", "计划项数", "已开工项数"])
    for k in report["items_by_kind"]:
        kinds.append([k["kind"], k["name_zh"], k["plan"], k["actual"]])
    funding = book.create_sheet("按资金来源和类别")
    funding.append(["代码", "资金来源或改造类别", "新开工小区数"])
    for f in report["by_funding_source"] + report["by_category"]:
        funding.append([f["code"], f["name_zh"], f["communities"]])
    for sheet in book.worksheets:
        for row in sheet.iter_rows(min_row=2 if sheet is summary else 1, max_row=2 if sheet is summary else 1):
            for cell in row:
                cell.font = Font(bold=True)
        for column, width in enumerate((22, 26, 10, 12, 12, 10), start=1):
            sheet.column_dimensions[get_column_letter(column)].width = width
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
