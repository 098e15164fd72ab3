"""办公时间: when tickets are issued, as managers set it on the dashboard (/hours).

The catalogue file gives the hall's hours and those of the windows and items that have
their own (hub/catalogue `Hours`: spans on working days, weekends and statutory holidays;
how they combine: hub/issuing.py). A manager's hours for the hall, a window or an item are
kept in `managed_hours` and replace the file's over restarts and new catalogue files, until
"恢复目录文件" hands them back (the row goes). A window or item that the file gives hours
of its own can also be made to follow the hall's (or its windows') again: a row with no
hours. Every change goes into the audit log with the hours before and after.

What a manager types, one field per kind of day: spans "HH:MM-HH:MM" separated by "、",
"," or spaces (full-width "，" "：" "～" too); nothing: no tickets that kind of day.
- 午间服务制 (no lunch break): ``08:30-17:30``
- a lunch break is two spans: ``08:30-12:00、14:00-17:30``
- 延时服务: a later end, ``08:30-19:00``
- weekend duty (双休日服务制): weekend spans on the duty window, ``09:00-17:00``
- 法定节假日: closed unless spans are set.
Each span starts before it ends, spans do not overlap, at most MAX_SPANS a day; the hall
issues on some working-day span. A refusal says in Chinese what is wrong.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, time
from typing import Any, Literal

from sqlalchemy import Connection, delete, insert, select

from hub import audit
from hub.catalogue import Catalogue, Hours
from hub.db.schema import managed_hours
from hub.issuing import HoursPlan, parse_spans
from protocol.errors import ErrorCode, UserError

DayKind = Literal["workday", "weekend", "holiday"]
KINDS: tuple[DayKind, ...] = ("workday", "weekend", "holiday")
KIND_ZH: dict[str, str] = {"workday": "工作日", "weekend": "双休日", "holiday": "法定节假日"}
MAX_SPANS = 4  # a day's spans at most: morning, afternoon, an evening or two

Scope = Literal["hall", "window", "item"]
Owner = tuple[Scope, str]  # ("hall", ""), ("window", "1"), ("item", "GA_HJQY")
HALL: Owner = ("hall", "")

_WIDE = str.maketrans({"：": ":", "，": ",", "－": "-", "—": "-", "–": "-", "~": "-",
                       "～": "-", "至": "-", "　": " "})
_SPLIT = re.compile(r"[、,;；\s]+")
_SPAN = re.compile(r"^(\d{1,2}):(\d{2})-(\d{1,2}):(\d{2})$")
_OWNER = re.compile(r"^(?:hall|window-([0-9]{1,3})|item-([A-Z0-9_]{2,32}))$")


@dataclass(frozen=True)
class Managed:
    """A manager's hours for one owner; `hours` None: none of its own (follows)."""

    hours: Hours | None
    changed_at: datetime
    changed_by: str


# ------------------------------------------------------------------------- reading text


def _bad(what: str, zh: str) -> UserError:
    return UserError(ErrorCode.INVALID, what, zh)


def parse_day(text: str, kind: DayKind) -> list[str]:
    """One kind of day's spans as typed ("08:30-12:00、14:00-17:30"), in order and written
    "HH:MM-HH:MM"; UserError in Chinese when one is not a span, runs backwards, overlaps
    another, or there are too many."""
    what = KIND_ZH[kind]
    cleaned = re.sub(r"\s*-\s*", "-", text.translate(_WIDE)).strip()
    spans: list[tuple[time, time]] = []
    for part in filter(None, _SPLIT.split(cleaned)):
        shown = part[:20]
        found = _SPAN.match(part)
        if found is None:
            raise _bad(f"bad span {shown}",
                       f"{what}：“{shown}”不是时间段，请写成“08:30-12:00”，多段用“、”隔开")
        h1, m1, h2, m2 = (int(g) for g in found.groups())
        if max(h1, h2) > 23 or max(m1, m2) > 59:
            raise _bad(f"no such time {shown}",
                       f"{what}：“{shown}”中的时间不存在（时为00至23，分为00至59）")
        start, end = time(h1, m1), time(h2, m2)
        if start >= end:
            raise _bad(f"span backwards {shown}",
                       f"{what}：“{shown}”的开始时间须早于结束时间")
        spans.append((start, end))
    if len(spans) > MAX_SPANS:
        raise _bad(f"{len(spans)} spans", f"{what}最多{MAX_SPANS}个时间段（现有{len(spans)}个）")
    spans.sort()
    for (a1, b1), (a2, b2) in zip(spans, spans[1:], strict=False):
        if a2 < b1:
            raise _bad("spans overlap", f"{what}：{a1:%H:%M}-{b1:%H:%M}与{a2:%H:%M}-{b2:%H:%M}"
                                        "重叠，请合并为一段或调整时间")
    return [f"{a:%H:%M}-{b:%H:%M}" for a, b in spans]


def checked(owner: Owner, workday: str, weekend: str, holiday: str) -> Hours:
    """The hours as typed, checked (see the module's docstring), or UserError."""
    hours = Hours(workday=parse_day(workday, "workday"), weekend=parse_day(weekend, "weekend"),
                  holiday=parse_day(holiday, "holiday"))
    if owner == HALL and not hours.workday:
        raise _bad("hall closed on workdays", "大厅工作日至少要有一个取号时间段")
    return hours


def outside(hours: Hours, bounds: list[Hours]) -> str | None:
    """The first span of `hours` that lies within no span of `bounds` on its kind of day
    ("双休日 09:00-12:00"), or None when all do."""
    for kind in KINDS:
        allowed = parse_spans([s for b in bounds for s in getattr(b, kind)])
        for span in getattr(hours, kind):
            [(start, end)] = parse_spans([span])
            if not any(a <= start and end <= b for a, b in allowed):
                return f"{KIND_ZH[kind]} {span}"
    return None


def day_text(spans: list[str]) -> str:
    """Spans as the page shows them and the form takes them back."""
    return "、".join(spans)


# ---------------------------------------------------------------------------- owners


def owner_of(text: str) -> Owner:
    """"hall", "window-3" or "item-GA_HJQY" (the page's forms) as an owner."""
    found = _OWNER.match(text)
    if found is None:
        raise UserError(ErrorCode.INVALID, f"bad owner {text[:40]}", "没有这个取号时间设置")
    if found.group(1):
        return ("window", str(int(found.group(1))))
    if found.group(2):
        return ("item", found.group(2))
    return HALL


def owner_id(owner: Owner) -> str:
    """The owner as the page's forms and anchors name it."""
    scope, key = owner
    return "hall" if scope == "hall" else f"{scope}-{key}"


def owner_name(catalogue: Catalogue, owner: Owner) -> str:
    """大厅, a window's name, or an item's name; UserError for one not in the catalogue."""
    scope, key = owner
    if scope == "hall":
        return "大厅"
    if scope == "window":
        window = next((w for w in catalogue.windows if str(w.number) == key), None)
        if window is None:
            raise UserError(ErrorCode.UNKNOWN_WINDOW, f"window {key} not in the catalogue",
                            f"{key}号窗口不在目录文件中")
        return window.name
    item = next((s for s in catalogue.all_services() if s.code == key), None)
    if item is None:
        raise UserError(ErrorCode.UNKNOWN_SERVICE, f"{key} not in the catalogue",
                        f"目录文件中没有事项“{key}”")
    return item.name


def file_hours(catalogue: Catalogue, owner: Owner) -> Hours | None:
    """The catalogue file's hours of an owner (None: a window or item without its own)."""
    owner_name(catalogue, owner)
    scope, key = owner
    if scope == "hall":
        return catalogue.hours
    if scope == "window":
        return next(w.hours for w in catalogue.windows if str(w.number) == key)
    return next(s.hours for s in catalogue.all_services() if s.code == key)


def own_hours(plan: HoursPlan, owner: Owner) -> Hours | None:
    """The hours an owner has of its own now (the hall always has)."""
    scope, key = owner
    if scope == "hall":
        return plan.hall
    if scope == "window":
        return plan.windows.get(int(key))
    return plan.items.get(key)


# --------------------------------------------------------------------------- storage


def read(conn: Connection) -> dict[Owner, Managed]:
    """Every manager's hours, by owner."""
    return {(r.scope, r.key): Managed(None if r.hours is None else Hours.model_validate(r.hours),
                                      r.changed_at, r.changed_by)
            for r in conn.execute(select(managed_hours))}


def plan(catalogue: Catalogue, managed: dict[Owner, Managed]) -> HoursPlan:
    """The hours in force: the file's, with the managers' in place of them. A manager's
    hours of a window or item no longer in the file wait unused (the file may bring it back)."""
    file = HoursPlan.of(catalogue)
    hall = managed[HALL].hours if HALL in managed else None
    windows, items = dict(file.windows), dict(file.items)
    numbers = {w.number for w in catalogue.windows}
    codes = {s.code for s in catalogue.all_services()}
    for (scope, key), m in managed.items():
        if scope == "window" and key.isdigit() and int(key) in numbers:
            _put(windows, int(key), m.hours)
        elif scope == "item" and key in codes:
            _put(items, key, m.hours)
    return HoursPlan(hall or file.hall, windows, items)


def _put(own: dict[Any, Hours], key: Any, hours: Hours | None) -> None:
    if hours is None:
        own.pop(key, None)
    else:
        own[key] = hours


def for_audit(hours: Hours | None) -> dict[str, Any]:
    """Hours as the audit log keeps them (hub/web/admin_pages.py FIELD_ZH shows them)."""
    if hours is None:
        return {"own_hours": False}
    return {"workday": hours.workday, "weekend": hours.weekend, "holiday": hours.holiday}


def _target(owner: Owner) -> str:
    scope, key = owner
    return "hall" if scope == "hall" else f"{scope} {key}"


def _store(conn: Connection, owner: Owner, hours: Hours | None, who: str,
           now: datetime) -> None:
    scope, key = owner
    conn.execute(delete(managed_hours).where(managed_hours.c.scope == scope,
                                             managed_hours.c.key == key))
    conn.execute(insert(managed_hours).values(
        scope=scope, key=key, hours=None if hours is None else hours.model_dump(),
        changed_at=now, changed_by=who[:50]))


def write(conn: Connection, catalogue: Catalogue, owner: Owner, hours: Hours, who: str,
          now: datetime) -> dict[Owner, Managed]:
    """Keep a manager's hours of the hall, a window or an item, with the audit line; every
    manager's hours after it."""
    owner_name(catalogue, owner)
    before = own_hours(plan(catalogue, read(conn)), owner)
    _store(conn, owner, hours, who, now)
    audit.record(conn, now, who, "hours.set", _target(owner), for_audit(before),
                 for_audit(hours))
    return read(conn)


def follow(conn: Connection, catalogue: Catalogue, owner: Owner, who: str,
           now: datetime) -> dict[Owner, Managed]:
    """A window (an item) has no hours of its own any more: it follows the hall's (its
    windows')."""
    if owner == HALL:
        raise _bad("the hall follows no one", "大厅的取号时间不能取消")
    owner_name(catalogue, owner)
    managed = read(conn)
    before = own_hours(plan(catalogue, managed), owner)
    if before is None:
        raise _bad("no hours of its own", "没有单独设置的取号时间，无需取消")
    if file_hours(catalogue, owner) is None:  # the file's way already: no row needed
        conn.execute(delete(managed_hours).where(managed_hours.c.scope == owner[0],
                                                 managed_hours.c.key == owner[1]))
    else:
        _store(conn, owner, None, who, now)
    audit.record(conn, now, who, "hours.follow", _target(owner), for_audit(before),
                 for_audit(None))
    return read(conn)


def reset(conn: Connection, catalogue: Catalogue, owner: Owner, who: str,
          now: datetime) -> dict[Owner, Managed]:
    """Hand an owner's hours back to the catalogue file, with the audit line."""
    after = file_hours(catalogue, owner)
    before = own_hours(plan(catalogue, read(conn)), owner)
    conn.execute(delete(managed_hours).where(managed_hours.c.scope == owner[0],
                                             managed_hours.c.key == owner[1]))
    audit.record(conn, now, who, "hours.reset", _target(owner), for_audit(before),
                 for_audit(after))
    return read(conn)
