"""人员与岗位: window staff and the windows' A/B posts, changed by managers on the dashboard.

A person a manager added or edited (`staff.edited_at`) and a window's posts a manager set
(`windows.posts_edited_at`) are the database's from then on: a new catalogue file neither
changes nor removes them (hub/catalogue_sync.py). Each change writes an audit line with
who, before and after; a PIN never appears there, nor its hash. PINs are hashed by the
caller (hub/pins.py, slow on purpose) before the change runs on the hub's thread.

Refusals are UserError with the reason in Chinese; nothing is changed then.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, func, insert, select, update

from hub import audit, hall_state
from hub.db.schema import staff, windows
from protocol.errors import ErrorCode, UserError

NUMBER = re.compile(r"[A-Za-z0-9]{2,16}")
PIN = re.compile(r"[0-9]{6}")
NAME_MAX = 50  # staff.name, staff.title


@dataclass(frozen=True)
class Person:
    """A member of staff as the page lists them."""

    number: str
    name: str
    department: str
    department_name: str
    title: str
    active: bool
    edited: bool  # added or changed by a manager: the catalogue file no longer decides
    on_duty: int | None  # the window they are signed in at now


@dataclass(frozen=True)
class Posts:
    """A window's A and B posts (staff numbers or None)."""

    window: int
    name: str
    post_a: str | None
    post_b: str | None
    on_duty: str | None
    edited: bool  # set by a manager: the catalogue file no longer decides


def _invalid(detail: str, zh: str) -> UserError:
    return UserError(ErrorCode.INVALID, detail, zh)


def check_pin_format(pin: str) -> str:
    """The PIN if it is six digits (0-9); otherwise refused (the PIN itself never quoted)."""
    if not PIN.fullmatch(pin):
        raise _invalid("pin format", "密码须为6位数字")
    return pin


# ---------------------------------------------------------------- reading


def list_staff(conn: Connection) -> list[Person]:
    duty: dict[str, int] = {s: w for w, s in conn.execute(
        select(windows.c.number, windows.c.on_duty).where(windows.c.on_duty.is_not(None)))}
    return [Person(r.number, r.name, r.department_code, r.department_name, r.title,
                   bool(r.active), r.edited_at is not None, duty.get(r.number))
            for r in conn.execute(select(staff).order_by(staff.c.department_code,
                                                         staff.c.number))]


def list_posts(conn: Connection) -> list[Posts]:
    return [Posts(r.number, r.name, r.post_a, r.post_b, r.on_duty,
                  r.posts_edited_at is not None)
            for r in conn.execute(select(windows.c.number, windows.c.name, windows.c.post_a,
                                         windows.c.post_b, windows.c.on_duty,
                                         windows.c.posts_edited_at)
                                  .order_by(windows.c.number))]


# ---------------------------------------------------------------- staff


def _department_name(conn: Connection, code: str) -> str:
    name = hall_state.departments(conn).get(code)
    if name is None:
        raise UserError(ErrorCode.UNKNOWN_DEPARTMENT, code[:20],
                        f"没有这个部门：{code[:20] or '（未选择）'}")
    return str(name)


def _text(value: str, what: str) -> str:
    value = value.strip()
    if not value:
        raise _invalid(f"{what} empty", f"请填写{what}")
    if len(value) > NAME_MAX:
        raise _invalid(f"{what} too long", f"{what}最多{NAME_MAX}字")
    return value


def _row(conn: Connection, number: str) -> Any:
    row = conn.execute(select(staff).where(staff.c.number == number)).one_or_none()
    if row is None:
        raise _invalid(f"no staff {number[:16]}", f"没有工号为{number[:16]}的工作人员")
    return row


def _shown(row: Any) -> dict[str, Any]:
    """What the audit log keeps of a person: never the PIN's hash."""
    return {"name": row.name, "department": row.department_code, "title": row.title,
            "active": bool(row.active)}


def add_staff(conn: Connection, number: str, name: str, department: str, title: str,
              pin_hash: str, who: str, now: datetime) -> None:
    """A new member of staff, active, without a photo (the screen shows the surname)."""
    number = number.strip()
    if not NUMBER.fullmatch(number):
        raise _invalid("staff number", "工号须为2–16位字母或数字")
    taken = conn.scalar(select(staff.c.number)
                        .where(func.upper(staff.c.number) == number.upper()))
    if taken is not None:
        raise _invalid(f"staff {number} exists", f"工号{taken}已有人使用")
    row = {"name": _text(name, "姓名"), "department_code": department,
           "department_name": _department_name(conn, department), "title": _text(title, "职务"),
           "photo": "", "pin_hash": pin_hash, "active": True, "edited_at": now}
    conn.execute(insert(staff).values(number=number, **row))
    audit.record(conn, now, who, "staff.add", f"staff {number}", None,
                 _shown(_row(conn, number)))


def edit_staff(conn: Connection, number: str, name: str, department: str, title: str,
               who: str, now: datetime) -> None:
    """A new name, department or title; shown on the window's screen at once if on duty."""
    before = _row(conn, number)
    conn.execute(update(staff).where(staff.c.number == number).values(
        name=_text(name, "姓名"), department_code=department,
        department_name=_department_name(conn, department), title=_text(title, "职务"),
        edited_at=now))
    audit.record(conn, now, who, "staff.edit", f"staff {number}", _shown(before),
                 _shown(_row(conn, number)))


def reset_pin(conn: Connection, number: str, pin_hash: str, who: str, now: datetime) -> None:
    """A new PIN (hashed already); the old one no longer signs in."""
    _row(conn, number)
    conn.execute(update(staff).where(staff.c.number == number)
                 .values(pin_hash=pin_hash, edited_at=now))
    audit.record(conn, now, who, "staff.pin", f"staff {number}", None, {"pin": "已重置"})


def set_active(conn: Connection, number: str, active: bool, who: str, now: datetime) -> None:
    """Disable (no sign-in any more) or enable again. Someone signed in at a window now is
    not disabled: they sign out at the window first (a case in hand is finished there)."""
    before = _row(conn, number)
    if not active:
        window = conn.scalar(select(windows.c.number).where(windows.c.on_duty == number))
        if window is not None:
            raise _invalid(f"{number} on duty at {window}",
                           f"{before.name}正在{window}号窗口签到值守，不能停用："
                           "请先在窗口签退后再停用")
    conn.execute(update(staff).where(staff.c.number == number)
                 .values(active=active, edited_at=now))
    audit.record(conn, now, who, "staff.enable" if active else "staff.disable",
                 f"staff {number}", {"active": bool(before.active)}, {"active": active})


# ---------------------------------------------------------------- posts


def set_posts(conn: Connection, window: int, post_a: str | None, post_b: str | None,
              who: str, now: datetime, *, from_file: bool = False) -> None:
    """A window's A and B posts, set by a manager; `from_file` hands them back to the
    catalogue file (its posts, taken as they are).

    A post newly given must go to active staff; a post kept as it was may keep someone
    disabled since. The same person cannot hold both posts.
    """
    row = conn.execute(select(windows.c.post_a, windows.c.post_b)
                       .where(windows.c.number == window)).one_or_none()
    if row is None:
        raise UserError(ErrorCode.UNKNOWN_WINDOW, f"window {window}", f"没有{window}号窗口")
    if post_a is not None and post_a == post_b:
        raise _invalid("same person both posts", "同一人不能同时担任A岗和B岗")
    for post, given, was in (("A", post_a, row.post_a), ("B", post_b, row.post_b)):
        if from_file or given is None or given == was:
            continue
        active = conn.scalar(select(staff.c.active).where(staff.c.number == given))
        if active is None:
            raise _invalid(f"no staff {given[:16]}", f"{post}岗：没有工号为{given[:16]}的工作人员")
        if not active:
            raise _invalid(f"staff {given} disabled", f"{post}岗：{given}已停用，不能上岗")
    conn.execute(update(windows).where(windows.c.number == window)
                 .values(post_a=post_a, post_b=post_b, updated_at=now,
                         posts_edited_at=None if from_file else now))
    audit.record(conn, now, who, "posts.reset" if from_file else "posts.set",
                 f"window {window}", {"A": row.post_a, "B": row.post_b},
                 {"A": post_a, "B": post_b})
