"""好差评 on the dashboard (/reviews): this month's figures per window (hub/review_scores.py),
the latest reviews, and the bad reviews' follow-ups (差评整改) with their deadlines, overdue
ones in red. The reviewer is never shown.

Acting here, each into the audit log with the account's name (hub/followups.py):
- the department a follow-up belongs to (its lead) or a manager enters its next step, in
  order, or appeals a mistaken or malicious review with the reason;
- a manager decides an appeal (upheld: the review no longer counts; rejected: go on);
- a manager enters a review given later by phone or SMS (补充评价), within its working
  days."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

from flask import Blueprint, render_template, request, url_for
from flask import Response as FlaskResponse
from openpyxl import Workbook
from sqlalchemy import Connection, Engine, select
from werkzeug.wrappers import Response

from hub import followups
from hub.clock import Clock
from hub.context import HallContext
from hub.db.engine import make_reader
from hub.db.schema import review_followups, reviews, services
from hub.excel import download, saved, write_table
from hub.followups import STEP_ZH, STEPS, rates
from hub.handlers.reviews import supplementary_review
from hub.review_scores import figures
from hub.rules import ReviewRules
from hub.web import actions
from hub.web.auth import Run, account, allow, department_scope
from protocol.errors import ErrorCode, UserError
from protocol.messages import BAD_GRADES, GRADE_STARS, GRADE_ZH

CHANNEL_ZH = {"window": "窗口评价器", "phone": "手机扫码", "call": "电话补评", "sms": "短信补评",
              "default": "默认评价"}


ACTION_ZH = {**STEP_ZH, "appeal": "申诉", "upheld": "申诉成立", "rejected": "申诉不成立"}


def reviews_page(engine: Engine, run: Run, ctx: Callable[[], HallContext], clock: Clock,
                 hall_name: str, rules: ReviewRules) -> Blueprint:
    bp = Blueprint("reviews_page", __name__)
    reader = make_reader(engine)

    @bp.get("/reviews")
    @allow("admin", "manager", "department", "viewer")
    def reviews_list() -> tuple[str, int]:
        return page()

    def page(status: int = 200, error: str = "") -> tuple[str, int]:
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
            local=clock.local, line=rules.bad_share_line, error=error,
            done=request.args.get("done", ""), role=account().role,
            reasons=rules.bad_review_reasons, today_iso=today.isoformat(),
            supplement_days=rules.supplement_working_days), status

    @bp.get("/reviews.xlsx")
    @allow("admin", "manager", "department", "viewer")
    def reviews_excel() -> FlaskResponse:
        """A month (?month=2026-11, this month by default) as the file sent upward: the
        windows' figures, and every review (never the reviewer) with, for a bad one, where
        its follow-up stands."""
        today = clock.service_day()
        try:
            first = date.fromisoformat(request.args.get("month", "") + "-01")
        except ValueError:
            first = today.replace(day=1)
        after = (first + timedelta(days=32)).replace(day=1)
        since, until = clock.day_start(first), clock.day_start(after)
        scope = department_scope()
        listed = (select(reviews, services.c.name.label("service_name"),
                         review_followups.c.result, review_followups.c.appeal_decision,
                         review_followups.c.closed_at.label("fixed_at"))
                  .join(services, services.c.code == reviews.c.service_code)
                  .outerjoin(review_followups, review_followups.c.review_id == reviews.c.id)
                  .where(reviews.c.created_at >= since, reviews.c.created_at < until)
                  .order_by(reviews.c.created_at))
        if scope is not None:
            listed = listed.where(services.c.department_code == scope)
        with reader.connect() as conn:
            windows = [*figures(conn, since, until, "window", rules.grade_points, scope),
                       *figures(conn, since, until, "hall" if scope is None else "department",
                                rules.grade_points, scope)]
            rows = conn.execute(listed.limit(100_000)).all()
        title = f"{first.year}年{first.month}月"
        book = Workbook()
        sheet = book.active
        assert sheet is not None
        sheet.title = "各窗口"
        write_table(sheet, f"{hall_name}“好差评”情况", title,
                    ["窗口", "办件量", "评价量", "评价覆盖率", "好评率", "主动评价好评率", "满意度",
                     "差评数", "差评占比"],
                    [[f.label, f.cases, f.reviews, f.coverage, f.good_rate, f.active_good_rate,
                      None if f.satisfaction is None else round(f.satisfaction, 1), f.bad,
                      f.bad_share] for f in windows],
                    [30, 10, 10, 12, 10, 14, 10, 10, 10], [4, 5, 6, 9])
        write_table(book.create_sheet("评价明细"), f"{hall_name}评价明细", title,
                    ["时间", "窗口", "事项", "评价", "星级", "原因", "渠道", "差评整改"],
                    [[clock.local(r.created_at).strftime("%Y-%m-%d %H:%M"),
                      f"{r.window_number}号窗口", r.service_name, GRADE_ZH[r.grade],
                      GRADE_STARS[r.grade], r.reason or "", CHANNEL_ZH.get(r.channel, r.channel),
                      _fix_state(r)] for r in rows],
                    [18, 10, 30, 10, 6, 18, 12, 16])
        return download(saved(book), f"reviews-{first:%Y-%m}.xlsx",
                        f"{hall_name}好差评-{first.year}年{first.month}月.xlsx")

    def act(job: Callable[[Connection, str], object], done: str) -> tuple[str, int] | Response:
        return actions.act(run, job, page, url_for("reviews_page.reviews_list", done=done))

    @bp.post("/reviews/followups/<int:followup>/<action>")
    @allow("admin", "manager", "department")
    def followup_action(followup: int, action: str) -> tuple[str, int] | Response:
        text = request.form.get("text", "")[:2000]
        scope = department_scope()
        if action not in followups.ACTIONS:
            return page(404, f"没有这个操作：{action[:20]}")
        if action in ("upheld", "rejected") and scope is not None:
            return page(403, "申诉由中心裁定")

        def job(conn: Connection, who: str) -> None:
            if scope is not None and conn.scalar(
                    select(review_followups.c.department_code)
                    .where(review_followups.c.id == followup)) != scope:
                raise UserError(ErrorCode.INVALID, "another department's",
                                "只能处理本部门的差评整改")
            followups.take_action(conn, ctx(), followup, action, text, who)
        return act(job, f"整改记录 {followup}：已记录{ACTION_ZH[action]}")

    @bp.post("/reviews/supplement")
    @allow("admin", "manager")
    def supplement() -> tuple[str, int] | Response:
        form = request.form
        grade = form.get("grade", "")
        channel = form.get("channel", "call")
        number = form.get("number", "").strip().upper()[:5]
        reason = form.get("reason") or None
        try:
            day = date.fromisoformat(form.get("day", ""))
        except ValueError:
            return page(400, "补充评价未录入：请填写办件日期")
        if grade not in GRADE_ZH or channel not in ("call", "sms"):
            return page(400, "补充评价未录入：请选择评价等级和渠道")

        def job(conn: Connection, who: str) -> None:
            supplementary_review(conn, ctx(), day, number, grade,  # type: ignore[arg-type]
                                 reason, channel, who)  # type: ignore[arg-type]
        return act(job, f"已录入 {number} 的补充评价（{GRADE_ZH[grade]}）")

    return bp


def _fix_state(r: Any) -> str:
    """A review's follow-up in words ("" for a review that needs none)."""
    if r.grade not in BAD_GRADES:
        return ""
    if r.appeal_decision == "upheld":
        return "申诉成立"
    return "已整改" if r.result is not None else "整改中"

