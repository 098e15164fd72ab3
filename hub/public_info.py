"""公开信息 on the hall's main screen: the complaint line and short notices (公告).

The catalogue file gives them at first; once a manager changes them on the dashboard, the
database keeps the manager's text (table `hall_texts`) over restarts and new catalogue
files, until it is changed again. Every change goes into the audit log.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, delete, insert, select

from hub import audit
from hub.db.schema import hall_texts
from protocol.errors import ErrorCode, UserError

MAX_NOTICES = 10
MAX_NOTICE_CHARS = 60  # what the main screen's notice band shows on one line
MAX_PHONE_CHARS = 40


@dataclass(frozen=True)
class PublicInfo:
    complaint_phone: str
    notices: tuple[str, ...]


def read(conn: Connection, default: PublicInfo) -> PublicInfo:
    """The manager's text where there is one, else the catalogue file's."""
    stored = {r.key: r.value for r in conn.execute(select(hall_texts.c.key, hall_texts.c.value))}
    phone = stored.get("complaint_phone", default.complaint_phone)
    notices = stored.get("notices", list(default.notices))
    return PublicInfo(str(phone), tuple(str(n) for n in notices))


def checked(phone: str, notices: list[str]) -> PublicInfo:
    """The text as the screen will show it, or UserError saying what is wrong."""
    lines = [n.strip() for n in notices if n.strip()]
    if len(lines) > MAX_NOTICES:
        raise UserError(ErrorCode.INVALID, f"{len(lines)} notices",
                        f"公告最多{MAX_NOTICES}条（现有{len(lines)}条）")
    long = next((n for n in lines if len(n) > MAX_NOTICE_CHARS), None)
    if long is not None:
        raise UserError(ErrorCode.INVALID, "notice too long",
                        f"每条公告最多{MAX_NOTICE_CHARS}字：“{long[:20]}…”有{len(long)}字")
    if len(phone.strip()) > MAX_PHONE_CHARS:
        raise UserError(ErrorCode.INVALID, "phone too long", "投诉电话太长")
    return PublicInfo(phone.strip(), tuple(lines))


def write(conn: Connection, info: PublicInfo, before: PublicInfo, who: str,
          now: datetime) -> None:
    """Keep the manager's text, with its audit line."""
    for key, value in (("complaint_phone", info.complaint_phone),
                       ("notices", list(info.notices))):
        conn.execute(delete(hall_texts).where(hall_texts.c.key == key))
        conn.execute(insert(hall_texts).values(key=key, value=value, changed_at=now,
                                               changed_by=who[:50]))
    audit.record(conn, now, who, "public_info.set", "main screen",
                 {"complaint_phone": before.complaint_phone, "notices": list(before.notices)},
                 {"complaint_phone": info.complaint_phone, "notices": list(info.notices)})
