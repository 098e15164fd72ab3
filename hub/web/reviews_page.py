"""好差评 on the dashboard (/reviews): this month's figures per window (hub/review_scores.py),
the latest reviews, and the bad reviews' follow-ups (差评整改) with their deadlines, overdue
ones in red. Read-only; the steps are entered with `./hallq admin followups` until staff
accounts exist (issue 9). The reviewer is never shown."""

from __future__ import annotations

from datetime import timedelta

from flask import Blueprint, render_template
from sqlalchemy import Engine, select

from hub.clock import Clock
from hub.db.engine import make_reader
from hub.db.schema import review_followups, reviews, services
from hub.followups import STEP_ZH, STEPS, rates
from hub.review_scores import figures
from hub.rules import ReviewRules
from hub.web.auth import allow, department_scope
from protocol.messages import BAD_GRADES, GRADE_STARS, GRADE_ZH

CHANNEL_ZH = {"window": "窗口评价器", "phone": "手机扫码", "call": "电话补评", "sms": "短信补评",
              "default": "默认评价"}


def reviews_page(engine: Engine, clock: Clock, hall_name: str, rules: ReviewRules) -> Blueprint:
    bp = Blueprint("reviews_page", __name__)
    reader = make_reader(engine)

    @bp.get("/reviews")
    @allow("admin", "manager", "department", "viewer")
    def page() -> tuple[str, int]:
        now = clock.now()
        today = clock.service_day(now)
        since = clock.day_start(today.replace(day=1))
        until = now + timedelta(seconds=1)
        scope = department_scope()  # a department lead sees its own department only
        latest_query = (select(reviews, services.c.name.label("service_name"))
                        .join(services, services.c.code == reviews.c.service_code)
                        .order_by(reviews.c.created_at.desc(), reviews.c.id.desc()).limit(30))
        open_query = (select(review_followups, reviews.c.grade, reviews.c.reason,
                             reviews.c.window_number, services.c.name.label("service_name"))
                      .select_from(review_followups
                                   .join(reviews, reviews.c.id == review_followups.c.review_id)
                                   .join(services, services.c.code == reviews.c.service_code))
                      .where(review_followups.c.closed_at.is_(None))
                      .order_by(review_followups.c.deadline))
        if scope is not None:
            latest_query = latest_query.where(services.c.department_code == scope)
            open_query = open_query.where(review_followups.c.department_code == scope)
        with reader.connect() as conn:
            windows = [*figures(conn, since, until, "window", rules.grade_points, scope),
                       *figures(conn, since, until, "hall" if scope is None else "department",
                                rules.grade_points, scope)]
            latest = conn.execute(latest_query).all()
            open_rows = conn.execute(open_query).all()
            month = rates(conn, since, until, scope)
        return render_template(
            "reviews.html", hall_name=hall_name, today=today, windows=windows, latest=latest,
            followups=[(r, next((s for s in STEPS if getattr(r, s) is None), None))
                       for r in open_rows], month=month, grade_zh=GRADE_ZH,
            stars=GRADE_STARS, channel_zh=CHANNEL_ZH, step_zh=STEP_ZH, bad=BAD_GRADES,
            local=clock.local, line=rules.bad_share_line), 200

    return bp

