"""Read the hall's state out of the database as the retained messages screens show."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Float, RowMapping, bindparam, func, select

from hub.clock import Clock
from hub.db.prepared import Prepared
from hub.db.schema import WINDOW_STAFFED, cases, services, staff, tickets, window_services, windows
from hub.issuing import IssuingRules
from hub.wait_estimate import DEFAULT_SERVICE_S, average_service_s, estimates_now
from protocol.errors import ZH, ErrorCode
from protocol.messages import (
    OUTCOME_ZH,
    CaseRecord,
    CatalogueState,
    DepartmentInfo,
    QueueState,
    ServiceInfo,
    ServiceQueue,
    StaffCard,
    Ticket,
    WindowState,
)

# Read after every request: prepared once (see hub/db/prepared.py).
_WINDOW = Prepared(
    select(windows.c.number, windows.c.name, windows.c.status, tickets.c.number,
           windows.c.serving_ticket_id, services.c.name, windows.c.call_seq, windows.c.updated_at,
           windows.c.pause_reason, windows.c.away_post, windows.c.paused_since,
           staff.c.number, staff.c.name, staff.c.department_name, staff.c.title, staff.c.photo,
           windows.c.post_a, windows.c.post_b, tickets.c.service_code)
    .select_from(windows.outerjoin(tickets, tickets.c.id == windows.c.serving_ticket_id)
                 .outerjoin(services, services.c.code == tickets.c.service_code)
                 .outerjoin(staff, staff.c.number == windows.c.on_duty))
    .where(windows.c.number == bindparam("b_win")))
_TICKET = Prepared(
    select(tickets.c.id, tickets.c.number, tickets.c.service_code, services.c.name,
           services.c.department_name, tickets.c.service_day, tickets.c.issued_at,
           tickets.c.status, tickets.c.window_number, tickets.c.recalls, tickets.c.target_window,
           tickets.c.priority)
    .select_from(tickets.join(services))
    .where(tickets.c.id == bindparam("b_tid")))


_CASE = Prepared(
    select(cases.c.id, cases.c.ticket_id, tickets.c.number, cases.c.service_code,
           services.c.name, cases.c.window_number, cases.c.outcome, cases.c.promised_date,
           cases.c.reason, cases.c.missing, cases.c.departments, cases.c.staff_no,
           cases.c.finished_at)
    .select_from(cases.join(tickets).join(services, services.c.code == cases.c.service_code))
    .where(cases.c.ticket_id == bindparam("b_tid")))


def case_record(conn: Connection, clock: Clock, ticket_id: int) -> CaseRecord:
    """The case a finished ticket became."""
    row = _CASE.one_or_none(conn, {"b_tid": ticket_id})
    if row is None:
        raise LookupError(f"no case for ticket {ticket_id}")
    (cid, tid, number, service, name, window, outcome, promised, reason, missing, departments,
     staff_no, finished_at) = row
    return CaseRecord(id=cid, ticket_id=tid, number=number, service=service, service_name=name,
                      window=window, outcome=outcome, outcome_name=OUTCOME_ZH[outcome],
                      promised_date=promised, reason=reason, missing=missing,
                      departments=departments, staff_no=staff_no,
                      finished_at=clock.local(finished_at))


def window_state(conn: Connection, clock: Clock, number: int) -> WindowState:
    """One window as its screen shows it."""
    row = _WINDOW.one_or_none(conn, {"b_win": number})
    if row is None:
        raise LookupError(f"no window {number}")
    (window, name, status, serving, ticket_id, service_name, call_seq, updated_at, reason,
     post, paused_since, staff_no, staff_name, unit, title, photo, post_a, post_b,
     service) = row
    card = None
    if staff_no is not None:
        duty = "A" if staff_no == post_a else "B" if staff_no == post_b else None
        card = StaffCard(number=staff_no, name=staff_name, unit=unit, title=title, post=duty,
                         photo=photo)
    return WindowState(window=window, name=name, status=status, serving=serving,
                       ticket_id=ticket_id, service=service, service_name=service_name,
                       call_seq=call_seq, staff=card, pause_reason=reason, away_post=post,
                       paused_since=clock.local(paused_since) if paused_since else None,
                       post_a=post_a, post_b=post_b, updated_at=clock.local(updated_at))


def catalogue_state(conn: Connection, hall_name: str, departments: list[tuple[str, str]],
                    review_reasons: tuple[str, ...] = (), complaint_phone: str = "",
                    notices: tuple[str, ...] = ()) -> CatalogueState:
    """What kiosks list: the active items with their 一次性告知, in prefix order."""
    rows = conn.execute(select(services).where(services.c.active)
                        .order_by(services.c.prefix, services.c.code)).mappings()
    infos = [service_info(r) for r in rows]
    return CatalogueState(hall_name=hall_name, services=infos,
                          departments=[DepartmentInfo(code=c, name=n) for c, n in departments],
                          review_reasons=list(review_reasons),
                          complaint_phone=complaint_phone, notices=list(notices))


def departments(conn: Connection) -> dict[str, str]:
    """Code → name of the departments the hall's items belong to, by code."""
    return {c: n for c, n in conn.execute(
        select(services.c.department_code, func.min(services.c.department_name))
        .group_by(services.c.department_code).order_by(services.c.department_code))}


def service_info(r: RowMapping) -> ServiceInfo:
    """An item's row of `services` as kiosks see it."""
    return ServiceInfo(code=r["code"], name=r["name"], kind=r["kind"],
                       department=r["department_code"], prefix=r["prefix"],
                       conditions=r["conditions"], materials=r["materials"],
                       legal_days=r["legal_days"], promised_days=r["promised_days"],
                       fee=r["fee"], items=r["bundle_items"])


def all_window_numbers(conn: Connection) -> list[int]:
    return list(conn.scalars(select(windows.c.number).order_by(windows.c.number)))


def queue_state(conn: Connection, clock: Clock, issuing: IssuingRules | None = None
                ) -> QueueState:
    """Waiting per active service, whether kiosks may issue it now, and the day's totals."""
    day = clock.service_day()
    waiting: dict[str, int] = {}
    oldest: dict[str, datetime] = {}
    for code, count, first in conn.execute(
        select(tickets.c.service_code, func.count(), func.min(tickets.c.issued_at))
        .where(tickets.c.service_day == day, tickets.c.status == "waiting")
        .group_by(tickets.c.service_code)
    ):
        waiting[code] = count
        oldest[code] = first if isinstance(first, datetime) else datetime.fromisoformat(first)
    now = clock.now()
    open_windows: dict[str, int] = dict(
        conn.execute(
            select(window_services.c.service_code, func.count())
            .select_from(window_services.join(windows))
            .where(WINDOW_STAFFED)
            .group_by(window_services.c.service_code)
        ).all()
    )
    by_status: dict[str, int] = dict(
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
    windows_open = conn.scalar(select(func.count()).where(WINDOW_STAFFED)) or 0
    service_times = {code: average_service_s(n, avg) for code, n, avg in conn.execute(
        select(tickets.c.service_code, func.count(tickets.c.service_seconds),
               func.avg(tickets.c.service_seconds, type_=Float))
        .where(tickets.c.service_day == day, tickets.c.status == "finished",
               tickets.c.service_seconds.is_not(None))
        .group_by(tickets.c.service_code))}
    estimates = estimates_now(conn, day, now)
    kiosk_today: dict[str, int] = dict(conn.execute(
        select(tickets.c.service_code, func.count())
        .where(tickets.c.service_day == day, tickets.c.priority.is_(None),
               tickets.c.status != "void")
        .group_by(tickets.c.service_code)).all())
    return QueueState(
        service_day=day,
        services=[
            ServiceQueue(
                service=r.code, name=r.name, prefix=r.prefix, waiting=waiting.get(r.code, 0),
                open_windows=open_windows.get(r.code, 0),
                avg_service_s=service_times.get(r.code, DEFAULT_SERVICE_S),
                est_wait_s=estimates.get(r.code),
                longest_wait_s=max(0, round((now - oldest[r.code]).total_seconds()))
                if r.code in oldest else 0,
                **_issuing(issuing, r.code, clock.local(now), kiosk_today.get(r.code, 0)))
            for r in rows
        ],
        issued=sum(n for s, n in by_status.items() if s not in ("pending", "void")),
        waiting=by_status.get("waiting", 0),
        called=sum(by_status.get(s, 0) for s in ("called", "finished", "no_show")),
        finished=by_status.get("finished", 0),
        no_show=by_status.get("no_show", 0),
        windows_open=windows_open,
        updated_at=clock.local(clock.now()),
    )


def _issuing(rules: IssuingRules | None, service: str, local_now: datetime,
             kiosk_today: int) -> dict[str, Any]:
    """What a kiosk shows before the tap: open, or why not and when it opens."""
    if rules is None:
        return {}
    if not rules.is_open(service, local_now):
        return {"issuing": "outside_hours", "notice": rules.closed_message(service, local_now)}
    cap = rules.cap(service)
    if cap is not None and kiosk_today >= cap:
        return {"issuing": "cap_reached", "notice": ZH[ErrorCode.CAP_REACHED]}
    return {}


def ticket(conn: Connection, clock: Clock, ticket_id: int) -> Ticket:
    """One ticket as devices see it."""
    row = _TICKET.one_or_none(conn, {"b_tid": ticket_id})
    if row is None:
        raise LookupError(f"no ticket {ticket_id}")
    (tid, number, service, service_name, department, day, issued_at, status, window, recalls,
     target, priority) = row
    return Ticket(id=tid, number=number, service=service, service_name=service_name,
                  department=department, service_day=day, issued_at=clock.local(issued_at),
                  status=status, window=window, recalls=recalls, target_window=target,
                  priority=priority)
