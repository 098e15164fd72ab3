"""An item's name, ticket letter (号段字母) and daily cap (放号量), set by a hall manager on
the dashboard (/items).

The catalogue file gives them at first; once a manager changes one, the item's row in
`services` keeps the manager's three (`setup_edited_at` set) over restarts and new
catalogue files (hub/catalogue_sync.py), until a manager hands them back to the file.

- The name is what the kiosk's button and the ticket say (1 to 30 characters).
- The letter starts the ticket number (A005). A new letter counts from the next ticket on:
  the hub numbers each letter on its own each day, so tickets already issued keep their
  numbers and no number is given twice. Items of one department usually share a letter;
  two departments sharing one is allowed (their tickets then share one count).
- The cap counts the kiosk's tickets of the item today (the guide desk may still issue);
  empty means no cap. A lower cap than today's count stops the kiosk at once.

Every change goes into the audit log with the three before and after.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, select, update

from hub import audit
from hub.catalogue import Catalogue
from hub.db.schema import services
from hub.item_guides import service_info
from protocol.errors import ErrorCode, UserError
from protocol.messages import ServiceInfo

MAX_NAME_CHARS = 30  # what a kiosk button shows on two lines
MAX_CAP = 9999
LETTERS = re.compile(r"^[A-Z]{1,2}$")


@dataclass(frozen=True)
class ItemSetup:
    name: str
    prefix: str
    daily_cap: int | None


def read(conn: Connection, code: str) -> ItemSetup:
    """An active item's name, letter and cap, or UserError if there is no such item."""
    row = conn.execute(select(services.c.name, services.c.prefix, services.c.daily_cap)
                       .where(services.c.code == code, services.c.active)).one_or_none()
    if row is None:
        raise UserError(ErrorCode.UNKNOWN_SERVICE, f"no active service {code[:40]}",
                        f"没有事项“{code[:40]}”")
    return ItemSetup(row.name, row.prefix, row.daily_cap)


def checked(name: str, prefix: str, daily_cap: str) -> ItemSetup:
    """The three as the kiosk will use them, or UserError saying in Chinese what is wrong."""
    name = " ".join(name.split())
    if not name:
        raise UserError(ErrorCode.INVALID, "no name", "请填写事项名称")
    if len(name) > MAX_NAME_CHARS:
        raise UserError(ErrorCode.INVALID, "name too long",
                        f"事项名称最多{MAX_NAME_CHARS}字（现有{len(name)}字）")
    prefix = prefix.strip().upper()
    if not LETTERS.match(prefix):
        raise UserError(ErrorCode.INVALID, "bad prefix",
                        "号段字母请填写1到2个英文字母（如A、B、AB）")
    cap_text = daily_cap.strip()
    cap: int | None = None
    if cap_text:
        try:
            cap = int(cap_text)
        except ValueError:
            raise UserError(ErrorCode.INVALID, "bad cap",
                            f"每日放号量请填写1到{MAX_CAP}之间的整数，不限量请留空") from None
        if not 1 <= cap <= MAX_CAP:
            raise UserError(ErrorCode.INVALID, "bad cap",
                            f"每日放号量请填写1到{MAX_CAP}之间的整数，不限量请留空，不能是{cap}")
    return ItemSetup(name, prefix, cap)


def read_caps(conn: Connection) -> dict[str, int]:
    """Every active item's cap, where it has one (the kiosk's issuing rules)."""
    return dict(conn.execute(select(services.c.code, services.c.daily_cap)
                             .where(services.c.active, services.c.daily_cap.is_not(None))).all())


def file_setup(catalogue: Catalogue, code: str) -> ItemSetup:
    """The catalogue file's name, letter and cap of an item."""
    s = next((s for s in catalogue.all_services() if s.code == code), None)
    if s is None:
        raise UserError(ErrorCode.UNKNOWN_SERVICE, f"{code[:40]} not in the catalogue",
                        f"目录文件中没有事项“{code[:40]}”")
    return ItemSetup(s.name, s.prefix, s.daily_cap)


def _for_audit(setup: ItemSetup) -> dict[str, Any]:
    return {"item_name": setup.name, "prefix": setup.prefix,
            "daily_cap": setup.daily_cap or "不限"}


def write(conn: Connection, code: str, setup: ItemSetup, who: str,
          now: datetime) -> ServiceInfo:
    """Keep the manager's name, letter and cap of an active item, with its audit line."""
    before = read(conn, code)
    conn.execute(update(services).where(services.c.code == code).values(
        **asdict(setup), setup_edited_at=now))
    audit.record(conn, now, who, "item.setup", code, _for_audit(before), _for_audit(setup))
    return service_info(conn, code)


def reset(conn: Connection, code: str, catalogue: Catalogue, who: str,
          now: datetime) -> ServiceInfo:
    """Hand an item's name, letter and cap back to the catalogue file, with its audit line."""
    before = read(conn, code)
    setup = file_setup(catalogue, code)
    conn.execute(update(services).where(services.c.code == code).values(
        **asdict(setup), setup_edited_at=None))
    audit.record(conn, now, who, "item.setup_reset", code, _for_audit(before),
                 _for_audit(setup))
    return service_info(conn, code)
