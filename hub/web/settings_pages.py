"""设置 on the dashboard (/settings): the window–service matrix, the calendar and the main
screen's public information, changed while the hall runs, by its administrators and
managers.

The same changes as `./hallq admin matrix` and `./hallq admin calendar`, through the same
LiveSettings (applied between two batches of requests; the next call follows), each into
the audit log with the manager's name. A refused change (an item left without a window,
a bad holiday line) says why in Chinese and keeps what was typed.
"""

from __future__ import annotations

from datetime import date

from flask import Blueprint, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from hub.admin import AdminError, parse_days
from hub.live_settings import LiveSettings
from hub.web.auth import account, allow
from protocol.errors import UserError

BUSY_ZH = "大厅服务器暂未连上消息服务器，设置未修改，请稍后再试"


def settings_pages(live: LiveSettings, hall_name: str) -> Blueprint:
    bp = Blueprint("settings_pages", __name__)

    def page(status: int = 200, error: str = "", holidays: str = "",
             typed_info: tuple[str, str] | None = None) -> tuple[str, int]:
        today = live.clock.service_day()
        services = sorted(((s.code, s.name, live.catalogue.department_name(s.department))
                           for s in live.catalogue.all_services()), key=lambda s: s[0])
        days = [d for d in live.calendar_days() if d[0].year >= today.year]
        return render_template(
            "settings.html", hall_name=hall_name, matrix=live.matrix(), services=services,
            names={code: name for code, name, _ in services}, days=days, error=error,
            unknown=live.calendar.unknown_years(today), holidays=holidays,
            info=typed_info or (live.public_info().complaint_phone,
                                "\n".join(live.public_info().notices)),
            done=request.args.get("done", "")), status

    def done(message: str) -> Response:
        return redirect(url_for("settings_pages.settings", done=message), 303)

    @bp.get("/settings")
    @allow("admin", "manager")
    def settings() -> tuple[str, int]:
        return page()

    @bp.post("/settings/window/<int:window>")
    @allow("admin", "manager")
    def set_window(window: int) -> tuple[str, int] | Response:
        codes = request.form.getlist("services")
        try:
            if request.form.get("reset"):
                change = live.reset_window_services(window, account().username)
            else:
                change = live.set_window_services(window, codes, account().username)
        except UserError as err:
            return page(400, f"{window}号窗口未修改：{err.zh}")
        except TimeoutError:
            return page(503, BUSY_ZH)
        added, removed = " ".join(change.added) or "无", " ".join(change.removed) or "无"
        return done(f"{window}号窗口已更新，下一次叫号起生效。新增：{added}；移除：{removed}")

    @bp.post("/settings/public-info")
    @allow("admin", "manager")
    def set_public_info() -> tuple[str, int] | Response:
        phone = request.form.get("complaint_phone", "")[:100]
        notices = request.form.get("notices", "")[:5000]
        try:
            live.set_public_info(phone, notices.splitlines(), account().username)
        except UserError as err:
            return page(400, f"公开信息未修改：{err.zh}", typed_info=(phone, notices))
        except TimeoutError:
            return page(503, BUSY_ZH, typed_info=(phone, notices))
        return done("大屏公告和投诉电话已更新，各屏即时显示")

    @bp.post("/settings/calendar")
    @allow("admin", "manager")
    def set_days() -> tuple[str, int] | Response:
        text = request.form.get("holidays", "")[:20_000]
        try:
            parsed = parse_days(text.splitlines())
        except AdminError as err:
            return page(400, f"节假日未录入：{err}", text)
        days = {date.fromisoformat(d["day"]): (bool(d["workday"]), str(d["note"]))
                for d in parsed}
        try:
            live.set_calendar_days(days, account().username)
        except UserError as err:
            return page(400, f"节假日未录入：{err.zh}", text)
        except TimeoutError:
            return page(503, BUSY_ZH, text)
        return done(f"已录入{len(days)}天")

    @bp.post("/settings/calendar/<day>/clear")
    @allow("admin", "manager")
    def clear_day(day: str) -> tuple[str, int] | Response:
        try:
            live.clear_calendar_day(date.fromisoformat(day), account().username)
        except ValueError:
            return page(400, f"日期有误：{day[:20]}")
        except TimeoutError:
            return page(503, BUSY_ZH)
        return done(f"{day} 已删除，按国家日历计算")

    return bp
