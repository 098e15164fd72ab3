"""设备管理 on the dashboard (/devices): the hall's devices by name, online or not, last seen,
and their own reported trouble (out of paper …); devices that report but are not
registered listed apart as 未登记设备, each with a button to register it.

Administrators and managers register, rename and remove devices; every other role reads
(a department lead and the guide desk see which kiosk is out of paper too). Each change
goes through DeviceWatch (on the hub's thread; the live hall shows the new names at once)
and into the audit log. A refused form says why in Chinese and keeps what was typed.
Removing a device that is online asks again first (hub/device_registry.py says why).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from flask import Blueprint, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from hub.accounts import Role
from hub.device_registry import CLASS_HINT_ZH, REGISTRABLE
from hub.device_watch import DeviceWatch, OnlineDevice
from hub.state_feed import CLASS_ZH
from hub.web.auth import account, allow
from hub.web.settings_pages import BUSY_ZH
from protocol.errors import UserError

CHANGERS: tuple[Role, ...] = ("admin", "manager")
READERS: tuple[Role, ...] = (*CHANGERS, "department", "guide", "viewer")
FIELDS = ("device_class", "device_id", "name", "location", "note")
Page = tuple[str, int]


def seen_text(seen_at: datetime | None, now: datetime) -> str:
    """When a device was last online, as a manager says it: 刚刚, 3分钟前, 今天 08:05,
    昨天 17:30, 11月20日 17:30 (both aware, the hall's time)."""
    if seen_at is None:
        return "从未上线"
    ago = now - seen_at
    if ago < timedelta(minutes=1):
        return "刚刚"
    if ago < timedelta(hours=1):
        return f"{int(ago.total_seconds() // 60)}分钟前"
    days = (now.date() - seen_at.date()).days
    at = seen_at.strftime("%H:%M")
    if days == 0:
        return f"今天 {at}"
    if days == 1:
        return f"昨天 {at}"
    if seen_at.year == now.year:
        return f"{seen_at.month}月{seen_at.day}日 {at}"
    return f"{seen_at.year}年{seen_at.month}月{seen_at.day}日"


def devices_page(watch: DeviceWatch, hall_name: str) -> Blueprint:
    bp = Blueprint("devices_page", __name__)

    def page(status: int = 200, error: str = "", *, typed: dict[str, str] | None = None,
             edit: tuple[str, dict[str, str]] | None = None, confirm: str = "") -> Page:
        registered, others = watch.listing()
        now = watch.clock.local(watch.clock.now())
        return render_template(
            "devices.html", hall_name=hall_name, registered=registered, others=others,
            classes=[(c.value, CLASS_ZH[c.value], CLASS_HINT_ZH[c.value]) for c in REGISTRABLE],
            can_change=account().role in CHANGERS, typed=typed or dict.fromkeys(FIELDS, ""),
            editing=edit, confirm=confirm, error=error, done=request.args.get("done", ""),
            seen=lambda at: seen_text(at, now), local=watch.clock.local,
            counts={"online": sum(d.online for d in registered),
                    "off": sum(not d.online for d in registered)}), status

    def done(message: str) -> Response:
        return redirect(url_for("devices_page.devices", done=message), 303)

    def form(*names: str) -> dict[str, str]:
        return {n: request.form.get(n, "")[:200] for n in names}

    @bp.get("/devices")
    @allow(*READERS)
    def devices() -> Page:
        return page()

    @bp.post("/devices")
    @allow(*CHANGERS)
    def add() -> Page | Response:
        typed = form(*FIELDS, "from")
        try:
            device_id = watch.add(typed["device_class"], typed["device_id"], typed["name"],
                                  typed["location"], typed["note"], account().username)
        except UserError as err:
            return page(400, f"设备未登记：{err.zh}", typed=typed)
        except TimeoutError:
            return page(503, BUSY_ZH, typed=typed)
        return done(f"已登记设备 {device_id}「{' '.join(typed['name'].split())}」，"
                    "实时大厅按此名称显示它")

    @bp.post("/devices/register-all")
    @allow(*CHANGERS)
    def register_all() -> Page | Response:
        try:
            names = watch.register_all(account().username)
        except UserError as err:
            return page(400, f"未登记任何设备：{err.zh}")
        except TimeoutError:
            return page(503, BUSY_ZH)
        if not names:
            return done("没有未登记的设备")
        return done(f"已登记{len(names)}台设备：{'、'.join(names)}；名称可在下方修改")

    @bp.post("/devices/<device_id>/edit")
    @allow(*CHANGERS)
    def edit(device_id: str) -> Page | Response:
        device_id = device_id[:32]
        typed = form("name", "location", "note")
        try:
            watch.edit(device_id, typed["name"], typed["location"], typed["note"],
                       account().username)
        except UserError as err:
            return page(400, f"{device_id}未修改：{err.zh}", edit=(device_id, typed))
        except TimeoutError:
            return page(503, BUSY_ZH, edit=(device_id, typed))
        return done(f"{device_id} 已更新为「{' '.join(typed['name'].split())}」")

    @bp.post("/devices/<device_id>/remove")
    @allow(*CHANGERS)
    def remove(device_id: str) -> Page | Response:
        device_id = device_id[:32]
        try:
            gone = watch.remove(device_id, account().username,
                                confirmed=request.form.get("confirm") == "1")
        except OnlineDevice as err:
            return page(409, err.zh, confirm=device_id)
        except UserError as err:
            return page(400, f"{device_id}未删除：{err.zh}")
        except TimeoutError:
            return page(503, BUSY_ZH)
        return done(f"已删除设备 {gone.device_id}「{gone.name}」；它再上线时列在“未登记设备”中")

    return bp
