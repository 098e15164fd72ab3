"""今日与历史 on the dashboard (/history): a day (today unless chosen) or a period of up to a
year, for the whole hall, one service, or — for a department lead — its own department's
services: tickets issued, served and no-shows, waiting and service times (average and P90)
per service and in total, charts of the tickets issued per hour (the busiest hours
highlighted) and of the distributions of the two times, and the same tables as an Excel
file (/history.xlsx with the same query string). Counted by hub/history_figures.py: the
closed days from their rollup, today (and a day not rolled up yet) from its tickets.

Query string: `day=YYYY-MM-DD`, or `from` and `to`; `service` (a service code). A date that
is not one, `from` after `to` or a period over a year is answered 400 with the reason; a
service of another department, to a department lead, 403."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any
from urllib.parse import urlencode

from flask import Blueprint, Response, render_template, request
from markupsafe import Markup
from sqlalchemy import Engine

from hub.clock import Clock
from hub.db.engine import make_reader
from hub.excel import download
from hub.history_figures import (
    BUSIEST,
    History,
    Period,
    PeriodError,
    ServiceInfo,
    bucket_labels,
    history,
    parse_period,
    service_list,
)
from hub.history_workbook import history_workbook, minutes
from hub.web.auth import allow, department_scope
from hub.web.svg_chart import bars, histogram


class NotYours(PeriodError):
    """A department lead asked for another department's service."""


@dataclass(frozen=True)
class Asked:
    period: Period
    service: str  # "" for every service offered
    chosen: list[ServiceInfo]
    every: bool  # all the hall's services: no filter on the service
    scope: str  # what is counted, in words
    total_name: str


def history_page(engine: Engine, clock: Clock, hall_name: str) -> Blueprint:
    bp = Blueprint("history_page", __name__)
    reader = make_reader(engine)  # reads only: days without a rollup are counted, not stored

    def ask(offered: list[ServiceInfo], department: str | None, today: date,
            everything: list[ServiceInfo]) -> Asked:
        period = parse_period(request.args, today)
        code = request.args.get("service", "").strip()
        if code:
            chosen = [s for s in offered if s.code == code]
            if not chosen:
                if department is not None and any(s.code == code for s in everything):
                    raise NotYours("您只能查看本部门的事项，请在“事项”中重新选择")
                raise PeriodError(f"没有编码为“{code[:32]}”的事项，请在“事项”中重新选择")
            one = chosen[0]
            return Asked(period, code, chosen, False, f"{one.department_name} · {one.name}",
                         "合计")
        if department is None:
            return Asked(period, "", offered, True, "全大厅", "全大厅合计")
        name = offered[0].department_name if offered else department
        return Asked(period, "", offered, False, name, "本部门合计")

    def figures() -> tuple[Asked | None, History | None, str | None, int, dict[str, Any]]:
        """What was asked, its figures, or the reason why not with the status to answer."""
        department = department_scope()
        today = clock.service_day()
        with reader.connect() as conn:
            everything = service_list(conn)
            offered = [s for s in everything
                       if department is None or s.department_code == department]
            groups: dict[str, list[ServiceInfo]] = {}
            for s in offered:
                groups.setdefault(s.department_name, []).append(s)
            context: dict[str, Any] = {"groups": list(groups.items()), "today": today}
            try:
                asked = ask(offered, department, today, everything)
            except NotYours as refused:
                return None, None, str(refused), 403, context
            except PeriodError as bad:
                return None, None, str(bad), 400, context
            found = history(conn, clock, asked.period, asked.chosen, asked.every,
                            asked.total_name)
        return asked, found, None, 200, context

    @bp.get("/history")
    @allow("admin", "manager", "department", "viewer")
    def page() -> tuple[str, int]:
        asked, found, error, status, context = figures()
        today = context["today"]
        if asked is None or found is None:
            return _render(hall_name, error=error, form=_form(), links=_links(today, ""),
                           **context), status
        now = clock.local(clock.now())
        return _render(
            hall_name, asked=asked, found=found, form=_form(asked.period),
            links=_links(today, asked.service), steps=_steps(asked, today),
            xlsx="/history.xlsx?" + _query(asked.period, asked.service),
            ongoing=asked.period.last >= today, now=now, charts=_charts(found),
            busiest=[(found.hours[i], found.hour_values[i]) for i in found.busiest],
            **context), 200

    @bp.get("/history.xlsx")
    @allow("admin", "manager", "department", "viewer")
    def excel() -> Response | tuple[str, int]:
        asked, found, error, status, context = figures()
        today = context["today"]
        if asked is None or found is None:
            return _render(hall_name, error=error, form=_form(), links=_links(today, ""),
                           **context), status
        data = history_workbook(hall_name, found, asked.scope, clock.local(clock.now()))
        period = asked.period
        span = (period.first.isoformat() if period.single
                else f"{period.first.isoformat()}至{period.last.isoformat()}")
        dates = str(period.first) if period.single else f"{period.first}-{period.last}"
        return download(data, f"history-{dates}.xlsx", f"{hall_name}取号情况-{span}.xlsx")

    return bp


def _render(hall_name: str, **values: Any) -> str:
    return render_template("history.html", hall_name=hall_name, minutes=minutes, **values)


def _query(period: Period, service: str) -> str:
    dates = ({"day": period.first.isoformat()} if period.single else
             {"from": period.first.isoformat(), "to": period.last.isoformat()})
    return urlencode({**dates, **({"service": service} if service else {})})


def _form(period: Period | None = None) -> dict[str, str]:
    """The chooser's fields: the period shown, or what was typed when it was refused."""
    if period is not None:
        return {"from": period.first.isoformat(), "to": period.last.isoformat(),
                "service": request.args.get("service", "").strip()}
    args = request.args
    start = args.get("from", "") or args.get("day", "")
    return {"from": start[:20], "to": (args.get("to", "") or args.get("day", ""))[:20],
            "service": args.get("service", "").strip()[:32]}


def _links(today: date, service: str) -> list[tuple[str, str]]:
    """Periods a manager asks for most, one click each."""
    month = today.replace(day=1)
    last_month_end = month - timedelta(days=1)
    periods = [("今天", Period(today, today)),
               ("昨天", Period(today - timedelta(days=1), today - timedelta(days=1))),
               ("本周", Period(today - timedelta(days=today.weekday()), today)),
               ("本月", Period(month, today)),
               ("上月", Period(last_month_end.replace(day=1), last_month_end)),
               ("近30天", Period(today - timedelta(days=29), today)),
               ("今年", Period(today.replace(month=1, day=1), today))]
    return [(name, "?" + _query(p, service)) for name, p in periods]


def _steps(asked: Asked, today: date) -> list[tuple[str, str]]:
    """« 前一天 and 后一天 » around one day; the period before and after around several."""
    period, days = asked.period, timedelta(days=asked.period.days)
    before = Period(period.first - days, period.last - days)
    after = Period(period.first + days, period.last + days)
    word = "一天" if period.single else f"{period.days}天"
    steps = [(f"« 前{word}", "?" + _query(before, asked.service))]
    if after.first <= today:
        steps.append((f"后{word} »", "?" + _query(after, asked.service)))
    return steps


def _charts(found: History) -> dict[str, Markup]:
    labels = [f"{h}–{h + 1}时" for h in found.hours]
    if found.per_day:
        title = f"各时段日均取号量（{found.period.days}天中有取号的{found.open_days}天平均）"
    else:
        title = "各时段取号量"
    wait, service = found.total.wait, found.total.service
    return {
        "hours": bars(labels, found.hour_values, title, digits=1 if found.per_day else 0,
                      highlight=found.busiest, value_name="日均取号" if found.per_day
                      else "取号量", highlight_name=f"取号最多的{BUSIEST}个时段",
                      axis_note="取号时间", width=1400, height=300),
        "wait": histogram(bucket_labels(), wait.histogram(),
                          f"等候时长分布（取号至首次叫号，共{wait.n}人）", "分钟"),
        "service": histogram(bucket_labels(), service.histogram(),
                             f"办理时长分布（叫号至办结，共{service.n}件）", "分钟", "件数"),
    }
