"""How long a newcomer will wait, per service: the figure on the kiosk and the ticket.

Estimate = ceil(people ahead / open windows serving the service) × the average
service time today (call → finish) of the tickets those windows finished, or
DEFAULT_SERVICE_S until there are MIN_SAMPLES of them. "People ahead" counts
everyone waiting for any service those windows serve (a comprehensive window
serves many items, so they all compete), issued before the newcomer. None when
no window serving it is open: the kiosk then says so instead of guessing.
"""

from __future__ import annotations

import math
from datetime import date

from sqlalchemy import Connection, bindparam, func, select

from hub.db.prepared import Prepared
from hub.db.schema import WINDOW_STAFFED, tickets, window_services, windows

DEFAULT_SERVICE_S = 480  # 8 minutes: a county hall's usual case before the day has data
MIN_SAMPLES = 3

# The services that compete with b_code: all served by a window that serves b_code.
_WINDOWS_OF = select(window_services.c.window_number).where(
    window_services.c.service_code == bindparam("b_code"))
_COMPETING = select(window_services.c.service_code).where(
    window_services.c.window_number.in_(_WINDOWS_OF))
_SERVICE_TIME = Prepared(
    select(func.count(tickets.c.service_seconds), func.avg(tickets.c.service_seconds))
    .where(tickets.c.service_day == bindparam("b_day"), tickets.c.status == "finished",
           tickets.c.service_code.in_(_COMPETING),  # (the queue index covers these)
           tickets.c.service_seconds.is_not(None)))
_AHEAD = Prepared(
    select(func.count())
    .where(tickets.c.service_day == bindparam("b_day"), tickets.c.status == "waiting",
           tickets.c.service_code.in_(_COMPETING), tickets.c.id < bindparam("b_id")))
_PRIORITY_AHEAD = Prepared(  # a priority ticket waits only for the priority tickets before it
    select(func.count())
    .where(tickets.c.service_day == bindparam("b_day"), tickets.c.status == "waiting",
           tickets.c.service_code.in_(_COMPETING), tickets.c.id < bindparam("b_id"),
           tickets.c.priority.is_not(None)))
_OPEN_FOR = Prepared(
    select(func.count()).select_from(window_services.join(windows))
    .where(window_services.c.service_code == bindparam("b_code"), WINDOW_STAFFED))


def average_service_s(samples: int, average: float | None) -> int:
    """Today's average, once there are enough finished cases to trust it."""
    if samples < MIN_SAMPLES or average is None:
        return DEFAULT_SERVICE_S
    return round(average)


def estimate_s(ahead: int, open_windows: int, service_s: int) -> int | None:
    """Seconds until a newcomer is called, or None when nobody serves the service now."""
    if open_windows == 0:
        return None
    return math.ceil(ahead / open_windows) * service_s


def estimate_for(conn: Connection, day: date, service: str, ticket_id: int,
                 priority: bool = False) -> int | None:
    """The estimate for the new ticket `ticket_id` of `service`."""
    open_windows = _OPEN_FOR.scalar(conn, {"b_code": service}) or 0
    if open_windows == 0:
        return None
    samples, average = _SERVICE_TIME.one_or_none(conn, {"b_day": day, "b_code": service}) \
        or (0, None)
    count = _PRIORITY_AHEAD if priority else _AHEAD
    ahead = count.scalar(conn, {"b_day": day, "b_code": service, "b_id": ticket_id}) or 0
    return estimate_s(ahead, open_windows, average_service_s(samples, average))
