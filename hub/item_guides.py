"""事项与办事指南: an item's 一次性告知 (conditions, materials, fee, time limits), changed by
a manager on the dashboard (/items).

The catalogue file gives them at first; once a manager changes an item, its row in
`services` keeps the manager's text (`edited_at` set) over restarts and new catalogue
files (hub/catalogue_sync.py), until a manager hands it back to the file (reset). Every
change goes into the audit log with the text before and after.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, select, update

from hub import audit, hall_state
from hub.catalogue import Catalogue
from hub.db.schema import services
from protocol.errors import ErrorCode, UserError
from protocol.messages import ServiceInfo

MAX_LINES = 30
MAX_LINE_CHARS = 200
MAX_FEE_CHARS = 200
MAX_DAYS = 365


@dataclass(frozen=True)
class ItemGuide:
    """What the kiosk tells a citizen before the ticket (MANAGED_ITEM_FIELDS)."""

    conditions: tuple[str, ...]
    materials: tuple[str, ...]
    legal_days: int
    promised_days: int
    fee: str

    def for_audit(self) -> dict[str, Any]:
        return {**asdict(self), "conditions": list(self.conditions),
                "materials": list(self.materials)}


@dataclass(frozen=True)
class Item:
    """An active item (or 一件事) as the page lists it."""

    code: str
    name: str
    kind: str  # "item" or "bundle"
    department: str  # department code
    department_name: str
    guide: ItemGuide
    edited_at: datetime | None
    prefix: str = ""  # 号段字母, with the name and cap set in hub/item_setup.py
    daily_cap: int | None = None
    setup_edited_at: datetime | None = None


def _item(row: Any) -> Item:
    return Item(code=row.code, name=row.name, kind=row.kind, department=row.department_code,
                department_name=row.department_name, edited_at=row.edited_at,
                guide=ItemGuide(tuple(row.conditions), tuple(row.materials), row.legal_days,
                                row.promised_days, row.fee),
                prefix=row.prefix, daily_cap=row.daily_cap,
                setup_edited_at=row.setup_edited_at)


def read_items(conn: Connection, department: str | None = None) -> list[Item]:
    """The active items, of one department or all, in the kiosk's order (prefix, code)."""
    query = (select(services).where(services.c.active)
             .order_by(services.c.prefix, services.c.code))
    if department is not None:
        query = query.where(services.c.department_code == department)
    return [_item(r) for r in conn.execute(query)]


def read_item(conn: Connection, code: str) -> Item:
    """One active item, or UserError if there is none by that code."""
    row = conn.execute(select(services).where(services.c.code == code,
                                              services.c.active)).one_or_none()
    if row is None:
        raise UserError(ErrorCode.UNKNOWN_SERVICE, f"no active service {code[:40]}",
                        f"没有事项“{code[:40]}”")
    return _item(row)


def _lines(text: list[str], what: str) -> tuple[str, ...]:
    lines = tuple(line.strip() for line in text if line.strip())
    if not lines:
        raise UserError(ErrorCode.INVALID, f"no {what}", f"{what}至少填写一条（每行一条）")
    if len(lines) > MAX_LINES:
        raise UserError(ErrorCode.INVALID, f"too many {what}",
                        f"{what}最多{MAX_LINES}条（现有{len(lines)}条）")
    long = next((line for line in lines if len(line) > MAX_LINE_CHARS), None)
    if long is not None:
        raise UserError(ErrorCode.INVALID, f"{what} too long",
                        f"{what}每条最多{MAX_LINE_CHARS}字：“{long[:20]}…”有{len(long)}字")
    return lines


def _days(value: int | str, what: str) -> int:
    try:
        days = int(str(value).strip())
    except ValueError:
        raise UserError(ErrorCode.INVALID, f"bad {what}",
                        f"{what}请填写0到{MAX_DAYS}之间的整数（工作日）") from None
    if not 0 <= days <= MAX_DAYS:
        raise UserError(ErrorCode.INVALID, f"bad {what}",
                        f"{what}请填写0到{MAX_DAYS}之间的整数（工作日），不能是{days}")
    return days


def checked(conditions: list[str], materials: list[str], legal_days: int | str,
            promised_days: int | str, fee: str) -> ItemGuide:
    """The 一次性告知 as the kiosk will show it (one line each, blank lines dropped), or
    UserError saying in Chinese what is wrong."""
    legal = _days(legal_days, "法定办结时限")
    promised = _days(promised_days, "承诺办结时限")
    if promised > legal:
        raise UserError(ErrorCode.INVALID, "promised beyond the legal limit",
                        f"承诺办结时限（{promised}个工作日）不能超过法定办结时限（{legal}个工作日）")
    fee = fee.strip()
    if len(fee) > MAX_FEE_CHARS:
        raise UserError(ErrorCode.INVALID, "fee too long",
                        f"收费标准最多{MAX_FEE_CHARS}字（现有{len(fee)}字）")
    return ItemGuide(_lines(conditions, "受理条件"), _lines(materials, "申请材料"), legal,
                     promised, fee or "不收费")


def file_guide(catalogue: Catalogue, code: str) -> ItemGuide:
    """The catalogue file's 一次性告知 of an item."""
    s = next((s for s in catalogue.all_services() if s.code == code), None)
    if s is None:
        raise UserError(ErrorCode.UNKNOWN_SERVICE, f"{code[:40]} not in the catalogue",
                        f"目录文件中没有事项“{code[:40]}”")
    return ItemGuide(tuple(s.conditions), tuple(s.materials), s.legal_days, s.promised_days,
                     s.fee)


def service_info(conn: Connection, code: str) -> ServiceInfo:
    """The item as the catalogue state shows it to kiosks."""
    return hall_state.service_info(
        conn.execute(select(services).where(services.c.code == code)).mappings().one())


def _store(conn: Connection, code: str, guide: ItemGuide, edited_at: datetime | None) -> None:
    conn.execute(update(services).where(services.c.code == code).values(
        conditions=list(guide.conditions), materials=list(guide.materials),
        legal_days=guide.legal_days, promised_days=guide.promised_days, fee=guide.fee,
        edited_at=edited_at))


def write(conn: Connection, code: str, guide: ItemGuide, who: str,
          now: datetime) -> ServiceInfo:
    """Keep the manager's 一次性告知 of an active item, with its audit line."""
    before = read_item(conn, code).guide
    _store(conn, code, guide, now)
    audit.record(conn, now, who, "item.edit", code, before.for_audit(), guide.for_audit())
    return service_info(conn, code)


def reset(conn: Connection, code: str, catalogue: Catalogue, who: str,
          now: datetime) -> ServiceInfo:
    """Hand an item's 一次性告知 back to the catalogue file, with its audit line."""
    before = read_item(conn, code).guide
    guide = file_guide(catalogue, code)
    _store(conn, code, guide, None)
    audit.record(conn, now, who, "item.reset", code, before.for_audit(), guide.for_audit())
    return service_info(conn, code)
