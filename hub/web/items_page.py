"""事项与办事指南 on the dashboard (/items): every item's 一次性告知 — 受理条件, 申请材料,
收费, 法定/承诺办结时限 — by department, as the kiosks show it, and changed here; and its
name, ticket letter and daily cap (放号量, hub/item_setup.py), set by the hall's managers.

Administrators and managers change every item, a department lead only its own
department's (others' are neither listed nor changed: 403), viewers read. A change reaches
every kiosk at once (the retained catalogue state) and outlives restarts and new
catalogue files until "恢复目录文件" hands the item back to the file; each goes into the
audit log by name (hub/item_guides.py). A refused change says why in Chinese and keeps
what was typed.
"""

from __future__ import annotations

from itertools import groupby
from typing import Any

from flask import Blueprint, abort, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from hub.accounts import Role
from hub.item_guides import Item
from hub.live_settings import LiveSettings
from hub.web.auth import account, allow, department_scope
from hub.web.settings_pages import BUSY_ZH
from protocol.errors import ErrorCode, UserError

EDITORS: tuple[Role, ...] = ("admin", "manager", "department")
# An item's name, ticket letter and daily cap are the hall's decisions (letters are shared
# across departments, caps follow the windows the hall staffs): not a department lead's.
SETUP_EDITORS: tuple[Role, ...] = ("admin", "manager")


def items_page(live: LiveSettings, hall_name: str) -> Blueprint:
    bp = Blueprint("items_page", __name__)

    def page(status: int = 200, error: str = "", code: str = "",
             typed: dict[str, Any] | None = None) -> tuple[str, int]:
        items = live.items(department_scope())
        order = {d.code: i for i, d in enumerate(live.catalogue.departments)}
        items.sort(key=lambda i: order.get(i.department, len(order)))  # stable: kiosk order
        departments = [(name, list(group)) for (_, name), group in
                       groupby(items, key=lambda i: (i.department, i.department_name))]
        return render_template(
            "items.html", hall_name=hall_name, departments=departments, error=error,
            error_code=code, typed=typed or {}, may_edit=account().role in EDITORS,
            may_set_up=account().role in SETUP_EDITORS,
            done=request.args.get("done", ""), done_code=request.args.get("item", "")), status

    def item_in_scope(code: str) -> Item:
        """The item being changed, if this account may change it: else 404 or 403."""
        found = next((i for i in live.items() if i.code == code), None)
        if found is None:
            abort(404)
        scope = department_scope()
        if scope is not None and found.department != scope:
            abort(403)  # a department lead changes its own department's items only
        return found

    def done(code: str, message: str) -> Response:
        return redirect(url_for("items_page.items", done=message, item=code,
                                _anchor=f"item-{code}"), 303)

    @bp.get("/items")
    @allow("admin", "manager", "department", "viewer")
    def items() -> tuple[str, int]:
        return page()

    @bp.post("/items/<code>")
    @allow(*EDITORS)
    def edit(code: str) -> tuple[str, int] | Response:
        item = item_in_scope(code)
        typed = {"conditions": request.form.get("conditions", "")[:10_000],
                 "materials": request.form.get("materials", "")[:10_000],
                 "fee": request.form.get("fee", "")[:1000],
                 "legal_days": request.form.get("legal_days", "")[:20],
                 "promised_days": request.form.get("promised_days", "")[:20]}
        try:
            live.set_item_guide(code, typed["conditions"].splitlines(),
                                typed["materials"].splitlines(), typed["legal_days"],
                                typed["promised_days"], typed["fee"], account().username)
        except UserError as err:
            if err.code == ErrorCode.UNKNOWN_SERVICE:
                abort(404)
            return page(400, f"「{item.name}」未修改：{err.zh}", code, typed)
        except TimeoutError:
            return page(503, BUSY_ZH, code, typed)
        return done(code, f"「{item.name}」的办事指南已更新，各取号机即时显示")

    @bp.post("/items/<code>/reset")
    @allow(*EDITORS)
    def reset(code: str) -> tuple[str, int] | Response:
        item = item_in_scope(code)
        try:
            live.reset_item_guide(code, account().username)
        except UserError as err:
            return page(400, f"「{item.name}」未恢复：{err.zh}", code)
        except TimeoutError:
            return page(503, BUSY_ZH, code)
        return done(code, f"「{item.name}」已恢复为目录文件的办事指南")

    @bp.post("/items/<code>/setup")
    @allow(*SETUP_EDITORS)
    def setup(code: str) -> tuple[str, int] | Response:
        item = item_in_scope(code)
        typed = {"name": request.form.get("name", "")[:200],
                 "prefix": request.form.get("prefix", "")[:20],
                 "daily_cap": request.form.get("daily_cap", "")[:20], "form": "setup"}
        try:
            info = live.set_item_setup(code, typed["name"], typed["prefix"],
                                       typed["daily_cap"], account().username)
        except UserError as err:
            if err.code == ErrorCode.UNKNOWN_SERVICE:
                abort(404)
            return page(400, f"「{item.name}」未修改：{err.zh}", code, typed)
        except TimeoutError:
            return page(503, BUSY_ZH, code, typed)
        letter = "" if info.prefix == item.prefix else f"，下一张号起使用字母{info.prefix}"
        return done(code, f"「{info.name}」的事项设置已保存{letter}，各取号机即时生效")

    @bp.post("/items/<code>/setup/reset")
    @allow(*SETUP_EDITORS)
    def setup_reset(code: str) -> tuple[str, int] | Response:
        item = item_in_scope(code)
        try:
            info = live.reset_item_setup(code, account().username)
        except UserError as err:
            return page(400, f"「{item.name}」未恢复：{err.zh}", code)
        except TimeoutError:
            return page(503, BUSY_ZH, code)
        return done(code, f"「{info.name}」的名称、号段字母和放号量已恢复为目录文件")

    return bp
