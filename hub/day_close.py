"""The end of a service day: what is still waiting is closed, with the reason recorded.

Tickets waiting at closing time stay in the queue for late service (延时服务制)
until the day ends. When the hub's clock passes into a new service day, every
ticket of an earlier day still waiting is closed with reason "end_of_day" and a
history line; nothing is dropped silently. A ticket being served across midnight
is left to its window, which finishes it as usual. A number no kiosk ever confirmed
as handed over is voided ("unconfirmed"): it reached nobody.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Connection, insert, literal, select, update

from hub.db.schema import ticket_events, tickets

END_OF_DAY = "end_of_day"
UNCONFIRMED = "unconfirmed"


def close_past_days(conn: Connection, today: date, now: datetime) -> int:
    """Close the waiting tickets of days before `today`; how many were closed."""
    left = (tickets.c.service_day < today) & (tickets.c.status == "waiting")
    conn.execute(insert(ticket_events).from_select(
        ["ticket_id", "at", "event", "window_number", "detail"],
        select(tickets.c.id, literal(now), literal("closed"), literal(None),
               literal({"reason": END_OF_DAY}, type_=ticket_events.c.detail.type))
        .where(left)))
    conn.execute(update(tickets)
                 .where(tickets.c.service_day < today, tickets.c.status == "pending")
                 .values(status="void", closed_reason=UNCONFIRMED))
    return conn.execute(
        update(tickets).where(left).values(status="closed", closed_reason=END_OF_DAY)
    ).rowcount
