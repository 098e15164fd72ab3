"""办公时间 on the dashboard (/hours): when kiosks issue tickets — the hall's hours, and
those of the windows and items that have their own — on 工作日, 双休日 and 法定节假日,
changed while the hall runs.

Each row is edited with one text field per kind of day (spans "08:30-12:00" separated by
"、", "," or spaces; hub/hall_hours.py says what is accepted), handed back to the catalogue
file ("恢复目录文件"), or, for a window or item, made to follow the hall's (its windows')
hours again; a window or item without hours of its own can be given some. A change is in
force for the next ticket, and every kiosk shows it at once (LiveSettings: the queue state
with "现在不在取号时间" and the next opening is sent again); it goes into the audit log by
name. A refused change says why in Chinese and keeps what was typed. After a change the
page shows the next opening of a few items it touches ("下次取号时间").

Who may change what:
- administrators and managers: every row;
- a department lead (部门负责人): its own department's items only, and only within the
  hours of the windows that serve them. The hall's hours bind every department stationed
  in it and a 综合窗口 serves several departments' items, so those stay with the hall's
  management; but when a department takes one of its items (say, only in the mornings,
  or stopping earlier for same-day processing) is the department's business, as its
  items' 一次性告知 are on /items. Kept within the windows' hours, a lead can narrow an
  item's hours but never open it when nobody is at its windows (a Saturday ticket for a
  window with no weekend duty); only its own department's items are listed to it;
- guides and viewers read (the guide desk answers "when can I come back?").
"""

from __future__ import annotations

from dataclasses import dataclass

from flask import Blueprint, abort, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from hub import hall_hours
from hub.accounts import Role
from hub.catalogue import Hours
from hub.hall_hours import HALL, KIND_ZH, Managed, Owner
from hub.live_settings import LiveSettings
from hub.web.auth import ALL_ROLES, account, allow, department_scope
from hub.web.settings_pages import BUSY_ZH
from protocol.errors import UserError

EDITORS: tuple[Role, ...] = ("admin", "manager", "department")
EXAMPLES = 6  # items whose next opening the page shows


@dataclass(frozen=True)
class Row:
    """One line of the table: the hall, a window or an item, and its hours now."""

    owner: Owner
    id: str  # "hall", "window-1", "item-GA_HJQY"
    name: str
    detail: str  # the window's number, or the item's code and department
    hours: Hours | None  # its own; None: follows the hall's (its windows')
    from_file: bool  # the catalogue file's hours, no manager's
    managed: Managed | None
    may_edit: bool


def hours_page(live: LiveSettings, hall_name: str) -> Blueprint:
    bp = Blueprint("hours_page", __name__)
    catalogue = live.catalogue

    def may_edit(owner: Owner) -> bool:
        role = account().role
        if role in ("admin", "manager"):
            return True
        if role != "department" or owner[0] != "item":
            return False
        return next(s.department for s in catalogue.all_services()
                    if s.code == owner[1]) == department_scope()

    def rows() -> tuple[list[Row], list[tuple[str, str]]]:
        """The table's rows, and (id, name) of those that could get hours of their own."""
        plan, managed = live.hours()
        scope = department_scope()
        found: list[Row] = []
        others: list[tuple[str, str]] = []
        owners: list[tuple[Owner, str, str]] = [(HALL, "大厅", "所有窗口和事项，另有设置的除外")]
        owners += [(("window", str(w.number)), w.name, f"{w.number}号窗口")
                   for w in catalogue.windows]
        owners += [(("item", s.code), s.name,
                    f"{s.code} · {catalogue.department_name(s.department)}")
                   for s in catalogue.all_services() if scope in (None, s.department)]
        for owner, name, detail in owners:
            own = hall_hours.own_hours(plan, owner)
            row = managed.get(owner)
            if own is None and row is None:
                if may_edit(owner):
                    others.append((hall_hours.owner_id(owner), f"{name}（{detail}）"))
                continue
            found.append(Row(owner, hall_hours.owner_id(owner), name, detail, own, row is None,
                             row, may_edit(owner)))
        return found, others

    def examples(shown: str) -> list[tuple[str, str, str | None, str]]:
        """(name, code, issued until or None, next opening) of a few items the change
        touches."""
        try:
            owner = hall_hours.owner_of(shown or "hall")
        except UserError:
            owner = HALL
        plan = live.issuing.plan
        names = {s.code: s.name for s in catalogue.all_services()}
        windows_of = live.issuing.windows_of
        if owner[0] == "item" and owner[1] in names:
            codes = [owner[1]]
        elif owner[0] == "window":
            codes = [c for c in names if int(owner[1]) in windows_of.get(c, [])
                     and c not in plan.items]
        else:  # the hall's: items that follow it, then one of each window with its own
            codes = [c for c in names if c not in plan.items
                     and not any(w in plan.windows for w in windows_of.get(c, []))][:4]
            for window in sorted(plan.windows):
                codes += [c for c in names if c not in plan.items
                          and window in windows_of.get(c, [])][:1]
        return [(names[c], c, until, when)
                for c, until, when in live.next_openings(codes[:EXAMPLES])]

    def page(status: int = 200, error: str = "",
             typed: dict[str, str] | None = None) -> tuple[str, int]:
        found, others = rows()
        local = live.clock.local(live.clock.now())
        hall = live.issuing.plan.hall
        return render_template(
            "hours.html", hall_name=hall_name, rows=found, others=others, kinds=KIND_ZH,
            day_text=hall_hours.day_text, typed=typed or {}, error=error,
            done=request.args.get("done", ""),
            examples=examples(request.args.get("shown", "")[:50]),
            now=local, day_kind=KIND_ZH[live.calendar.day_kind(local.date())],
            weekday="一二三四五六日"[local.weekday()], hall=hall,
            may_add=bool(others), max_spans=hall_hours.MAX_SPANS), status

    def owner_in_scope() -> tuple[Owner, str]:
        """The row being changed, if this account may change it: else 404 or 403."""
        try:
            owner = hall_hours.owner_of(request.form.get("owner", "")[:50])
            name = hall_hours.owner_name(catalogue, owner)
        except UserError:
            abort(404)
        if not may_edit(owner):
            abort(403)
        return owner, name

    def done(owner: Owner, message: str) -> Response:
        shown = hall_hours.owner_id(owner)
        return redirect(url_for("hours_page.hours", done=message, shown=shown,
                                _anchor="next-openings"), 303)

    def follows(owner: Owner) -> str:
        return "按大厅的取号时间" if owner[0] == "window" else "按办理窗口的取号时间"

    @bp.get("/hours")
    @allow(*ALL_ROLES)
    def hours() -> tuple[str, int]:
        return page()

    @bp.post("/hours")
    @allow(*EDITORS)
    def set_hours() -> tuple[str, int] | Response:
        owner, name = owner_in_scope()
        typed = {k: request.form.get(k, "")[:200] for k in ("workday", "weekend", "holiday")}
        typed["owner"] = hall_hours.owner_id(owner)
        try:
            live.set_hours(owner, typed["workday"], typed["weekend"], typed["holiday"],
                           account().username, within_windows=account().role == "department")
        except UserError as err:
            return page(400, f"「{name}」的取号时间未修改：{err.zh}", typed)
        except TimeoutError:
            return page(503, BUSY_ZH, typed)
        message = f"「{name}」的取号时间已更新，各取号机即时生效"
        if owner == HALL:
            own = [catalogue_window(n) for n in sorted(live.issuing.plan.windows)]
            if own:
                message += f"；{'、'.join(own)}另有取号时间，不随大厅变化"
        return done(owner, message)

    def catalogue_window(number: int) -> str:
        return next(w.name for w in catalogue.windows if w.number == number)

    @bp.post("/hours/follow")
    @allow(*EDITORS)
    def follow() -> tuple[str, int] | Response:
        owner, name = owner_in_scope()
        try:
            live.follow_hours(owner, account().username)
        except UserError as err:
            return page(400, f"「{name}」的取号时间未修改：{err.zh}")
        except TimeoutError:
            return page(503, BUSY_ZH)
        return done(owner, f"「{name}」不再单独设置取号时间，{follows(owner)}")

    @bp.post("/hours/reset")
    @allow(*EDITORS)
    def reset() -> tuple[str, int] | Response:
        owner, name = owner_in_scope()
        try:
            live.reset_hours(owner, account().username)
        except UserError as err:
            return page(400, f"「{name}」的取号时间未恢复：{err.zh}")
        except TimeoutError:
            return page(503, BUSY_ZH)
        return done(owner, f"「{name}」的取号时间已恢复为目录文件的设置")

    return bp
