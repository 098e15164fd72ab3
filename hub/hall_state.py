"""Read the hall's state out of the database as the retained messages screens show."""

from __future__ import annotations

from sqlalchemy import Connection, and_, func, select

from hub.clock import Clock
from hub.db.schema import services, tickets, window_services, windows
from protocol.messages import QueueState, ServiceQueue, Ticket, WindowState

OPEN = ("open", "serving")


def window_state(conn: Connection, clock: Clock, number: int) -> WindowState:
    """One window as its screen shows it."""
    row = conn.execute(
        select(windows, tickets.c.number.label("ticket_number"), services.c.name.label("svc"))
        .select_from(
            windows.outerjoin(tickets, tickets.c.id == windows.c.serving_ticket_id)
            .outerjoin(services, services.c.code == tickets.c.service_code)
        )
        .where(windows.c.number == number)
    ).one()
    return WindowState(
        window=row.number,
        name=row.name,
        status=row.status,
        serving=row.ticket_number,
        ticket_id=row.serving_ticket_id,
        service_name=row.svc,
        call_seq=row.call_seq,
        updated_at=clock.local(row.updated_at),
    )


def all_window_numbers(conn: Connection) -> list[int]:
    return list(conn.scalars(select(windows.c.number).order_by(windows.c.number)))


def queue_state(conn: Connection, clock: Clock) -> QueueState:
    """Waiting per active service and the day's totals."""
    day = clock.service_day()
    waiting = dict(
        conn.execute(
            select(tickets.c.service_code, func.count())
            .where(tickets.c.service_day == day, tickets.c.status == "waiting")
            .group_by(tickets.c.service_code)
        ).all()
    )
    open_windows = dict(
        conn.execute(
            select(window_services.c.service_code, func.count())
            .select_from(window_services.join(windows))
            .where(windows.c.status.in_(OPEN))
            .group_by(window_services.c.service_code)
        ).all()
    )
    by_status = dict(
        conn.execute(
            select(tickets.c.status, func.count())
            .where(tickets.c.service_day == day)
            .group_by(tickets.c.status)
        ).all()
    )
    rows = conn.execute(
        select(services.c.code, services.c.name, services.c.prefix)
        .where(services.c.active)
        .order_by(services.c.prefix, services.c.code)
    ).all()
    windows_open = conn.scalar(select(func.count()).where(windows.c.status.in_(OPEN))) or 0
    return QueueState(
        service_day=day,
        services=[
            ServiceQueue(service=r.code, name=r.name, prefix=r.prefix,
                         waiting=waiting.get(r.code, 0), open_windows=open_windows.get(r.code, 0))
            for r in rows
        ],
        issued=sum(by_status.values()),
        waiting=by_status.get("waiting", 0),
        called=by_status.get("called", 0) + by_status.get("finished", 0),
        finished=by_status.get("finished", 0),
        windows_open=windows_open,
        updated_at=clock.local(clock.now()),
    )


def ticket(conn: Connection, clock: Clock, ticket_id: int) -> Ticket:
    """One ticket as devices see it."""
    row = conn.execute(
        select(tickets, services.c.name.label("svc"), services.c.department_name)
        .select_from(tickets.join(services))
        .where(tickets.c.id == ticket_id)
    ).one()
    return Ticket(
        id=row.id,
        number=row.number,
        service=row.service_code,
        service_name=row.svc,
        department=row.department_name,
        service_day=row.service_day,
        issued_at=clock.local(row.issued_at),
        status=row.status,
        window=row.window_number,
    )


def waiting_before(conn: Connection, service_day: object, service: str, ticket_id: int) -> int:
    """How many tickets of the same service wait ahead of this one."""
    return conn.scalar(
        select(func.count()).where(
            and_(tickets.c.service_day == service_day, tickets.c.service_code == service,
                 tickets.c.status == "waiting", tickets.c.id < ticket_id)
        )
    ) or 0
