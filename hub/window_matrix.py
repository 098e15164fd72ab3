"""The window–service matrix: which windows serve which items, changed while the hall runs.

Managers move items between windows as the load shifts (000 §17). A change applies to the
next call (call next reads the matrix each time) and never strands a ticket: every active
item keeps at least one window, so whoever waits for it can still be called. An item
whose windows are all closed stays issuable, and the queue state shows it has no open
window. A window a manager changed keeps its services over restarts: from then on the
database, not the catalogue file, decides them, until it is reset to the file.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, delete, func, insert, select, update

from hub.db.schema import services, tickets, window_services, windows
from protocol.errors import ErrorCode, UserError

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class WindowServices:
    """One row of the matrix, as managers see it."""

    window: int
    name: str
    services: list[str]
    edited: bool  # set by a manager, not by the catalogue file


@dataclass(frozen=True)
class MatrixChange:
    """What one change did."""

    window: int
    added: list[str]
    removed: list[str]


def read_matrix(conn: Connection) -> dict[int, list[str]]:
    """Every window and the codes it serves (a window may serve nothing)."""
    matrix: dict[int, list[str]] = {n: [] for n in conn.scalars(select(windows.c.number))}
    for window, code in conn.execute(
            select(window_services.c.window_number, window_services.c.service_code)
            .order_by(window_services.c.window_number, window_services.c.service_code)):
        matrix[window].append(code)
    return matrix


def describe_matrix(conn: Connection) -> list[WindowServices]:
    """The matrix with window names and who set each row."""
    matrix = read_matrix(conn)
    return [WindowServices(n, name, matrix[n], edited is not None) for n, name, edited in
            conn.execute(select(windows.c.number, windows.c.name, windows.c.services_edited_at)
                         .order_by(windows.c.number))]


def set_window_services(conn: Connection, window: int, codes: list[str],
                        now: datetime | None) -> MatrixChange:
    """Give `window` exactly these services; `now` None hands the row back to the file.

    Refused with nothing changed: an unknown window or service, or a change that would
    leave an active item with no window at all.
    """
    if conn.scalar(select(windows.c.number).where(windows.c.number == window)) is None:
        raise UserError(ErrorCode.UNKNOWN_WINDOW, f"window {window}")
    wanted = set(codes)
    active = dict(conn.execute(select(services.c.code, services.c.active)
                               .where(services.c.code.in_(wanted))).all())
    if unknown := sorted(c for c in wanted if not active.get(c)):
        raise UserError(ErrorCode.UNKNOWN_SERVICE, ",".join(unknown),
                        f"没有这些服务事项（或已停用）：{'、'.join(unknown)}")
    current = set(read_matrix(conn)[window])
    removed, added = sorted(current - wanted), sorted(wanted - current)
    for code in removed:
        _keep_a_window(conn, window, code)
    if removed:
        conn.execute(delete(window_services).where(window_services.c.window_number == window,
                                                   window_services.c.service_code.in_(removed)))
    if added:
        conn.execute(insert(window_services),
                     [{"window_number": window, "service_code": c} for c in added])
    conn.execute(update(windows).where(windows.c.number == window)
                 .values(services_edited_at=now))
    log.info("window %s now serves %s (added %s, removed %s)", window, sorted(wanted),
             added, removed)
    return MatrixChange(window, added, removed)


def _keep_a_window(conn: Connection, window: int, code: str) -> None:
    """Refuse to take an active item's last window away: its tickets would be stranded."""
    others = conn.scalar(select(func.count()).select_from(window_services).where(
        window_services.c.service_code == code, window_services.c.window_number != window))
    name, active = conn.execute(select(services.c.name, services.c.active)
                                .where(services.c.code == code)).one()
    if others or not active:
        return
    waiting = conn.scalar(select(func.count()).select_from(tickets).where(
        tickets.c.service_code == code, tickets.c.status == "waiting")) or 0
    people = f"（现有{waiting}人等候）" if waiting else ""
    raise UserError(ErrorCode.LAST_WINDOW, f"{code} last window {window}",
                    f"「{name}」只有{window}号窗口办理{people}，移走后将没有窗口办理："
                    "请先把它安排到其他窗口")
