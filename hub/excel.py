"""Excel files the hall sends upward (openpyxl): one table layout for all of them — a title,
a subtitle, a boxed header and rows, columns sized, the header frozen — and the download."""

from __future__ import annotations

from collections.abc import Sequence
from io import BytesIO
from urllib.parse import quote

from flask import Response
from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

THIN = Side(style="thin", color="888888")
BOX = Border(left=THIN, right=THIN, top=THIN, bottom=THIN)
HEAD = PatternFill("solid", fgColor="DDE6F0")
PERCENT = "0.0%"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def cell_value(value: object) -> object:
    """A value as a cell may hold it: text without the control characters Excel's format
    cannot store (a backspace typed into a note would otherwise fail the whole file)."""
    return ILLEGAL_CHARACTERS_RE.sub("", value) if isinstance(value, str) else value


def write_table(sheet: Worksheet, title: str, subtitle: str, header: Sequence[str],
                rows: Sequence[Sequence[object]], widths: Sequence[int],
                percent_columns: Sequence[int] = ()) -> None:
    """Title, subtitle, a boxed header and rows from row 3; columns sized; the columns in
    `percent_columns` (1-based) shown as percentages."""
    sheet.append([cell_value(title)])
    sheet.append([cell_value(subtitle)])
    sheet.append([cell_value(h) for h in header])
    for row in rows:
        sheet.append([cell_value(v) for v in row])
    last = get_column_letter(len(header))
    sheet.merge_cells(f"A1:{last}1")
    sheet.merge_cells(f"A2:{last}2")
    sheet["A1"].font = Font(size=16, bold=True)
    sheet["A1"].alignment = Alignment(horizontal="center")
    sheet["A2"].alignment = Alignment(horizontal="center")
    for line in sheet.iter_rows(min_row=3, max_row=3 + len(rows), max_col=len(header)):
        for cell in line:
            cell.border = BOX
            cell.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
    for cell in sheet[3]:
        cell.font = Font(bold=True)
        cell.fill = HEAD
    for i, width in enumerate(widths, 1):
        sheet.column_dimensions[get_column_letter(i)].width = width
    for col in percent_columns:
        for r in range(4, 4 + len(rows)):
            sheet.cell(row=r, column=col).number_format = PERCENT
    sheet.freeze_panes = "A4"


def one_table(sheet_name: str, title: str, subtitle: str, header: Sequence[str],
              rows: Sequence[Sequence[object]], widths: Sequence[int],
              percent_columns: Sequence[int] = ()) -> bytes:
    """A workbook of one sheet holding one table; its bytes."""
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = sheet_name
    write_table(sheet, title, subtitle, header, rows, widths, percent_columns)
    return saved(book)


def saved(book: Workbook) -> bytes:
    out = BytesIO()
    book.save(out)
    return out.getvalue()


def download(data: bytes, ascii_name: str, name: str) -> Response:
    """The file as a download: `ascii_name` for old browsers, `name` (Chinese) for the rest."""
    return Response(data, mimetype=XLSX, headers={
        "Content-Disposition": f"attachment; filename=\"{ascii_name}\"; "
                               f"filename*=UTF-8''{quote(name)}"})
