"""好差评 figures per window, staff member, department (窗口单位) or the whole hall.

The figures count the cases finished in a period and the reviews of those cases, whenever
given (a supplementary review on Monday belongs to Friday's case). Following GB/T
39734-2020 and seed 000's score sheet:

- 办件量 `cases`: the cases finished in the period;
- 评价覆盖率 `coverage`: the share of cases the person reviewed (一事一评), by any channel
  but the hall's 默认评价; 无评价率 `no_review_rate` is the rest;
- 好评率 `good_rate`: the reviews that are not bad (非常满意、满意、基本满意), of all counted
  reviews, 默认评价 included;
- 主动评价好评率 `active_good_rate`: the same, of the reviews the person gave;
- 差评占比 `bad_share`: bad reviews of all counted reviews, against the 5 % line of the
  score sheet (`ReviewRules.bad_share_line`);
- 满意度 `satisfaction`: the counted reviews' average points (`ReviewRules.grade_points`:
  100, 80, 60, 40, 0 by default), 0-100; village stations aim at 98 (seed 004).

A bad review whose appeal the hall upheld (a mistaken or malicious review, hub/followups.py)
is not counted in the grade figures; the person still reviewed, so it keeps its coverage.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from sqlalchemy import ColumnElement, Connection, and_, case, func, literal, or_, select

from hub.db.schema import cases, review_followups, reviews, services, staff, windows
from hub.rules import GRADE_POINTS
from protocol.messages import BAD_GRADES, Grade

By = Literal["window", "staff", "department", "hall"]
BY_ZH: dict[By, str] = {"window": "窗口", "staff": "工作人员", "department": "窗口单位",
                        "hall": "全大厅"}


@dataclass(frozen=True)
class Figures:
    key: str  # the window number, staff number, department code, or "hall"
    label: str
    cases: int
    reviewed: int  # cases the person reviewed (not 默认评价)
    reviews: int  # counted reviews: appeals upheld left out, 默认评价 in
    active: int  # counted reviews the person gave
    good: int
    active_good: int
    bad: int
    points: int = 0  # the counted reviews' grade points, summed

    @property
    def satisfaction(self) -> float | None:
        return self.points / self.reviews if self.reviews else None

    @property
    def coverage(self) -> float | None:
        return self.reviewed / self.cases if self.cases else None

    @property
    def no_review_rate(self) -> float | None:
        return 1 - self.reviewed / self.cases if self.cases else None

    @property
    def good_rate(self) -> float | None:
        return self.good / self.reviews if self.reviews else None

    @property
    def active_good_rate(self) -> float | None:
        return self.active_good / self.active if self.active else None

    @property
    def bad_share(self) -> float | None:
        return self.bad / self.reviews if self.reviews else None

    def bad_over_line(self, line: float) -> int:
        """The bad reviews beyond `line` of all reviews (each costs points on the sheet)."""
        return max(0, self.bad - math.floor(line * self.reviews + 1e-9))


def figures(conn: Connection, since: datetime, until: datetime, by: By,
            grade_points: Mapping[Grade, int] = GRADE_POINTS,
            department: str | None = None) -> list[Figures]:
    """The figures of the cases finished in [since, until) (naive UTC), one per `by`, in
    order of key; windows, staff and departments without a case are left out. With
    `department`, only its items' cases count (a department lead's view)."""
    counted = and_(reviews.c.id.is_not(None),
                   or_(review_followups.c.appeal_decision.is_(None),
                       review_followups.c.appeal_decision != "upheld"))
    active = reviews.c.channel != "default"
    good = reviews.c.grade.not_in(tuple(BAD_GRADES))

    def count(*conditions: ColumnElement[bool]) -> ColumnElement[int]:
        return func.coalesce(func.sum(case((and_(*conditions), 1), else_=0)), 0)

    key, label = {
        "window": (cases.c.window_number, func.max(windows.c.name)),
        "staff": (func.coalesce(cases.c.staff_no, ""), func.max(staff.c.name)),
        "department": (services.c.department_code, func.max(services.c.department_name)),
        "hall": (literal("hall"), literal("全大厅")),
    }[by]
    query = (select(key.label("key"), label.label("label"), func.count(cases.c.id),
                    count(reviews.c.id.is_not(None), active), count(counted),
                    count(counted, active), count(counted, good), count(counted, active, good),
                    count(counted, ~good),
                    func.coalesce(func.sum(case((counted, case(
                        *((reviews.c.grade == g, p) for g, p in grade_points.items()),
                        else_=0)), else_=0)), 0))
             .select_from(cases.join(services, services.c.code == cases.c.service_code)
                          .outerjoin(reviews, reviews.c.case_id == cases.c.id)
                          .outerjoin(review_followups,
                                     review_followups.c.review_id == reviews.c.id))
             .where(cases.c.finished_at >= since, cases.c.finished_at < until))
    if department is not None:
        query = query.where(services.c.department_code == department)
    if by == "window":
        query = query.outerjoin(windows, windows.c.number == cases.c.window_number)
    if by == "staff":
        query = query.outerjoin(staff, staff.c.number == cases.c.staff_no)
    if by != "hall":
        query = query.group_by(key).order_by(key)
    rows = conn.execute(query).all()
    return [Figures(key=str(r[0]), label=_label(by, r[0], r[1]), cases=int(r[2]),
                    reviewed=int(r[3]), reviews=int(r[4]), active=int(r[5]), good=int(r[6]),
                    active_good=int(r[7]), bad=int(r[8]), points=int(r[9]))
            for r in rows if int(r[2])]


def _label(by: By, key: object, label: object) -> str:
    if by == "window":
        return str(label or f"{key}号窗口")
    if by == "staff":
        return f"{label}（{key}）" if label else (str(key) or "未签到")
    return str(label or key)
