"""今日与历史 as an Excel file for a manager to send upward, in the hall's table layout
(hub/excel.py): a title row, the period and filter, a boxed header, numbers as numbers
(minutes to one decimal, rates as percentages), the same figures as the page.

Sheets: 取号与等候 (each service, each department's subtotal, the total), 各时段取号 (with a
bar chart), 等候时长分布 and 办理时长分布.
"""

from __future__ import annotations

from datetime import datetime

from openpyxl import Workbook
from openpyxl.chart import BarChart, Reference
from openpyxl.styles import Font
from openpyxl.worksheet.worksheet import Worksheet

from hub.excel import saved, write_table
from hub.history_figures import History, Row, bucket_labels

MINUTES = "0.0"


def minutes(value: float | None) -> float | None:
    """Minutes as the page shows them: to one decimal."""
    return None if value is None else round(value, 1)


def history_workbook(hall_name: str, found: History, scope: str, made_at: datetime) -> bytes:
    """The .xlsx file's bytes; `scope` names what was counted (全大厅, a department, a service)."""
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "取号与等候"
    subtitle = f"{found.period.title} · {scope} · 制表时间：{made_at:%Y年%m月%d日 %H:%M}"
    _figures_sheet(sheet, hall_name, found, subtitle)
    _hours_sheet(book.create_sheet("各时段取号"), hall_name, found, subtitle)
    labels = bucket_labels()
    total_row = found.total
    for name, what, bars in (("等候时长分布", "取号至首次叫号", total_row.wait.histogram()),
                             ("办理时长分布", "叫号至办结", total_row.service.histogram())):
        total = sum(bars)
        rows: list[list[object]] = [[label, n, n / total if total else None]
                                    for label, n in zip(labels, bars, strict=True)]
        write_table(book.create_sheet(name), f"{hall_name}{name}（{what}）", subtitle,
                    ["时长（分钟）", "人数", "占比"], rows, [16, 10, 10], [3])
    return saved(book)


def figure_row(r: Row) -> list[object]:
    return [r.department if r.kind == "service" else None, r.name, r.issued, r.finished,
            r.no_show, r.no_show_rate, r.unfinished, minutes(r.wait.average_min),
            minutes(r.wait.percentile_min()), minutes(r.service.average_min),
            minutes(r.service.percentile_min())]


def _figures_sheet(sheet: Worksheet, hall_name: str, found: History, subtitle: str) -> None:
    header = ["窗口单位", "事项", "取号量", "办结量", "过号", "过号率", "未办结",
              "平均等候（分钟）", "P90等候（分钟）", "平均办理（分钟）", "P90办理（分钟）"]
    rows = [figure_row(r) for r in [*found.rows, found.total]]
    write_table(sheet, f"{hall_name}取号、等候与办理情况", subtitle, header, rows,
                [24, 30, 10, 10, 8, 10, 10, 14, 14, 14, 14], [6])
    for r, row in enumerate([*found.rows, found.total], 4):
        for col in range(8, 12):
            sheet.cell(row=r, column=col).number_format = MINUTES
        if row.kind != "service":
            for cell in sheet[r]:
                cell.font = Font(bold=True)
    foot = 5 + len(rows)
    sheet.cell(row=foot, column=1, value=(
        "说明：取号量不含未取走、已作废的号；未办结为取号后未办结也未过号的（等候中、办理中或"
        "下班时仍未叫到）；等候为取号至首次叫号，办理为最后一次叫号至办结；P90：九成群众不超过"
        "的时长" + ("（时段超过31天时按整分钟计）。" if found.step > 1 else "。")))


def _hours_sheet(sheet: Worksheet, hall_name: str, found: History, subtitle: str) -> None:
    header = ["时段", "取号量"] + ([f"日均（按有取号的{found.open_days}天）"]
                                   if found.per_day else [])
    rows: list[list[object]] = []
    for hour, n, value in zip(found.hours, found.issued_by_hour, found.hour_values,
                              strict=True):
        rows.append([f"{hour}:00–{hour + 1}:00", n] + ([round(value, 1)]
                                                       if found.per_day else []))
    write_table(sheet, f"{hall_name}各时段取号量", subtitle, header, rows, [16, 10, 24])
    busiest = [found.hours[i] for i in found.busiest]
    if busiest:
        sheet.cell(row=5 + len(rows), column=1, value="取号最多的时段：" + "、".join(
            f"{h}:00–{h + 1}:00" for h in busiest))
    chart = BarChart()
    chart.title = "各时段取号量" + ("（日均）" if found.per_day else "")
    chart.y_axis.title = "取号量"
    column = 3 if found.per_day else 2
    chart.add_data(Reference(sheet, min_col=column, min_row=3, max_row=3 + len(rows)),
                   titles_from_data=True)
    chart.set_categories(Reference(sheet, min_col=1, min_row=4, max_row=3 + len(rows)))
    chart.legend = None
    chart.width, chart.height = 24, 10
    sheet.add_chart(chart, f"A{7 + len(rows)}")
