"""Past cases and their reviews written straight into a hub database: the fixture week of
the ranking tests and the year of a city's data of `bench/weekly_ranking.py`.

Each case gets its ticket (numbered per item and day, as the hub numbers them), its case
row, and, when it has a grade, its review; a bad review gets its follow-up, closed the
next day with a result or, when its appeal was upheld, with the hall's decision. Rows go
in batches, in the caller's transaction.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from itertools import islice

from sqlalchemy import Connection, func, insert, select

from hub.db.schema import cases, review_followups, reviews, services, tickets
from hub.followups import STEPS
from protocol.messages import BAD_GRADES, GRADE_STARS, Grade


@dataclass(frozen=True)
class PastCase:
    finished_at: datetime  # naive UTC, as stored
    service: str
    window: int
    staff_no: str | None = None
    grade: Grade | None = None  # None: nobody reviewed it
    channel: str = "window"  # window, phone, call, sms, default
    appeal_upheld: bool = False  # a bad review the hall found mistaken or malicious


def write_cases(conn: Connection, past: Iterable[PastCase], batch: int = 20_000) -> int:
    """Write the cases with their tickets and reviews; how many were written."""
    prefixes: dict[str, str] = {}
    departments: dict[str, str] = {}
    for r in conn.execute(select(services.c.code, services.c.prefix,
                                 services.c.department_code)):
        prefixes[r.code], departments[r.code] = r.prefix, r.department_code
    ticket_id = int(conn.scalar(select(func.max(tickets.c.id))) or 0)
    case_id = int(conn.scalar(select(func.max(cases.c.id))) or 0)
    review_id = int(conn.scalar(select(func.max(reviews.c.id))) or 0)
    seqs: dict[tuple[str, object], int] = {}
    written = 0
    items = iter(past)
    while chunk := list(islice(items, batch)):
        ticket_rows, case_rows, review_rows, followup_rows = [], [], [], []
        for c in chunk:
            ticket_id += 1
            case_id += 1
            prefix = prefixes[c.service]
            day = c.finished_at.date()
            seq = seqs[prefix, day] = seqs.get((prefix, day), 0) + 1
            ticket_rows.append({
                "id": ticket_id, "request_id": f"history-{ticket_id}", "device_id": "history",
                "service_code": c.service, "prefix": prefix, "seq": seq,
                "number": f"{prefix}{seq:03d}", "service_day": day, "status": "finished",
                "issued_at": c.finished_at, "called_at": c.finished_at,
                "finished_at": c.finished_at, "window_number": c.window})
            case_rows.append({
                "id": case_id, "ticket_id": ticket_id, "service_code": c.service,
                "window_number": c.window, "outcome": "on_the_spot", "missing": [],
                "departments": [], "staff_no": c.staff_no, "finished_at": c.finished_at})
            if c.grade is None:
                continue
            review_id += 1
            bad = c.grade in BAD_GRADES
            review_rows.append({
                "id": review_id, "case_id": case_id, "grade": c.grade,
                "stars": GRADE_STARS[c.grade], "reason": "其他原因" if bad else None,
                "channel": c.channel, "window_number": c.window, "service_code": c.service,
                "staff_no": c.staff_no, "created_at": c.finished_at})
            if bad:  # followed up the next day: to a result, or an appeal upheld
                done = c.finished_at + timedelta(days=1)
                upheld = c.appeal_upheld
                steps: dict[str, str | None] = {s: None if upheld else "已办" for s in STEPS}
                steps |= {"appeal": "评价人误按" if upheld else None,
                          "appeal_decision": "upheld" if upheld else None,
                          "appeal_note": "监控可查" if upheld else None}
                followup_rows.append({
                    "review_id": review_id, "department_code": departments[c.service],
                    "opened_at": c.finished_at, "deadline": day + timedelta(days=7),
                    "closed_at": done, "updated_at": done, **steps})
        for table, rows in ((tickets, ticket_rows), (cases, case_rows),
                            (reviews, review_rows), (review_followups, followup_rows)):
            if rows:
                conn.execute(insert(table), rows)
        written += len(chunk)
    return written
