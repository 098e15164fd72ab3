"""人员与岗位 on the dashboard (/staff): window staff and the windows' A/B posts.

Administrators and managers add a member of staff with an initial PIN, change a name,
department or title, reset a PIN, disable or enable someone, and give each window its A
and B posts (or hand them back to the catalogue file); viewers read. Every change goes
through LiveSettings (on the hub's thread; every window's state is published again, so
a screen shows a new name at once) and into the audit log by name, never with a PIN.
A refused change says why in Chinese and keeps what was typed, but never a PIN.
"""

from __future__ import annotations

from flask import Blueprint, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from hub.accounts import Role
from hub.live_settings import LiveSettings
from hub.web.auth import account, allow
from hub.web.settings_pages import BUSY_ZH
from protocol.errors import UserError

CHANGERS: tuple[Role, ...] = ("admin", "manager")
Page = tuple[str, int]


def staff_page(live: LiveSettings, hall_name: str) -> Blueprint:
    bp = Blueprint("staff_page", __name__)

    def page(status: int = 200, error: str = "", *, add: dict[str, str] | None = None,
             edit: tuple[str, dict[str, str]] | None = None,
             posts: tuple[int, str, str] | None = None) -> Page:
        people, windows, departments = live.staff_and_posts()
        return render_template(
            "staff.html", hall_name=hall_name, people=people, windows=windows,
            departments=departments, by_number={p.number: p for p in people},
            on_post={n for w in windows for n in (w.post_a, w.post_b) if n},
            active=[p for p in people if p.active], can_change=account().role in CHANGERS,
            typed=add or {"number": "", "name": "", "department": "", "title": ""},
            editing=edit, posting=posts, error=error,
            done=request.args.get("done", "")), status

    def done(message: str) -> Response:
        return redirect(url_for("staff_page.staff", done=message), 303)

    def form(*names: str) -> dict[str, str]:
        return {n: request.form.get(n, "")[:100] for n in names}

    @bp.get("/staff")
    @allow(*CHANGERS, "viewer")
    def staff() -> Page:
        return page()

    @bp.post("/staff")
    @allow(*CHANGERS)
    def add() -> Page | Response:
        typed = form("number", "name", "department", "title")
        typed["number"] = typed["number"].strip()
        try:
            live.add_staff(typed["number"], typed["name"], typed["department"], typed["title"],
                           request.form.get("pin", "")[:20], account().username)
        except UserError as err:
            return page(400, f"未添加工作人员：{err.zh}", add=typed)
        except TimeoutError:
            return page(503, BUSY_ZH, add=typed)
        return done(f"已添加工作人员 {typed['number']} {typed['name'].strip()}，"
                    "可凭初始密码在窗口签到；请在下方为其安排窗口的A/B岗")

    @bp.post("/staff/<number>/edit")
    @allow(*CHANGERS)
    def edit(number: str) -> Page | Response:
        number = number[:16]
        typed = form("name", "department", "title")
        try:
            live.edit_staff(number, typed["name"], typed["department"], typed["title"],
                            account().username)
        except UserError as err:
            return page(400, f"{number}未修改：{err.zh}", edit=(number, typed))
        except TimeoutError:
            return page(503, BUSY_ZH, edit=(number, typed))
        return done(f"{number} 已更新，窗口屏即时显示")

    @bp.post("/staff/<number>/pin")
    @allow(*CHANGERS)
    def pin(number: str) -> Page | Response:
        number = number[:16]
        try:
            live.reset_staff_pin(number, request.form.get("pin", "")[:20], account().username)
        except UserError as err:
            return page(400, f"{number}的密码未重置：{err.zh}")
        except TimeoutError:
            return page(503, BUSY_ZH)
        return done(f"{number} 的密码已重置，原密码不能再签到")

    @bp.post("/staff/<number>/disable")
    @allow(*CHANGERS)
    def disable(number: str) -> Page | Response:
        return active(number[:16], False)

    @bp.post("/staff/<number>/enable")
    @allow(*CHANGERS)
    def enable(number: str) -> Page | Response:
        return active(number[:16], True)

    def active(number: str, on: bool) -> Page | Response:
        try:
            live.set_staff_active(number, on, account().username)
        except UserError as err:
            return page(400, f"{number}未{'启用' if on else '停用'}：{err.zh}")
        except TimeoutError:
            return page(503, BUSY_ZH)
        return done(f"{number} 已启用，可以在窗口签到" if on
                    else f"{number} 已停用，不能再在窗口签到")

    @bp.post("/staff/posts/<int:window>")
    @allow(*CHANGERS)
    def set_posts(window: int) -> Page | Response:
        typed = form("post_a", "post_b")
        post_a, post_b = typed["post_a"].strip() or None, typed["post_b"].strip() or None
        try:
            if request.form.get("reset"):
                post_a, post_b = live.reset_window_posts(window, account().username)
            else:
                live.set_window_posts(window, post_a, post_b, account().username)
        except UserError as err:
            return page(400, f"{window}号窗口岗位未修改：{err.zh}",
                        posts=(window, post_a or "", post_b or ""))
        except TimeoutError:
            return page(503, BUSY_ZH, posts=(window, post_a or "", post_b or ""))
        return done(f"{window}号窗口岗位已更新：A岗 {post_a or '空'}，B岗 {post_b or '空'}；"
                    "下一次签到起生效")

    return bp

