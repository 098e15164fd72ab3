"""The weekly ranking (周通报) as the Excel file a hall sends to the county.

Sheets, each with a title row, a header and numbers as numbers (percentages formatted):
- 周通报: the departments from first to last on the score sheet's items, with the notes of
  points taken off or given, and the departments with no case that week;
- 好差评明细: the figures behind the 好差评 item, per department;
- 各窗口: each window's cases, reviews and 好评率, with a chart of volume and satisfaction;
- 月评比: the month so far, each department's weeks, average and place against last month.
"""

from __future__ import annotations

from datetime import datetime

from openpyxl import Workbook
from openpyxl.chart import BarChart, LineChart, Reference
from openpyxl.styles import Alignment
from openpyxl.worksheet.worksheet import Worksheet

from hub.excel import saved, write_table
from hub.rules import ReviewRules
from hub.weekly_ranking import SHEET, MonthRow, Week


def ranking_workbook(hall_name: str, week: Week, month_rows: list[MonthRow],
                     rules: ReviewRules, made_at: datetime) -> bytes:
    """The .xlsx file's bytes."""
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "周通报"
    _ranking_sheet(sheet, hall_name, week, rules, made_at)
    _details_sheet(book.create_sheet("好差评明细"), hall_name, week, rules)
    _windows_sheet(book.create_sheet("各窗口"), hall_name, week)
    _month_sheet(book.create_sheet("月评比"), hall_name, week, month_rows)
    return saved(book)


def _ranking_sheet(sheet: Worksheet, hall_name: str, week: Week, rules: ReviewRules,
                   made_at: datetime) -> None:
    header = ["名次", "窗口单位"] + [f"{i.name}（{i.points:g}分）" if i.points else i.name
                                    for i in SHEET] + ["总分", "扣分、加分说明"]
    rows: list[list[object]] = [
        [r.rank, r.name, *(r.points[i.key] for i in SHEET), r.total,
         "；".join(f"{next(i.name for i in SHEET if i.key == k)}：{note}"
                  for k, note in r.notes.items())]
        for r in week.rows]
    write_table(sheet, f"{hall_name}窗口单位周考核通报", week.title, header, rows,
                [6, 24, 14, 12, 12, 12, 14, 14, 12, 8, 40])
    for r in range(4, 4 + len(rows)):
        sheet.cell(row=r, column=len(header)).alignment = Alignment(wrap_text=True)
    foot = 5 + len(rows)
    if week.idle:
        sheet.cell(row=foot, column=1, value="本周无办件、未排名：" + "、".join(week.idle))
        foot += 1
    sheet.cell(row=foot, column=1, value=(
        f"说明：“好差评”评价量按本周办结的办件计算：一事一评覆盖率×{rules.ranking_coverage_points:g}分；"
        f"不满意评价超过评价总数{rules.bad_share_line:.0%}的，每条扣{rules.ranking_bad_deduction:g}分"
        f"（此项满分{rules.ranking_bad_points:g}分）。其余各项由中心按考核细则录入，未录入的按满分计。"))
    sheet.cell(row=foot + 1, column=1,
               value=f"制表：{hall_name}　　制表时间：{made_at:%Y年%m月%d日 %H:%M}")


def _details_sheet(sheet: Worksheet, hall_name: str, week: Week, rules: ReviewRules) -> None:
    header = ["窗口单位", "办件量", "评价量", "评价覆盖率", "好评率", "主动评价好评率",
              "无评价率", "差评数", "差评占比", f"超过{rules.bad_share_line:.0%}的差评数",
              "好差评得分", "满意度"]
    rows: list[list[object]] = []
    for r in week.rows:
        f = r.figures
        if f is None:
            rows.append([r.name, 0, 0, None, None, None, None, 0, None, 0, r.points["reviews"],
                         None])
            continue
        rows.append([r.name, f.cases, f.reviews, f.coverage, f.good_rate, f.active_good_rate,
                     f.no_review_rate, f.bad, f.bad_share, f.bad_over_line(rules.bad_share_line),
                     r.points["reviews"], _round(f.satisfaction)])
    write_table(sheet, f"{hall_name}“好差评”情况", week.title, header, rows,
                [24, 10, 10, 12, 10, 14, 10, 10, 10, 14, 12, 10], [4, 5, 6, 7, 9])


def _windows_sheet(sheet: Worksheet, hall_name: str, week: Week) -> None:
    header = ["窗口", "办件量", "评价量", "评价覆盖率", "好评率", "差评数", "满意度"]
    rows: list[list[object]] = [[w.label, w.cases, w.reviews, w.coverage, w.good_rate, w.bad,
                                 _round(w.satisfaction)] for w in week.windows]
    write_table(sheet, f"{hall_name}各窗口办件量与满意度", week.title, header, rows,
                [30, 10, 10, 12, 10, 10, 10], [4, 5])
    if not rows:
        return
    volume = BarChart()
    volume.title = "各窗口办件量与好评率"
    volume.y_axis.title = "办件量"
    volume.add_data(Reference(sheet, min_col=2, min_row=3, max_row=3 + len(rows)),
                    titles_from_data=True)
    volume.set_categories(Reference(sheet, min_col=1, min_row=4, max_row=3 + len(rows)))
    rate = LineChart()
    rate.add_data(Reference(sheet, min_col=5, min_row=3, max_row=3 + len(rows)),
                  titles_from_data=True)
    rate.y_axis.axId = 200
    rate.y_axis.title = "好评率"
    rate.y_axis.number_format = "0%"
    rate.y_axis.crosses = "max"
    volume += rate
    volume.width, volume.height = 24, 12
    sheet.add_chart(volume, f"A{6 + len(rows)}")


def _month_sheet(sheet: Worksheet, hall_name: str, week: Week, rows_: list[MonthRow]) -> None:
    weeks = max((len(r.weeks) for r in rows_), default=0)
    header = ["名次", "窗口单位", *(f"第{i + 1}周" for i in range(weeks)), "月平均分",
              "上月平均分", "上月名次", "名次变化"]
    rows: list[list[object]] = []
    for r in rows_:
        rows.append([r.rank, r.name, *r.weeks, *([None] * (weeks - len(r.weeks))), r.average,
                     r.last_average, r.last_rank, _change(r)])
    write_table(sheet, f"{hall_name}窗口单位月评比", f"{week.monday.year}年{week.monday.month}月"
                "（按该月各周周通报得分平均）", header, rows,
                [6, 24, *([10] * weeks), 12, 12, 10, 12])


def _change(row: MonthRow) -> str:
    if row.last_rank is None:
        return "—"
    change = row.last_rank - row.rank
    return "持平" if change == 0 else f"{'上升' if change > 0 else '下降'}{abs(change)}位"


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 1)
