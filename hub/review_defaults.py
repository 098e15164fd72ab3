"""默认评价: where the province counts a case nobody reviewed within N working days as a
default grade (`ReviewRules.default_after_working_days`, off by default), the hub records
that review itself, marked channel "default" so that no figure mistakes it for a citizen's
(主动评价好评率 counts only the citizens' own)."""

from __future__ import annotations

import logging
from datetime import datetime

from sqlalchemy import Connection, select

from hub.context import HallContext
from hub.db.schema import cases, reviews
from hub.handlers.reviews import record_review

log = logging.getLogger(__name__)


def give_default_reviews(conn: Connection, ctx: HallContext, now: datetime) -> int:
    """Record the default review of every case past its review time; how many."""
    days = ctx.reviews.default_after_working_days
    if days is None:
        return 0
    today = ctx.clock.service_day(now)
    rows = conn.execute(select(cases.c.id, cases.c.finished_at)
                        .select_from(cases.outerjoin(reviews, reviews.c.case_id == cases.c.id))
                        .where(reviews.c.id.is_(None))).all()
    given = 0
    for row in rows:
        finished = ctx.clock.local(row.finished_at).date()
        if ctx.calendar.add_working_days(finished, days) < today:
            record_review(conn, ctx, row.id, ctx.reviews.default_grade, None, "default")
            given += 1
    if given:
        log.info("%d cases got the default review", given)
    return given
