"""差评整改: every bad review is followed to the end by whoever handled it (谁办理、谁负责).

A bad review (不满意, 非常不满意) opens a follow-up in the same transaction, assigned to the
department of the reviewed item, due `fix_working_days` working days later (5 to 15 by
province; hub/rules.py). Its steps come in order: 回访 (call the person back), 调查核实,
处理, 整改措施, and 整改结果, which closes it. Instead, the department may appeal a mistaken
or malicious review with a reason; the hall decides it (upheld: the review no longer counts
against anyone; rejected: the follow-up goes on). A follow-up past its deadline and still
open is overdue (red on the dashboard).

Rates (seed 000's score sheet asks both to show 100 %):
- 实名差评回访率: the bad reviews whose person is known (an appointment's ticket, or a
  review given by phone or SMS) that were called back;
- 差评整改率: the bad reviews closed with a result; appeals upheld count in neither.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Literal

from sqlalchemy import Connection, Row, func, insert, select, update

from hub import audit
from hub.context import HallContext
from hub.db.schema import cases, review_followups, reviews, services, tickets
from hub.forwarder import enqueue
from protocol.errors import ErrorCode, UserError

Step = Literal["callback", "investigation", "handling", "measures", "result"]
STEPS: tuple[Step, ...] = ("callback", "investigation", "handling", "measures", "result")
STEP_ZH = {"callback": "回访", "investigation": "调查核实", "handling": "处理",
           "measures": "整改措施", "result": "整改结果"}
REAL_NAME_CHANNELS = ("call", "sms")


@dataclass(frozen=True)
class Rates:
    bad_reviews: int
    real_name: int
    called_back: int
    closed: int

    @property
    def callback_rate(self) -> float | None:
        """实名差评回访率, 0-1; None with no real-name bad review."""
        return self.called_back / self.real_name if self.real_name else None

    @property
    def fix_rate(self) -> float | None:
        """差评整改率, 0-1; None with no bad review."""
        return self.closed / self.bad_reviews if self.bad_reviews else None


def open_followup(conn: Connection, ctx: HallContext, review_id: int, service: str,
                  now: datetime) -> None:
    """A bad review's follow-up, for the item's department, due in working days."""
    department = conn.scalar(select(services.c.department_code)
                             .where(services.c.code == service)) or ""
    deadline = ctx.calendar.add_working_days(ctx.clock.service_day(now),
                                             ctx.reviews.fix_working_days)
    conn.execute(insert(review_followups).values(
        review_id=review_id, department_code=department, opened_at=now, deadline=deadline,
        updated_at=now))


def record_step(conn: Connection, ctx: HallContext, followup_id: int, step: Step,
                text: str) -> None:
    """One step of the follow-up, in order; the result closes it. Refused out of order,
    twice, empty, or once closed or under appeal."""
    row = _open(conn, followup_id)
    if not text.strip():
        raise UserError(ErrorCode.INVALID, "empty step", f"请填写{STEP_ZH[step]}情况")
    index = STEPS.index(step)
    missing = [s for s in STEPS[:index] if row._mapping[s] is None]
    if missing:
        raise UserError(ErrorCode.INVALID, f"{step} before {missing[0]}",
                        f"请先填写{STEP_ZH[missing[0]]}")
    if row._mapping[step] is not None:
        raise UserError(ErrorCode.INVALID, f"{step} done", f"{STEP_ZH[step]}已填写")
    now = ctx.clock.now()
    values: dict[str, object] = {step: text.strip(), "updated_at": now}
    if step == "result":
        values["closed_at"] = now
    conn.execute(update(review_followups).where(review_followups.c.id == followup_id)
                 .values(**values))
    if step == "result":  # the province learns how its bad review ended (hub/forwarder.py)
        steps: dict[str, Any] = {s: (text.strip() if s == step else row._mapping[s])
                                 for s in STEPS}
        enqueue(conn, f"followup:{ctx.hall_id}:{followup_id}:result",
                {"kind": "followup_result", "hall": ctx.hall_id, "review_id": row.review_id,
                 "closed_at": ctx.clock.local(now).isoformat(), **steps}, now)


def appeal(conn: Connection, ctx: HallContext, followup_id: int, reason: str) -> None:
    """The department says the review is mistaken or malicious, and why."""
    _open(conn, followup_id)
    if not reason.strip():
        raise UserError(ErrorCode.INVALID, "no reason", "请填写申诉理由")
    conn.execute(update(review_followups).where(review_followups.c.id == followup_id)
                 .values(appeal=reason.strip(), updated_at=ctx.clock.now()))


def decide_appeal(conn: Connection, ctx: HallContext, followup_id: int, upheld: bool,
                  note: str) -> None:
    """The hall decides an appeal with a reason: upheld closes the follow-up (the review
    no longer counts); rejected lets it go on."""
    row = conn.execute(select(review_followups).where(review_followups.c.id == followup_id)
                       ).one_or_none()
    if row is None or row.appeal is None or row.appeal_decision is not None:
        raise UserError(ErrorCode.INVALID, f"follow-up {followup_id}", "没有待裁定的申诉")
    if not note.strip():
        raise UserError(ErrorCode.INVALID, "no reason", "请填写裁定理由")
    now = ctx.clock.now()
    conn.execute(update(review_followups).where(review_followups.c.id == followup_id)
                 .values(appeal_decision="upheld" if upheld else "rejected",
                         appeal_note=note.strip(), updated_at=now,
                         closed_at=now if upheld else None))
    if upheld:
        enqueue(conn, f"followup:{ctx.hall_id}:{followup_id}:appeal",
                {"kind": "appeal_upheld", "hall": ctx.hall_id, "review_id": row.review_id,
                 "appeal": row.appeal, "decision": note.strip()}, now)


ACTIONS = (*STEPS, "appeal", "upheld", "rejected")


def take_action(conn: Connection, ctx: HallContext, followup_id: int, action: str, text: str,
                who: str) -> None:
    """A step, an appeal or the hall's decision on it, by `who`, into the audit log."""
    if action in STEPS:
        record_step(conn, ctx, followup_id, action, text)
    elif action == "appeal":
        appeal(conn, ctx, followup_id, text)
    elif action in ("upheld", "rejected"):
        decide_appeal(conn, ctx, followup_id, action == "upheld", text)
    else:
        raise UserError(ErrorCode.INVALID, action, f"没有这个操作：{action[:20]}")
    audit.record(conn, ctx.clock.now(), who, f"followup.{action}", str(followup_id), None,
                 None, text.strip()[:200])


def overdue(conn: Connection, today: date) -> list[int]:
    """The open follow-ups past their deadline (the ids)."""
    return list(conn.scalars(select(review_followups.c.id)
                             .where(review_followups.c.closed_at.is_(None),
                                    review_followups.c.deadline < today)
                             .order_by(review_followups.c.deadline)))


def rates(conn: Connection, since: datetime, until: datetime,
          department: str | None = None) -> Rates:
    """The follow-up rates of the bad reviews made in [since, until), of one department's
    follow-ups or all."""
    query = (select(reviews.c.channel, tickets.c.appointment_id, review_followups.c.callback,
                    review_followups.c.result, review_followups.c.appeal_decision)
             .select_from(review_followups.join(reviews)
                          .join(cases, cases.c.id == reviews.c.case_id)
                          .join(tickets, tickets.c.id == cases.c.ticket_id))
             .where(reviews.c.created_at >= since, reviews.c.created_at < until))
    if department is not None:
        query = query.where(review_followups.c.department_code == department)
    rows = conn.execute(query).all()
    counted = [r for r in rows if r.appeal_decision != "upheld"]
    real = [r for r in counted if r.channel in REAL_NAME_CHANNELS or r.appointment_id]
    return Rates(bad_reviews=len(counted), real_name=len(real),
                 called_back=sum(r.callback is not None for r in real),
                 closed=sum(r.result is not None for r in counted))


def _open(conn: Connection, followup_id: int) -> Row[Any]:
    row = conn.execute(select(review_followups).where(review_followups.c.id == followup_id)
                       ).one_or_none()
    if row is None:
        raise UserError(ErrorCode.INVALID, f"follow-up {followup_id}", "没有找到该差评整改记录")
    if row.closed_at is not None:
        raise UserError(ErrorCode.INVALID, f"follow-up {followup_id} closed", "该整改记录已办结")
    if row.appeal is not None and row.appeal_decision is None:
        raise UserError(ErrorCode.INVALID, f"follow-up {followup_id} appealed",
                        "申诉待裁定，裁定前不能继续填写")
    return row


def count_open(conn: Connection) -> int:
    return int(conn.scalar(select(func.count()).where(review_followups.c.closed_at.is_(None)))
               or 0)
