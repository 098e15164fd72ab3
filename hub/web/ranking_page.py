"""周通报 on the dashboard (/ranking): a week's departments ranked on the score sheet, the
好差评 figures behind it, a chart of each window's volume and satisfaction, the month so
far (月评比), and the Excel file to send to the county (/ranking/<Monday>.xlsx).

Read-only; managers enter the other items' points with `./hallq admin ranking` until
staff accounts exist (issue 9). The current week is shown as it stands so far."""

from __future__ import annotations

from datetime import date, timedelta

from flask import Blueprint, Response, abort, render_template, request
from sqlalchemy import Engine

from hub.clock import Clock
from hub.db.engine import make_reader
from hub.excel import download
from hub.ranking_workbook import ranking_workbook
from hub.review_scores import BY_ZH, By, figures
from hub.rules import ReviewRules
from hub.web.auth import allow, department_scope
from hub.web.svg_chart import volume_and_rate
from hub.weekly_ranking import SHEET, Week, monday_of, month, week


def ranking_page(engine: Engine, clock: Clock, hall_name: str, rules: ReviewRules) -> Blueprint:
    bp = Blueprint("ranking_page", __name__)
    reader = make_reader(engine)

    def chosen_week() -> date:
        today = clock.service_day()
        try:
            return monday_of(date.fromisoformat(request.args.get("week", "")))
        except ValueError:
            return monday_of(today)

    @bp.get("/ranking")
    @allow("admin", "manager", "department", "viewer")
    def page() -> tuple[str, int]:
        monday = chosen_week()
        today = clock.service_day()
        by: By = request.args.get("by", "window")  # type: ignore[assignment]
        if by not in BY_ZH:
            by = "window"
        with reader.connect() as conn:
            result = week(conn, clock, rules, monday)
            months = month(conn, clock, rules, monday.year, monday.month, until=today)
            detail = figures(conn, clock.day_start(monday),
                             clock.day_start(monday + timedelta(days=7)), by, rules.grade_points,
                             department_scope())  # a department lead: its own figures
        return render_template(
            "ranking.html", hall_name=hall_name, week=result, months=months, sheet=SHEET,
            rules=rules, by=by, by_zh=BY_ZH, detail=detail, current=monday_of(today) == monday,
            previous=monday - timedelta(days=7),
            following=monday + timedelta(days=7) if monday < monday_of(today) else None,
            chart=_chart(result)), 200

    @bp.get("/ranking/<monday>.xlsx")
    @allow("admin", "manager", "department", "viewer")
    def excel(monday: str) -> Response:
        try:
            day = monday_of(date.fromisoformat(monday))
        except ValueError:
            abort(404)
        now = clock.now()
        with reader.connect() as conn:
            result = week(conn, clock, rules, day)
            months = month(conn, clock, rules, day.year, day.month,
                           until=clock.service_day(now))
        data = ranking_workbook(hall_name, result, months, rules, clock.local(now))
        year, number, _ = day.isocalendar()
        return download(data, f"ranking-{day}.xlsx", f"{hall_name}周通报-{year}年第{number}周.xlsx")

    return bp


def _chart(result: Week) -> str:
    return volume_and_rate([f"{w.key}号" for w in result.windows],
                           [w.cases for w in result.windows],
                           [w.good_rate for w in result.windows],
                           "各窗口办件量与好评率")
