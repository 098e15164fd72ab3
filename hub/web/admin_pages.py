"""操作日志 (/audit) and 账号管理 (/accounts) on the dashboard.

The audit log: every change made by hand and every sign-in, newest first, filtered by
who, action and day, 50 a page, and as an Excel file. Accounts: the administrator adds
them, resets a password, disables or enables them; each change goes through the hub's
request thread and into the audit log, with the administrator's name.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from flask import Blueprint, Response, redirect, render_template, request, url_for
from sqlalchemy import Engine, Select, func, select
from werkzeug.wrappers import Response as BaseResponse

from hub import accounts, hall_state
from hub.accounts import ROLE_ZH
from hub.clock import Clock
from hub.db.engine import make_reader
from hub.db.schema import audit_log
from hub.excel import download, one_table
from hub.state_feed import CLASS_ZH
from hub.web.auth import Run, account, allow
from protocol.errors import UserError

PAGE_SIZE = 50
# The audit log's actions in words (the rest are shown as recorded).
ACTION_ZH = {
    "signin": "登录", "signin.failed": "登录失败", "signin.limited": "登录受限", "signout": "退出",
    "account.add": "开设账号", "account.password": "更改密码", "account.disable": "停用账号",
    "account.enable": "启用账号", "ranking_score": "周通报录分", "review.supplement": "补充评价",
    "blacklist.lift": "解除黑名单", "appointment.excuse": "预约未到免责",
    "appointment.confirm": "确认预约", "appointment.refuse": "拒绝预约",
    "appointment.check_in": "导办台签到", "followup.callback": "差评回访",
    "followup.investigation": "差评调查核实", "followup.handling": "差评处理",
    "followup.measures": "整改措施", "followup.result": "整改结果", "followup.appeal": "差评申诉",
    "followup.upheld": "申诉成立", "followup.rejected": "申诉不成立",
    "matrix.set": "调整窗口事项", "matrix.reset": "窗口事项恢复默认", "calendar.set": "录入节假日",
    "calendar.clear": "删除节假日", "public_info.set": "修改大屏公告", "item.edit": "修改办事指南",
    "item.reset": "办事指南恢复目录文件", "item.setup": "修改事项设置",
    "item.setup_reset": "事项设置恢复目录文件", "desk.priority": "导办台优先取号",
    "desk.ticket": "导办台代取号", "staff.add": "添加工作人员", "staff.edit": "修改工作人员",
    "staff.pin": "重置签到密码", "staff.disable": "停用工作人员", "staff.enable": "启用工作人员",
    "posts.set": "调整窗口岗位", "posts.reset": "窗口岗位恢复默认",
    "hours.set": "修改取号时间", "hours.follow": "取消单独取号时间",
    "hours.reset": "取号时间恢复目录文件",
    "device.add": "登记设备", "device.edit": "修改设备", "device.remove": "删除设备",
    "voice.set": "修改叫号播报", "voice.reset": "叫号播报恢复大屏设置",
    "broadcast.add": "添加广播", "broadcast.edit": "修改广播", "broadcast.delete": "删除广播",
    "broadcast.play": "立即播放广播",
}


def admin_pages(engine: Engine, run: Run, clock: Clock, hall_name: str) -> Blueprint:
    bp = Blueprint("admin_pages", __name__)
    reader = make_reader(engine)

    def audit_query() -> tuple[Select[Any], dict[str, str]]:
        filters = {k: request.args.get(k, "").strip()[:50] for k in ("who", "action", "day")}
        query = select(audit_log).order_by(audit_log.c.id.desc())
        if filters["who"]:
            query = query.where(audit_log.c.who == filters["who"])
        if filters["action"]:
            query = query.where(audit_log.c.action.startswith(filters["action"]))
        try:
            day = date.fromisoformat(filters["day"]) if filters["day"] else None
        except ValueError:
            day, filters["day"] = None, ""
        if day is not None:
            query = query.where(audit_log.c.at >= clock.day_start(day),
                                audit_log.c.at < clock.day_start(day + timedelta(days=1)))
        return query, filters

    @bp.get("/audit")
    @allow("admin", "manager")
    def audit_page() -> tuple[str, int]:
        query, filters = audit_query()
        asked = request.args.get("page", 1, type=int) or 1
        with reader.connect() as conn:
            total = int(conn.scalar(select(func.count()).select_from(query.subquery())) or 0)
            pages = max(1, -(-total // PAGE_SIZE))
            page = min(max(1, asked), pages)  # past the last page: the last page
            rows = conn.execute(query.limit(PAGE_SIZE).offset((page - 1) * PAGE_SIZE)).all()
        return render_template("audit.html", hall_name=hall_name, rows=rows, filters=filters,
                               page=page, pages=pages, total=total,
                               action_zh=ACTION_ZH, local=clock.local,
                               change_text=change_text), 200

    @bp.get("/audit.xlsx")
    @allow("admin", "manager")
    def audit_excel() -> Response:
        """The log as filtered; without a day, the last 31 days (a year of a busy hall's
        log is too long for one sheet and a manager sends a period upward)."""
        query, filters = audit_query()
        subtitle = f"{filters['day']}" if filters["day"] else "最近31天"
        if not filters["day"]:
            query = query.where(audit_log.c.at >= clock.now() - timedelta(days=31))
        with reader.connect() as conn:
            rows = conn.execute(query.limit(50_000)).all()
        data = one_table("操作日志", f"{hall_name}操作日志", subtitle,
                         ["时间", "操作人", "操作", "对象", "原因或说明", "修改前", "修改后"],
                         [[clock.local(r.at).strftime("%Y-%m-%d %H:%M:%S"), r.who,
                           ACTION_ZH.get(r.action, r.action), r.target, r.reason or "",
                           change_text(r.before), change_text(r.after)] for r in rows],
                         [20, 14, 14, 24, 30, 24, 24])
        return download(data, "audit.xlsx", f"{hall_name}操作日志.xlsx")

    def accounts_page(status: int = 200, error: str = "", typed: dict[str, str] | None = None
                      ) -> tuple[str, int]:
        with reader.connect() as conn:
            listing = accounts.listing(conn)
            departments = list(hall_state.departments(conn).items())
        return render_template("accounts.html", hall_name=hall_name, listing=listing,
                               roles=ROLE_ZH, departments=departments, error=error,
                               typed=typed or {}, done=request.args.get("done", "")), status

    @bp.get("/accounts")
    @allow("admin")
    def accounts_list() -> tuple[str, int]:
        return accounts_page()

    @bp.post("/accounts")
    @allow("admin")
    def accounts_add() -> tuple[str, int] | BaseResponse:
        form = {k: request.form.get(k, "").strip() for k in
                ("username", "display_name", "role", "department")}
        password = request.form.get("password", "")
        if password != request.form.get("password2", ""):
            return accounts_page(400, "两次输入的密码不一致", form)
        who = account().username  # read here: the job runs on the hub's request thread
        try:
            run(lambda conn: accounts.add(
                conn, form["username"], form["display_name"], form["role"],
                form["department"] or None, password, who, clock.now()))
        except UserError as err:
            return accounts_page(400, err.zh, form)
        return redirect(url_for("admin_pages.accounts_list", done=f"已开设账号 {form['username']}"),
                        303)

    @bp.post("/accounts/<username>/<action>")
    @allow("admin")
    def accounts_change(username: str, action: str) -> tuple[str, int] | BaseResponse:
        who = account().username
        try:
            if action in ("disable", "enable"):
                if action == "disable" and username == who:
                    return accounts_page(400, "不能停用自己的账号")
                run(lambda conn: accounts.set_active(conn, username, action == "enable", who,
                                                     clock.now()))
                done = f"{username} 已{'启用' if action == 'enable' else '停用'}"
            elif action == "password":
                password = request.form.get("password", "")
                if password != request.form.get("password2", ""):
                    return accounts_page(400, "两次输入的密码不一致")
                run(lambda conn: accounts.set_password(conn, username, password, who,
                                                       clock.now()))
                done = f"{username} 的密码已更改，该账号需重新登录"
            else:
                return accounts_page(404, f"没有这个操作：{action}")
        except UserError as err:
            return accounts_page(400, err.zh)
        return redirect(url_for("admin_pages.accounts_list", done=done), 303)

    return bp


# The audit log's before/after fields in words (the rest are shown as recorded).
FIELD_ZH = {"services": "办理事项", "role": "角色", "department": "部门", "name": "姓名",
            "active": "启用", "points": "分值", "status": "状态", "grade": "评价",
            "channel": "渠道", "notices": "公告", "complaint_phone": "投诉电话", "ticket": "号码",
            "group": "优先群体", "service": "事项", "id": "身份证", "until": "恢复日期",
            "lifted": "已解除", "conditions": "受理条件", "materials": "申请材料",
            "legal_days": "法定办结时限", "promised_days": "承诺办结时限", "fee": "收费",
            "title": "职务", "pin": "签到密码", "post_a": "A岗", "post_b": "B岗",
            "item_name": "事项名称", "prefix": "号段字母", "daily_cap": "每日放号量",
            "workday": "工作日", "weekend": "双休日", "holiday": "法定节假日",
            "own_hours": "单独设置取号时间",
            "device_name": "设备名称", "device_class": "设备类型", "location": "安装位置",
            "note": "备注", "repeat": "播报次数", "chime": "提示音", "quiet_hours": "静音时段",
            "text": "广播内容", "times": "播放时间"}
DAY_KINDS = ("workday", "weekend", "holiday")  # hours: an empty list is a day without tickets


def change_text(value: object) -> str:
    """A before/after record as a manager reads it: 办理事项：A、B；启用：否."""
    if not value:
        return ""
    if not isinstance(value, dict):
        return str(value)

    def shown(v: object, k: str) -> str:
        if v is None:
            return "—"
        if isinstance(v, bool):
            return "是" if v else "否"
        if isinstance(v, list):
            return "、".join(str(x) for x in v) or ("不取号" if k in DAY_KINDS else "（无）")
        return str(v)
    words: dict[str, dict[Any, str]] = {"role": ROLE_ZH, "device_class": CLASS_ZH}
    return "；".join(f"{FIELD_ZH.get(k, k)}："
                    f"{words[k].get(v, v) if k in words else shown(v, k)}"
                    for k, v in value.items())
