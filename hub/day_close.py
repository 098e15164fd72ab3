"""The end of a service day: what is still waiting is closed, with the reason recorded.

Tickets waiting at closing time stay in the queue for late service (延时服务制)
until the day ends. When the hub's clock passes into a new service day, every
ticket of an earlier day still waiting is closed with reason "end_of_day" and a
history line; nothing is dropped silently. A ticket being served across midnight
is left to its window, which finishes it as usual. A number no kiosk ever confirmed
as handed over is voided ("unconfirmed"): it reached nobody.

In the same transaction the closed days are rolled up for 今日与历史
(hub/history_figures.py): the day just ended, written again at every close (a second
close replaces its rows), and every earlier day without a rollup yet — a database from
before the rollup, days the hub was down at their end, a day that still had a ticket at
a window when it was closed.
"""

from __future__ import annotations

import logging
import time
from datetime import date, datetime

from sqlalchemy import Connection, insert, literal, select, update

from hub.db.schema import ticket_events, tickets
from hub.history_figures import days_to_roll_up, roll_up_days

log = logging.getLogger(__name__)

END_OF_DAY = "end_of_day"
UNCONFIRMED = "unconfirmed"


def close_past_days(conn: Connection, today: date, now: datetime) -> int:
    """Close the waiting tickets of days before `today` and roll up the days closed; how
    many tickets were closed."""
    left = (tickets.c.service_day < today) & (tickets.c.status == "waiting")
    conn.execute(insert(ticket_events).from_select(
        ["ticket_id", "at", "event", "window_number", "detail"],
        select(tickets.c.id, literal(now), literal("closed"), literal(None),
               literal({"reason": END_OF_DAY}, type_=ticket_events.c.detail.type))
        .where(left)))
    conn.execute(update(tickets)
                 .where(tickets.c.service_day < today, tickets.c.status == "pending")
                 .values(status="void", closed_reason=UNCONFIRMED))
    closed = conn.execute(
        update(tickets).where(left).values(status="closed", closed_reason=END_OF_DAY)
    ).rowcount
    started = time.monotonic()
    days = roll_up_days(conn, days_to_roll_up(conn, today), now)
    if len(days) > 1:  # more than the day just ended: a backfill
        log.info("rolled up %d days for 今日与历史 (%s to %s) in %.1f s", len(days), days[0],
                 days[-1], time.monotonic() - started)
    return closed
