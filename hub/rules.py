"""The hall's queue rules: settings, not constants (provinces and halls differ)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from protocol.messages import Grade


class QueueRules(BaseModel):
    """How calls, recalls, no-shows and absences work in this hall."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    max_recalls: int = Field(2, ge=0, le=9)  # recalls after the first call
    no_show_after_recalls: int = Field(1, ge=0, le=9)  # recalls before a no-show may be marked
    late_return_minutes: int = Field(30, ge=0, le=480)  # a no-show may be called back this long
    away_limit_minutes: int = Field(3, ge=1, le=60)  # 002 annex 1 §6: back within 3 minutes
    alert_wait_minutes: int = Field(30, ge=1, le=480)  # the dashboard flags a longer wait
    alert_queue_length: int = Field(20, ge=1, le=1000)  # … and a longer queue
    # an appointment's QR code gives a ticket from this long before its slot starts …
    check_in_before_minutes: int = Field(30, ge=0, le=240)
    check_in_after_minutes: int = Field(15, ge=0, le=240)  # … until this long after it ends


GRADE_POINTS: dict[Grade, int] = {"very_satisfied": 100, "satisfied": 80, "basic": 60,
                                   "unsatisfied": 40, "very_unsatisfied": 0}


class ReviewRules(BaseModel):
    """How reviews (好差评) are taken, followed up and scored in this hall."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    # 补充评价: staff enter a review given by phone or SMS up to this many working days after
    # the case was finished (the day it was finished not counted).
    supplement_working_days: int = Field(5, ge=1, le=30)
    # 差评整改: the handling department's working days to a result (5 to 15 by province).
    fix_working_days: int = Field(5, ge=5, le=15)
    # Points of each grade for the scores (the national five; a province may weigh them).
    grade_points: dict[Grade, int] = Field(default_factory=lambda: dict(GRADE_POINTS))
    # Some provinces count a case nobody reviewed within N working days as this grade
    # (默认好评); off (None) by default: a missing review stays missing (无评价率).
    default_after_working_days: int | None = Field(None, ge=1, le=30)
    default_grade: Grade = "satisfied"
    # The 好差评 item of the weekly ranking (seed 000's score sheet, 20 points): the
    # 一事一评 part is `ranking_coverage_points` times the coverage; the 5 % part keeps
    # `ranking_bad_points`, less `ranking_bad_deduction` for each bad review beyond
    # `bad_share_line` of all reviews (不满意数超总数5%的每人每次扣2分).
    bad_share_line: float = Field(0.05, ge=0, le=1)
    ranking_coverage_points: float = Field(15, ge=0, le=100)
    ranking_bad_points: float = Field(5, ge=0, le=100)
    ranking_bad_deduction: float = Field(2, ge=0, le=100)

    # A bad review (不满意, 非常不满意) needs one of these reasons (several provinces ask one).
    bad_review_reasons: tuple[str, ...] = (
        "等候时间太长", "服务态度不好", "办事效率低", "一次性告知不清楚", "材料要求不合理",
        "其他原因",
    )


class AppointmentRules(BaseModel):
    """How appointments (预约) are taken in this hall (seed 003 §二.(一)); the blacklist's
    own periods are fixed by the rules (hub/blacklist_rules.py)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    slot_minutes: int = Field(30, ge=10, le=240)  # the hours of an item cut in slots
    per_window: int = Field(2, ge=0, le=50)  # bookings a slot takes per window serving the item
    days_ahead: int = Field(7, ge=1, le=60)  # slots in hours open this many days ahead
    cancel_before_minutes: int = Field(60, ge=0, le=2880)  # cancel until this before the slot
    one_per_day: bool = True  # a person holds one booking a day
    # 清单制: the items that may be booked outside working hours, and when, at least 1 and
    # at most 5 working days ahead, with a registration form and staff confirmation.
    out_of_hours_items: tuple[str, ...] = ()
    out_of_hours_workday: tuple[str, ...] = ("17:30-19:30",)  # after the hall's hours
    out_of_hours_weekend: tuple[str, ...] = ("09:00-12:00",)
    out_of_hours_min_days: int = Field(1, ge=0, le=30)  # working days ahead
    out_of_hours_max_days: int = Field(5, ge=1, le=30)
